"""The chat channel: the same engine and flows as the phone, typed instead of spoken.

A chat conversation is the engine's state plus a transcript, both in Redis under the
sender's id. Its `mode` says who is talking: the bot, or (after a handoff) a person — then
the bot says nothing more, and the visitor's messages go to the agent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from presszero import metrics
from presszero.context.agents import AgentStore
from presszero.context.clock import Clock
from presszero.context.conversations import ConversationStore, Writes
from presszero.context.events import queue_events
from presszero.context.handoffs import HandoffStore
from presszero.context.limits import RateLimiter
from presszero.context.models import Customer
from presszero.context.store import ContextStore, UnknownCustomer
from presszero.flows.engine import step
from presszero.flows.engine.actions import (
    Callback,
    End,
    Event,
    Handoff,
    Prompt,
    Say,
    State,
    Voicemail,
    inbox_record,
)
from presszero.flowset import FlowSet

from .identity import verify_token

CHANNEL = "chat"
MAX_MESSAGE = 2000
MAX_TRANSCRIPT = 500
TRANSCRIPT_SECONDS = 7 * 24 * 3600  # from the last message
PERSON_BUTTON = {"title": "Talk to a person", "payload": "/agent"}
GREETINGS = {"", "hi", "hello", "hey", "/start", "start", "/restart", "good morning", "hiya"}
# Who is talking: the bot; a person (waiting, or with an agent); the visitor leaving a
# message for later; or no one (closed: the next message starts afresh).
MODES = ("bot", "waiting", "with_agent", "message", "closed")


class ChatInputError(ValueError):
    """A chat request we cannot take (the edge answers 400 with this message)."""


class TooManyMessages(RuntimeError):
    """The sender or their address is over its rate limit (the edge answers 429)."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"too many messages; try again in {seconds} seconds")
        self.seconds = seconds


@dataclass(frozen=True, slots=True)
class Reply:
    """One bot message in Rasa's REST shape."""

    text: str
    buttons: tuple[dict[str, str], ...] = ()

    def to_rasa(self, recipient: str) -> dict[str, Any]:
        out: dict[str, Any] = {"recipient_id": recipient, "text": self.text}
        if self.buttons:
            out["buttons"] = list(self.buttons)
        return out


