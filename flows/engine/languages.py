"""Choosing the language a conversation is held in, when a flow speaks several."""

from __future__ import annotations

from presszero.flows.language.intents import words
from presszero.flows.language.languages import base, own_name
from presszero.flows.language.model import Flow

# How each language offers itself, in its own words: "For English, press 1."
_CHOOSE = {"en": "For {name}, press {key}.", "es": "Para {name}, oprima {key}."}
# What a caller may say to choose a language, in that language and in English.
_SAID = {
    "en": ("english", "ingles", "inglés"),
    "es": ("spanish", "espanol", "español", "castellano"),
}


def language_of(flow: Flow, wanted: str) -> str:
    """Return the flow's language closest to `wanted` (the same tag, else the same base
    language: a browser's "es-MX" is the flow's "es-US"), or "" if it speaks none like it."""
    if not wanted:
        return ""
    spoken = flow.spoken
    for language in spoken:
        if language.lower() == wanted.lower():
            return language
    return next((lang for lang in spoken if base(lang) == base(wanted)), "")


def choose_words(language: str, key: str) -> str:
    """Return how `language` is offered at the choice, in itself: "Para español, oprima 2."."""
    template = _CHOOSE.get(base(language), _CHOOSE["en"])
    return template.format(name=own_name(language), key=key)


def language_words(language: str) -> tuple[str, ...]:
    """Return the words that name `language` when a caller says it."""
    return _SAID.get(base(language), (own_name(language).lower(),))


def named_language(spoken: tuple[str, ...], text: str) -> str | None:
    """Return the language among `spoken` that `text` names ("español, por favor"), if one."""
    said = set(words(text))
    named = [lang for lang in spoken if said & {w for n in language_words(lang) for w in words(n)}]
    return named[0] if len(named) == 1 else None
