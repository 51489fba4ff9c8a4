"""The agent inbox, `/agent`: sign in, see who is waiting and why, take over, reply, resolve.

Signed-in only (salted password hashes, a signed session cookie that is HttpOnly, SameSite
and Secure behind TLS); every state-changing POST carries the session's CSRF token; sign-in
failures are throttled per name and address.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from presszero.chat.service import ChatService
from presszero.context.agents import AgentStore
from presszero.context.handoffs import HandoffStore

bp = Blueprint("inbox", __name__, url_prefix="/agent", template_folder="templates")

MAX_REPLY = 2000


def agents() -> AgentStore:
    return current_app.extensions["presszero.agents"]


def handoffs() -> HandoffStore:
    return current_app.extensions["presszero.handoffs"]


def chat() -> ChatService:
    return current_app.extensions["presszero.chat"]


def csrf_token() -> str:
    """Return this session's CSRF token (made on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def signed_in(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse the view unless someone with one of `roles` is signed in."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            name, role = session.get("agent"), session.get("role")
            epoch = agents().session_epoch(name) if name else None
            if name and (epoch is None or session.get("epoch") != epoch):
                session.clear()  # removed, or a new password or role: sign in again
                name = None
            if not name:
                if request.path.startswith("/agent/api/"):
                    return jsonify(error="unauthorized", message="sign in first"), 401
                return redirect(url_for("inbox.login", next=request.path))
            if role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate


@bp.before_app_request
def check_csrf() -> None:
    """Refuse any POST to the consoles that does not carry the session's CSRF token."""
    if request.method != "POST" or not request.path.startswith(("/agent", "/leads")):
        return
    sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token", "")
    expected = session.get("csrf", "")
    if not expected or not secrets.compare_digest(str(sent), str(expected)):
        abort(400, "missing or wrong CSRF token; reload the page and try again")


@bp.app_context_processor
def template_helpers() -> dict[str, Any]:
    return {"csrf_token": csrf_token}


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("inbox_login.html", next=request.args.get("next", ""))
    name = request.form.get("name", "").strip().lower()[:64]
    address = request.remote_addr or "unknown"
    store = agents()
    if store.throttled(name, address):
        return render_template(
            "inbox_login.html", error="Too many attempts. Wait 15 minutes, then try again."
        ), 429
    agent = store.verify(name, request.form.get("password", ""))
    if agent is None:
        store.failed(name, address)
        return render_template("inbox_login.html", error="Wrong name or password."), 401
    session.clear()
    session.update(agent=agent.name, role=agent.role, csrf=secrets.token_urlsafe(32))
    session["epoch"] = store.session_epoch(agent.name)
    session.permanent = True
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("inbox.index") if agent.role == "agent" else "/leads"
    return redirect(target)


@bp.post("/logout")
def logout() -> Any:
    if session.get("agent"):
        agents().gone(session["agent"])
    session.clear()
    return redirect(url_for("inbox.login"))


@bp.get("")
@bp.get("/")
@signed_in("agent", "lead")
def index() -> Any:
    agents().seen(session["agent"], chat().clock.now())
    me = agents().get(session["agent"])
    return render_template(
        "inbox.html", waiting=handoffs().waiting(), agent=session["agent"], me=me
    )


@bp.post("/status")
@signed_in("agent", "lead")
def set_status() -> Any:
    """Set the signed-in agent available or away (busy is presszero's to set)."""
    status = request.form.get("status", "")
    if status not in ("available", "away"):
        abort(400, "status must be available or away")
    agents().set_status(session["agent"], status, chat().clock.now())
    return redirect(url_for("inbox.index"))


@bp.get("/api/waiting")
@signed_in("agent", "lead")
def api_waiting() -> Any:
    agents().seen(session["agent"], chat().clock.now())
    return jsonify(waiting=handoffs().waiting())


@bp.get("/conversations/<hid>")
@signed_in("agent", "lead")
def conversation(hid: str) -> Any:
    record = handoffs().get(hid)
    if record is None:
        abort(404)
    agents().seen(session["agent"], chat().clock.now())
    customer = None
    if record.get("customer_id"):
        customer = current_app.extensions["presszero.store"].get(record["customer_id"])
    transcript = chat().transcript(_sender(hid)) if record.get("channel") == "chat" else []
    return render_template(
        "inbox_conversation.html", record=record, customer=customer, transcript=transcript,
        hid=hid, agent=session["agent"], now=chat().clock.now(),
    )  # fmt: skip


@bp.get("/api/conversations/<hid>/messages")
@signed_in("agent", "lead")
def api_messages(hid: str) -> Any:
    try:
        after = int(request.args.get("after", "-1"))
    except ValueError:
        after = -1
    return jsonify(messages=chat().transcript(_sender(hid), after))


@bp.post("/conversations/<hid>/claim")
@signed_in("agent", "lead")
def claim(hid: str) -> Any:
    record = _record(hid)
    if record.get("channel") == "chat":
        chat().claim(_sender(hid), session["agent"])
    else:
        handoffs().update(hid, chat().clock.now(), status="claimed", agent=session["agent"])
    return redirect(url_for("inbox.conversation", hid=hid))


@bp.post("/conversations/<hid>/reply")
@signed_in("agent", "lead")
def reply(hid: str) -> Any:
    record = _record(hid)
    text = " ".join(request.form.get("text", "").split())[:MAX_REPLY]
    if record.get("channel") != "chat":
        abort(400, "replies go to chats; a caller is reached by phone")
    if text:
        chat().agent_reply(_sender(hid), session["agent"], text)
    if request.headers.get("X-Requested-With") == "fetch":
        return jsonify(ok=True)
    return redirect(url_for("inbox.conversation", hid=hid))


@bp.post("/conversations/<hid>/resolve")
@signed_in("agent", "lead")
def resolve(hid: str) -> Any:
    record = _record(hid)
    note = " ".join(request.form.get("note", "").split())[:500]
    if record.get("channel") == "chat":
        chat().resolve(_sender(hid), session["agent"], note)
    else:
        handoffs().update(
            hid,
            chat().clock.now(),
            status="resolved",
            resolved_by=session["agent"],
            resolution=note,
        )
    flash(f"Resolved: {record.get('who', hid)}")
    return redirect(url_for("inbox.index"))


def _record(hid: str) -> dict[str, Any]:
    record = handoffs().get(hid)
    if record is None:
        abort(404)
    return record


def _sender(hid: str) -> str:
    return hid.partition(":")[2]
