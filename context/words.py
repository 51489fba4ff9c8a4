"""Our records' codes as a person says them: "voice" is a phone call, "handoff" passed to a
person. For agents' screens and whispers, which never show a code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CHANNELS = {
    "voice": "phone call", "chat": "website chat", "rasa": "chat (through Rasa)",
    "email": "email", "sms": "text message", "agent": "call from us",
    "automation": "automated message",
}  # fmt: skip
KINDS = {"handoff": "wants a person", "callback": "call back", "voicemail": "voicemail"}
OUTCOMES = {
    "resolved": "sorted out", "handoff": "passed to a person",
    "abandoned": "ended before it was done", "missed": "missed by us",
    "callback": "callback arranged", "allowed": "sent",
    "suppressed": "held back", "replaced": "replaced",
}  # fmt: skip
APPOINTMENTS = {"scheduled": "booked", "completed": "held", "missed": "we missed it",
                "cancelled": "cancelled"}  # fmt: skip


def in_words(value: object, table: str) -> str:
    """Return a channel, kind, outcome or appointment status as an agent says it ("voice" →
    "phone call"); a value the table does not know is shown as it is, "_" as spaces."""
    words = {"channel": CHANNELS, "kind": KINDS, "outcome": OUTCOMES,
             "appointment": APPOINTMENTS}[table]  # fmt: skip
    text = "" if value is None else str(value)
    return words.get(text, text.replace("_", " "))


def spoken_language(record: Mapping[str, Any]) -> str:
    """Return the language a conversation is held in, by its English name ("Spanish"), from a
    handoff record or its summary; "" when it is English or nobody said.

    English is left unsaid: agents' screens and whispers are in English, so an English
    conversation is what an agent expects; any other is worth telling before they answer.
    """
    # Imported here: presszero.flows imports this module (the summary's words).
    from presszero.flows.language.languages import base, name_of

    found = record.get("summary")
    summary: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    language = str(summary.get("language") or record.get("language") or "").strip()
    return name_of(language) if language and base(language) != "en" else ""
