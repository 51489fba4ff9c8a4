"""The chat channel's HTTP face: Rasa's REST webhook, the poll for agent replies, the widget.

`POST /webhooks/rest/webhook` speaks Rasa's REST channel contract:
`{"sender", "message", "metadata"?}` in, a JSON list of `{"recipient_id", "text",
"buttons"?}` out. After a handoff the list is empty (a person answers), and the person's
replies arrive through `GET /chat/poll?sender=…&after=N`. Who may read and continue a
conversation is `access.py`'s to say (its token, or a server-side client's key); which
websites may call all this from a browser is `cors.py`'s.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import redis
from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
)
from werkzeug.exceptions import HTTPException

from presszero.context.connect import REDIS_ERRORS
from presszero.context.demo import DEMO_IDS
from presszero.context.limits import RateLimiter
from presszero.flows.language.phrases import phrase
from presszero.flows.render.chat import person_button

from . import cors
from .access import TOKEN_FIELD, ConversationAccess, Credentials, Refused
from .identity import make_token, verify_token
from .service import ChatInputError, ChatService, TooManyMessages, check_message

log = logging.getLogger(__name__)

bp = Blueprint(
    "chat", __name__, static_folder="static", static_url_path="/chat/static",
    template_folder="templates",
)  # fmt: skip

cors.init_app(bp)

MAX_BODY = 16 * 1024


def chat() -> ChatService:
    return current_app.extensions["presszero.chat"]


def access() -> ConversationAccess:
    return current_app.extensions["presszero.chat_access"]


def polls() -> RateLimiter:
    return current_app.extensions["presszero.chat_polls"]


def error(status: int, message: str) -> Any:
    return jsonify(error=_ERRORS.get(status, "error"), message=message), status


_ERRORS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
           405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
           429: "too_many_requests", 503: "unavailable"}  # fmt: skip


@bp.errorhandler(ChatInputError)
def bad_input(exc: ChatInputError) -> Any:
    return error(400, str(exc))


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Any:
    return error(exc.code or 500, exc.description or exc.name)


@bp.get("/webhooks/rest/")
def health() -> Any:
    """Rasa's REST channel health check."""
    return jsonify(status="ok")


@bp.post("/webhooks/rest/webhook")
def webhook() -> Any:
    """Take a visitor message; answer with the bot's messages."""
    if not request.is_json:
        return error(415, "send JSON (Content-Type: application/json)")
    data = read_body(MAX_BODY)
    if data is None:
        return error(413, f"the body is larger than {MAX_BODY} bytes")
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: thousands of nested brackets
        return error(400, "the body is not valid JSON")
    sender, message, metadata = check_message(body)
    given = Credentials.read(request.headers, request.args, metadata)
    issued: list[str] = []
    service = chat()
    identified = bool(
        verify_token(service.identity_secret, metadata.get("identity"), service.clock.now())
    )

    def admit(pipe: Any) -> Callable[[list[Any]], None]:
        verdict = access().queue_message(pipe, sender, given, identified=identified)
        return lambda replies: issued.append(verdict(replies))

    try:
        replies = chat().receive(sender, message, metadata, remote_address(), admit=admit)
    except Refused as exc:
        return error(exc.status, str(exc))
    except TooManyMessages as exc:
        if any(issued):  # its first message was not taken: the sender is free again
            access().release(sender)
        return too_many(exc)
    except redis.ConnectionError as exc:  # an outage: one line, not a traceback per message
        log.warning("chat turn failed, Redis unavailable (%s); offering a person", exc)
        return answer(with_token(sender, [fallback_reply(sender)], issued))
    except Exception:  # a bug: the visitor still gets a way to a person
        log.exception("chat turn failed; telling the visitor how to reach a person")
        return answer(with_token(sender, [fallback_reply(sender)], issued))
    return answer(with_token(sender, [r.to_rasa(sender) for r in replies], issued))


def with_token(
    sender: str, messages: list[dict[str, Any]], issued: list[str]
) -> list[dict[str, Any]]:
    """Return the messages with a new conversation's token as a `custom` payload on the last
    (as Rasa's REST channel puts one beside a message's text), so every message keeps its
    text for the clients that read only that."""
    token = next((t for t in issued if t), "")
    if not token:
        return messages
    last = messages[-1] if messages else {"recipient_id": sender, "text": ""}
    return [*messages[:-1], {**last, "custom": {TOKEN_FIELD: token}}]


