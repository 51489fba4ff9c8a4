"""presszero: support automation that never traps a customer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Return the presszero WSGI app (see `presszero.app.create_app`)."""
    # Imported here so that the sans-I/O core can be imported without Flask.
    from .app import create_app as factory

    return factory(config)


__all__ = ["create_app"]
