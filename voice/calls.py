"""The voice line: one Twilio webhook in, one engine turn, one TwiML response out.

Each turn reads the call from Redis, runs the engine, and writes the new state, the response,
the analytics events and any handoff in one pipeline. The action URLs carry the turn number,
so a webhook Twilio sends again gets the response it got the first time.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from presszero import metrics
from presszero.context.store import UnknownCustomer
from presszero.flows.engine.actions import Action, Event
from presszero.flows.language.model import Flow
from presszero.flows.language.phrases import phrase
from presszero.turns import AlsoRead, Rendered, TurnInput, Turns

from . import twiml
from .desk import CallDesk

log = logging.getLogger(__name__)

CHANNEL = "voice"
MAX_DIGITS = 64
MAX_SPEECH = 500
FAILSAFE_KEEP = 2 * 24 * 3600  # a call's fail-safe is remembered until its status arrives
FINAL_STATUSES = {"completed", "busy", "no-answer", "failed", "canceled"}
DIAL_FAILURES = {"busy": "busy", "no-answer": "no_answer", "failed": "failed", "canceled": "failed"}


def event_from(form: Mapping[str, str]) -> Event:
    """Return what the caller did at a Gather: keys, words, or nothing."""
    digits = "".join(ch for ch in form.get("Digits", "") if ch in "0123456789*#")[:MAX_DIGITS]
    if digits.rstrip("#"):
        return Event.digits(digits.rstrip("#"))
    speech = " ".join(form.get("SpeechResult", "").split())[:MAX_SPEECH]
    if speech:
        return Event.text(speech, confidence(form.get("Confidence")))
    return Event.no_input()


def confidence(raw: str | None) -> float | None:
    """Return Twilio's speech confidence as 0-1; garbage counts as not confident at all."""
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        return 0.0
    if math.isnan(value):
        return 0.0
    return min(max(value, 0.0), 1.0)


