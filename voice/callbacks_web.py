"""The webhooks of a callback's calls, their TwiML, and the thread that dials in each worker.

Twilio rings the agent (`Dialer.tick`), then comes here:

- POST /voice/callbacks/agent?cb=ID&n=TRY: the agent answered. They hear who they are calling
  and why, and press a key (a voicemail presses none: the leg hangs up, the try failed).
- POST /voice/callbacks/agent-accept?cb=ID&n=TRY: the key; a <Dial> rings the customer from
  the line's number. A browser phone (client:) skips the key: it was answered by a click.
- POST /voice/callbacks/customer?cb=ID&n=TRY: the customer answered (the Number's `url`); they
  hear that this is their call back, then are put through.
- POST /voice/callbacks/result?cb=ID&n=TRY: the Dial's action, with DialCallStatus.
- POST /voice/callbacks/agent-status?cb=ID&n=TRY: the agent's leg's status callback.

Every request must carry a valid X-Twilio-Signature (else 403). Past that, a failure on our
side tells the agent so and ends their leg; the callback stays owed.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from presszero.context.clock import Clock
from presszero.context.connect import REDIS_ERRORS
from presszero.flows.engine.dialog import ends_in
from presszero.flows.language.phrases import english, phrase

from . import signature
from .callbacks import CUSTOMER_RING, Dialer, language_of, number_of, url
from .twiml import (
    NOT_TAKEN,
    _attrs,
    _element,
    _response,
    _say,
    endpoint_noun,
    goodbye,
    screen,
    speak,
)
from .whisper import whisper_text

log = logging.getLogger(__name__)
bp = Blueprint("callbacks", __name__, url_prefix="/voice/callbacks")

TICK_SECONDS = 15  # how often each worker looks for callbacks to dial
TWIML = "text/xml"
GREETING = english("Hello, this is the call back you asked for. Putting you through now.")
STALE = "This call back is no longer needed. Thank you. Goodbye."
CALL_NOW = "To call them now, press 1."
SORRY = "Sorry, something went wrong on our side. The call back stays in the inbox. Goodbye."


def init_app(app: Flask, clock: Clock) -> None:
    """Hang the dialer off the app and add the callbacks' webhooks (the dialer is not started:
    `presszero serve` starts one in each worker)."""
    ext = app.extensions
    ext["presszero.dialer"] = Dialer(
        ext["presszero.store"], ext["presszero.handoffs"], ext["presszero.agents"],
        ext["presszero.flows"], ext["presszero.twilio"], app.config["PRESSZERO_CALLER_ID"], clock,
    )  # fmt: skip
    app.register_blueprint(bp)


def dialer() -> Dialer:
    found: Dialer = current_app.extensions["presszero.dialer"]
    return found


bp.before_request(signature.require_signature)


@bp.errorhandler(Exception)
def tell_the_agent(error: Exception) -> Any:
    """Whatever failed, answer Twilio with TwiML (or the HTTP error as is)."""
    if isinstance(error, HTTPException) and error.code == 403:
        return signature.FORBIDDEN, 403
    if isinstance(error, HTTPException) and request.endpoint is None:
        return error
    if isinstance(error, REDIS_ERRORS):
        log.warning("callback webhook %s: Redis unavailable (%s)", request.path, error)
    else:
        log.exception("callback webhook %s failed", request.path)
    if request.endpoint == "callbacks.agent_status":
        return Response(status=204)
    if request.endpoint == "callbacks.customer":  # they answered: put them through regardless
        return twiml(speak([]))
    return twiml(goodbye(SORRY))


def twiml(body: str) -> Response:
    return Response(body, mimetype=TWIML)


def _try() -> tuple[str, int]:
    return request.args.get("cb", ""), int(request.args.get("n", ""))


@bp.post("/agent")
def agent() -> Response:
    """The agent answered: who they are calling back and why, then a key to call them now; a
    voicemail presses none and the customer is never rung. A browser phone was answered by a
    click: the customer is rung at once."""
    handoff_id, attempt = _try()
    line = dialer()
    record, by_click = line.ringing(handoff_id, attempt)
    if record is None:
        return twiml(goodbye(STALE))
    if by_click:
        return _call_the_customer(handoff_id, attempt, briefed=False)
    accept = url("agent-accept", cb=handoff_id, n=attempt)
    language = language_of(line.flows, record)
    return twiml(screen(briefing(record), accept, language, ask=CALL_NOW))


@bp.post("/agent-accept")
def agent_accept() -> Response:
    """The agent pressed a key after hearing who it is: ring the customer."""
    handoff_id, attempt = _try()
    if not request.form.get("Digits"):
        return twiml(goodbye(NOT_TAKEN))
    return _call_the_customer(handoff_id, attempt, briefed=True)


def _call_the_customer(handoff_id: str, attempt: int, *, briefed: bool) -> Response:
    line = dialer()
    record = line.agent_answered(handoff_id, attempt)
    if record is None:
        return twiml(goodbye(STALE))
    language = language_of(line.flows, record)
    return twiml(call_the_customer(record, attempt, line.caller_id, language, briefed=briefed))


@bp.post("/customer")
def customer() -> Response:
    """The customer picked up the call back: greet them, in their flow's language."""
    handoff_id, attempt = _try()
    line = dialer()
    line.customer_answered(handoff_id, attempt)
    language = language_of(line.flows, line.handoffs.get(handoff_id) or {})
    return twiml(speak([phrase(GREETING, language)], language))


