"""Twilio request signatures, checked against the URL Twilio actually called.

The URL is the public one: PRESSZERO_PUBLIC_URL, or the proxy's view when
PRESSZERO_TRUST_PROXY=1. Without either, the Host header names it, and any client can send
any Host: with a real TWILIO_AUTH_TOKEN (one Twilio account can sign for many deployments) a
signature made for another deployment's host would pass. So then only this machine's own
names (localhost, 127.0.0.1, ::1) are taken from Host; a public line sets
PRESSZERO_PUBLIC_URL. The development token (no TWILIO_AUTH_TOKEN) is this data dir's own
secret, so with it any Host is fine (`presszero call` against a server on another machine).

A body is judged before it is parsed: larger than any Twilio webhook, or with more fields,
it is refused at once (parsing 100,000 fields costs a second of CPU).
"""

from __future__ import annotations

import base64
import hmac
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Request, abort, current_app, request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from presszero.secrets_file import setting_or_data_secret

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # Twilio's webhooks are a few KB; a long SpeechResult fits many times
MAX_FIELDS = 200  # a webhook has about 30 fields
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
DEV_TOKEN_FILE = "twilio-auth-token"  # noqa: S105 - a file name, not a secret
FORBIDDEN = {"error": "forbidden", "message": "missing or invalid X-Twilio-Signature"}


def require_signature() -> None:
    """A Twilio webhook blueprint's before_request: 403 unless Twilio signed this request."""
    config = current_app.config
    try:
        signed = not too_large(request) and is_signed(
            request, config["PRESSZERO_VOICE_TOKEN"], config
        )
    except HTTPException:  # a body too large to read is not a request Twilio signed
        signed = False
    if not signed:
        abort(403)


def too_large(request: Request) -> bool:
    """Return True when the body is larger, or has more fields, than any Twilio webhook;
    judged on the raw bytes, before any parsing."""
    if (request.content_length or 0) > MAX_BODY:
        return True
    body = request.get_data(cache=True)  # kept: the form is parsed from these bytes later
    return len(body) > MAX_BODY or body.count(b"&") >= MAX_FIELDS


def host_is_trusted(request: Request, config: Mapping[str, Any]) -> bool:
    """Return False when the signed URL would come from a Host header that anyone can forge
    (a real TWILIO_AUTH_TOKEN, no PRESSZERO_PUBLIC_URL or trusted proxy, a non-local Host)."""
    if config.get("PRESSZERO_PUBLIC_URL") or config.get("PRESSZERO_TRUST_PROXY"):
        return True
    if not config.get("TWILIO_AUTH_TOKEN"):
        return True  # the development token: only this data dir's holders can sign
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    if host.lower() in LOCAL_HOSTS:
        return True
    _warn_once(request.host)
    return False


_warned: set[str] = set()


def _warn_once(host: str) -> None:
    if host not in _warned and len(_warned) < 100:
        _warned.add(host)
        log.warning(
            "refused a voice webhook for Host %r: with TWILIO_AUTH_TOKEN set, the URL Twilio "
            "signs must come from PRESSZERO_PUBLIC_URL (or PRESSZERO_TRUST_PROXY=1 behind a "
            "proxy), never from the Host header",
            host[:100],
        )


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
    if not signature or not token or not host_is_trusted(request, config):
        return False
    return matches(token, public_url(request, config), request.form, signature)


def matches(token: str, url: str, form: MultiDict[str, str], signature: str) -> bool:
    """Return True when `signature` is Twilio's for this URL (or its other port form) and form.

    Accepts what twilio's `RequestValidator.validate` accepts, but that one always computes
    the signature twice (the URL with and without its port) and compares in a Python loop,
    about 170 µs a request; here the URL as we see it is tried first, the other form only
    when that fails, and a valid request costs about 25 µs.
    """
    key, given = token.encode(), signature.encode()
    if hmac.compare_digest(expected_signature(key, url, form).encode(), given):
        return True
    try:
        other = _other_port_form(url)
    except ValueError:  # a port that is not a number (a forged Host): nothing else to try
        return False
    return hmac.compare_digest(expected_signature(key, other, form).encode(), given)


def expected_signature(key: bytes, url: str, form: MultiDict[str, str]) -> str:
    """Return Twilio's signature: HMAC-SHA1 of the URL then every name and value, sorted."""
    parts = [url]
    for name, values in sorted(form.lists()):
        for value in values if len(values) == 1 else sorted(set(values)):
            parts += (name, value)
    return base64.b64encode(hmac.digest(key, "".join(parts).encode(), "sha1")).decode()


def _other_port_form(url: str) -> str:
    """Return the URL without its port if it has one, else with the scheme's default port."""
    parts = urlsplit(url)
    if parts.port is not None:
        return parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]).geturl()
    default = 443 if parts.scheme == "https" else 80
    return parts._replace(netloc=f"{parts.netloc}:{default}").geturl()


def sign(token: str, url: str, params: Mapping[str, str]) -> str:
    """Return the X-Twilio-Signature Twilio would send for this POST."""
    return RequestValidator(token).compute_signature(url, dict(params))


def auth_token(config: Mapping[str, Any], *, make: bool = True) -> str:
    """Return TWILIO_AUTH_TOKEN, or the data dir's development token (made on first use; with
    `make` false, "" when no server of this data dir has made one).

    Without a real token the voice webhooks still refuse unsigned requests: only callers
    holding the development token (`presszero call` on this machine) get through.
    """
    return setting_or_data_secret(config, "TWILIO_AUTH_TOKEN", DEV_TOKEN_FILE, make=make)
