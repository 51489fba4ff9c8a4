"""What the channels record each turn, and the lead console reads: what happened, where, why.

Each event goes to a stream (`pz:events`, for tools that want the raw record) and into a
per-day tally (`pz:stats:{flow}:2026-11-23`, a hash), so that figures for a period cost one
read per day, not a walk over millions of events.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from .store import PREFIX

STREAM = f"{PREFIX}:events"
MAX_EVENTS = 1_000_000  # trimmed approximately, oldest first
KEEP_DAYS = 400


class CountableEvent(Protocol):
    """What an event must show to be counted (read-only: the engine's events are frozen)."""

    @property
    def kind(self) -> str: ...
    @property
    def step(self) -> str: ...
    @property
    def reason(self) -> str: ...


def day_key(flow: str, day: str) -> str:
    """Return the key of one flow's tally for one UTC day (YYYY-MM-DD)."""
    return f"{PREFIX}:stats:{{{flow}}}:{day}"


def queue_events(
    pipe: Any,
    channel: str,
    conversation: str,
    flow: str,
    events: Iterable[CountableEvent],
    now: datetime,
    *,
    started: bool = False,
) -> None:
    """Queue the turn's events on `pipe`: one stream entry each, and the day's tallies."""
    at = f"{now.timestamp():.3f}"
    tally = day_key(flow, now.astimezone(UTC).date().isoformat())
    counts: dict[str, int] = {}
    if started:
        counts[f"started:{channel}"] = 1
    for event in events:
        pipe.xadd(
            STREAM,
            {"at": at, "channel": channel, "conversation": conversation, "flow": flow,
             "kind": event.kind, "step": event.step, "reason": event.reason},
            maxlen=MAX_EVENTS,
            approximate=True,
        )  # fmt: skip
        for name in tally_names(event):
            counts[name] = counts.get(name, 0) + 1
    for name, amount in counts.items():
        pipe.hincrby(tally, name, amount)
    if counts:
        pipe.expire(tally, KEEP_DAYS * 86400)


def tally_names(event: CountableEvent) -> list[str]:
    """Return the tally fields one event adds to."""
    if event.kind == "step":
        return [f"reached|{event.step}"]
    if event.kind == "escape":
        return [f"escape|{event.step}|{event.reason}", f"why|{event.reason}"]
    if event.kind == "fallback" and event.reason == "after_hours":
        return [f"escape|{event.step}|after_hours", "why|after_hours"]
    if event.kind in ("handoff", "callback", "voicemail"):
        return [f"outcome|{event.kind}"]
    if event.kind == "end":
        return [f"outcome|{event.reason or 'resolved'}"]
    if event.kind == "miss":
        return [f"miss|{event.reason}"]
    if event.kind == "satisfaction":  # asked, yes (sorted) or no
        return [f"satisfaction|{event.reason}"]
    return []
