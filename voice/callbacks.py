"""Callbacks that happen: presszero dials a callback owed, the agent first, then the customer.

A callback is dialled when it is due, the flow is open, it is inside the part of the day the
customer was promised (morning, afternoon, or any time), and an agent of its queue is free:
the agent's phone rings first (Twilio's REST API); on answering they hear who it is and why,
then Twilio dials the customer from the line's number. A try that reaches no one (busy, no
answer, refused) is tried again RETRY_SPACING later, MAX_ATTEMPTS times in all; then the
callback stays in the inbox for a person, marked that the calls failed. Every try and how it
ended go into the customer's contact log (ref: the try's CallSid, so a webhook Twilio sends
twice counts once). Nothing is dialled while Twilio cannot be reached: the try is given back
and made on a later tick. Which dialer makes a try is settled in Redis (context/callbacks.py).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from presszero.context.agents import Agent, AgentStore, speakers_first
from presszero.context.callbacks import FINAL, LIVE, CallbackStore, Claim
from presszero.context.clock import Clock
from presszero.context.handoffs import HandoffStore
from presszero.context.store import ContextStore, UnknownCustomer
from presszero.flows.engine.dialog import WHEN_CHOICES
from presszero.flows.language.model import Flow
from presszero.flowset import FlowSet

from .rest import TwilioError, TwilioRejected, TwilioRest

log = logging.getLogger(__name__)

# Three tries, ten minutes apart: a customer who stepped away or was on another call gets two
# more chances within the half hour they were expecting us; more would be pestering them.
MAX_ATTEMPTS = 3
RETRY_SPACING = 10 * 60
AGENT_RING = 20  # seconds the agent's phone rings: they said they were available
CUSTOMER_RING = 25  # seconds the customer's phone rings: before most voicemails pick up
# How long a try's claim holds before another dialer may take the callback over: the REST
# request (10 s at most), the agent's ring and Twilio's webhooks, with room to spare; then
# the whisper and the customer's ring. A connected call's claim never lapses.
DIALLING_HOLD = 120
CONNECTING_HOLD = 180
DUE_PER_TICK = 500  # callbacks looked at in one tick, the longest due first
LOST = "we lost track of the call"  # a try whose claim lapsed: its dialer or its webhooks lost
OWED = ("callback", "voicemail")  # handoff statuses of a call still owed
CLOSED = ("resolved", "abandoned")
KINDS = ("callback", "voicemail")
WHY = {
    "busy": "their line was busy",
    "no-answer": "no answer",
    "failed": "the call could not be placed",
    "canceled": "the call was cancelled",
}
AGENT_WHY = {  # when the agent's own phone is where it failed
    "busy": "our agent's line was busy",
    "no-answer": "our agent did not answer",
    "failed": "our agent's phone could not be called",
    "canceled": "the call to our agent was cancelled",
}


class Dialer:
    """Dials the callbacks owed (`tick`), and follows each try through Twilio's webhooks."""

    def __init__(
        self,
        store: ContextStore,
        handoffs: HandoffStore,
        agents: AgentStore,
        flows: FlowSet,
        rest: TwilioRest,
        caller_id: str,
        clock: Clock,
    ) -> None:
        self.store, self.handoffs, self.agents, self.flows = store, handoffs, agents, flows
        self.callbacks = CallbackStore(store.redis)
        self.rest, self.caller_id, self.clock = rest, caller_id, clock
        self._said_why: str | None = None

    def blocked(self) -> str | None:
        """Return why no callback can be dialled (a setting missing), or None."""
        return why_not_dialling(self.rest, self.caller_id)

    # -- the tick ---------------------------------------------------------------------------

    def tick(self, now: datetime) -> list[str]:
        """Dial the callbacks that are due and can be made at `now`; return their ids."""
        why = self.blocked()
        if why is not None:
            if why != self._said_why:  # once, not every tick
                log.warning("callbacks are not being dialled: %s", why)
            self._said_why = why
            return []
        dialled: list[str] = []
        nobody: set[str] = set()  # queues found with no agent free in this tick
        for handoff_id in self.callbacks.due(now, limit=DUE_PER_TICK):
            try:
                if self._try(handoff_id, now, nobody):
                    dialled.append(handoff_id)
            except TwilioError as exc:  # Twilio is out of reach: nothing is lost, next tick
                log.warning("callbacks wait for Twilio: %s", exc)
                break
        return dialled

    def _try(self, handoff_id: str, now: datetime, nobody: set[str]) -> bool:
        """Dial one callback if it can be now; return True when its agent's phone rings."""
        record = self.handoffs.get(handoff_id)
        if record is None or record.get("status") in CLOSED or record.get("kind") not in KINDS:
            self.callbacks.drop(handoff_id)
            return False
        if record.get("status") not in OWED or not number_of(record):
            # a person has it in hand: look again later, should they give it back
            self.callbacks.look_at(handoff_id, now.timestamp() + RETRY_SPACING)
            return False
        flow = self.flows.get(record.get("flow"))
        opens = flow.hours.next_open(now, window_of(record))
        if opens is None or opens > now:  # closed, or outside the promised part of the day
            later = opens or now + timedelta(days=1)
            self.callbacks.look_at(handoff_id, later.timestamp())
            return False
        queue = str(record.get("queue") or "support")
        # The agent who speaks the customer's language rings first, if one is free.
        speaks = (str((record.get("summary") or {}).get("language") or ""), flow.language)
        free = [] if queue in nobody else self._free(queue, now, *speaks)
        if not free:
            nobody.add(queue)
            if not self._lapsed(handoff_id, now):
                return False
            # a lost try may hold the only agent: taking it over frees them
        claim = self.callbacks.claim(
            handoff_id, now, hold=DIALLING_HOLD, attempts=MAX_ATTEMPTS, spent=LOST
        )
        if claim.lost:
            self._lost(handoff_id, claim, record, now)
        if not claim.attempt:
            self._claim_refused(handoff_id, claim, now)
            return False
        if not free and (free := self._free(queue, now, *speaks)):
            nobody.discard(queue)
        agent = next((a for a in free if self._grab(a, handoff_id, now)), None)
        if agent is None:  # everyone was taken meanwhile: the try is not made
            self.callbacks.release(handoff_id, claim.attempt)
            return False
        # Named before the call is placed, so a lost try's agent is freed by whoever takes over.
        self.callbacks.move(handoff_id, claim.attempt, ("dialling",), "dialling", agent=agent.name)
        self.callbacks.look_at(handoff_id, claim.look_again)
        return self._dial(handoff_id, claim.attempt, agent, now)

    def _free(self, queue: str, now: datetime, language: str, default: str) -> list[Agent]:
        """Return the free agents with a phone for `queue`, those who speak `language` first."""
        on_phone = [a for a in self.agents.available_for(queue, now) if a.endpoint]
        first = speakers_first(on_phone, language, default)
        return first + [a for a in on_phone if a not in first]

    def _lapsed(self, handoff_id: str, now: datetime) -> bool:
        """Return True when a try is under way on paper but its claim has lapsed."""
        dialling = self.callbacks.dialling(handoff_id)
        lapse = float(dialling.get("claim_until") or 0)
        return dialling.get("state") in ("dialling", "connecting") and lapse <= now.timestamp()

    def _grab(self, agent: Agent, handoff_id: str, now: datetime) -> bool:
        return self.agents.mark_busy(agent.name, handoff_id, now, if_available=True)

    def _dial(self, handoff_id: str, attempt: int, agent: Agent, now: datetime) -> bool:
        query: dict[str, str | int] = {"cb": handoff_id, "n": attempt}
        try:
            call_sid = self.rest.dial(
                agent.endpoint,
                self.caller_id,
                url("agent", **query),
                url("agent-status", **query),
                timeout=AGENT_RING,
            )
        except TwilioRejected as exc:  # refused outright: a try that reached no one
            self.agents.mark_free(agent.name, now, conversation_id=handoff_id)
            self.failed(handoff_id, attempt, f"Twilio refused the call ({exc.code or exc.status})")
            return False
        except TwilioError:
            self.callbacks.release(handoff_id, attempt)
            self.agents.mark_free(agent.name, now, conversation_id=handoff_id)
            self.callbacks.look_at(handoff_id, now.timestamp())
            raise
        self.callbacks.move(handoff_id, attempt, ("dialling",), "dialling", call_sid=call_sid)
        self._note(handoff_id, attempt, now, state="dialling", agent=agent.name)
        return True

    def _lost(self, handoff_id: str, claim: Claim, record: dict[str, Any], now: datetime) -> None:
        """A try's claim lapsed (its dialer, or Twilio's word on it, was lost): its agent is
        free again, and it is logged as a try that reached no one."""
        if claim.lost_agent:
            self.agents.mark_free(claim.lost_agent, now, conversation_id=handoff_id)
        if claim.attempt:  # the last try's loss is logged as the callback is handed over
            reason = f"callback attempt {claim.lost} of {MAX_ATTEMPTS}: {LOST}"
            ref = claim.lost_call or f"{handoff_id}#{claim.lost}"
            self._log(record, "missed", reason, ref, now)

    def _claim_refused(self, handoff_id: str, claim: Claim, now: datetime) -> None:
        """Keep the list right after a refused claim (another dialer, or a lost last try)."""
        if claim.why == "spent":  # the last try was lost on the way: a person takes over
            self._hand_over(handoff_id, MAX_ATTEMPTS, LOST, now)
            return
        state = self.callbacks.dialling(handoff_id).get("state")
        if state in FINAL or state == "connected":
            self.callbacks.look_at(handoff_id, math.inf)
        else:
            self.callbacks.look_at(handoff_id, claim.look_again)

    # -- the webhooks of a try --------------------------------------------------------------

    def ringing(self, handoff_id: str, attempt: int) -> tuple[dict[str, Any] | None, bool]:
        """Return the callback's record while try `attempt` rings its agent (None when that try
        is over), and whether the agent answered by a click (a browser phone: no key asked)."""
        dialling = self.callbacks.dialling(handoff_id)
        if dialling.get("state") != "dialling" or dialling.get("attempts") != str(attempt):
            return None, False
        agent = self.agents.get(dialling.get("agent", ""))
        by_click = agent is not None and agent.endpoint.startswith("client:")
        return self.handoffs.get(handoff_id), by_click

    def agent_answered(self, handoff_id: str, attempt: int) -> dict[str, Any] | None:
        """The agent picked up: the customer is rung next. Return the callback's record, or
        None when this try is over (a stale or repeated call)."""
        now = self.clock.now()
        moved = self.callbacks.move(
            handoff_id, attempt, ("dialling", "connecting"), "connecting",
            claim_until=now.timestamp() + CONNECTING_HOLD,
        )  # fmt: skip
        record = self.handoffs.get(handoff_id) if moved else None
        if record is not None:
            self._note(handoff_id, attempt, now, state="calling them")
        return record

    def customer_answered(self, handoff_id: str, attempt: int) -> None:
        """The customer picked up: they are talking with the agent."""
        moved = self.callbacks.move(handoff_id, attempt, ("connecting",), "connected")
        if moved:
            self._note(handoff_id, attempt, self.clock.now(), state="connected")

    def dial_ended(self, handoff_id: str, attempt: int, form: Mapping[str, str]) -> str:
        """The agent's Dial of the customer ended; return what the agent is told."""
        status = form.get("DialCallStatus", "")
        self._free_agent(handoff_id, attempt)  # their leg ends with this answer
        if status == "completed":
            seconds = _int(form.get("DialCallDuration"))
            self.connected(handoff_id, attempt, seconds)
            return "The call has ended. Thank you."
        return self.failed(handoff_id, attempt, WHY.get(status, "no answer")) or "Goodbye."

    def agent_call_ended(self, handoff_id: str, attempt: int, form: Mapping[str, str]) -> None:
        """The agent's own leg ended (its status callback): free them; a try that never got
        as far as the customer failed."""
        status = form.get("CallStatus", "")
        if status not in ("completed", *WHY):
            return
        dialling = self._free_agent(handoff_id, attempt)
        if dialling.get("state") == "connected":  # the Dial's own report was lost
            self.connected(handoff_id, attempt, 0)
        elif status == "completed" and dialling.get("state") == "dialling":
            self.failed(handoff_id, attempt, "our agent did not take the call")  # no key
        elif status == "completed":
            self.failed(handoff_id, attempt, "our agent hung up before they answered")
        else:
            self.failed(handoff_id, attempt, AGENT_WHY[status])

    def _free_agent(self, handoff_id: str, attempt: int) -> dict[str, str]:
        """Free the agent of try `attempt` (if it is still the current one); return the
        callback's dialling as it stands."""
        dialling = self.callbacks.dialling(handoff_id)
        if dialling.get("agent") and dialling.get("attempts") == str(attempt):
            self.agents.mark_free(dialling["agent"], self.clock.now(), conversation_id=handoff_id)
        return dialling

    # -- how a try ends ---------------------------------------------------------------------

    def connected(self, handoff_id: str, attempt: int, seconds: int) -> None:
        """A try reached the customer: logged as a callback, and the handoff is closed.

        "callback", not "resolved": a person talked with them; whether that settled it is
        the agent's to say.
        """
        now = self.clock.now()
        if not self.callbacks.move(handoff_id, attempt, LIVE, "done", finished_at=now.timestamp()):
            return
        dialling = self.callbacks.dialling(handoff_id)
        agent = dialling.get("agent", "")
        record = self.handoffs.get(handoff_id) or {}
        if seconds and record.get("queue"):
            self.handoffs.record_handle_time(str(record["queue"]), seconds)
        reason = f"callback attempt {attempt} of {MAX_ATTEMPTS}: talked with {agent or 'a person'}"
        self._log(record, "callback", reason, dialling.get("call_sid") or handoff_id, now)
        dial = {**_dial_of(record), "attempts": attempt, "outcome": "connected", "state": "done"}
        self.handoffs.update(handoff_id, now, status="resolved", agent=agent or None, dial=dial)
        self.callbacks.drop(handoff_id)

    def failed(self, handoff_id: str, attempt: int, why: str) -> str | None:
        """A try reached no one: try again after RETRY_SPACING, or after the last one hand the
        callback to a person. Return what the agent on the line is told (None: already done)."""
        now = self.clock.now()
        if attempt >= MAX_ATTEMPTS:
            moved = self.callbacks.move(handoff_id, attempt, LIVE, "failed", outcome=why)
            if not moved:
                return None
            self._hand_over(handoff_id, attempt, why, now)
            return f"They did not answer ({why}). The call back is in the inbox for a person."
        next_at = now + timedelta(seconds=RETRY_SPACING)
        moved = self.callbacks.move(
            handoff_id, attempt, LIVE, "owed",
            outcome=why, next_at=next_at.timestamp(), claim_until=0,
        )  # fmt: skip
        if not moved:
            return None
        self.callbacks.look_at(handoff_id, next_at.timestamp())
        record = self.handoffs.get(handoff_id) or {}
        reason = f"callback attempt {attempt} of {MAX_ATTEMPTS}: {why}"
        self._log(record, "missed", reason, self._ref(handoff_id, attempt), now)
        self._note(handoff_id, attempt, now, state="owed", outcome=why, next_at=_iso(next_at))
        return f"They did not answer ({why}). We will try again in {RETRY_SPACING // 60} minutes."

    def _hand_over(self, handoff_id: str, attempt: int, why: str, now: datetime) -> None:
        """Every try failed: the callback stays in the inbox, marked so, for a person."""
        self.callbacks.look_at(handoff_id, math.inf)
        record = self.handoffs.get(handoff_id) or {}
        reason = f"callback attempt {attempt} of {MAX_ATTEMPTS}: {why}; handed to a person"
        self._log(record, "missed", reason, self._ref(handoff_id, attempt), now)
        self._note(handoff_id, attempt, now, state="failed", outcome=why, failed=True)

    def _ref(self, handoff_id: str, attempt: int) -> str:
        """Return the contact log's ref for a try: its CallSid, or the callback and try."""
        dialling = self.callbacks.dialling(handoff_id)
        return dialling.get("call_sid") or f"{handoff_id}#{attempt}"

    def _log(
        self, record: Mapping[str, Any], outcome: str, reason: str, ref: str, now: datetime
    ) -> None:
        contact = self.store.new_contact(
            "voice", outcome, reason=reason, ref=ref, at=_iso(now), by="company"
        )  # our call to them, not a contact of theirs
        customer_id = record.get("customer_id")
        if customer_id:
            try:
                self.store.record_contact(str(customer_id), contact)
                return
            except UnknownCustomer:  # forgotten meanwhile: kept unattributed
                pass
        self.store.record_unattributed(number_of(record), contact)

    def _note(self, handoff_id: str, attempt: int, now: datetime, **dial: Any) -> None:
        """Show on the handoff record (the inbox) how the calls are going."""
        record = self.handoffs.get(handoff_id) or {}
        changes = {**_dial_of(record), "attempts": attempt, "of": MAX_ATTEMPTS, **dial}
        changes["at"] = _iso(now)
        self.handoffs.update(handoff_id, now, dial=changes)


