"""Figures for support leads: where customers escape and why, over a period of days."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

from .connect import RedisClient, text
from .events import day_key
from .models import Customer
from .store import ContextStore

ESCAPE_REASONS = {
    "key0": "pressed 0",
    "agent_intent": "asked for a person",
    "no_match": "not understood",
    "no_input": "said nothing",
    "low_confidence": "speech unclear",
    "frustration": "frustrated",
    "context_rule": "context rule",
    "after_hours": "after hours",
    "max_turns": "too many turns",
    "flow_error": "flow error",
}


@dataclass
class StepFigures:
    """How many conversations reached a step, and how many left the bot there, and why."""

    step: str
    reached: int = 0
    escaped: int = 0
    why: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "reached": self.reached, "escaped": self.escaped,
                "why": dict(self.why.most_common())}  # fmt: skip


@dataclass
class Period:
    """All of one flow's tallies from `first` to `last` (UTC days, both included)."""

    flow: str
    first: date
    last: date
    steps: dict[str, StepFigures]
    totals: Counter[str]

    def worst_steps(self) -> list[StepFigures]:
        """Return the steps, most escapes first (then most reached)."""
        return sorted(self.steps.values(), key=lambda s: (-s.escaped, -s.reached, s.step))

    @property
    def conversations(self) -> int:
        return sum(v for k, v in self.totals.items() if k.startswith("started:"))

    @property
    def outcomes(self) -> Counter[str]:
        return Counter({k[8:]: v for k, v in self.totals.items() if k.startswith("outcome|")})

    @property
    def escape_reasons(self) -> Counter[str]:
        return Counter({k[4:]: v for k, v in self.totals.items() if k.startswith("why|")})

    @property
    def containment(self) -> float | None:
        """Return the share of conversations resolved without a person, or None if none."""
        return self.outcomes["resolved"] / self.conversations if self.conversations else None


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def read_period(client: RedisClient, flow: str, first: date, last: date) -> Period:
    """Add up a flow's daily tallies over the period (one pipelined read)."""
    pipe = client.pipeline(transaction=False)
    for day in days(first, last):
        pipe.hgetall(day_key(flow, day.isoformat()))
    steps: dict[str, StepFigures] = {}
    totals: Counter[str] = Counter()
    for tally in pipe.execute():
        for raw_name, raw_count in tally.items():
            name, count = text(raw_name), int(raw_count)
            kind, _, rest = name.partition("|")
            if kind == "reached":
                steps.setdefault(rest, StepFigures(rest)).reached += count
            elif kind == "escape":
                step, _, reason = rest.partition("|")
                figures = steps.setdefault(step, StepFigures(step))
                figures.escaped += count
                figures.why[reason] += count
            else:
                totals[name] += count
    return Period(flow, first, last, steps, totals)


def period_ending(now: datetime, window: timedelta) -> tuple[date, date]:
    """Return the UTC days covering `window` up to `now`."""
    last = now.date()
    return (now - window).date(), last


def repeat_contact_rate(store: ContextStore, since: datetime, now: datetime) -> tuple[int, int]:
    """Return (customers in touch since `since`, of whom back within 7 days of a contact)."""
    touched = repeat = 0
    for customer in store.export():
        recent = customer.contacts_since(since, now)
        if not recent:
            continue
        touched += 1
        if _came_back(customer, recent):
            repeat += 1
    return touched, repeat


def _came_back(customer: Customer, recent: tuple[Any, ...]) -> bool:
    times = sorted(c.at for c in customer.contacts if c.channel != "automation")
    return any(
        timedelta(0) < later - earlier <= timedelta(days=7)
        for earlier, later in pairwise(times)
        if later >= recent[0].at
    )
