"""The agent inbox, `/agent`: sign in, see who is waiting and why, take over, reply, resolve.

Signed-in only (salted password hashes; sessions kept in Redis, see `context/agents.py`, with
only their random id in a signed cookie that is HttpOnly, SameSite and Secure behind TLS); every
state-changing POST carries the session's CSRF token; sign-in failures are throttled per name
and address.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from presszero.chat.rasa_api import RasaDeliveryError, RasaServer
from presszero.chat.service import ChatService, shown_name
from presszero.consoles.display import (
    alert_of,
    in_words,
    local_time,
    moment_of,
    name_of,
    spoken_language,
)
from presszero.context.agents import AgentStore, ConsoleSession
from presszero.context.handoffs import HandoffStore
from presszero.context.store import UnknownCustomer
from presszero.flows.engine.summary import RECENT
from presszero.voice.calls import VoiceLine
from presszero.voice.desk import PRIORITY_QUEUES, AnswerRefused
from presszero.voice.rest import TwilioError

bp = Blueprint("inbox", __name__, url_prefix="/agent", template_folder="templates")

MAX_REPLY = 2000


def agents() -> AgentStore:
    return current_app.extensions["presszero.agents"]


def handoffs() -> HandoffStore:
    return current_app.extensions["presszero.handoffs"]


def chat() -> ChatService:
    return current_app.extensions["presszero.chat"]


def voice() -> VoiceLine:
    return current_app.extensions["presszero.voice"]


def current_session() -> ConsoleSession | None:
    """Return this request's live console session (looked up once per request), or None."""
    if "presszero_console" not in g:
        sid = session.get("sid")
        found = agents().session(sid, chat().clock.now()) if isinstance(sid, str) else None
        if sid and found is None:
            session.pop("sid")  # signed out, expired or revoked: the id is worth nothing now
        g.presszero_console = found
    return g.presszero_console


def signed_in_agent() -> str:
    """Return the name of the signed-in agent (only inside a `signed_in` view)."""
    found = current_session()
    if found is None:
        abort(401)
    return found.agent


