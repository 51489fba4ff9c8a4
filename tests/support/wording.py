"""What a customer is told, checked against presszero's own English wording."""

from __future__ import annotations

import re

from presszero.flows.language.phrases import SPANISH


def english_leaks(text: str) -> list[str]:
    """Return the fixed parts of presszero's English phrases that appear in `text` (a Spanish
    conversation should show none)."""
    leaks = []
    for english, spanish in SPANISH.items():
        for part in re.split(r"\{[a-z]+\}", english):
            part = part.strip(" ,.")
            if len(part) >= 8 and part not in spanish and part in text:
                leaks.append(part)
    return leaks
