"""A stand-in for Rasa's HTTP API: a real HTTP server on loopback, answering as Rasa documents.

Only what presszero calls: `POST /conversations/{conversation_id}/tracker/events` (Rasa's
"Append events to a tracker"), with its `token` auth (a wrong or missing token is 401 with
Rasa's error body), a list of events (each with an `event` name), and the tracker as the
answer. Each request is recorded, so a test sees exactly what presszero asked Rasa to do.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "rasa-test-auth-token"
_PREFIX, _SUFFIX = "/conversations/", "/tracker/events"
EVENTS = {"bot", "user", "action", "slot", "pause", "resume", "restart", "reset_slots"}


@dataclass
class Appended:
    """One request Rasa received: whose conversation, the query, the events."""

    conversation_id: str
    query: dict[str, str]
    events: list[dict[str, Any]]


@dataclass
class RasaApi:
    """Start with `with RasaApi() as rasa:`; `rasa.url` is the server's address."""

    token: str = TOKEN
    requests: list[Appended] = field(default_factory=list)
    trackers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> RasaApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                if not (parts.path.startswith(_PREFIX) and parts.path.endswith(_SUFFIX)):
                    return self.reply(404, failure(404, "NotFound", "Not found"))
                if query.get("token") != api.token:
                    return self.reply(
                        401, failure(401, "NotAuthenticated", "User is not authenticated.")
                    )
                conversation = unquote(parts.path[len(_PREFIX) : -len(_SUFFIX)])
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    events = json.loads(self.rfile.read(length))
                except ValueError:
                    return self.reply(400, failure(400, "BadRequest", "Invalid JSON"))
                if isinstance(events, dict):
                    events = [events]
                if not events or not all(
                    isinstance(e, dict) and e.get("event") in EVENTS for e in events
                ):
                    return self.reply(400, failure(400, "BadRequest", "Failed to parse the events"))
                api.requests.append(Appended(conversation, query, events))
                tracker = api.trackers.setdefault(conversation, [])
                tracker.extend(events)
                paused = False
                for event in tracker:
                    paused = {"pause": True, "resume": False}.get(event["event"], paused)
                self.reply(
                    200,
                    {"sender_id": conversation, "events": tracker, "paused": paused,
                     "slots": {}, "latest_message": {}},
                )  # fmt: skip

            def reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


def failure(code: int, reason: str, message: str) -> dict[str, Any]:
    """Rasa's error body (rasa.server.ErrorResponse)."""
    return {"version": "3.6.20", "status": "failure", "message": message, "reason": reason,
            "details": {}, "help": None, "code": code}  # fmt: skip
