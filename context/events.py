"""The event stream channels write and the lead console reads: what happened, where, why."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from .store import PREFIX

STREAM = f"{PREFIX}:events"
MAX_EVENTS = 1_000_000  # trimmed approximately, oldest first


class CountableEvent(Protocol):
    kind: str
    step: str
    reason: str


def queue_events(
    pipe: Any,
    channel: str,
    conversation: str,
    flow: str,
    events: Iterable[CountableEvent],
    now: datetime,
) -> None:
    """Queue one stream entry per event on `pipe` (the turn's pipeline)."""
    at = f"{now.timestamp():.3f}"
    for event in events:
        pipe.xadd(
            STREAM,
            {"at": at, "channel": channel, "conversation": conversation, "flow": flow,
             "kind": event.kind, "step": event.step, "reason": event.reason},
            maxlen=MAX_EVENTS,
            approximate=True,
        )  # fmt: skip
