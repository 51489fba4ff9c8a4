"""Readers for the prompting and ending step kinds: menu, ask, handoff, callback, voicemail, end."""

from __future__ import annotations

import re
from typing import Any

from .expr import ExprError
from .model import (
    CHANNELS,
    END_OUTCOMES,
    AskStep,
    CallbackStep,
    EndStep,
    EscapePolicy,
    HandoffStep,
    MenuStep,
    Option,
    Step,
    VoicemailStep,
)
from .schema import Reader, is_language_map, kind_of
from .template import Template, parse_template
from .yamlsrc import YList, YMap, line_of

KEY = re.compile(r"^[0-9*#]$")


def read_template(
    r: Reader, m: YMap, key: str, where: str, guarantees: frozenset[str] = frozenset()
) -> Template | None:
    """Return the template under `key` in the reader's language (None if absent or wrong,
    with the problem recorded)."""
    text = r.text(m, key, where, default="")
    if not text:
        return None
    line = line_of(text, m.line_of(key))
    try:
        return parse_template(text, line, guarantees)
    except ExprError as exc:
        r.problem(line, f"{where}.{key}: {exc}")
        return None


def read_prompt(r: Reader, m: YMap, where: str) -> tuple[Template | None, dict[str, Template]]:
    """Return a prompt written once (text) or per channel ({text?, voice?, chat?}), either of
    them per language ({en-US: ..., es-US: ...})."""
    value = m.get("prompt")
    at = f"{where}.prompt"
    if is_language_map(value):
        value = r.in_language(value, at, m.line_of("prompt"))
        if value is None:
            return None, {}
        chosen = YMap(m.line)
        chosen["prompt"], chosen.key_lines["prompt"] = value, line_of(value, m.line)
        with r.chosen():
            return read_prompt(r, chosen, where)
    if not isinstance(value, YMap):
        return read_template(r, m, "prompt", where), {}
    p = r.mapping(value, at, m.line_of("prompt"), ("text", *CHANNELS))
    if p is None:
        return None, {}
    phrased = {c: t for c in CHANNELS if (t := read_template(r, p, c, at)) is not None}
    text = read_template(r, p, "text", at)
    if text is None and len(phrased) < len(CHANNELS):
        r.problem(p.line, f"{at} needs 'text', or words for every channel ({', '.join(CHANNELS)})")
        return None, {}
    return text or phrased["chat"], phrased


def _menu(r: Reader, sid: str, line: int, value: Any, at: int, escape: EscapePolicy) -> Step | None:
    where = f"step '{sid}' menu"
    allowed = ("prompt", "options", "hints", "barge_in")
    m = r.mapping(value, where, at, allowed, ("prompt", "options"))
    if m is None:
        return None
    prompt, phrased = read_prompt(r, m, where)
    options: list[Option] = []
    items = m["options"]
    if not isinstance(items, YList):
        r.problem(m.line_of("options"), f"{where}.options must be a list, not {kind_of(items)}")
        items = []
    for item in items:
        o = r.mapping(
            item,
            f"{where} option",
            line_of(item, m.line),
            ("key", "intent", "goto", "label"),
            ("goto",),
        )
        if o is None:
            continue
        key = r.string(o, "key", where, default="") or None
        intent = r.name(o, "intent", where, required=False) or None
        if key is not None and not KEY.match(key):
            r.problem(o.line_of("key"), f"{where}: key {key!r} is not a phone key (0-9, * or #)")
        if key is None and intent is None:
            r.problem(o.line, f"{where}: an option needs a key, an intent or both")
        if "label" not in o and len(r.languages) > 1:
            r.problem(o.line, f"{where}: an option needs a label in each of the flow's languages")
        label = (
            str(r.text(o, "label", where, default="") or "")
            or (intent or "").replace("_", " ").capitalize()
        )
        goto = r.name(o, "goto", where)
        if goto:
            options.append(Option(key, intent, goto, label or f"Press {key}", o.line))
    hints = tuple(str(h) for h in r.texts(m, "hints", where))
    barge_in = r.flag(m, "barge_in", where, default=True)
    if prompt is None:
        return None
    return MenuStep(sid, line, prompt, tuple(options), hints, escape, phrased, barge_in)


