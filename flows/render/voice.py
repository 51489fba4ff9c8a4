"""The phone's words for what the engine decided: keys to press, pound, the way to a person.

The engine gives a prompt as a question with its choices ("What can I help you with?",
Billing on 1, My plan on 2); a caller hears "What can I help you with? For billing, press 1.
For my plan, press 2. For a person, press 0 at any time." A flow may word a prompt for the
phone itself (`prompt: {voice: ...}`); then only the way to a person is added, if it is not
already said.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from presszero.flows.engine.actions import Action, Prompt, Say, Voicemail
from presszero.flows.language.languages import base
from presszero.flows.language.phrases import ENDING_IN, PRESS_WORDS, english, phrase

VOICEMAIL = english(
    "Please leave your name, number and a short message after the tone, and we'll call you back."
)
# "press 0", "oprima 0": a prompt that already says how to press a key, in any language
_PRESSES = "|".join(sorted({verb for verbs in PRESS_WORDS.values() for verb in verbs}))
_POUND = ("pound", "numeral")


def prompt_words(prompt: Prompt, language: str = "en-US") -> str:
    """Return everything a caller hears at a prompt, in order."""
    own = prompt.words_for("voice")
    parts = [prompt.sorry] if prompt.sorry else []
    if own is not None:
        parts.append(own)
    else:
        parts.append(prompt.text)
        parts.extend(option_words(c.label, c.key, language) for c in prompt.options if c.key)
        if prompt.entry == "number" and prompt.options:
            parts.append(
                phrase("For a different number, enter it now, then press pound.", language)
            )
        elif prompt.entry == "number":
            parts.append(phrase("Enter the number to call, then press pound.", language))
        elif prompt.entry == "digits" and not any(w in prompt.text.lower() for w in _POUND):
            parts.append(phrase("Then press pound.", language))
    said = " ".join(part for part in parts if part)
    for key in prompt.escape_keys[:1]:
        if not says_press(said, key):
            person = phrase("For a person, press {key} at any time.", language).format(key=key)
            said = f"{said} {person}".lstrip()
    return said


def says_press(said: str, key: str) -> bool:
    """Return whether `said` already tells the caller to press `key` ("press 0", "oprima 0")."""
    return (
        re.search(rf"\b(?:{_PRESSES}) {re.escape(key)}(?![0-9])", said, re.IGNORECASE) is not None
    )


_ENDINGS = "|".join(re.escape(words) for words in ENDING_IN.values())
_ENDING_IN = re.compile(rf"(\b(?:{_ENDINGS}) )([0-9]{{2,}})\b")


def read_aloud(text: str) -> str:
    """Return text as a caller should hear it: a number named by its last digits ("ending in
    0002", "que termina en 0002") read digit by digit ("0 0 0 2"), not as "two"."""
    return _ENDING_IN.sub(lambda m: m.group(1) + " ".join(m.group(2)), text)


# An option named by what the caller would do reads "To use this number, press 1", not
# "For use this number"; one named by a topic reads "For billing, press 1".
DOING = frozenset((
    "ask", "book", "call", "cancel", "change", "check", "choose", "get", "give", "go", "hear",
    "keep", "leave", "make", "pay", "rebook", "repeat", "report", "send", "speak", "start",
    "stop", "talk", "tell", "try", "update", "use",
))  # fmt: skip


# An option named by when or how ("In the morning", "Por la mañana") reads as it is: "In the
# morning, press 2", never "For in the morning".
ALREADY_LED = {
    "en": frozenset(("as", "at", "by", "in", "on")),
    "es": frozenset(("a", "al", "antes", "de", "del", "en", "lo", "por")),
}


def option_words(label: str, key: str, language: str = "en-US") -> str:
    """Return an option as a caller hears it: "For billing, press 1", "To use this number,
    press 1"; in Spanish "Para facturación, oprima 1"."""
    words = _lower_first(label)
    if words.split(" ", 1)[0] in ALREADY_LED.get(base(language), ()):
        return phrase("{label}, press {key}.", language).format(label=label, key=key)
    if words.split(" ", 1)[0] in DOING:
        return phrase("To {label}, press {key}.", language).format(label=words, key=key)
    return phrase("For {label}, press {key}.", language).format(label=words, key=key)


def _lower_first(label: str) -> str:
    """Return a label as it reads after "For": "Billing" → "billing", "SMS" and "I" kept."""
    first = label.split(" ", 1)[0]
    if not first or first == "I" or first.startswith("I'") or (len(first) > 1 and first.isupper()):
        return label
    return label[0].lower() + label[1:]


def spoken(actions: Sequence[Action], language: str = "en-US") -> list[str]:
    """Return everything a caller hears for a turn's actions, in order."""
    out: list[str] = []
    for action in actions:
        if isinstance(action, Say):
            out.append(action.text)
        elif isinstance(action, Prompt):
            out.append(prompt_words(action, language))
        elif isinstance(action, Voicemail):
            out.append(action.prompt or phrase(VOICEMAIL, language))
    return [read_aloud(text) for text in out]