def why_not_dialling(rest: TwilioRest, caller_id: str) -> str | None:
    """Return the setting that keeps callbacks from being dialled, in words, or None."""
    if not rest.configured:
        return (
            "Twilio's REST API is not configured: set TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN"
            " (or TWILIO_API_KEY and TWILIO_API_SECRET)"
        )
    if not caller_id:
        return "PRESSZERO_CALLER_ID is not set (the line's own number, that callbacks call from)"
    if not rest.public_url:
        return "PRESSZERO_PUBLIC_URL is not set: Twilio needs this server's public address"
    return None


def number_of(record: Mapping[str, Any]) -> str:
    """Return the number a callback calls: the one the customer gave, else their line."""
    callback = record.get("callback")
    given = callback.get("number") if isinstance(callback, Mapping) else ""
    return str(given or record.get("phone") or "")


def window_of(record: Mapping[str, Any]) -> tuple[int, int]:
    """Return the local minutes of the day the customer was promised a call in."""
    callback = record.get("callback")
    when = callback.get("when") if isinstance(callback, Mapping) else "asap"
    return next((span for name, _, span in WHEN_CHOICES if name == when), (0, 1440))


def language_of(flows: FlowSet, record: Mapping[str, Any]) -> str:
    """Return the language a callback's flow speaks."""
    flow: Flow = flows.get(record.get("flow"))
    return flow.language


def url(path: str, **query: str | int) -> str:
    """Return the URL of one of a callback's webhooks."""
    return f"/voice/callbacks/{path}?{urlencode(query)}"


def _dial_of(record: Mapping[str, Any]) -> dict[str, Any]:
    dial = record.get("dial")
    return dict(dial) if isinstance(dial, Mapping) else {}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _int(raw: str | None) -> int:
    try:
        return max(int(float(raw or "0")), 0)
    except (ValueError, OverflowError):
        return 0