def remote_address() -> str:
    return request.remote_addr or "unknown"


def too_many(exc: TooManyMessages) -> Any:
    reply = error(429, str(exc))
    return reply[0], 429, {"Retry-After": str(exc.seconds)}


def answer(messages: list[dict[str, Any]]) -> Any:
    """Return the bot's messages as Rasa does: a JSON list, or with `?stream=true` one JSON
    object per line as `text/event-stream` (what `rasa shell` and Rasa's streaming clients
    read)."""
    if request.args.get("stream", "false").lower() != "true":
        return jsonify(messages)
    lines = "".join(json.dumps(m) + "\n" for m in messages)
    return Response(lines, mimetype="text/event-stream")


def read_body(limit: int) -> bytes | None:
    """Return the request's body, or None when it is longer than `limit` bytes.

    Read from the stream, never more than `limit` + 1 bytes: a chunked body has no
    Content-Length to check first.
    """
    if (request.content_length or 0) > limit:
        return None
    chunks: list[bytes] = []
    left = limit + 1
    while left > 0:
        chunk = request.stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return None if left <= 0 else b"".join(chunks)


def fallback_reply(sender: str) -> dict[str, Any]:
    """Return the reply for when our side failed: how to reach a person anyway (in the
    default flow's language: the conversation's own cannot be read)."""
    phone = current_app.config.get("PRESSZERO_SUPPORT_PHONE") or ""
    try:
        language = chat().turns.flows.get().language
    except Exception:  # the flows themselves are what failed: English
        language = "en-US"
    if phone:
        text = phrase(
            "Sorry, our chat is having trouble right now. To talk to a person, call us on "
            "{phone}, or try again in a minute and choose Talk to a person.",
            language,
        ).format(phone=phone)
    else:
        text = phrase(
            "Sorry, our chat is having trouble right now. To talk to a person, call us, "
            "or try again in a minute and choose Talk to a person.",
            language,
        )
    return {"recipient_id": sender, "text": text, "buttons": [person_button(language)]}


@bp.get("/chat/poll")
def poll() -> Any:
    """Return the transcript after message `after`, and who has the conversation."""
    sender = request.args.get("sender", "")
    check_message({"sender": sender, "message": ""})
    try:
        after = min(max(int(request.args.get("after", "-1")), -1), 2**62)
    except ValueError:
        return error(400, "after must be a whole number")
    service = chat()
    try:
        given = Credentials.read(request.headers, request.args, {})
        pipe = service.redis.pipeline(transaction=False)
        counted = polls().queue(pipe, sender, remote_address())
        check = access().queue_reading(pipe, sender, given)
        replies = pipe.execute()
        wait = counted(replies)
        if wait:
            return too_many(TooManyMessages(wait, "polls"))
        check(replies)
        return jsonify(messages=service.transcript(sender, after), **service.status(sender))
    except Refused as exc:
        return error(exc.status, str(exc))
    except REDIS_ERRORS:  # keep the widget polling: the person may still be there
        return jsonify(messages=[], status="unavailable", queue_position=None, agent=None)


@bp.get("/chat/widget.js")
def widget() -> Any:
    """The widget: one script tag a website embeds."""
    return send_from_directory(bp.static_folder or "", "widget.js", max_age=300)


@bp.get("/chat/openapi.yaml")
def openapi() -> Any:
    """The OpenAPI description of the chat API."""
    return send_from_directory(
        bp.root_path, "openapi.yaml", mimetype="application/yaml", max_age=300
    )


@bp.get("/chat")
def demo_page() -> Any:
    """The widget on a page of its own; in demo mode `?as=PHONE|EMAIL|ID` signs in a demo customer.

    Only the demo customers (`context.demo.DEMO_IDS`): a demo server may hold real
    customers too, and `as=` must never be a way to read their context.
    """
    identity = ""
    subject = request.args.get("as", "")[:128]
    if subject and current_app.config.get("PRESSZERO_DEMO"):
        service = chat()
        try:
            customer = service.store.lookup(subject)
        except REDIS_ERRORS:
            customer = None  # the page still works, anonymously
        if customer is not None and customer.id in DEMO_IDS:
            identity = make_token(service.identity_secret, customer.id, service.clock.now())
    return render_template("chat_demo.html", identity=identity, subject=subject if identity else "")
