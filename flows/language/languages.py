"""The languages presszero itself speaks: its own wording, their names, how fast they are said.

A flow may speak any language Twilio's <Say> and <Gather> accept (twilio_languages), but the
words presszero adds to a flow's own (how to press a key, "sorry, I didn't catch that", the
hours, the queue's messages, the chat's system lines) exist only for the languages below,
by their base ("en-GB" speaks presszero's English). `presszero check` refuses the others.
"""

from __future__ import annotations

# Base language → (its name in English, for agents and leads; its name in itself, for callers)
NAMES: dict[str, tuple[str, str]] = {
    "en": ("English", "English"),
    "es": ("Spanish", "español"),
}
SUPPORTED = tuple(NAMES)

# Words a Twilio voice says per second, for estimating how long a prompt takes. About 150
# words a minute for English text-to-speech; Spanish says fewer, longer words in that time.
WORDS_PER_SECOND: dict[str, float] = {"en": 2.5, "es": 2.3}


def base(language: str) -> str:
    """Return the base of a language tag: "es-US" → "es"."""
    return language.split("-", 1)[0].lower()


def supported(language: str) -> bool:
    """Return whether presszero's own wording exists in `language`."""
    return base(language) in NAMES


def name_of(language: str) -> str:
    """Return a language's name for an agent or a lead ("Spanish"); the tag if unknown."""
    return NAMES.get(base(language), (language, language))[0]


def own_name(language: str) -> str:
    """Return a language's name in itself, as a caller choosing it hears it ("español")."""
    return NAMES.get(base(language), (language, language))[1]
