"""Flow scenarios: walk a flow as a customer would; check what they hear and where they end.

    flow: support
    now: "2026-11-05T15:00:00Z"          # default for the file; a scenario may override
    scenarios:
      - name: the cancelled-plan customer says "new plan" and reaches plan choice
        customer: {id: cus_1002, name: Dana Reyes, plan: {name: Silver Health, status: cancelled},
                   cancellations: [{plan: Silver Health, at: "-3d", by: company}]}
        inputs: [{say: new plan}]
        expect: {hears: ["cancelled on"], never_hears: ["welcome to your new plan"],
                 step: choose_plan}

Customer records use the context import schema; times may be relative to `now` ("-3d",
"-40h"). Inputs: {press: "1"}, {say: "words", confidence: 0.9}, {type: "words"}, or
silence, busy, no answer, timeout. Expectations: hears / never_hears (substrings, any
case), ends_at (handoff, callback, voicemail, end or prompt), step, queue, escape, outcome.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from presszero.context.models import Customer, RecordError, format_time, parse_time, parse_window
from presszero.flows.engine import step as run_step
from presszero.flows.engine.actions import (
    Action,
    Callback,
    End,
    Event,
    Handoff,
    Say,
    Voicemail,
)
from presszero.flows.language.model import Flow
from presszero.flows.language.schema import Reader, kind_of
from presszero.flows.language.yamlsrc import FlowError, YList, YMap, YStr, line_of, read_yaml
from presszero.flows.render import words

ENDS = ("handoff", "callback", "voicemail", "message", "end", "prompt")
EXPECT_KEYS = ("hears", "never_hears", "ends_at", "step", "queue", "escape", "outcome")
_RELATIVE = re.compile(r"^([+-])(\d+[mhdw])$")
_LEAK = re.compile(r"[{}\[\]]|\bNone\b|\bnull\b")
_SIGNALS = {
    "silence": Event.no_input(),
    "busy": Event.handoff_failed("busy"),
    "no answer": Event.handoff_failed("no_answer"),
    "timeout": Event.timeout(),
}


@dataclass(frozen=True)
class Scenario:
    """One walk through a flow: who, when, what they do, and what must happen."""

    name: str
    file: str
    line: int
    flow: str
    now: datetime
    channel: str
    caller: str
    customer: Customer | None
    inputs: tuple[Event, ...]
    expect: dict[str, Any]
    language: str = ""


@dataclass
class Outcome:
    """How a scenario went: `failures` is empty when it passed."""

    scenario: Scenario
    heard: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def read_scenarios(path: Path, display: str | None = None) -> list[Scenario]:
    """Return the scenarios in `path`, or raise FlowError naming each mistake with file:line."""
    file = display or str(path)
    data, problems = read_yaml(path, file)
    if problems:
        raise FlowError(problems)
    r = Reader(file)
    top = r.mapping(
        data, "the scenario file", 1, ("flow", "now", "channel", "scenarios"), ("flow", "scenarios")
    )
    out: list[Scenario] = []
    if top is not None:
        flow = r.name(top, "flow", "the scenario file") or ""
        items = top.get("scenarios")
        if not isinstance(items, YList) or not items:
            r.problem(top.line_of("scenarios"), "scenarios must be a list of scenarios")
            items = YList(top.line)
        for item in items:
            scenario = _scenario(r, item, top, flow)
            if scenario is not None:
                out.append(scenario)
    if r.problems:
        raise FlowError(r.problems)
    return out


def _scenario(r: Reader, item: Any, top: YMap, flow: str) -> Scenario | None:
    allowed = ("name", "now", "channel", "caller", "customer", "language", "inputs", "expect")
    m = r.mapping(
        item, "a scenario", line_of(item, top.line), allowed, ("name", "inputs", "expect")
    )
    if m is None:
        return None
    name = r.string(m, "name", "scenario") or "?"
    where = f"scenario {name!r}"
    now_text = r.string(m, "now", where, default="") or r.string(top, "now", "the file", default="")
    try:
        now = parse_time(now_text, "now")
    except RecordError:
        r.problem(
            m.line_of("now"),
            f"{where} needs now: a time like 2026-11-05T15:00:00Z (here or for the file)",
        )
        return None
    channel = r.choice(
        m,
        "channel",
        where,
        ("voice", "chat"),
        r.string(top, "channel", "the file", default="voice") or "voice",
    )
    customer = None
    if m.get("customer") is not None:
        try:
            customer = Customer.from_dict(_plain(m["customer"], now))
        except (RecordError, ValueError) as exc:
            r.problem(m.line_of("customer"), f"{where} customer: {exc}")
            return None
    inputs = _inputs(r, m, where)
    expect = r.mapping(m.get("expect"), f"{where} expect", m.line_of("expect"), EXPECT_KEYS)
    if inputs is None or expect is None:
        return None
    if "ends_at" in expect and expect["ends_at"] not in ENDS:
        r.problem(expect.line_of("ends_at"), f"{where} ends_at must be one of {', '.join(ENDS)}")
    for key in ("hears", "never_hears"):
        if key in expect:
            texts = r.strings(expect, key, f"{where} expect")
            expect[key] = YList(expect.line_of(key))
            expect[key].extend(texts)
    caller = r.string(m, "caller", where, default="") or ""
    # What the line knows the customer speaks besides their record: their earlier choice on
    # the phone, their browser in a chat ("" : a caller is asked, if the flow speaks several)
    language = r.string(m, "language", where, default="") or ""
    return Scenario(
        name, r.file, m.line, flow, now, channel, caller, customer, inputs, _plain(expect),
        language,
    )  # fmt: skip


def _inputs(r: Reader, m: YMap, where: str) -> tuple[Event, ...] | None:
    items = m.get("inputs")
    if items is None:
        return ()
    if not isinstance(items, YList):
        r.problem(m.line_of("inputs"), f"{where} inputs must be a list")
        return None
    events: list[Event] = []
    for item in items:
        line = line_of(item, items.line)
        if isinstance(item, YStr) and item in _SIGNALS:
            events.append(_SIGNALS[item])
            continue
        kinds = f"press, say or type, or one of {', '.join(_SIGNALS)}"
        if not isinstance(item, YMap):
            r.problem(line, f"{where}: an input is {kinds}; got {kind_of(item)}")
            return None
        i = r.mapping(item, f"{where} input", line, ("press", "say", "type", "confidence"))
        if i is None:
            return None
        if len([k for k in i if k != "confidence"]) != 1:
            got = ", ".join(i) or "nothing"
            r.problem(line, f"{where}: an input is one of press, say or type; got {got}")
            return None
        if "press" in i:
            events.append(Event.digits(str(i["press"])))
        elif "type" in i:
            events.append(Event.text(str(i["type"])))
        else:
            events.append(Event.text(str(i["say"]), r.number(i, "confidence", where, 0.9)))
    return tuple(events)


def _plain(value: Any, now: datetime | None = None) -> Any:
    """Return YAML values as plain data; with `now`, relative times ("-3d") made absolute."""
    if isinstance(value, dict):
        return {str(k): _plain(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, now) for v in value]
    if isinstance(value, str):
        match = _RELATIVE.match(value)
        if match and now is not None:
            delta = parse_window(match.group(2))
            return format_time(now - delta if match.group(1) == "-" else now + delta)
        return str(value)
    return value


def run_scenario(scenario: Scenario, flow: Flow) -> Outcome:
    """Walk `flow` as the scenario's customer and return what happened against what was expected."""
    outcome = Outcome(scenario)
    first = Event.start(scenario.channel, scenario.caller)
    written = scenario.channel == "chat"  # as the chat takes its turns: a message, not a call
    customer = scenario.customer
    known = (getattr(customer, "language", "") if customer else "") or scenario.language
    turn = run_step(flow, None, first, customer, scenario.now, written=written, language=known)
    state, last = turn.state, list(turn.actions)
    _hear(outcome, last, flow.language)
    for index, event in enumerate(scenario.inputs, 1):
        if state.status == "done" or (state.status == "handoff" and event.kind != "handoff_failed"):
            outcome.failures.append(
                f"the conversation was over ({state.status} at {state.step}) before input {index}"
            )
            break
        if event.kind == "handoff_failed" and state.status != "handoff":
            outcome.failures.append(f"input {index} ({event.value}) needs a handoff in progress")
            break
        spoken = flow.speaking(state.language)
        turn = run_step(spoken, state, event, scenario.customer, scenario.now, written=written)
        state, last = turn.state, list(turn.actions)
        _hear(outcome, last, flow.language)
    _judge(outcome, state.step, state.escape_reason, last)
    return outcome


