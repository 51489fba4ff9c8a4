"""A conversation's transcript: every line the customer, the bot and a person wrote, in order.

The transcript is a list beside the conversation's hash, `pz:conv:{chat:web-1}:msgs`, under
the same hash tag, so a turn writes its lines inside its own commit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

MAX_LINES = 500
KEEP_SECONDS = 7 * 24 * 3600  # from the last line


class Commands(Protocol):
    """What the transcript queues its writes on: a pipeline, or a turn's `Writes`."""

    def rpush(self, name: str, *values: str) -> Any: ...
    def ltrim(self, name: str, start: int, end: int) -> Any: ...
    def expire(self, name: str, time: int) -> Any: ...


def key_of(conversation_key: str) -> str:
    """Return the transcript's key for a conversation's key."""
    return conversation_key + ":msgs"


def queue_line(
    writes: Commands,
    key: str,
    who: str,
    text: str,
    at: datetime,
    person: str = "",
    buttons: Sequence[Mapping[str, str]] = (),
) -> None:
    """Queue one line (`who`: visitor, bot, agent or system; `buttons`: quick replies under
    it) on `writes`: add, trim, keep."""
    entry: dict[str, Any] = {"from": who, "text": text, "at": at.isoformat(timespec="seconds")}
    if person:
        entry["agent"] = person
    if buttons:
        entry["buttons"] = [dict(b) for b in buttons]
    writes.rpush(key, json.dumps(entry))
    writes.ltrim(key, -MAX_LINES, -1)
    writes.expire(key, KEEP_SECONDS)


def lines(client: Any, key: str, after: int = -1) -> list[dict[str, Any]]:
    """Return the lines after id `after`, each with its id (its place in the list)."""
    raw = client.lrange(key, after + 1, -1)
    return [{"id": after + 1 + i, **json.loads(line)} for i, line in enumerate(raw)]
