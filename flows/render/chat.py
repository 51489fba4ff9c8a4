"""The chat's words for what the engine decided: the question, choices as buttons, never "press".

A prompt is shown as its question with a button per choice and "Talk to a person" always
among them; a flow may word a prompt for the chat itself (`prompt: {chat: ...}`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from presszero.flows.engine.actions import Action, Handoff, Prompt, Say, Voicemail

PERSON_BUTTON = {"title": "Talk to a person", "payload": "/agent"}
VOICEMAIL = "Please leave a message with your name and how to reach you, and we'll get back to you."
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
    return lines


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
