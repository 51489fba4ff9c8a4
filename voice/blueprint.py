"""The Twilio voice webhooks.

Every request must carry a valid X-Twilio-Signature (else 403, nothing changes). Past that
check, whatever fails on our side — Redis, the engine, a malformed request — the caller
still gets valid TwiML that apologises once and reaches a person: never a 5xx to Twilio.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from presszero.context.connect import REDIS_ERRORS
from presszero.context.spool import Spool
from presszero.voice import signature

from .calls import VoiceLine
from .twiml import (
    SORRY,
    failsafe_wait_choice,
    failsafe_waiting,
    failsafe_whisper,
    failsafe_whisper_accept,
    goodbye,
    url,
)

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")

TWIML = "text/xml"


def line() -> VoiceLine:
    return current_app.extensions["presszero.voice"]


def twiml(body: str) -> Response:
    return Response(body, mimetype=TWIML)


bp.before_request(signature.require_signature)


@bp.errorhandler(Exception)
def reach_a_person(error: Exception) -> Any:
    """Whatever failed, answer with TwiML that reaches a person (or the HTTP error as is)."""
    if isinstance(error, HTTPException) and error.code == 403:
        return signature.FORBIDDEN, 403
    if isinstance(error, HTTPException) and request.endpoint is None:
        return error
    if isinstance(error, redis.ConnectionError):  # an outage: one line per turn, no traceback
        log.warning("voice turn on %s: Redis unavailable (%s); to a person", request.path, error)
    else:
        log.exception("voice turn failed on %s; sending the caller to a person", request.path)
    try:
        from presszero import metrics

        metrics.FAILSAFES.labels("voice").inc()
    except Exception:  # counting it must never stop the answer
        log.exception("counting a fail-safe failed")
    if request.endpoint not in SPECIAL_FAILSAFES:
        remember_failsafe(error)
    return twiml(failsafe_here())


def remember_failsafe(error: Exception) -> None:
    """Note that this call was sent to a person by the fail-safe (so its end is logged as a
    handoff): in Redis, or, when Redis is what failed, on this machine's disk until it is back.
    Never in the way of the answer."""
    call = request.form.get("CallSid", "")
    if not call:
        return
    try:
        if not isinstance(error, REDIS_ERRORS):
            line().sent_by_failsafe(call)
            return
    except Exception:  # Redis failed here too: the disk keeps it
        log.warning("the fail-safe of %s is kept on disk until Redis is back", call)
    try:
        failsafes().add({"call": call})
    except Exception:
        log.exception("remembering a fail-safe failed")


def failsafe_here() -> str:
    """Return the fail-safe TwiML that is legal where this request's answer is played.

    A turn's answer may Dial or Enqueue; a queue's waitUrl (wait, wait-choice) may not, nor
    may an agent's whisper (whisper, whisper-accept): each gets the verbs Twilio allows there.
    """
    endpoint, args, form = request.endpoint or "", request.args, request.form
    language = "en-US"
    try:
        language = line().language
        if endpoint not in SPECIAL_FAILSAFES:
            return line().failsafe()
    except Exception:  # even the fail-safe's own settings failed: the static ones
        log.exception("fail-safe TwiML failed too")
        if endpoint not in SPECIAL_FAILSAFES:
            return STATIC_FAILSAFE
    if endpoint == "voice.wait":
        return failsafe_waiting(language)
    if endpoint == "voice.wait_choice":
        return failsafe_wait_choice(form.get("Digits", "").startswith("1"), language)
    if endpoint == "voice.whisper":
        again: dict[str, str | int] = {"call": args.get("call", ""), "agent": args.get("agent", "")}
        again["unbriefed"] = 1
        by_click = args.get("click") == "1"
        return failsafe_whisper(url("whisper-accept", **again), language, by_click=by_click)
    if endpoint == "voice.whisper_accept":
        return failsafe_whisper_accept(bool(form.get("Digits")), language)
    # voice.agent_done: an agent's own call ended; never queue the agent as a caller
    return goodbye(f"{SORRY} Goodbye.", language)


SPECIAL_FAILSAFES = frozenset(
    {"voice.wait", "voice.wait_choice", "voice.whisper", "voice.whisper_accept", "voice.agent_done"}
)
STATIC_FAILSAFE = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry, something went wrong on our'
    " side. Let me connect you to a person now.</Say><Enqueue>support</Enqueue></Response>"
)


def _turn() -> int:
    return int(request.args.get("t", ""))


@bp.post("/incoming")
def incoming() -> Response:
    return twiml(line().incoming(request.form))


@bp.post("/turn")
def turn() -> Response:
    return twiml(line().answer(request.form, _turn()))


@bp.post("/dial-status")
def dial_status() -> Response:
    return twiml(line().dial_status(request.form, _turn()))


@bp.post("/queue-result")
def queue_result() -> Response:
    return twiml(line().queue_result(request.form, _turn()))


@bp.post("/wait")
def wait() -> Response:
    args = request.args
    return twiml(line().wait(request.form, args.get("call", ""), args.get("queue", "")))


@bp.post("/wait-choice")
def wait_choice() -> Response:
    return twiml(line().wait_choice(request.form))


@bp.post("/whisper")
def whisper() -> Response:
    args = request.args
    return twiml(line().whisper(args.get("call", ""), args.get("agent", "")))


@bp.post("/whisper-accept")
def whisper_accept() -> Response:
    """The agent's key after the whisper (none: Twilio's Gather timed out to the Hangup)."""
    args = request.args
    digits = request.form.get("Digits", "")
    call, agent = args.get("call", ""), args.get("agent", "")
    if args.get("unbriefed") and digits:  # after the fail-safe whisper: a person pressed a key
        return twiml(line().desk.accepted_unbriefed(call, agent))
    return twiml(line().desk.accepted(call, agent, digits))


@bp.post("/connect")
def connect() -> Response:
    """A waiting caller an agent answered from the inbox: ring that agent."""
    return twiml(line().desk.connect(request.args.get("call", ""), request.args.get("agent", "")))


@bp.post("/agent-done")
def agent_done() -> Response:
    """An agent's own call took a caller from the queue, and that is over."""
    return twiml(line().desk.agent_done(request.form, request.args.get("agent", "")))