def _ask(r: Reader, sid: str, line: int, value: Any, at: int, escape: EscapePolicy) -> Step | None:
    where = f"step '{sid}' ask"
    allowed = (
        "prompt", "pattern", "min_length", "max_length", "save_as", "goto", "hints", "barge_in",
    )  # fmt: skip
    m = r.mapping(value, where, at, allowed, ("prompt", "save_as", "goto"))
    if m is None:
        return None
    prompt, phrased = read_prompt(r, m, where)
    pattern = r.string(m, "pattern", where, default="digits") or "digits"
    if pattern != "digits":
        try:
            re.compile(pattern)
        except re.error as exc:
            r.problem(
                m.line_of("pattern"), f"{where}.pattern is not a valid regular expression: {exc}"
            )
    low = r.integer(m, "min_length", where, 1, 1, 64)
    high = r.integer(m, "max_length", where, 20, 1, 64)
    if low > high:
        r.problem(m.line_of("min_length"), f"{where}: min_length is above max_length")
    save_as, goto = r.name(m, "save_as", where), r.name(m, "goto", where)
    hints = tuple(str(h) for h in r.texts(m, "hints", where))
    barge_in = r.flag(m, "barge_in", where, default=True)
    if prompt is None or not save_as or not goto:
        return None
    return AskStep(
        sid, line, prompt, pattern, low, high, save_as, goto, m.line_of("goto"), hints, escape,
        phrased, barge_in,
    )  # fmt: skip


def _handoff(r: Reader, sid: str, line: int, value: Any, at: int, _: EscapePolicy) -> Step | None:
    where = f"step '{sid}' handoff"
    m = r.mapping(value, where, at, ("queue", "reason", "say"), ("queue", "reason"))
    if m is None:
        return None
    queue, reason = r.name(m, "queue", where), r.string(m, "reason", where)
    say = read_template(r, m, "say", where)
    return HandoffStep(sid, line, queue, reason, say) if queue and reason else None


def _callback(
    r: Reader, sid: str, line: int, value: Any, at: int, escape: EscapePolicy
) -> Step | None:
    where = f"step '{sid}' callback"
    m = r.mapping(value, where, at, ("queue", "reason"), ("queue",))
    if m is None:
        return None
    queue = r.name(m, "queue", where)
    reason = r.string(m, "reason", where, default="asked for a callback") or ""
    return CallbackStep(sid, line, queue, reason, escape) if queue else None


def _voicemail(r: Reader, sid: str, line: int, value: Any, at: int, _: EscapePolicy) -> Step | None:
    where = f"step '{sid}' voicemail"
    m = r.mapping(value, where, at, ("queue", "reason", "prompt"), ("queue",))
    if m is None:
        return None
    queue = r.name(m, "queue", where)
    reason = r.string(m, "reason", where, default="left a voicemail") or ""
    prompt = read_template(r, m, "prompt", where)
    return VoicemailStep(sid, line, queue, reason, prompt) if queue else None


def _end(r: Reader, sid: str, line: int, value: Any, at: int, _: EscapePolicy) -> Step | None:
    where = f"step '{sid}' end"
    m = r.mapping(YMap(at) if value is None else value, where, at, ("outcome", "say"))
    if m is None:
        return None
    outcome = r.choice(m, "outcome", where, END_OUTCOMES, "resolved")
    return EndStep(sid, line, outcome, read_template(r, m, "say", where))


KINDS = {
    "menu": _menu,
    "ask": _ask,
    "handoff": _handoff,
    "callback": _callback,
    "voicemail": _voicemail,
    "end": _end,
}