@bp.post("/result")
def result() -> Response:
    handoff_id, attempt = _try()
    return twiml(goodbye(dialer().dial_ended(handoff_id, attempt, request.form)))


@bp.post("/agent-status")
def agent_status() -> Response:
    handoff_id, attempt = _try()
    dialer().agent_call_ended(handoff_id, attempt, request.form)
    return Response(status=204)


def briefing(record: dict[str, Any]) -> list[str]:
    """Return what the agent hears before a call back: who, why, and their message."""
    words = [whisper_text(record.get("summary") or {}, callback=True)]
    message = str(record.get("transcription") or "").strip()
    if message:
        words.append(f"Their message: {message[:500]}")
    elif record.get("recording_url"):
        words.append("They left a message; it is in the inbox.")
    return words


def call_the_customer(
    record: dict[str, Any], attempt: int, caller_id: str, language: str, *, briefed: bool = False
) -> str:
    """Return TwiML that tells the agent who they are calling back (unless `briefed` already),
    then dials the customer."""
    handoff_id, number = str(record["id"]), number_of(record)
    query: dict[str, str | int] = {"cb": handoff_id, "n": attempt}
    words = [] if briefed else briefing(record)
    words.append(f"Calling them now, on the number ending in {ends_in(number)}.")
    attrs = _attrs(action=url("result", **query), caller_id=caller_id, timeout=CUSTOMER_RING)
    dial = _element("Dial", attrs, endpoint_noun(number, url("customer", **query)))
    return _response("".join(_say(text, language) for text in words) + dial)


class DialerThread:
    """Ticks a dialer every `every` seconds in a daemon thread, until stopped."""

    def __init__(self, dialer: Dialer, every: float = TICK_SECONDS) -> None:
        self.dialer = dialer
        self.every = every
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="presszero-dialer", daemon=True)

    def start(self) -> DialerThread:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop ticking; wait up to `timeout` seconds for a tick under way to finish."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        # Workers started together would tick together: a random first wait spreads them.
        wait = random.uniform(0, self.every)
        while not self._stopped.wait(wait):
            wait = self.every
            try:
                self.dialer.tick(self.dialer.clock.now())
            except REDIS_ERRORS as exc:
                log.warning("callback dialer: Redis unavailable (%s); next look in %ss", exc, wait)
            except Exception:
                log.exception("callback dialer failed; next look in %ss", wait)


def start_dialer(app: Flask) -> DialerThread | None:
    """Start dialing the callbacks owed in this process, if the app has a dialer and
    PRESSZERO_DIALER is on; return the thread (also kept on the app), or None."""
    found = getattr(app, "extensions", {}).get("presszero.dialer")
    if found is None or not app.config.get("PRESSZERO_DIALER"):
        return None
    thread = DialerThread(found).start()
    app.extensions["presszero.dialer_thread"] = thread
    return thread


def stop_dialer(app: Flask) -> None:
    """Stop this process's dialer, if it runs."""
    thread = getattr(app, "extensions", {}).pop("presszero.dialer_thread", None)
    if thread is not None:
        thread.stop()