@bp.post("/recorded")
def recorded() -> Response:
    return twiml(line().recorded(request.form, _turn(), request.form.get("CallSid", "")))


@bp.post("/transcribed")
def transcribed() -> Response:
    line().transcribed(request.form, request.args.get("call", ""))
    return Response(status=204)


@bp.post("/status")
def status() -> Response:
    """Record how the call ended; while Redis is down, keep it on disk until it is back."""
    form = request.form.to_dict()
    voice = line()
    try:
        replay_spool()  # what waited on disk first: a fail-safe this call got, say
        voice.status(form)
    except REDIS_ERRORS as exc:  # Redis, or every node of a cluster, out of reach
        log.warning("call status kept on disk until Redis is back (%s)", exc)
        spool().add({"form": form, "at": voice.clock.now().isoformat()})
        return Response(status=204)
    return Response(status=204)


def spool() -> Spool:
    return current_app.extensions["presszero.spool"]


def failsafes() -> Spool:
    return current_app.extensions["presszero.failsafes"]


def replay_spool() -> None:
    """Record the fail-safes and call statuses kept on disk while Redis was down (if any)."""
    marks = failsafes()
    if marks.pending():
        marks.replay(lambda entry: line().sent_by_failsafe(str(entry["call"])))
    kept = spool()
    if kept.pending():
        voice = line()
        done = kept.replay(lambda entry: voice.status(entry["form"], at=entry["at"]))
        log.info("recorded %d call statuses kept while Redis was down", done)
