"""`POST /automation/check`: other systems ask before they send anything automated.

    curl -H "Authorization: Bearer $PRESSZERO_AUTOMATION_KEY" -H 'Content-Type: application/json' \\
      -d '{"customer": "cus_1002", "kind": "welcome_new_plan"}' https://HOST/automation/check
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from .rules import UnknownKind
from .service import OutboundGuard

bp = Blueprint("automation", __name__, url_prefix="/automation")


def guard() -> OutboundGuard:
    return current_app.extensions["presszero.guard"]


def _error(status: int, error: str, message: str) -> Any:
    return jsonify(error=error, message=message), status


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Any:
    return _error(exc.code or 500, "error", exc.description or exc.name)


@bp.before_request
def check_key() -> Any:
    expected = current_app.config.get("PRESSZERO_AUTOMATION_KEY") or ""
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    sent = sent or request.headers.get("X-API-Key", "")
    if not expected:
        return _error(503, "not_configured", "set PRESSZERO_AUTOMATION_KEY to use this API")
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        return _error(401, "unauthorized", "missing or wrong API key")
    return None


@bp.post("/check")
def check() -> Any:
    """Answer allow / suppress / replace for one message to one customer, and why."""
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        return _error(400, "bad_request", 'send JSON: {"customer": ID|PHONE|EMAIL, "kind": KIND}')
    who, kind = body.get("customer"), body.get("kind")
    if not isinstance(who, str) or not who.strip() or len(who) > 200 or not _utf8(who):
        return _error(400, "bad_request", "customer must be an id, phone or email")
    if not isinstance(kind, str) or not kind or not _utf8(kind):
        return _error(400, "bad_request", "kind must be a message kind")
    try:
        checked = guard().check(who.strip(), kind)
    except UnknownKind as exc:
        return _error(400, "unknown_kind", str(exc))
    return jsonify(customer_id=checked.customer_id, **checked.decision.to_dict())


def _utf8(text: str) -> bool:
    """Return True when `text` is real text (JSON can smuggle in lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
