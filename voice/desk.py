"""Where a call meets a person: ringing the agents, the whisper, the queue, and answering.

A handoff rings every agent who is available for its queue at once (up to ten), each with a
whisper; the first to answer takes the call. In a conversation held in one of several
languages, only those of them who speak it ring, unless none of those is free: then all of
them do (a person must answer; the whisper says the language). Ringing everyone gets the
caller to a person soonest, and an agent who answers is marked busy at once, so the next
caller rings the others. When no one is available, or no one answers, the caller waits in
the queue, hears their place and an estimate from the agents on duty and recent handle times,
and can press 1 for a callback. An agent takes a waiting caller from the inbox (the call is
redirected, through Twilio's REST API, to a Dial of that agent) or by calling the line from
their own phone.

An agent on a phone presses a key after the whisper to take the call: a voicemail that picks
up presses none, so the caller goes back in line instead of being put through to a recording.

What Twilio reports closes what is open: an agent is busy from the moment their leg answers
(the whisper is fetched) until the Dial or the call ends; a caller who hangs up in the queue
leaves the inbox at once.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from statistics import median
from typing import Any

from presszero.context.agents import Agent, speakers_first
from presszero.flows.engine.actions import Action, Handoff
from presszero.flows.language.phrases import phrase
from presszero.turns import Turns

from . import twiml
from .rest import TwilioError, TwilioRest
from .twiml import Target
from .whisper import name_of, whisper_text

log = logging.getLogger(__name__)

CHANNEL = "voice"
DEFAULT_HANDLE_SECONDS = 240  # until a queue has handle times of its own
LONG_WAIT_SECONDS = 120
PRIORITY_QUEUES = ("priority",)  # served first, when an agent takes the next caller


class AnswerRefused(RuntimeError):
    """An agent cannot take this caller (someone else has them, they left, no phone set)."""


class CallDesk:
    """The people's side of calls, shared by the voice webhooks and the inbox."""

    def __init__(self, turns: Turns, rest: TwilioRest, target: Target) -> None:
        self.turns = turns
        self.handoffs = turns.handoffs
        self.agents = turns.agents
        self.clock = turns.clock
        self.rest = rest
        self.target = target

    # -- ringing --------------------------------------------------------------------------

    def target_for(self, actions: Sequence[Action], summary_of: Handoff | None = None) -> Target:
        """Return where a turn's handoff goes: Flex, a fixed line, the agents free now, or the
        queue."""
        handoff = summary_of or next((a for a in actions if isinstance(a, Handoff)), None)
        if handoff is None:
            return self.target
        if self.target.workflow:
            return Target(workflow=self.target.workflow, task=task_attributes(handoff))
        if self.target.dial:
            return self.target
        free = [a for a in self.agents.available_for(handoff.queue, self.clock.now()) if a.endpoint]
        ring = tuple(
            (a.name, a.endpoint)
            for a in speakers_first(free, handoff.summary.language, _language(self))
        )
        return Target(agents=ring)

    def answered(self, call: str, agent: str) -> str:
        """An agent's leg answered (Twilio fetched the whisper): tell them who it is. They are
        busy from now; the caller is theirs once they press a key (a browser phone was
        answered by a click, so at once)."""
        hid, now = f"{CHANNEL}:{call}", self.clock.now()
        record = self.handoffs.get(hid) or {}
        whisper = whisper_text(record.get("summary") or {})
        if not agent:  # the fixed line (PRESSZERO_AGENT_NUMBER): nobody to keep track of
            return twiml.speak([whisper])
        self.agents.mark_busy(agent, hid, now)
        person = self.agents.get(agent)
        if person is not None and person.endpoint.startswith("client:"):
            self.handoffs.update(hid, now, status="connected", agent=agent)
            return twiml.speak([whisper])
        self.handoffs.update(hid, now, status="offered", agent=agent)
        return twiml.screen([whisper], twiml.url("whisper-accept", call=call, agent=agent))

    def accepted(self, call: str, agent: str, digits: str) -> str:
        """The agent pressed a key after the whisper: put the caller through (an empty answer
        ends the leg's TwiML and Twilio bridges). No key: hang up the agent's leg."""
        hid, now = f"{CHANNEL}:{call}", self.clock.now()
        record = self.handoffs.get(hid) or {}
        if not digits or record.get("agent") != agent or record.get("status") != "offered":
            return twiml.goodbye(twiml.NOT_TAKEN)
        self.handoffs.update(hid, now, status="connected")
        return twiml.speak([])

    def accepted_unbriefed(self, call: str, agent: str) -> str:
        """The agent pressed a key after the fail-safe whisper (we could not say who it is):
        a person took the call, so put the caller through and keep track if we can."""
        hid, now = f"{CHANNEL}:{call}", self.clock.now()
        if agent:
            self.agents.mark_busy(agent, hid, now)
            self.handoffs.update(hid, now, status="connected", agent=agent)
        return twiml.speak([])

    def dial_ended(self, form: Mapping[str, str], turn: int) -> str | None:
        """After a Dial of agents: goodbye if they talked, else back to the queue to wait.

        Return None for a fixed line (PRESSZERO_AGENT_NUMBER): the flow's fallback decides.
        """
        sid, status = form["CallSid"], form.get("DialCallStatus", "")
        hid, now = f"{CHANNEL}:{sid}", self.clock.now()
        record = self.handoffs.get(hid) or {}
        agent = str(record.get("agent") or "")
        if agent:
            self.agents.mark_free(agent, now, conversation_id=hid)
        # "completed" with the agent's key never pressed: a voicemail took the leg, or the
        # agent let it go; the caller was never put through
        if status == "completed" and record.get("status") != "offered":
            seconds = _int(form.get("DialCallDuration"), 0)
            if record.get("queue") and seconds:
                self.handoffs.record_handle_time(str(record["queue"]), seconds)
            self.handoffs.update(hid, now, status="connected")
            language = self.language_of(sid)
            return twiml.goodbye(phrase("Thanks for calling. Goodbye.", language), language)
        if self.target.dial or not record:
            return None
        self.handoffs.update(hid, now, status="waiting", agent=None)
        queue = str(record.get("queue") or "support")
        language = self.language_of(sid)
        words = [
            phrase(
                "Sorry, no one could pick up just then. You're in line for the next person.",
                language,
            )
        ]
        return twiml.queue_again(words, queue, turn=turn, call=sid, language=language)

    def queue_ended(self, form: Mapping[str, str]) -> str | None:
        """After the queue: bridged to a person, or gone. None: the flow decides (a callback)."""
        sid, result = form["CallSid"], form.get("QueueResult", "")
        hid, now = f"{CHANNEL}:{sid}", self.clock.now()
        if result in ("bridged", "bridging-in-process"):
            self.handoffs.update(hid, now, status="connected")
            language = self.language_of(sid)
            return twiml.goodbye(phrase("Thanks for calling. Goodbye.", language), language)
        if result == "redirected":  # a person answered from the inbox: Twilio follows the
            return twiml.speak([])  # redirect and ignores this answer
        if result == "hangup":
            self.left(sid)
            return twiml.speak([])
        return None

    # -- waiting --------------------------------------------------------------------------

    def wait(self, form: Mapping[str, str], call: str, queue: str) -> str:
        """Tell a caller in the queue where they are and how long it may be; offer a callback."""
        position = _int(form.get("QueuePosition"), 1) or 1
        waited = _int(form.get("QueueTime"), 0)
        language = self.language_of(call)
        words = [phrase("You're number {position} in line.", language).format(position=position)]
        estimate = self.estimate(queue, position)
        if estimate is None:
            words.append(phrase("No one is free to answer right now.", language))
        else:
            minutes = max(1, math.ceil(estimate / 60))
            if minutes == 1:
                words.append(phrase("The wait is about 1 minute.", language))
            else:
                wait = phrase("The wait is about {minutes} minutes.", language)
                words.append(wait.format(minutes=minutes))
        long = estimate is None or estimate >= LONG_WAIT_SECONDS or waited >= LONG_WAIT_SECONDS
        if long:
            return twiml.offer_callback(words, twiml.url("wait-choice", call=call), language)
        return twiml.speak(words, language, pause=twiml.WAIT_PAUSE)

    def estimate(self, queue: str, position: int) -> int | None:
        """Return the seconds a caller at `position` may wait: the people on duty for the queue
        work through the line at its recent handle time. None when no one is on duty."""
        staff = self.agents.staffing(queue)
        people = staff.available + staff.busy
        if people == 0:
            return None
        times = self.handoffs.handle_times(queue)
        handle = median(times) if times else DEFAULT_HANDLE_SECONDS
        if position <= staff.available:
            return 30  # someone is free: as long as it takes them to pick up
        return int(math.ceil((position - staff.available) / people) * handle)

    def language_of(self, call: str) -> str:
        """Return the language the call's flow speaks (the default flow's, if it is unknown)."""
        state = self.turns.state_of(CHANNEL, call) if call else None
        return str(self.turns.flows.get(state.flow if state else None).language)

    # -- a person takes a waiting caller --------------------------------------------------

    def answer_waiting(self, hid: str, name: str) -> dict[str, Any]:
        """Connect a waiting caller to agent `name`'s own line, through Twilio's REST API.

        Raise AnswerRefused (nothing changed) when someone else has them, they are not
        waiting any more, or the agent has no line; TwilioError when Twilio refused.
        """
        agent = self.agents.get(name)
        if agent is None or not agent.endpoint:
            raise AnswerRefused("set a phone, SIP address or browser phone first")
        record = self.handoffs.get(hid)
        if record is None or record.get("channel") != CHANNEL:
            raise AnswerRefused("this is not a call")
        if record.get("status") not in ("waiting", "callback") or record.get("kind") != "handoff":
            holder = record.get("agent")
            raise AnswerRefused(f"{holder} has this call" if holder else "they are not waiting")
        now = self.clock.now()
        won, now_record = self.handoffs.claim(hid, name, now)
        if not won:
            holder = (now_record or {}).get("agent")
            raise AnswerRefused(f"{holder} has this call" if holder else "they are not waiting")
        call = hid.split(":", 1)[1]
        self.agents.mark_busy(name, hid, now)
        try:
            self.rest.redirect(
                call, self.rest.absolute(twiml.url("connect", call=call, agent=name))
            )
        except TwilioError:
            self.handoffs.update(hid, self.clock.now(), status="waiting", agent=None)
            self.agents.mark_free(name, self.clock.now(), conversation_id=hid)
            raise
        return now_record or {}

    def connect(self, call: str, name: str) -> str:
        """The caller's TwiML after an agent answered them from the inbox: ring that agent."""
        agent = self.agents.get(name)
        current = self.turns.conversations.load(CHANNEL, call)
        if agent is None or not agent.endpoint:
            raise AnswerRefused(f"no line for {name}")
        return twiml.connect_to(
            agent.name, agent.endpoint, turn=current.number, call=call,
            language=self.language_of(call),
        )  # fmt: skip

    def agent_calls_in(self, call: str, agent: Agent) -> str:
        """An agent called the line from their phone: give them the longest-waiting caller of
        their queues (priority queues first), after a whisper of who it is."""
        now = self.clock.now()
        for record in self.next_callers(agent):
            won, _ = self.handoffs.claim(str(record["id"]), agent.name, now)
            if not won:
                continue
            self.agents.mark_busy(agent.name, f"{CHANNEL}:{call}", now)
            self.turns.redis.set(self._agent_call(call), agent.name, ex=12 * 3600)
            whisper = whisper_text(record.get("summary") or {})
            return twiml.take_from_queue(
                whisper, str(record["queue"]), agent=agent.name, language=_language(self)
            )
        return twiml.goodbye("No one is waiting in your queues right now. Goodbye.")

    def next_callers(self, agent: Agent) -> list[dict[str, Any]]:
        """Return the callers waiting for `agent`'s queues, the one to take first first."""
        waiting = [
            r for r in self.handoffs.waiting(limit=500)
            if r.get("channel") == CHANNEL and r.get("status") == "waiting"
            and r.get("kind") == "handoff" and agent.takes(str(r.get("queue")))
        ]  # fmt: skip
        return sorted(waiting, key=lambda r: (r.get("queue") not in PRIORITY_QUEUES,))

    def agent_done(self, form: Mapping[str, str], name: str) -> str:
        """The agent's own call's Dial of the queue ended: they are free again."""
        call = form.get("CallSid", "")
        self.agents.mark_free(name, self.clock.now(), conversation_id=f"{CHANNEL}:{call}")
        return twiml.goodbye("Thanks. Goodbye.")

    # -- the end of a call ----------------------------------------------------------------

    def ended(self, call: str) -> bool:
        """The call ended (Twilio's status callback): close what it left open. Return True
        when it was an agent's own call (no customer contact to record)."""
        now = self.clock.now()
        agent = self.turns.redis.get(self._agent_call(call))
        if agent:
            name = agent.decode() if isinstance(agent, bytes) else str(agent)
            self.agents.mark_free(name, now, conversation_id=f"{CHANNEL}:{call}")
            self.turns.redis.delete(self._agent_call(call))
            return True
        self.left(call)
        return False

    def left(self, call: str) -> None:
        """The caller hung up: a caller still waiting leaves the line; a person on it is free."""
        hid, now = f"{CHANNEL}:{call}", self.clock.now()
        record = self.handoffs.get(hid)
        if record is None:
            return
        if record.get("agent"):
            self.agents.mark_free(str(record["agent"]), now, conversation_id=hid)
        if (
            record.get("status") in ("waiting", "claimed", "offered")
            and record.get("kind") == "handoff"
        ):
            self.handoffs.update(
                hid, now, status="abandoned", note="hung up before a person answered"
            )

    def _agent_call(self, call: str) -> str:
        return f"{self.handoffs.prefix}:agentcall:{{{CHANNEL}:{call}}}"


def task_attributes(handoff: Handoff) -> str:
    """Return the Flex Task's attributes: the same context the whisper speaks, as JSON."""
    summary = handoff.summary.to_dict()
    return json.dumps(
        {
            "type": "inbound", "name": name_of(summary), "customer_id": handoff.summary.customer_id,
            "from": handoff.summary.phone, "queue": handoff.queue, "reason": handoff.reason,
            "why": handoff.summary.why, "situation": list(handoff.summary.situation),
            "told": list(handoff.summary.told), "whisper": whisper_text(summary),
        },
        separators=(",", ":"),
    )  # fmt: skip


def _language(desk: CallDesk) -> str:
    return str(desk.turns.flows.get().language)


def _int(raw: str | None, default: int) -> int:
    try:
        return max(int(float(raw or "")), 0)
    except (ValueError, OverflowError):
        return default
