"""Our records' codes as a person says them: "voice" is a phone call, "handoff" passed to a
person. For agents' screens and whispers, which never show a code."""

from __future__ import annotations

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