class ChatService:
    """Chat turns on the engine, the transcript, and the agent's side of a handoff."""

    def __init__(
        self,
        store: ContextStore,
        conversations: ConversationStore,
        handoffs: HandoffStore,
        agents: AgentStore,
        flows: FlowSet,
        clock: Clock,
        identity_secret: str,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.store = store
        self.conversations = conversations
        self.handoffs = handoffs
        self.agents = agents
        self.flows = flows
        self.clock = clock
        self.identity_secret = identity_secret
        self.redis = store.redis
        self.limiter = limiter or RateLimiter(store.redis)

    # -- keys -----------------------------------------------------------------------------

    def transcript_key(self, sender: str) -> str:
        return self.conversations.key(CHANNEL, sender) + ":msgs"

    def _mode(self, sender: str) -> str:
        return self.conversations.field(CHANNEL, sender, "mode") or "bot"

    def _set(self, sender: str, **fields: str) -> None:
        self.redis.hset(self.conversations.key(CHANNEL, sender), mapping=fields)

    # -- the visitor ----------------------------------------------------------------------

    def receive(
        self, sender: str, message: str, metadata: Mapping[str, Any], address: str = "unknown"
    ) -> list[Reply]:
        """Take one visitor message; return what the bot says (nothing once a person has it).

        Raise TooManyMessages, having changed nothing but the counts, when the sender or the
        address (the visitor's IP) is over its rate limit.
        """
        text = " ".join(message.split())
        subject = verify_token(self.identity_secret, metadata.get("identity"), self.clock.now())
        # One round trip: the rate limits, the conversation and who the visitor says they are.
        pipe = self.redis.pipeline(transaction=False)
        verdict = self.limiter.queue(pipe, sender, address)
        find = (self.store, "email" if "@" in subject else "id", subject) if subject else None
        read = self.conversations.queue_load(pipe, CHANNEL, sender, find)
        replies = pipe.execute()
        wait = verdict(replies)
        if wait:
            raise TooManyMessages(wait)
        current, customer = read(replies)
        mode = current.mode or "bot"
        if mode in ("waiting", "with_agent"):
            self.visitor_said(sender, text)
            return []
        if mode == "message":
            return self._take_message(sender, text)
        said = Writes()
        if mode == "closed" or current.state is None:
            if customer is None and subject and "@" not in subject:
                customer = self.store.lookup_by_phone(subject)  # signed in by phone number
            start = Event.start(CHANNEL, _phone(customer))
            return self._turn(sender, current.number, None, start, customer, text, said)
        self.queue_said(said, sender, text)
        state = State.from_dict(current.state)
        event = Event.text("agent" if text == PERSON_BUTTON["payload"] else text)
        return self._turn(sender, current.number, state, event, current.customer, None, said)

    def _turn(
        self,
        sender: str,
        turn: int,
        state: State | None,
        event: Event,
        customer: Customer | None,
        first_message: str | None,
        said: Writes,
    ) -> list[Reply]:
        flow = self.flows.get(state.flow if state else None)
        now = self.clock.now()
        result = step(flow, state, event, customer, now)
        events = list(result.events)
        actions = list(result.actions)
        if first_message is not None:
            self.queue_said(said, sender, first_message)
            if first_message.lower() not in GREETINGS and result.state.status == "prompt":
                # The first message is already an answer ("agent", "my bill"): take it now.
                answer = "agent" if first_message == PERSON_BUTTON["payload"] else first_message
                more = step(flow, result.state, Event.text(answer), customer, now)
                actions += more.actions
                events += more.events
                result = more
        if any(isinstance(a, Handoff) for a in actions) and not self.agents.online(now):
            more = step(flow, result.state, Event.handoff_failed("no_agent"), customer, now)
            actions = [a for a in actions if not isinstance(a, Handoff)] + list(more.actions)
            events += more.events
            result = more
        replies, fields = self._render(actions, sender)
        if state is None:
            fields.setdefault("mode", "bot")
        answered, then = Writes(), Writes()
        for reply in replies:
            self.queue_append(answered, sender, "bot", reply.text)
        queue_events(then, CHANNEL, sender, flow.name, events, now, started=state is None)
        for action in actions:
            if isinstance(action, Handoff | Callback | Voicemail):
                self.handoffs.queue_open(
                    then, f"{CHANNEL}:{sender}", inbox_record(action, CHANNEL), now
                )
        won = self.conversations.commit(
            CHANNEL, sender, turn, result.state.to_dict(),
            json.dumps([r.text for r in replies]),
            customer=customer if state is None else None,
            meta={"flow": flow.name} if state is None else None,
            fields=fields, before=said, won=answered, then=then,
        )  # fmt: skip
        if isinstance(won, str):  # a second message raced this one; it answered
            return []
        metrics.count_turn(CHANNEL, events, result.state.escape_reason)
        if any(isinstance(a, End) for a in actions) and customer is not None:
            self._record_contact(customer.id, sender, "resolved", result.state.step)
        return replies

    def _render(self, actions: list[Any], sender: str) -> tuple[list[Reply], dict[str, str]]:
        replies: list[Reply] = []
        fields: dict[str, str] = {}
        for action in actions:
            if isinstance(action, Say):
                replies.append(Reply(action.text))
            elif isinstance(action, Prompt):
                buttons = tuple(
                    {"title": c.label, "payload": c.key or c.payload} for c in action.options
                )
                replies.append(Reply(action.text, (*buttons, PERSON_BUTTON)))
            elif isinstance(action, Handoff):
                fields["mode"] = "waiting"
                replies.append(
                    Reply(
                        "I'm passing you to a person now. They'll reply right here, "
                        "and they can see everything you've told me."
                    )
                )
            elif isinstance(action, Voicemail):
                fields["mode"] = "message"
            elif isinstance(action, Callback | End):
                fields["mode"] = "closed"
        return replies, fields

    def _take_message(self, sender: str, text: str) -> list[Reply]:
        self.visitor_said(sender, text)
        now = self.clock.now()
        self.handoffs.update(
            f"{CHANNEL}:{sender}", now, message=text[:MAX_MESSAGE], status="callback"
        )
        self._set(sender, mode="closed")
        reply = Reply("Thanks, we've got your message. Someone will get back to you soon.")
        self.append(sender, "bot", reply.text)
        return [reply]

    def _record_contact(self, customer_id: str, sender: str, outcome: str, reason: str) -> None:
        contact = self.store.new_contact(CHANNEL, outcome, reason=reason, ref=sender)
        try:
            self.store.record_contact(customer_id, contact)
        except UnknownCustomer:
            self.store.record_unattributed("", contact)
        metrics.OUTCOMES.labels(CHANNEL, outcome).inc()

    # -- the transcript -------------------------------------------------------------------

    def visitor_said(self, sender: str, text: str) -> None:
        """Add the visitor's message as a person reads it (buttons by their title)."""
        writes = Writes()
        self.queue_said(writes, sender, text)
        if writes.commands:
            self._send(writes)

    def queue_said(self, writes: Writes, sender: str, text: str) -> None:
        """Write down the visitor's message (if any) for the transcript."""
        if text in ("", "/start"):
            return
        shown = PERSON_BUTTON["title"] if text == PERSON_BUTTON["payload"] else text
        self.queue_append(writes, sender, "visitor", shown)

    def append(self, sender: str, who: str, text: str, agent: str = "") -> int:
        """Add a message to the transcript; return its id."""
        writes = Writes()
        self.queue_append(writes, sender, who, text, agent)
        return int(self._send(writes)[0]) - 1

    def queue_append(
        self, writes: Writes, sender: str, who: str, text: str, agent: str = ""
    ) -> None:
        """Write down a message for the transcript (three commands: add, trim, keep)."""
        entry = {"from": who, "text": text, "at": self.clock.now().isoformat(timespec="seconds")}
        if agent:
            entry["agent"] = agent
        key = self.transcript_key(sender)
        writes.rpush(key, json.dumps(entry))
        writes.ltrim(key, -MAX_TRANSCRIPT, -1)
        writes.expire(key, TRANSCRIPT_SECONDS)

    def _send(self, writes: Writes) -> list[Any]:
        """Send commands on the transcript's keys in one transaction; return their replies."""
        pipe = self.redis.pipeline(transaction=True)
        for command in writes.commands:
            pipe.execute_command(*command)
        return pipe.execute()

    def transcript(self, sender: str, after: int = -1) -> list[dict[str, Any]]:
        """Return the messages after id `after`, each with its id."""
        raw = self.redis.lrange(self.transcript_key(sender), after + 1, -1)
        return [{"id": after + 1 + i, **json.loads(m)} for i, m in enumerate(raw)]

    def status(self, sender: str) -> dict[str, Any]:
        """Return who has the conversation and, while waiting, the place in the queue."""
        mode = self._mode(sender)
        out: dict[str, Any] = {"status": mode, "queue_position": None, "agent": None}
        if mode == "waiting":
            rank = self.redis.zrank(self.handoffs.index, f"{CHANNEL}:{sender}")
            out["queue_position"] = None if rank is None else rank + 1
        elif mode == "with_agent":
            record = self.handoffs.get(f"{CHANNEL}:{sender}") or {}
            out["agent"] = record.get("agent")
        return out

    # -- the agent ------------------------------------------------------------------------

    def claim(self, sender: str, agent: str) -> None:
        now = self.clock.now()
        record = self.handoffs.update(f"{CHANNEL}:{sender}", now, status="claimed", agent=agent)
        opened = (record or {}).get("opened_at")
        if opened:
            waited = now - datetime.fromisoformat(opened.replace("Z", "+00:00"))
            metrics.QUEUE_WAIT.labels(CHANNEL).observe(max(waited.total_seconds(), 0.0))
        self._set(sender, mode="with_agent")
        self.append(sender, "system", f"{agent.title()} has joined the chat.")

    def agent_reply(self, sender: str, agent: str, text: str) -> int:
        if self._mode(sender) == "waiting":
            self.claim(sender, agent)
        return self.append(sender, "agent", text, agent)

    def resolve(self, sender: str, agent: str, note: str) -> None:
        """Close the chat and record the outcome in the customer's contact log."""
        now = self.clock.now()
        record = self.handoffs.update(
            f"{CHANNEL}:{sender}", now, status="resolved", resolved_by=agent, resolution=note
        )
        self._set(sender, mode="closed")
        self.append(sender, "system", "This chat has been closed. Thanks for getting in touch.")
        reason = (record or {}).get("reason", "")
        customer_id = (record or {}).get("customer_id")
        detail = f"{reason}; resolved by {agent}" + (f": {note}" if note else "")
        if customer_id:
            self._record_contact(customer_id, sender, "handoff", detail)


def _phone(customer: Customer | None) -> str:
    return customer.phones[0] if customer and customer.phones else ""


def check_message(body: Any) -> tuple[str, str, dict[str, Any]]:
    """Return (sender, message, metadata) from a Rasa REST body, or raise ChatInputError."""
    if not isinstance(body, dict):
        raise ChatInputError("the body must be a JSON object with sender and message")
    sender, message = body.get("sender"), body.get("message", "")
    metadata = body.get("metadata") or {}
    if not isinstance(sender, str) or not 8 <= len(sender) <= 128:
        raise ChatInputError("sender must be a string of 8 to 128 characters")
    if not all(ch.isalnum() or ch in "-_.:" for ch in sender):
        raise ChatInputError("sender may hold letters, digits and -_.: only")
    if not isinstance(message, str):
        raise ChatInputError("message must be a string")
    if len(message) > MAX_MESSAGE:
        raise ChatInputError(f"message is longer than {MAX_MESSAGE} characters")
    if not isinstance(metadata, dict):
        raise ChatInputError("metadata must be an object")
    return sender, message, metadata
