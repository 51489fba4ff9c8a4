"""Messages left in chat, in the agent inbox: answer one, and it reaches the visitor.

The answer goes into the conversation (the visitor reads it in the widget when they come
back) and where they asked besides: by email or text message (`chat/answers.py`). A message
stays listed until its answer was delivered; a failed delivery is shown on it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for

from presszero.chat.answers import AnswerRefused, Answers

from .display import name_of
from .inbox import MAX_REPLY, signed_in, signed_in_agent

bp = Blueprint("messages", __name__, url_prefix="/agent", template_folder="templates")


def answers() -> Answers:
    return current_app.extensions["presszero.answers"]


@bp.post("/messages/<path:hid>/answer")
@signed_in("agent", "lead")
def answer(hid: str) -> Any:
    """Answer a message a chat visitor left."""
    text = request.form.get("text", "").strip()[:MAX_REPLY]
    if not text:
        abort(400, "write an answer first")
    try:
        record = answers().answer(hid, signed_in_agent(), text)
    except AnswerRefused as exc:
        flash(f"Not sent: {exc}.")
        return redirect(url_for("inbox.conversation", hid=hid))
    who = name_of(record) if record.get("who") else "the visitor"
    if record.get("status") == "resolved":
        flash(f"Answered {who}: {record.get('delivery', 'answered in the chat')}.")
        return redirect(url_for("inbox.index"))
    flash(
        f"Your answer is in {who}'s chat, but the {record.get('delivery')}. "
        "The message stays listed: answer again, or resolve it once they have it."
    )
    return redirect(url_for("inbox.conversation", hid=hid))
