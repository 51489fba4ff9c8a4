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
from presszero.flows.language.phrases import english, phrase

PERSON_BUTTON = {"title": english("Talk to a person"), "payload": "/agent"}
VOICEMAIL = english("Leave a message and we'll answer here. Type it below, as much as you like.")
ASK_CONTACT = english(
    "Thanks, we've got your message. How else should we reach you with the answer? "
    "Type an email address or a phone number, or choose Just here is fine."
)
ASK_RATING = english("One quick question, if you like: did we sort it out for you?")
HANDED_OVER = english(
    "I'm passing you to a person now. They'll reply right here, "
    "and they can see everything you've told me."
)


def person_button(language: str = "en-US") -> dict[str, str]:
    """Return the "Talk to a person" button, its title in `language`."""
    return {"title": phrase(PERSON_BUTTON["title"], language), "payload": PERSON_BUTTON["payload"]}


@dataclass(frozen=True, slots=True)
class Line:
    """One message the visitor reads, with the buttons under it."""

    text: str
    buttons: tuple[dict[str, str], ...] = ()

    def read(self) -> list[str]:
        """Return the words a visitor reads: the message, then each button's title."""
        return [self.text, *(button["title"] for button in self.buttons)]


def shown(actions: Sequence[Action], language: str = "en-US") -> list[Line]:
    """Return what the visitor reads for a turn's actions: words, and choices as buttons."""
    lines: list[Line] = []
    person = person_button(language)
    for action in actions:
        if isinstance(action, Say):
            lines.append(Line(action.text))
        elif isinstance(action, Prompt):
            buttons = tuple(
                {"title": c.label, "payload": c.key or c.payload} for c in action.options
            )
            lines.append(Line(prompt_text(action, language), (*buttons, person)))
        elif isinstance(action, Handoff):
            lines.append(Line(phrase(HANDED_OVER, language)))
        elif isinstance(action, Voicemail):
            lines.append(Line(action.prompt or phrase(VOICEMAIL, language)))
        elif isinstance(action, AskContact):
            ask = phrase(ASK_CONTACT, language)
            text = f"{action.sorry} {ask}" if action.sorry else ask
            lines.append(Line(text, _buttons(action.options)))
        elif isinstance(action, AskRating):
            lines.append(Line(phrase(ASK_RATING, language), _buttons(action.options)))
    return lines


def _buttons(options: Sequence[Choice]) -> tuple[dict[str, str], ...]:
    return tuple({"title": c.label, "payload": c.payload} for c in options)


# What the transcript shows for a button that sends a fixed payload (menu keys are data).
FIXED_TITLES = {
    PERSON_BUTTON["payload"]: PERSON_BUTTON["title"],
    REPLY_HERE: english("Just here is fine"),
    REPLY_EMAIL: english("By email"),
    REPLY_SMS: english("By text message"),
    RATE_YES: english("Yes, sorted"),
    RATE_NO: english("Not really"),
    LEAVE_MESSAGE: english("Leave a message instead"),
}


def fixed_title(payload: str, language: str = "en-US") -> str | None:
    """Return the title of the button that sends `payload`, in `language` (None: not one)."""
    title = FIXED_TITLES.get(payload)
    return None if title is None else phrase(title, language)


def prompt_text(prompt: Prompt, language: str = "en-US") -> str:
    """Return a prompt as a chat shows it: the question, and how to answer without keys."""
    own = prompt.words_for("chat")
    parts = [prompt.sorry] if prompt.sorry else []
    parts.append(own if own is not None else prompt.text)
    if own is None and prompt.entry == "number" and prompt.options:
        parts.append(phrase("Or type a different number.", language))
    elif own is None and prompt.entry == "number":
        parts.append(phrase("Type the number to call.", language))
    if prompt.sorry:
        parts.append(phrase("To talk to a person, type agent at any time.", language))
    return " ".join(parts)
