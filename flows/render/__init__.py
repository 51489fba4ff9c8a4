"""How each channel words what the engine decided. The engine says *what* is said (a question,
its choices, the way out); these say *how*: keys and "press" for the phone, buttons for the chat.
Pure functions, so scenarios can be walked in either channel's words without a server."""

from __future__ import annotations

from collections.abc import Sequence

from presszero.flows.engine.actions import Action

from . import chat, voice


def words(channel: str, actions: Sequence[Action], language: str = "en-US") -> list[str]:
    """Return what the customer reads or hears on `channel` for a turn's actions."""
    if channel == "chat":  # the buttons are read too
        return [text for line in chat.shown(actions, language) for text in line.read()]
    return voice.spoken(actions, language)
