"""Signed visitor identity: the host website vouches for who is chatting.

The site signs `{"sub": customer id, phone or email, "exp": unix time}` with a secret it
shares with us (HMAC-SHA256), and passes the token to the widget. A token we cannot verify,
or one that has expired, is ignored: the visitor is anonymous, never trusted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta

MAX_TOKEN = 2048


def make_token(
    secret: str, subject: str, now: datetime, ttl: timedelta = timedelta(hours=1)
) -> str:
    """Return an identity token for `subject` that expires `ttl` after `now`."""
    body = json.dumps({"sub": subject, "exp": int((now + ttl).timestamp())}, separators=(",", ":"))
    payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    return f"{payload}.{_mac(secret, payload)}"


def verify_token(secret: str, token: object, now: datetime) -> str | None:
    """Return the token's subject if the token is genuine and unexpired, else None."""
    if not isinstance(token, str) or not token.isascii():  # base64url and hex: ASCII only
        return None
    if not secret or len(token) > MAX_TOKEN or "." not in token:
        return None
    payload, _, mac = token.partition(".")
    if not hmac.compare_digest(_mac(secret, payload), mac):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        subject, expires = data["sub"], data["exp"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(subject, str) or not isinstance(expires, int) or not subject:
        return None
    return subject if now.timestamp() < expires else None


def _mac(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
