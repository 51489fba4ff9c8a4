"""Secrets kept in the data dir when the environment gives none (development set-ups)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def setting_or_data_secret(
    config: Mapping[str, Any], key: str, filename: str, *, make: bool = True
) -> str:
    """Return config[key], else a random secret kept (0600) in the data dir, made on first use
    (with `make` false, "" when there is none yet).

    Workers and CLI commands that share a data dir share the secret; production sets `key`.
    """
    value = str(config.get(key) or "")
    if value:
        return value
    path = Path(config["PRESSZERO_DATA_DIR"]) / filename
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        if not make:
            return ""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "x", opener=_private) as out:
                out.write(secrets.token_hex(32) + "\n")
        except FileExistsError:  # another worker made it first
            pass
        return path.read_text().strip()


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)
