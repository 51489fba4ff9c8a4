"""The chat REST channel and widget (filled in by the chat channel work)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("chat", __name__)