def csrf_token() -> str:
    """Return the CSRF token of this session (signed in: the one kept in Redis)."""
    found = current_session()
    if found is not None:
        return found.csrf
    if "csrf" not in session:  # the sign-in form, before there is a session
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def signed_in(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse the view unless someone with one of `roles` is signed in."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            found = current_session()
            if found is None:
                if request.path.startswith("/agent/api/"):
                    return jsonify(error="unauthorized", message="sign in first"), 401
                return redirect(url_for("inbox.login", next=request.path))
            if found.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate


@bp.before_app_request
def check_csrf() -> None:
    """Refuse any request to the consoles but GET, HEAD or OPTIONS that does not carry the
    session's CSRF token (a view may change state only on POST)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if not request.path.startswith(("/agent", "/leads")):
        return
    sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token", "")
    found = current_session()
    expected = found.csrf if found is not None else session.get("csrf", "")
    if not expected or not secrets.compare_digest(str(sent), str(expected)):
        abort(400, "missing or wrong CSRF token; reload the page and try again")


@bp.app_context_processor
def template_helpers() -> dict[str, Any]:
    return {
        "csrf_token": csrf_token,
        "console_session": current_session,
        "recording_link": recording_link,
        "local_time": lambda value, style="time": local_time(value, style, chat().clock.now()),
        "name_of": name_of,
        "in_words": in_words,
        "alert_of": alert_of,
        "spoken_language": spoken_language,
    }


def recording_link(url: object) -> str | None:
    """Return `url` if it is a Twilio recording (https on api.twilio.com), else None.

    The URL arrives in a webhook's form, so anything else (`javascript:`, another host) is
    shown as text, never put in an href.
    """
    if not isinstance(url, str) or any(ord(c) < 0x21 for c in url):
        return None
    parts = urlsplit(url)
    ok = parts.scheme == "https" and parts.hostname == "api.twilio.com" and not parts.username
    return url if ok and parts.port in (None, 443) else None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method != "POST":  # GET, or a HEAD of it: only the form, never a sign-in
        return render_template(
            "inbox_login.html", next=local_path(request.args.get("next", "")) or ""
        )
    name = request.form.get("name", "").strip().lower()[:64]
    address = client_address()
    store = agents()
    if not store.may_try(name, address):
        return render_template(
            "inbox_login.html", error="Too many attempts. Wait 15 minutes, then try again."
        ), 429
    agent = store.verify(name, request.form.get("password", ""))
    if agent is None:
        return render_template("inbox_login.html", error="Wrong name or password."), 401
    store.signed_in_ok(name, address)
    opened = store.open_session(agent, chat().clock.now())
    session.clear()
    # Only the id (and the form token, for the sign-in page after this session ends) rides
    # in the cookie; who, what role and until when stay in Redis, where sign-out ends them.
    session.update(sid=opened.sid, csrf=opened.csrf)
    session.permanent = True
    g.presszero_console = opened
    home = url_for("inbox.index") if agent.role == "agent" else "/leads"
    return redirect(local_path(request.form.get("next", "")) or home)


def client_address() -> str:
    """Return the address a sign-in came from.

    Behind a proxy (PRESSZERO_TRUST_PROXY=1) that is the last X-Forwarded-For entry, the one
    our own proxy added; earlier entries are the client's to write. Otherwise the socket's.
    """
    if current_app.config.get("PRESSZERO_TRUST_PROXY"):
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        if forwarded:
            return forwarded[:64]
    return request.remote_addr or "unknown"


def local_path(target: str) -> str | None:
    """Return `target` if it is a path on this site, else None.

    Only `/path?query` is kept: no scheme or host, no `//` or `/\\` (both mean another host
    to a browser), no backslashes and no control characters (browsers drop tabs and
    newlines, so `/%09/evil.example` is `//evil.example` to them; CR/LF would split the header).
    """
    if not target or len(target) > 2000 or "\\" in target:
        return None
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.post("/logout")
def logout() -> Any:
    found = current_session()
    if found is not None:
        agents().end_session(found.sid)
        agents().gone(found.agent)
    session.clear()
    return redirect(url_for("inbox.login"))


@bp.get("")
@bp.get("/")
@signed_in("agent", "lead")
def index() -> Any:
    return render_template("inbox.html", **inbox_lists())


@bp.get("/api/inbox")
@signed_in("agent", "lead")
def api_inbox() -> Any:
    """The inbox's live sections, as HTML: the page swaps them in place (`static/inbox.js`)."""
    reply = current_app.make_response(render_template("_inbox_live.html", **inbox_lists()))
    reply.headers["Cache-Control"] = "no-store"
    return reply


def inbox_lists() -> dict[str, Any]:
    """Return what the inbox's sections show, and count the agent as at work (the page asks
    for them every few seconds while it is open)."""
    now = chat().clock.now()
    agents().seen(signed_in_agent(), now)
    everyone = handoffs().waiting(limit=500)
    return {
        "waiting": everyone, "agent": signed_in_agent(), "me": agents().get(signed_in_agent()),
        "calls": callers_by_queue(everyone, now), "now": now,
        "count": sum(1 for h in everyone if h.get("status") == "waiting"),
    }  # fmt: skip


def callers_by_queue(records: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Return the callers waiting for a person, by queue (priority queues first), each with
    how long they have waited."""
    by_queue: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        if (record.get("channel"), record.get("kind"), record.get("status")) != (
            "voice", "handoff", "waiting",
        ):  # fmt: skip
            continue
        opened = datetime.fromisoformat(str(record["opened_at"]).replace("Z", "+00:00"))
        waited = max(int((now - opened).total_seconds()), 0)
        entry = {**record, "waited": f"{waited // 60} min {waited % 60:02d} s"}
        by_queue.setdefault(str(record.get("queue") or "support"), []).append(entry)
    order = sorted(by_queue, key=lambda q: (q not in PRIORITY_QUEUES, q))
    return [{"queue": q, "callers": by_queue[q]} for q in order]


@bp.post("/status")
@signed_in("agent", "lead")
def set_status() -> Any:
    """Set the signed-in agent available or away (busy is presszero's to set)."""
    status = request.form.get("status", "")
    if status not in ("available", "away"):
        abort(400, "status must be available or away")
    agents().set_status(signed_in_agent(), status, chat().clock.now())
    return redirect(url_for("inbox.index"))


@bp.get("/api/waiting")
@signed_in("agent", "lead")
def api_waiting() -> Any:
    agents().seen(signed_in_agent(), chat().clock.now())
    return jsonify(waiting=handoffs().waiting())


@bp.get("/conversations/<path:hid>")
@signed_in("agent", "lead")
def conversation(hid: str) -> Any:
    record = handoffs().get(hid)
    if record is None:
        abort(404)
    agents().seen(signed_in_agent(), chat().clock.now())
    customer, recent = None, None
    if record.get("customer_id"):
        customer = current_app.extensions["presszero.store"].get(record["customer_id"])
    if customer is not None:  # as in the summary, but with times the page can show locally
        opened = moment_of(record.get("opened_at")) or chat().clock.now()
        recent = list(reversed(customer.contacts_within(RECENT, opened)[-5:]))
    channel = record.get("channel")
    transcript = (
        chat().transcript(_sender(hid)) if channel == "chat"
        else chat().turns.transcript("rasa", _sender(hid)) if channel == "rasa" else []
    )  # fmt: skip
    return render_template(
        "inbox_conversation.html", record=record, customer=customer, transcript=transcript,
        hid=hid, agent=signed_in_agent(), now=chat().clock.now(), rasa=rasa(), recent=recent,
    )  # fmt: skip


@bp.get("/api/conversations/<path:hid>/messages")
@signed_in("agent", "lead")
def api_messages(hid: str) -> Any:
    try:
        after = int(request.args.get("after", "-1"))
    except ValueError:
        after = -1
    return jsonify(messages=chat().transcript(_sender(hid), after))


@bp.post("/conversations/<path:hid>/claim")
@signed_in("agent", "lead")
def claim(hid: str) -> Any:
    """Take the conversation: one person at a time; a second is told who has it."""
    record = _record(hid)
    me, now = signed_in_agent(), chat().clock.now()
    won, now_record = handoffs().claim(hid, me, now)
    if not won:
        holder = (now_record or {}).get("agent")
        flash(f"{holder} has this conversation." if holder else "This conversation is closed.")
        return redirect(url_for("inbox.conversation", hid=hid))
    if record.get("channel") == "chat":
        chat().claim(_sender(hid), me)
        agents().mark_busy(me, hid, now)
    return redirect(url_for("inbox.conversation", hid=hid))


@bp.post("/conversations/<path:hid>/answer")
@signed_in("agent", "lead")
def answer(hid: str) -> Any:
    """Put a waiting caller through to the signed-in agent's own line."""
    record = _record(hid)
    try:
        voice().desk.answer_waiting(hid, signed_in_agent())
    except AnswerRefused as exc:
        flash(f"Could not answer {record.get('who', 'this caller')}: {exc}.")
        return redirect(url_for("inbox.index"))
    except TwilioError as exc:
        flash(f"Could not put the call through: {exc}")
        return redirect(url_for("inbox.index"))
    flash(f"Putting {record.get('who', 'the caller')} through to you now.")
    return redirect(url_for("inbox.conversation", hid=hid))


@bp.post("/conversations/<path:hid>/reply")
@signed_in("agent", "lead")
def reply(hid: str) -> Any:
    record = _record(hid)
    text = " ".join(request.form.get("text", "").split())[:MAX_REPLY]
    if record.get("channel") == "rasa":
        return _reply_through_rasa(hid, record, text)
    if record.get("channel") != "chat":
        abort(400, "replies go to chats; a caller is reached by phone")
    holder = record.get("agent")
    if record.get("status") == "claimed" and holder and holder != signed_in_agent():
        if request.headers.get("X-Requested-With") == "fetch":
            return jsonify(error="conflict", message=f"{holder} has this conversation"), 409
        flash(f"{holder} has this conversation.")
        return redirect(url_for("inbox.conversation", hid=hid))
    if text:
        if record.get("status") == "waiting":  # replying takes the conversation
            won, _ = handoffs().claim(hid, signed_in_agent(), chat().clock.now())
            if won:
                agents().mark_busy(signed_in_agent(), hid, chat().clock.now())
        chat().agent_reply(_sender(hid), signed_in_agent(), text)
    if request.headers.get("X-Requested-With") == "fetch":
        return jsonify(ok=True)
    return redirect(url_for("inbox.conversation", hid=hid))


@bp.post("/conversations/<path:hid>/resolve")
@signed_in("agent", "lead")
def resolve(hid: str) -> Any:
    record = _record(hid)
    note = " ".join(request.form.get("note", "").split())[:500]
    me, now = signed_in_agent(), chat().clock.now()
    if record.get("channel") == "chat":
        chat().resolve(_sender(hid), me, note)
        agents().mark_free(me, now, conversation_id=hid)
    elif record.get("channel") == "rasa" and not _hand_back_to_rasa(hid, me):
        return redirect(url_for("inbox.conversation", hid=hid))
    else:
        handoffs().update(hid, now, status="resolved", resolved_by=me, resolution=note)
        _log_resolved(record, me, note)
    flash(f"Resolved: {record.get('who', hid)}")
    return redirect(url_for("inbox.index"))


def rasa() -> RasaServer | None:
    """Return the team's Rasa, when PRESSZERO_RASA_URL names it."""
    server: RasaServer | None = current_app.extensions.get("presszero.rasa")
    return server


def _reply_through_rasa(hid: str, record: dict[str, Any], text: str) -> Any:
    """Send an agent's reply to a visitor on the team's Rasa; keep it in the transcript."""
    server, me, fetched = rasa(), signed_in_agent(), request.headers.get("X-Requested-With")
    problem = ""
    holder = record.get("agent")
    if server is None:
        problem = "Replies to Rasa chats need PRESSZERO_RASA_URL: answer them in Rasa's tools"
    elif record.get("status") == "claimed" and holder and holder != me:
        problem = f"{holder} has this conversation"
    elif text:
        try:
            server.say(_sender(hid), text, me)
        except RasaDeliveryError as exc:
            problem = f"Not sent: {exc}"
        else:
            if record.get("status") == "waiting":
                won, _ = handoffs().claim(hid, me, chat().clock.now())
                if won:
                    agents().mark_busy(me, hid, chat().clock.now())
            chat().turns.write_line("rasa", _sender(hid), "agent", text, me)
    if fetched == "fetch":
        return jsonify(error="not_sent", message=problem) if problem else jsonify(ok=True)
    if problem:
        flash(f"{problem}.")
    return redirect(url_for("inbox.conversation", hid=hid))


def _hand_back_to_rasa(hid: str, agent: str) -> bool:
    """Tell a Rasa visitor the person has finished and resume their bot; False if Rasa did
    not take it (nothing is resolved then: a paused bot with no person would answer no one)."""
    server = rasa()
    if server is None:
        return True  # the team answers Rasa chats in its own tools; presszero only records
    line = f"{shown_name(agent)} has closed this chat. Anything else?"
    try:
        server.hand_back(_sender(hid), line, agent)
    except RasaDeliveryError as exc:
        flash(f"Not resolved: the bot could not be handed the chat back ({exc}). Try again.")
        return False
    chat().turns.write_line("rasa", _sender(hid), "system", line)
    agents().mark_free(agent, chat().clock.now(), conversation_id=hid)
    return True


def _log_resolved(record: dict[str, Any], agent: str, note: str) -> None:
    """Write a resolved call into the customer's contact log (once per call)."""
    store = current_app.extensions["presszero.store"]
    customer_id = record.get("customer_id")
    reason = f"{record.get('reason', '')}; resolved by {agent}" + (f": {note}" if note else "")
    # A Rasa conversation is a chat in the contact log (its channels are the SPEC's).
    channel = {"rasa": "chat"}.get(
        str(record.get("channel")), str(record.get("channel") or "voice")
    )
    contact = store.new_contact(
        channel, "resolved", reason=reason,
        ref=f"{record.get('id')}:resolved",
    )  # fmt: skip
    if customer_id:
        with contextlib.suppress(UnknownCustomer):  # forgotten since: nothing to attach it to
            store.record_contact(customer_id, contact)


def _record(hid: str) -> dict[str, Any]:
    record = handoffs().get(hid)
    if record is None:
        abort(404)
    return record


def _sender(hid: str) -> str:
    return hid.partition(":")[2]