class AgentCalling(Exception):
    """The caller is an agent, on their registered phone (not a customer)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class VoiceLine:
    """The voice channel's use of the engine, the store and Redis."""

    def __init__(self, turns: Turns, desk: CallDesk) -> None:
        self.turns = turns
        self.desk = desk
        self.store = turns.store
        self.handoffs = turns.handoffs
        self.flows = turns.flows
        self.clock = turns.clock
        self.target = desk.target

    @property
    def language(self) -> str:
        return self.flows.get().language

    def failsafe(self) -> str:
        queue = (self.flows.get().queues or ("support",))[0]
        return twiml.failsafe(self.target, queue, self.language)

    def sent_by_failsafe(self, call: str) -> None:
        """Remember that the fail-safe sent this caller to a person, so the call is logged as
        a handoff, not as one they gave up on (raises when Redis is out of reach)."""
        self.turns.redis.set(self._failsafe_key(call), "1", ex=FAILSAFE_KEEP)

    def _failsafe_key(self, call: str) -> str:
        return f"{self.handoffs.prefix}:failsafe:{{{CHANNEL}:{call}}}"

    # -- turns ----------------------------------------------------------------------------

    def incoming(self, form: Mapping[str, str]) -> str:
        """Start the call: look the caller up, greet them, ask the first question. An agent
        calling from their own phone is put through to the next caller waiting for them."""
        sid, caller = form["CallSid"], form.get("From", "")
        meta = {"from": caller, "to": form.get("To", ""), "flow": self.flows.default}
        given = TurnInput(
            CHANNEL, sid, Event.start(CHANNEL, caller), turn=0, find=("phone", caller),
            caller=caller, meta=meta,
        )  # fmt: skip

        def an_agent(pipe: Any) -> Callable[[list[Any]], None]:
            """In the same round trip: is this an agent calling from their own phone?"""
            read = self.turns.agents.queue_who_has(pipe, caller)

            def check(replies: list[Any]) -> None:
                name = read(replies)
                if name:
                    raise AgentCalling(name)

            return check

        try:
            return self._take(given, also=an_agent if caller else None)
        except AgentCalling as calling:
            agent = self.turns.agents.get(calling.name)
            if agent is None:  # removed a moment ago: a caller like any other
                return self._take(given)
            return self.desk.agent_calls_in(sid, agent)

    def answer(self, form: Mapping[str, str], turn: int) -> str:
        """Take the caller's answer at a prompt (or their silence)."""
        return self._next(form["CallSid"], turn, event_from(form))

    def dial_status(self, form: Mapping[str, str], turn: int) -> str:
        """After the agents' leg: done if they talked, else back in line (or, for a fixed
        line, the flow's callback or voicemail)."""
        done = self.desk.dial_ended(form, turn)
        if done is not None:
            return done
        status = form.get("DialCallStatus", "")
        return self._next(
            form["CallSid"], turn, Event.handoff_failed(DIAL_FAILURES.get(status, "failed"))
        )

    def queue_result(self, form: Mapping[str, str], turn: int) -> str:
        """After the queue: the caller was bridged, hung up, asked for a callback, or it failed."""
        if form.get("QueueResult") in ("bridged", "bridging-in-process"):
            metrics.QUEUE_WAIT.labels(CHANNEL).observe(_int(form.get("QueueTime"), 0))
        done = self.desk.queue_ended(form)
        if done is not None:
            return done
        reason = "long_wait" if form.get("QueueResult") == "leave" else "queue_failed"
        return self._next(form["CallSid"], turn, Event.handoff_failed(reason))

    def _next(self, sid: str, turn: int, event: Event) -> str:
        return self._take(TurnInput(CHANNEL, sid, event, turn=turn))

    def _take(self, given: TurnInput, also: AlsoRead | None = None) -> str:
        """Take the turn and answer with its TwiML (or the answer it got before)."""
        sid = given.conversation_id

        def render(actions: Sequence[Action], next_turn: int, flow: Flow) -> Rendered:
            target = self.desk.target_for(actions)
            return Rendered(
                twiml.render(
                    actions, turn=next_turn, call=sid, target=target, language=flow.language
                )
            )

        result = self.turns.take(given, render, also=also)
        if not result.replayed and not result.actions:  # nothing to do here: never silence
            return self.failsafe()
        return result.response or self.failsafe()

    def _mark(self, sid: str, **changes: Any) -> None:
        self.handoffs.update(f"{CHANNEL}:{sid}", self.clock.now(), **changes)

    # -- around the handoff ---------------------------------------------------------------

    def wait(self, form: Mapping[str, str], call: str, queue: str) -> str:
        """Tell a caller in the queue where they are and how long it may be; offer a callback."""
        return self.desk.wait(form, call, queue or "support")

    def wait_choice(self, form: Mapping[str, str]) -> str:
        """Leave the queue for a callback when the caller pressed 1; else keep waiting."""
        language = self.desk.language_of(form.get("CallSid", ""))
        if form.get("Digits", "").startswith("1"):
            return twiml.leave_queue(phrase("OK, let's arrange a call back.", language), language)
        return twiml.speak([phrase("OK, you keep your place in line.", language)], language)

    def whisper(self, call: str, agent: str = "") -> str:
        """Tell the agent who is on the line and why, before the caller is connected."""
        return self.desk.answered(call, agent)

    def recorded(self, form: Mapping[str, str], turn: int, call: str) -> str:
        """Keep the voicemail with the handoff record; with no message, arrange a callback.

        Twilio calls the Record action however the recording ended: RecordingDuration 0 (or
        no RecordingUrl) when nothing was said, Digits=hangup when the caller hung up (a
        message left before hanging up is kept; no TwiML is run for a caller who is gone).
        """
        url, seconds = form.get("RecordingUrl", ""), _int(form.get("RecordingDuration"), 0)
        gone = form.get("Digits") == "hangup"
        language = self.desk.language_of(call)
        if url and seconds > 0:
            self._mark(call, recording_url=url, recording_seconds=seconds, status="voicemail")
            if gone:
                return twiml.speak([])
            return twiml.goodbye(
                phrase("Thanks, we've got your message. Goodbye.", language), language
            )
        self._mark(call, status="callback", note="no message was left")
        if gone:
            return twiml.speak([])
        return twiml.goodbye(
            phrase(
                "We didn't get a message, so we'll call you back on this number. Goodbye.",
                language,
            ),
            language,
        )

    def transcribed(self, form: Mapping[str, str], call: str) -> None:
        """Add Twilio's transcription of a voicemail to the handoff record."""
        text = form.get("TranscriptionText", "")[:4000]
        if text:
            self._mark(call, transcription=text)

    def status(self, form: Mapping[str, str], at: str | None = None) -> None:
        """Record how the call ended in the customer's contact log (once per call).

        `at` is when the callback came, for callbacks replayed from the spool.
        """
        sid, call_status = form["CallSid"], form.get("CallStatus", "")
        if call_status not in FINAL_STATUSES:
            return
        if self.desk.ended(sid):  # an agent's own call: nothing for a customer's log
            return
        current = self.turns.conversations.load(CHANNEL, sid)
        state = current.state or {}
        outcome = str(state.get("outcome") or "")
        reason = state.get("wanted") or state.get("step") or ""
        if call_status != "completed":
            outcome = "missed"
        elif not outcome and self.turns.redis.get(self._failsafe_key(sid)):
            outcome, reason = "handoff", "our side failed; the fail-safe sent them to a person"
        elif not outcome:
            outcome = "abandoned"
        customer = current.customer or self.store.lookup_by_phone(form.get("From", ""))
        contact = self.store.new_contact(CHANNEL, outcome, reason=reason, ref=sid, at=at)
        metrics.OUTCOMES.labels(CHANNEL, outcome).inc()
        if customer is not None:
            try:
                self.store.record_contact(customer.id, contact)
                return
            except UnknownCustomer:  # forgotten mid-call: keep the record unattributed
                pass
        self.store.record_unattributed(form.get("From", ""), contact)


def _int(raw: str | None, default: int) -> int:
    try:
        return max(int(float(raw or "")), 0)
    except (ValueError, OverflowError):
        return default