def _hear(outcome: Outcome, actions: list[Action], language: str) -> None:
    """Note what the customer hears, in their channel's words (keys on the phone, buttons
    in a chat)."""
    for text in words(outcome.scenario.channel, actions, language):
        outcome.heard.append(text)
        if _LEAK.search(text):
            outcome.failures.append(f"a placeholder reached the customer: {text!r}")


def _judge(outcome: Outcome, step: str, escape: str, actions: list[Action]) -> None:
    expect, heard = outcome.scenario.expect, " ".join(outcome.heard).lower()
    for text in expect.get("hears", []):
        if text.lower() not in heard:
            outcome.failures.append(f"never heard {text!r}")
    for text in expect.get("never_hears", []):
        if text.lower() in heard:
            outcome.failures.append(f"heard {text!r}")
    final = next((a for a in reversed(actions) if not isinstance(a, Say)), None)
    ended = final.kind if final is not None else "nothing"
    if ended in ("message", "reply_to"):  # a written message left (and how to reach them)
        ended = "message"
    if "ends_at" in expect and ended != expect["ends_at"]:
        outcome.failures.append(f"ended at {ended} ({step}), expected {expect['ends_at']}")
    if "step" in expect and step != expect["step"]:
        outcome.failures.append(f"finished at step {step!r}, expected {expect['step']!r}")
    queue = final.queue if isinstance(final, Handoff | Callback | Voicemail) else None
    if "queue" in expect and queue != expect["queue"]:
        outcome.failures.append(f"queue was {queue!r}, expected {expect['queue']!r}")
    if "escape" in expect and escape != expect["escape"]:
        outcome.failures.append(
            f"escape reason was {escape or 'none'!r}, expected {expect['escape']!r}"
        )
    got = final.outcome if isinstance(final, End) else None
    if "outcome" in expect and got != expect["outcome"]:
        outcome.failures.append(f"outcome was {got!r}, expected {expect['outcome']!r}")
