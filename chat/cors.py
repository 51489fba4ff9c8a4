"""Which websites may embed the widget: CORS for the chat API and the widget's files.

A page on another origin calls the chat API from the browser only if that origin is one of
`PRESSZERO_CHAT_ORIGINS` (exact origins, `https://www.example.com`; `*` for any). The
browser asks first (a preflight `OPTIONS`) for a JSON POST or a custom header; both the
preflight and the request itself are answered with the CORS headers for a listed origin,
and with 403 JSON and no CORS headers for any other, so the browser refuses the answer and
nothing is done. A request with no Origin (a server-side client, a `<script>` tag) or from
the server's own origin needs no listing. Credentials (cookies) are never allowed: the chat
API has none to read, and `*` with credentials would hand any site a visitor's session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, request

# What the widget sends: JSON, its conversation token, a server-side client's key.
ALLOWED_HEADERS = "Content-Type, Authorization, X-Presszero-Conversation"
ALLOWED_METHODS = "GET, POST, OPTIONS"
EXPOSED_HEADERS = "Retry-After"
PREFLIGHT_MAX_AGE = "600"
ANY = "*"


class OriginError(ValueError):
    """A listed origin that is no origin (a path, no scheme, a wildcard inside a name)."""


@dataclass(frozen=True, slots=True)
class Origins:
    """The origins allowed to call the chat API from a browser."""

    listed: frozenset[str] = frozenset()
    any: bool = False  # `*`: every origin, never with credentials

    @classmethod
    def parse(cls, text: str) -> Origins:
        """Return the origins in "https://a.example, https://b.example:8443" (or `*`)."""
        names = [part.strip() for part in text.split(",") if part.strip()]
        if ANY in names:
            return cls(any=True)
        return cls(frozenset(origin_of(name) for name in names))

    def allows(self, origin: str) -> bool:
        """Return True when a page from `origin` may call the chat API."""
        return self.any or origin.lower() in self.listed


def origin_of(name: str) -> str:
    """Return `name` as the browser writes an Origin (lower case, no default port), or raise."""
    parts = urlsplit(name)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OriginError(f"{name!r} is not an origin (write it as https://www.example.com)")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise OriginError(f"{name!r} is not an origin: an origin has no path, query or user")
    if "*" in parts.netloc:
        raise OriginError(f"{name!r}: list each origin, or * alone for every origin")
    try:
        port = parts.port
    except ValueError:
        raise OriginError(f"{name!r} has a port that is no number") from None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def init_app(bp: Blueprint) -> None:
    """Answer preflights, refuse unlisted origins and add CORS headers on `bp`'s routes."""
    bp.before_request(_refuse_or_preflight)
    bp.after_request(_allow)


def _origins() -> Origins:
    origins: Origins = current_app.extensions["presszero.chat_origins"]
    return origins


def _cross_origin() -> str:
    """Return the request's Origin when it is another site's, else ''."""
    origin = request.headers.get("Origin", "")
    if not origin:
        return ""
    own = urlsplit(origin).netloc.lower() == request.host.lower()  # behind a proxy: its Host
    return "" if own and origin != "null" else origin


def _refuse_or_preflight() -> Any:
    origin = _cross_origin()
    if not origin:
        return None
    if not _origins().allows(origin):
        current_app.logger.info("chat: refused a request from %s (not a chat origin)", origin)
        body = {
            "error": "forbidden_origin",
            "message": "this origin may not use the chat; list it in PRESSZERO_CHAT_ORIGINS",
        }
        return jsonify(body), 403, {"Vary": "Origin"}
    if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
        reply = Response(status=204)
        reply.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        reply.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        reply.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return reply
    return None


def _allow(reply: Response) -> Response:
    reply.vary.add("Origin")
    origin = _cross_origin()
    if origin and _origins().allows(origin):
        reply.headers["Access-Control-Allow-Origin"] = ANY if _origins().any else origin
        reply.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return reply
