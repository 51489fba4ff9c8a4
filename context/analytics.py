"""Figures for support leads: where customers escape and why, over a period of days."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

from .connect import RedisClient, text
from .events import day_key
from .models import Customer, parse_window
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
GREETING = "greeting"  # where the engine places an escape its greeting rules decide


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


@dataclass(frozen=True)
class Satisfaction:
    """How the question after a person ("did we sort it out?") was answered."""

    asked: int = 0
    yes: int = 0
    no: int = 0

    @classmethod
    def of(cls, tally: Counter[str]) -> Satisfaction:
        return cls(tally["satisfaction|asked"], tally["satisfaction|yes"], tally["satisfaction|no"])

    @property
    def answered(self) -> int:
        return self.yes + self.no

    @property
    def sorted_share(self) -> float | None:
        """Return the share of answers that said it was sorted, or None with no answers."""
        return self.yes / self.answered if self.answered else None


@dataclass
class Period:
    """All of one flow's tallies from `first` to `last` (UTC days, both included)."""

    flow: str
    first: date
    last: date
    steps: dict[str, StepFigures]
    totals: Counter[str]
    daily: dict[date, Satisfaction] = field(default_factory=dict)  # days with any asked

    @property
    def satisfaction(self) -> Satisfaction:
        return Satisfaction.of(self.totals)

    def worst_steps(self) -> list[StepFigures]:
        """Return the steps, most escapes first (then most reached)."""
        return sorted(self.steps.values(), key=lambda s: (-s.escaped, -s.reached, s.step))

    @property
    def conversations(self) -> int:
        return _started(self.totals)

    @property
    def outcomes(self) -> Counter[str]:
        return Counter({k[8:]: v for k, v in self.totals.items() if k.startswith("outcome|")})

    @property
    def escape_reasons(self) -> Counter[str]:
        return Counter({k[4:]: v for k, v in self.totals.items() if k.startswith("why|")})

    def step_rows(self) -> list[StepFigures]:
        """Return the steps customers escaped from, worst first; a step with more escapes
        than arrivals (its conversations began before the period) is left out, not shown."""
        return [s for s in self.worst_steps() if 0 < s.escaped <= s.reached]

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
    daily: dict[date, Satisfaction] = {}
    for day, tally in zip(days(first, last), pipe.execute(), strict=True):
        named = {text(k): int(v) for k, v in tally.items()}
        counts = Counter({k: v for k, v in named.items() if k.startswith("satisfaction|")})
        if counts:
            daily[day] = Satisfaction.of(counts)
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
    if GREETING in steps:  # every conversation passes the greeting; no step event says so
        steps[GREETING].reached = max(steps[GREETING].reached, _started(totals))
    return Period(flow, first, last, steps, totals, daily)


def _started(totals: Counter[str]) -> int:
    return sum(v for k, v in totals.items() if k.startswith("started:"))


def report_days(since: str) -> int:
    """Return how many UTC days `--since` covers ("1d": today, "2w": 14 days).

    The figures are tallied per UTC day, so a window finer than a day is refused rather
    than quietly widened.
    """
    window = parse_window(since)
    if window < timedelta(days=1) or window % timedelta(days=1):
        raise ValueError(
            f"--since {since}: figures are kept per UTC day, so the period is whole days "
            "or weeks (1d is today, 7d the last 7 days, 2w)"
        )
    return window // timedelta(days=1)


def flows_with_figures(client: RedisClient) -> set[str]:
    """Return the names of the flows that have daily tallies."""
    pattern = day_key("*", "*")
    return {
        text(k).split("{", 1)[1].rsplit("}", 1)[0]
        for k in client.scan_iter(match=pattern, count=1000)
    }


def period_ending(now: datetime, window: timedelta) -> tuple[date, date]:
    """Return the UTC days covering `window` up to `now`."""
    last = now.astimezone(UTC).date()
    return (now - window).astimezone(UTC).date(), last


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
    times = sorted(c.at for c in customer.own_contacts)
    return any(
        timedelta(0) < later - earlier <= timedelta(days=7)
        for earlier, later in pairwise(times)
        if later >= recent[0].at
    )
