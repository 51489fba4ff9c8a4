"""Read a flow file into typed models; every mistake is a Problem with file:line."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from .expr import Condition, ExprError, parse_condition
from .hours import read_hours
from .intents import IntentMatcher
from .model import (
    STEP_KINDS,
    BranchStep,
    EscapePolicy,
    Flow,
    Intent,
    Limits,
    Rule,
    SayStep,
    Step,
)
from .schema import LANGUAGE_TAG, Reader, kind_of
from .steps import KEY, KINDS, read_template
from .twilio_languages import language_problems
from .yamlsrc import Problem, YList, YMap, YStr, line_of, parse_yaml, read_yaml

FLOW_KEYS = (
    "flow", "language", "languages", "escape", "queues", "hours", "limits", "greeting", "steps",
    "intents",
)  # fmt: skip
LIMIT_KEYS = ("prompt_seconds", "say_seconds", "menu_options")
ESCAPE_KEYS = (
    "keys", "intents", "max_no_match", "max_no_input", "min_confidence", "frustration",
    "handoff", "max_turns",
)  # fmt: skip
_KEY = re.compile(r"^[0-9*#]$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def read_flow(path: Path, display: str | None = None) -> tuple[Flow | None, list[Problem]]:
    """Return the flow in `path` (None if unreadable) and the schema problems found."""
    data, problems = read_yaml(path, display)
    return _flow(data, display or str(path), problems)


def parse_flow(text: str, file: str) -> tuple[Flow | None, list[Problem]]:
    """Return the flow written in `text` and the schema problems found."""
    data, problems = parse_yaml(text, file)
    return _flow(data, file, problems)


def _flow(data: Any, file: str, problems: list[Problem]) -> tuple[Flow | None, list[Problem]]:
    if data is None or problems:
        return None, problems
    first = Reader(file)
    top = first.mapping(data, "the flow file", 1, FLOW_KEYS, ("flow", "hours", "greeting", "steps"))
    if top is None:
        return None, first.problems
    languages = _languages(first, top)
    if first.problems:
        return None, first.problems
    # The flow is read once per language: each reading takes every text in its language, and
    # says which texts lack it. The structure is the same in each, so its problems repeat:
    # each is reported once.
    flows: list[Flow] = []
    found: set[Problem] = set()
    for language in languages:
        r = Reader(file, language, languages if len(languages) > 1 else ())
        flow = _flow_in(r, top, language)
        found.update(r.problems)
        if flow is not None:
            flows.append(flow)
    if found or len(flows) != len(languages):
        return None, sorted(found)
    versions = {flow.language: flow for flow in flows}
    for flow in flows:
        flow.versions.update(versions)
    return flows[0], []


def _languages(r: Reader, top: YMap) -> tuple[str, ...]:
    """Return the languages the flow speaks: `language: en-US`, or `languages: [en-US, ...]`."""
    if "languages" in top and "language" in top:
        r.problem(top.line_of("languages"), "give either language or languages, not both")
        return ()
    if "languages" not in top:
        return (r.string(top, "language", "the flow", default="en-US") or "en-US",)
    listed = [str(t) for t in r.strings(top, "languages", "the flow")]
    if not listed:
        r.problem(top.line_of("languages"), "languages must list at least one language")
    for tag in {t for t in listed if listed.count(t) > 1}:
        r.problem(top.line_of("languages"), f"languages lists {tag} twice")
    for tag in listed:
        if not LANGUAGE_TAG.match(tag):
            r.problem(top.line_of("languages"), f"languages: {tag!r} is not a tag like es-US")
        else:
            for message in language_problems(tag):
                r.problem(top.line_of("languages"), message)
    return tuple(listed)


def _flow_in(r: Reader, top: YMap, language: str) -> Flow | None:
    """Return the flow with every text in `language` (None, with problems, if it cannot be)."""
    name = r.name(top, "flow", "the flow") or ""
    escape = _escape(r, top.get("escape", YMap(top.line)), top.line_of("escape"), EscapePolicy())
    queues = tuple(str(q) for q in r.strings(top, "queues", "the flow"))
    hours = read_hours(r, top.get("hours"), top.line_of("hours"))
    limits = _limits(r, top.get("limits"), top.line_of("limits"))
    greeting = _rules(r, top.get("greeting"), "greeting", top.line_of("greeting"))
    intents = _intents(r, top.get("intents"), top.line_of("intents"))
    steps: dict[str, Step] = {}
    section = top.get("steps")
    if isinstance(section, YMap) and section:
        for sid, value in section.items():
            step = _step(r, sid, value, section.line_of(sid), escape)
            if step is not None:
                steps[sid] = step
    else:
        r.problem(top.line_of("steps"), "steps must be a mapping of step names to steps")
    if r.problems or hours is None:
        return None
    matcher = IntentMatcher({n: i.examples for n, i in intents.items()})
    return Flow(
        name, r.file, top.line, language, escape, greeting, steps, intents, queues, hours,
        matcher, limits, r.languages,
    )  # fmt: skip


def _limits(r: Reader, value: Any, line: int) -> Limits:
    if value is None:
        return Limits()
    m = r.mapping(value, "limits", line, LIMIT_KEYS)
    if m is None:
        return Limits()
    base = Limits()

    def seconds(key: str, default: float) -> float:
        text = r.string(m, key, "limits", default="")
        if not text:
            return default
        try:
            number = float(text)
        except ValueError:
            number = 0.0
        if not 1.0 <= number <= 120.0:
            r.problem(m.line_of(key), f"limits.{key} must be a number of seconds from 1 to 120")
            return default
        return number

    return Limits(
        prompt_seconds=seconds("prompt_seconds", base.prompt_seconds),
        say_seconds=seconds("say_seconds", base.say_seconds),
        menu_options=r.integer(m, "menu_options", "limits", base.menu_options, 1, 11),
        line=m.line,
        set_at=tuple((k, m.line_of(k)) for k in m),
    )


def _escape(r: Reader, value: Any, line: int, base: EscapePolicy) -> EscapePolicy:
    if isinstance(value, YStr) and value in ("true", "false"):
        return base if value == "true" else replace(base, enabled=False, line=value.line)
    m = r.mapping(value, "escape", line, ESCAPE_KEYS)
    if m is None:
        if isinstance(value, YStr):
            r.problem(value.line, f"escape must be a mapping or true/false, not {kind_of(value)}")
        return base
    keys = tuple(str(k) for k in r.strings(m, "keys", "escape")) if "keys" in m else base.keys
    for key in keys:
        if not KEY.match(key):
            r.problem(m.line_of("keys"), f"escape key {key!r} is not a phone key (0-9, * or #)")
    intents = (
        tuple(str(i) for i in r.strings(m, "intents", "escape")) if "intents" in m else base.intents
    )
    extra = tuple(str(p) for p in r.texts(m, "frustration", "escape"))
    return EscapePolicy(
        keys=keys,
        intents=intents,
        max_no_match=r.integer(m, "max_no_match", "escape", base.max_no_match, 0, 99),
        max_no_input=r.integer(m, "max_no_input", "escape", base.max_no_input, 0, 99),
        min_confidence=r.number(m, "min_confidence", "escape", base.min_confidence),
        frustration=base.frustration + extra,
        handoff=r.name(m, "handoff", "escape", required=False) or base.handoff,
        max_turns=r.integer(m, "max_turns", "escape", base.max_turns, 1, 100),
        enabled=True,
        line=m.line,
        # A step's escape keeps the lines of what it inherits: a mistake is shown where it is.
        set_at=tuple({**dict(base.set_at), **{k: m.line_of(k) for k in m}}.items()),
    )


def _condition(r: Reader, m: YMap, where: str) -> Condition | None:
    text = r.string(m, "when", where, default="")
    if not text:
        return None
    try:
        return parse_condition(text, m.line_of("when"))
    except ExprError as exc:
        r.problem(m.line_of("when"), f"{where} when: {exc}")
        return None


def _rules(r: Reader, value: Any, where: str, line: int) -> tuple[Rule, ...]:
    if not isinstance(value, YList) or not value:
        r.problem(line_of(value, line), f"{where} must be a list of rules (when, say, goto)")
        return ()
    rules: list[Rule] = []
    for index, item in enumerate(value, 1):
        label = f"{where} rule {index}"
        m = r.mapping(item, label, line_of(item, value.line), ("when", "say", "goto"), ("goto",))
        if m is None:
            continue
        when = _condition(r, m, label)
        guarantees = when.guarantees if when else frozenset()
        say = read_template(r, m, "say", label, guarantees)
        goto = r.name(m, "goto", label)
        if goto:
            rules.append(Rule(when, say, goto, m.line, m.line_of("goto")))
    return tuple(rules)


def _intents(r: Reader, value: Any, line: int) -> dict[str, Intent]:
    if value is None:
        return {}
    if not isinstance(value, YMap):
        r.problem(
            line_of(value, line),
            f"intents must be a mapping of names to examples, not {kind_of(value)}",
        )
        return {}
    out: dict[str, Intent] = {}
    for name, spec in value.items():
        where = f"intent '{name}'"
        at = value.line_of(name)
        if not _NAME.match(name):
            r.problem(at, f"{where} is not a name (use lower case letters, digits and _)")
        m = r.mapping(spec, where, at, ("examples",), ("examples",))
        if m is not None:
            out[name] = Intent(name, tuple(str(e) for e in r.texts(m, "examples", where)), at)
    return out


def _step(r: Reader, sid: str, value: Any, line: int, escape: EscapePolicy) -> Step | None:
    where = f"step '{sid}'"
    m = r.mapping(value, where, line, (*STEP_KINDS, "goto", "escape"))
    if m is None:
        return None
    kinds = [k for k in m if k in STEP_KINDS]
    if len(kinds) != 1:
        found = f" (found: {', '.join(kinds)})" if kinds else ""
        r.problem(line, f"{where} needs exactly one of {', '.join(STEP_KINDS)}{found}")
        return None
    kind = kinds[0]
    if "goto" in m and kind != "say":
        r.problem(m.line_of("goto"), f"{where}: goto goes inside the {kind}, not beside it")
    if "escape" in m and kind not in ("menu", "ask", "callback"):
        r.problem(
            m.line_of("escape"), f"{where}: escape applies only to prompts (menu, ask, callback)"
        )
    here = _escape(r, m["escape"], m.line_of("escape"), escape) if "escape" in m else escape
    if kind == "say":
        text = read_template(r, m, "say", where)
        goto = r.name(m, "goto", where, required=False)
        return SayStep(sid, line, text, goto or None, m.line_of("goto")) if text else None
    if kind == "branch":
        rules = _rules(r, m["branch"], f"{where} branch", m.line_of("branch"))
        return BranchStep(sid, line, rules)
    return KINDS[kind](r, sid, line, m[kind], m.line_of(kind), here)
