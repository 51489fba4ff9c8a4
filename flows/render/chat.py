"""The chat's words for what the engine decided: the question, choices as buttons, never "press".

A prompt is shown as its question with a button per choice and "Talk to a person" always
among them; a flow may word a prompt for the chat itself (`prompt: {chat: ...}`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from presszero.flows.engine.actions import (
    Action,
    AskContact,
    AskRating,
    Choice,
    Handoff,
    Prompt,
    Say,
    Voicemail,
)
from presszero.flows.engine.messages import (
    LEAVE_MESSAGE,
    RATE_NO,
    RATE_YES,
    REPLY_EMAIL,
    REPLY_HERE,
    REPLY_SMS,
)

PERSON_BUTTON = {"title": "Talk to a person", "payload": "/agent"}
VOICEMAIL = "Leave a message and we'll answer here. Type it below, as much as you like."
ASK_CONTACT = (
    "Thanks, we've got your message. How else should we reach you with the answer? "
    "Type an email address or a phone number, or choose Just here is fine."
)
ASK_RATING = "One quick question, if you like: did we sort it out for you?"
HANDED_OVER = (
    "I'm passing you to a person now. They'll reply right here, "
    "and they can see everything you've told me."
)


@dataclass(frozen=True, slots=True)
class Line:
    """One message the visitor reads, with the buttons under it."""

    text: str
    buttons: tuple[dict[str, str], ...] = ()

    def read(self) -> list[str]:
        """Return the words a visitor reads: the message, then each button's title."""
        return [self.text, *(button["title"] for button in self.buttons)]


def shown(actions: Sequence[Action]) -> list[Line]:
    """Return what the visitor reads for a turn's actions: words, and choices as buttons."""
    lines: list[Line] = []
    for action in actions:
        if isinstance(action, Say):
            lines.append(Line(action.text))
        elif isinstance(action, Prompt):
            buttons = tuple(
                {"title": c.label, "payload": c.key or c.payload} for c in action.options
            )
            lines.append(Line(prompt_text(action), (*buttons, PERSON_BUTTON)))
        elif isinstance(action, Handoff):
            lines.append(Line(HANDED_OVER))
        elif isinstance(action, Voicemail):
            lines.append(Line(action.prompt or VOICEMAIL))
        elif isinstance(action, AskContact):
            text = f"{action.sorry} {ASK_CONTACT}" if action.sorry else ASK_CONTACT
            lines.append(Line(text, _buttons(action.options)))
        elif isinstance(action, AskRating):
            lines.append(Line(ASK_RATING, _buttons(action.options)))
    return lines


def _buttons(options: Sequence[Choice]) -> tuple[dict[str, str], ...]:
    return tuple({"title": c.label, "payload": c.payload} for c in options)


# What the transcript shows for a button that sends a fixed payload (menu keys are data).
FIXED_TITLES = {
    PERSON_BUTTON["payload"]: PERSON_BUTTON["title"],
    REPLY_HERE: "Just here is fine",
    REPLY_EMAIL: "By email",
    REPLY_SMS: "By text message",
    RATE_YES: "Yes, sorted",
    RATE_NO: "Not really",
    LEAVE_MESSAGE: "Leave a message instead",
}


def prompt_text(prompt: Prompt) -> str:
    """Return a prompt as a chat shows it: the question, and how to answer without keys."""
    own = prompt.words_for("chat")
    parts = [prompt.sorry] if prompt.sorry else []
    parts.append(own if own is not None else prompt.text)
    if own is None and prompt.entry == "number":
        parts.append(
            "Or type a different number." if prompt.options else "Type the number to call."
        )
    if prompt.sorry:
        parts.append("To talk to a person, type agent at any time.")
    return " ".join(parts)
