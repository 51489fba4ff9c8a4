"""The outbound guard: ask the customer's context before an automated message goes out.

Rules are YAML in the flow language's own conditions, first match wins per message kind:

    timezone: America/New_York
    always:                      # checked first, for every kind
      - when: has_flag("do-not-automate")
        decision: suppress
        why: "the customer asked for no automated messages"
    kinds:
      thanks_for_call:
        - when: contacts.last.outcome == "missed"
          decision: replace
          with: apology_rebook
          why: "the call never connected"
        - decision: allow

Two rules are built in and come before any file: an unknown customer gets nothing automated,
and neither does a customer a person is handling right now (an open handoff).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from presszero.context.models import Customer
from presszero.flows.language.expr import Condition, ExprError, parse_condition
from presszero.flows.language.fields import Facts
from presszero.flows.language.schema import Reader
from presszero.flows.language.yamlsrc import FlowError, YList, YMap, line_of, read_yaml

DECISIONS = ("allow", "suppress", "replace")


@dataclass(frozen=True, slots=True)
class GuardRule:
    when: Condition | None
    decision: str
    why: str
    replace_with: str
    line: int


@dataclass(frozen=True, slots=True)
class GuardRules:
    file: str
    timezone: ZoneInfo
    always: tuple[GuardRule, ...]
    kinds: dict[str, tuple[GuardRule, ...]]


@dataclass(frozen=True, slots=True)
class Decision:
    kind: str
    decision: str  # allow, suppress or replace
    why: str
    replace_with: str = ""
    rule: str = ""  # file:line of the rule that decided, or "built-in"

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, "decision": self.decision, "why": self.why, "rule": self.rule}
        if self.replace_with:
            out["replace_with"] = self.replace_with
        return out


class UnknownKind(ValueError):
    """A message kind the rules do not know."""


def read_guard(path: Path) -> GuardRules:
    """Return the guard rules in `path`, or raise FlowError listing every problem."""
    data, problems = read_yaml(path)
    r = Reader(str(path))
    r.problems.extend(problems)
    top = r.mapping(data, "the guard file", 1, ("timezone", "always", "kinds"), ("kinds",))
    if top is None:
        raise FlowError(r.problems)
    zone = r.string(top, "timezone", "the guard file", default="UTC") or "UTC"
    try:
        timezone = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        r.problem(top.line_of("timezone"), f"unknown timezone {zone!r}")
        timezone = ZoneInfo("UTC")
    always = _rules(r, top.get("always") or YList(top.line), "always", top.line, final=False)
    kinds: dict[str, tuple[GuardRule, ...]] = {}
    section = top.get("kinds")
    if not isinstance(section, YMap) or not section:
        r.problem(line_of(section, top.line), "kinds must map each message kind to its rules")
    else:
        for kind, rules in section.items():
            kinds[str(kind)] = _rules(r, rules, f"kind {kind}", section.line_of(kind), final=True)
    if r.problems:
        raise FlowError(r.problems)
    return GuardRules(str(path), timezone, always, kinds)


def _rules(r: Reader, value: Any, where: str, line: int, *, final: bool) -> tuple[GuardRule, ...]:
    if not isinstance(value, YList):
        r.problem(line_of(value, line), f"{where} must be a list of rules")
        return ()
    rules: list[GuardRule] = []
    for index, item in enumerate(value, 1):
        label = f"{where} rule {index}"
        keys = ("when", "decision", "why", "with")
        m = r.mapping(item, label, line_of(item, value.line), keys, ("decision",))
        if m is None:
            continue
        when = None
        if m.get("when") is not None:
            try:
                when = parse_condition(str(m["when"]), m.line_of("when"))
            except ExprError as exc:
                r.problem(m.line_of("when"), f"{label}: {exc}")
                continue
        decision = r.choice(m, "decision", label, DECISIONS, "suppress")
        replacement = r.string(m, "with", label, default="") or ""
        if decision == "replace" and not replacement:
            r.problem(m.line, f"{label}: a replace rule needs 'with' (the kind to send instead)")
        rules.append(GuardRule(when, decision, r.string(m, "why", label, default="") or "",
                               replacement, m.line))  # fmt: skip
    if final and (not rules or rules[-1].when is not None):
        r.problem(line, f"{where}: the last rule must have no 'when', so every case is decided")
    return tuple(rules)


def decide(
    rules: GuardRules, kind: str, customer: Customer | None, now: datetime, *, open_handoff: bool
) -> Decision:
    """Return whether a message of `kind` may go to `customer` now, and why."""
    if kind not in rules.kinds:
        known = ", ".join(sorted(rules.kinds))
        raise UnknownKind(f"unknown message kind {kind!r} (known: {known})")
    if customer is None:
        return Decision(kind, "suppress", "we do not know this customer", rule="built-in")
    if open_handoff:
        return Decision(kind, "suppress", "a person is handling this customer now", rule="built-in")
    # The conditions' `contacts` and `history` never count earlier guard decisions.
    facts = Facts(customer, now, rules.timezone)
    for rule in (*rules.always, *rules.kinds[kind]):
        if rule.when is None or rule.when.holds(facts):
            return Decision(kind, rule.decision, rule.why or rule.decision, rule.replace_with,
                            f"{rules.file}:{rule.line}")  # fmt: skip
    return Decision(kind, "suppress", "no rule decided", rule="built-in")
