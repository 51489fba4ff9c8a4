"""Twilio request signatures, checked against the URL Twilio actually called."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Request
from twilio.request_validator import RequestValidator

from presszero.secrets_file import setting_or_data_secret

DEV_TOKEN_FILE = "twilio-auth-token"  # noqa: S105 - a file name, not a secret


def public_url(request: Request, config: Mapping[str, Any]) -> str:
    """Return the URL Twilio signed: PRESSZERO_PUBLIC_URL, the proxy's view, or our own."""
    query = request.query_string.decode("latin-1")
    path = request.path + (f"?{query}" if query else "")
    base = config.get("PRESSZERO_PUBLIC_URL") or ""
    if base:
        return base.rstrip("/") + path
    if config.get("PRESSZERO_TRUST_PROXY"):
        proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
        host = request.headers.get("X-Forwarded-Host") or request.headers.get("Host", "")
        return f"{proto}://{host.split(',')[0].strip()}{path}"
    return f"{request.scheme}://{request.host}{path}"


def is_signed(request: Request, token: str, config: Mapping[str, Any]) -> bool:
    """Return True when X-Twilio-Signature is valid for this request and token."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not token:
        return False
    return RequestValidator(token).validate(public_url(request, config), request.form, signature)


def sign(token: str, url: str, params: Mapping[str, str]) -> str:
    """Return the X-Twilio-Signature Twilio would send for this POST."""
    return RequestValidator(token).compute_signature(url, dict(params))


def auth_token(config: Mapping[str, Any]) -> str:
    """Return TWILIO_AUTH_TOKEN, or the data dir's development token (made on first use).

    Without a real token the voice webhooks still refuse unsigned requests: only callers
    holding the development token (`presszero call` on this machine) get through.
    """
    return setting_or_data_secret(config, "TWILIO_AUTH_TOKEN", DEV_TOKEN_FILE)
