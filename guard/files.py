"""Where the outbound guard's rules live."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from presszero.flows.language.files import library_dir


def guard_path(config: Mapping[str, Any]) -> Path:
    """Return PRESSZERO_GUARD_RULES, or the shipped rules."""
    return Path(config.get("PRESSZERO_GUARD_RULES") or library_dir() / "guard" / "outbound.yaml")
