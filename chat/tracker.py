"""What the Rasa actions read out of a tracker: messages, metadata, intents, misses in a row.

Plain functions over rasa-sdk's `Tracker` and its event dicts (the JSON Rasa posts to the
action server), with no store or transport in them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from presszero.context.models import format_time

if TYPE_CHECKING:  # rasa-sdk is imported only where actions run, not by every CLI command
    from rasa_sdk import Tracker

FALLBACK_INTENT = "nlu_fallback"
TRANSCRIPT_LIMIT = 200  # the newest messages kept in an inbox entry
_STREAK_BREAKERS = frozenset({"pause", "resume", "session_started"})


def transcript(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the visitor's and the bot's messages, `{"from", "text", "at"}`, newest last."""
    lines = [
        {"from": "visitor" if e["event"] == "user" else "bot", "text": e["text"], "at": _at(e)}
        for e in events
        if e.get("event") in ("user", "bot") and isinstance(e.get("text"), str) and e["text"]
    ]
    return lines[-TRANSCRIPT_LIMIT:]


def said(events: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """Return what the visitor typed, as the engine's `said` entries (step = Rasa's intent)."""
    lines = [
        {"step": _understood_as(e), "how": "typed", "text": e["text"]}
        for e in events
        if e.get("event") == "user" and isinstance(e.get("text"), str) and e["text"]
    ]
    return lines[-TRANSCRIPT_LIMIT:]


def latest_metadata(tracker: Tracker) -> dict[str, Any]:
    """Return the metadata of the visitor's latest message ({} if none)."""
    metadata = (tracker.latest_message or {}).get("metadata")
    if not metadata:
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                metadata = event.get("metadata")
                break
    return metadata if isinstance(metadata, dict) else {}


def latest_intent(tracker: Tracker) -> str:
    """Return the intent Rasa gave the latest message ("" if none)."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    return str(intent.get("name") or "")


def misses_in_a_row(events: Iterable[dict[str, Any]], fallback_action: str) -> int:
    """Return how many messages in a row, the latest included, ended at `fallback_action`.

    The latest message counts as a miss (the fallback is running for it); each earlier one
    counts while its turn ran the fallback. An understood message, a pause or resume (a
    handoff) or a new session ends the streak.
    """
    turns: list[list[dict[str, Any]]] = []
    for event in events:
        if event.get("event") == "user":
            turns.append([])
        elif turns:
            turns[-1].append(event)
    misses = 1
    for after in reversed(turns[:-1]):
        ran = {e.get("name") for e in after if e.get("event") == "action"}
        if fallback_action not in ran or {e.get("event") for e in after} & _STREAK_BREAKERS:
            break
        misses += 1
    return misses


def _at(event: dict[str, Any]) -> str | None:
    stamp = event.get("timestamp")
    if not isinstance(stamp, int | float):
        return None
    return format_time(datetime.fromtimestamp(stamp, UTC))


def _understood_as(event: dict[str, Any]) -> str:
    intent = str(((event.get("parse_data") or {}).get("intent") or {}).get("name") or "")
    return "not understood" if intent in ("", FALLBACK_INTENT) else intent
