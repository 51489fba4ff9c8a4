"""What an agent hears before a caller is put through: who, their situation, what they said.

Plain words only, read from the handoff's summary: a name, never an id; "their plan was
cancelled by us 3 days ago", never a condition; "chose billing", never a step id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from presszero.context.words import spoken_language


def name_of(summary: Mapping[str, Any]) -> str:
    """Return the customer's name as the agent should hear it (no id)."""
    who = str(summary.get("who") or "")
    customer_id = summary.get("customer_id")
    if customer_id:
        return who.removesuffix(f" ({customer_id})")
    return "a caller we don't know"


def whisper_text(summary: Mapping[str, Any], *, callback: bool = False) -> str:
    """Return the few sentences an agent hears before the caller is connected."""
    if not summary:
        return "A support call. We know nothing about the caller yet."
    opening = "A call back to" if callback else "A call from"
    sentences = [f"{opening} {name_of(summary)}."]
    language = spoken_language({"summary": summary})
    if language:  # before anything else they hear: it decides how they answer
        sentences.append(f"They speak {language}.")
    sentences.extend(_sentence(s) for s in summary.get("situation") or ())
    told = [str(t) for t in summary.get("told") or ()]
    if told:
        sentences.append(f"They {_and(told[-3:])}.")
    why = str(summary.get("why") or "").strip()
    if why and summary.get("escape") and not callback:
        sentences.append(why if why.endswith(".") else why + ".")
    reason = str(summary.get("reason") or "").strip()
    if reason:
        sentences.append(f"It's about: {reason}.")
    return " ".join(sentences)


def _sentence(text: str) -> str:
    text = str(text).strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + ", then " + items[-1]
