"""The customer-context fields that conditions and templates may name, and how to read them.

A value of None means "missing" (an unknown caller, no cancellation on record, an empty
name). Conditions treat missing as neither true nor false, so they never hold on it;
templates fall back to neutral wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from presszero.context.models import (
    APPOINTMENT_STATUSES,
    AUTOMATION_OUTCOMES,
    CHANNELS,
    CONTACT_OUTCOMES,
    PARTIES,
    PLAN_STATUSES,
    Customer,
    local_day_start,
    parse_window,
)


@dataclass(frozen=True, slots=True)
class Facts:
    """What a condition or template reads: the customer (None if unknown) and the time."""

    customer: Customer | None
    now: datetime
    tz: tzinfo
    hours_text: str = ""
    answers: Mapping[str, str] = field(default_factory=dict)


Getter = Callable[[Any, Facts], Any]


@dataclass(frozen=True, slots=True)
class Attr:
    """A field: its type, how to read it from its owner, and whether it is always there."""

    type: str
    get: Getter
    always: bool = False  # present whenever its owner is (and, if personal, the caller is known)
    personal: bool = True  # needs a known customer
    values: tuple[str, ...] = ()  # the allowed values of an enumerated text


@dataclass(frozen=True, slots=True)
class Method:
    """A call such as `.within("48h")`: its result type and the kind of its one argument."""

    type: str
    arg: str  # "window" or "day"
    apply: Callable[[Any, Any, Facts], Any]


def _text(value: str) -> str | None:
    return value if value and value.strip() else None


def _since(items: tuple[Any, ...], start: datetime, facts: Facts) -> tuple[Any, ...]:
    return tuple(i for i in items if start <= i.at <= facts.now)


def _day_start(days_back: int, facts: Facts) -> datetime:
    return local_day_start(facts.now, facts.tz, days_back)


def _list_attrs(item: str) -> dict[str, Attr]:
    return {
        "count": Attr("num", lambda v, f: len(v), always=True),
        "last": Attr(item, lambda v, f: v[-1] if v else None),
        "first": Attr(item, lambda v, f: v[0] if v else None),
    }


def _list_methods(kind: str) -> dict[str, Method]:
    return {
        "within": Method(kind, "window", lambda v, w, f: _since(v, f.now - w, f)),
        "since": Method(kind, "day", lambda v, d, f: _since(v, _day_start(d, f), f)),
    }


_ITEM_METHODS = {
    "within": Method("bool", "window", lambda v, w, f: f.now - w <= v.at <= f.now),
    "since": Method("bool", "day", lambda v, d, f: _day_start(d, f) <= v.at <= f.now),
}


def _customer(name: str) -> Attr:
    return Attr("str", lambda f, _: _text(getattr(f.customer, name)) if f.customer else None, True)


def _status(status: str) -> Attr:
    return Attr("appointments", lambda v, f: tuple(a for a in v if a.status == status), True)


ROOTS: dict[str, Attr] = {
    "customer": Attr("customer", lambda f, _: f, always=True, personal=False),
    "plan": Attr("plan", lambda f, _: f.customer.plan if f.customer else None, always=True),
    "cancellations": Attr(
        "cancellations", lambda f, _: f.customer.cancellations if f.customer else None, True
    ),
    # What the customer did: their calls, chats, emails and messages, one per conversation.
    "contacts": Attr(
        "contacts", lambda f, _: f.customer.own_contacts if f.customer else None, True
    ),
    # Everything between us and them, ours too (callbacks, calls we missed).
    "history": Attr("contacts", lambda f, _: f.customer.history if f.customer else None, True),
    # What the outbound guard decided about automated messages to them.
    "automation": Attr(
        "decisions", lambda f, _: f.customer.automation if f.customer else None, True
    ),
    "appointments": Attr(
        "appointments", lambda f, _: f.customer.appointments if f.customer else None, True
    ),
    "hours": Attr("str", lambda f, _: _text(f.hours_text), always=True, personal=False),
    "answers": Attr("answers", lambda f, _: f.answers, always=True, personal=False),
}

TYPES: dict[str, dict[str, Attr]] = {
    "customer": {
        "known": Attr("bool", lambda f, _: f.customer is not None, always=True, personal=False),
        "first_name": _customer("first_name"),
        "name": _customer("name"),
        "id": _customer("id"),
    },
    "plan": {
        "name": Attr("str", lambda p, f: _text(p.name)),
        "status": Attr("str", lambda p, f: p.status, True, values=PLAN_STATUSES),
        "started": Attr("date", lambda p, f: p.started_at),
    },
    "cancellations": _list_attrs("cancellation"),
    "cancellation": {
        "date": Attr("date", lambda c, f: c.at, always=True),
        "plan": Attr("str", lambda c, f: _text(c.plan)),
        "reason": Attr("str", lambda c, f: _text(c.reason)),
        "by": Attr("str", lambda c, f: c.by, always=True, values=PARTIES),
    },
    "contacts": _list_attrs("contact"),
    "contact": {
        "date": Attr("date", lambda c, f: c.at, always=True),
        "channel": Attr("str", lambda c, f: c.channel, always=True, values=CHANNELS),
        "reason": Attr("str", lambda c, f: _text(c.reason)),
        "outcome": Attr("str", lambda c, f: c.outcome, always=True, values=CONTACT_OUTCOMES),
        "by": Attr("str", lambda c, f: c.by, always=True, values=PARTIES),
    },
    "decisions": _list_attrs("decision"),
    "decision": {
        "date": Attr("date", lambda c, f: c.at, always=True),
        "kind": Attr("str", lambda c, f: _text(c.reason.partition(":")[0])),  # welcome_new_plan
        "outcome": Attr("str", lambda c, f: c.outcome, always=True, values=AUTOMATION_OUTCOMES),
    },
    "appointments": {
        **_list_attrs("appointment"),
        **{status: _status(status) for status in APPOINTMENT_STATUSES},
    },
    "appointment": {
        "date": Attr("date", lambda a, f: a.at, always=True),
        "kind": Attr("str", lambda a, f: _text(a.kind)),
        "status": Attr("str", lambda a, f: a.status, always=True, values=APPOINTMENT_STATUSES),
    },
}

METHODS: dict[str, dict[str, Method]] = {
    "cancellations": _list_methods("cancellations"),
    "contacts": _list_methods("contacts"),
    "decisions": _list_methods("decisions"),
    "appointments": _list_methods("appointments"),
    "cancellation": _ITEM_METHODS,
    "contact": _ITEM_METHODS,
    "decision": _ITEM_METHODS,
    "appointment": _ITEM_METHODS,
}

LISTS = frozenset({"cancellations", "contacts", "decisions", "appointments"})
ITEMS = frozenset({"cancellation", "contact", "decision", "appointment"})
SPOKEN = frozenset({"str", "num", "date"})


def answer_attr(name: str) -> Attr:
    """Return the field for the answer an `ask` step saved as `name`."""
    return Attr("str", lambda a, f: _text(a.get(name, "")), personal=False)


def has_flag(flag: str, facts: Facts) -> bool | None:
    """Return whether the customer carries `flag` (None for an unknown caller)."""
    return None if facts.customer is None else facts.customer.has_flag(flag)


_DAYS_AGO = re.compile(r"^(\d+) days? ago$")


def parse_day(text: str) -> int:
    """Return how many local days back "today", "yesterday" or "3 days ago" starts."""
    words = " ".join(text.lower().split())
    if words == "today":
        return 0
    if words == "yesterday":
        return 1
    match = _DAYS_AGO.match(words)
    if match:
        return int(match.group(1))
    raise ValueError(f'not a day: {text!r} (write today, yesterday or e.g. "3 days ago")')


def parse_arg(kind: str, text: str) -> timedelta | int:
    """Return a method argument read at load time (a window or a number of days back)."""
    return parse_window(text) if kind == "window" else parse_day(text)


def speak(value: Any, type_name: str, facts: Facts) -> str | None:
    """Return a field's value as words a person can hear, or None when there is nothing."""
    if value is None:
        return None
    if type_name == "date":
        local = value.astimezone(facts.tz)
        text = f"{local:%B} {local.day}"
        return (
            text if local.year == facts.now.astimezone(facts.tz).year else f"{text}, {local.year}"
        )
    if type_name == "num":
        return str(value)
    text = re.sub(r"[{}\[\]<>]", "", str(value)).strip()
    if text.lower() in {"", "none", "null", "undefined", "nan"}:
        return None
    return text
