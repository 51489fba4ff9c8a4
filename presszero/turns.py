"""One turn, for every channel, in one straight line.

A channel decodes its request into a `TurnInput` (what the customer, or the person who took
over, did, in the engine's terms) and calls `Turns.take` with its renderer. The turn then:

    read the conversation and the customer (one round trip)
    → the engine's `step`, once
    → the turn's writes: analytics events and tallies, the handoff record, the transcript
    → one commit (the second round trip; a turn that lost the race writes nothing)
    → metrics

and returns the engine's actions with what the renderer made of them (TwiML for the phone,
messages for the chat). The channel sends that back; it never re-enters the core to ask again.
The conversation's status lives in the engine's state and nowhere else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from redis.exceptions import RedisError

from presszero import metrics
from presszero.context.agents import AgentStore
from presszero.context.clock import Clock
from presszero.context.conversations import ConversationStore, Turn, Writes
from presszero.context.events import queue_events
from presszero.context.handoffs import HandoffStore
from presszero.context.models import Customer
from presszero.context.store import ContextStore
from presszero.context.transcript import key_of, lines, queue_line
from presszero.flows.engine import step
from presszero.flows.engine.actions import (
    Action,
    Callback,
    Event,
    Handoff,
    Message,
    ReplyTo,
    State,
    Voicemail,
    inbox_record,
)
from presszero.flows.engine.actions import Turn as EngineTurn
from presszero.flows.language.model import Flow

from .flowset import FlowSet

SIDE_RETRIES = 5  # a person's event that raced a customer's turn is worked out again


class TurnConflict(RuntimeError):
    """A request for a turn the conversation is not at (forged, or a call we never saw)."""


@dataclass(frozen=True, slots=True)
class TurnInput:
    """What a channel hands the turn: whose conversation, and what happened in it."""

    channel: str  # "voice" or "chat": names the conversation's keys and the analytics
    conversation_id: str  # the CallSid, or the chat's sender id
    event: Event
    turn: int | None = None  # the turn the request answers (a call's action URL); None: now
    find: tuple[str, str] | None = None  # (id|phone|email, value): who, if it starts now
    caller: str = ""  # the number the customer is on, when the channel knows it
    heard: str = ""  # the customer's words as a person should read them ("" for none)
    meta: Mapping[str, Any] | None = None  # kept with the conversation when it starts
    opens: bool = False  # words to a conversation that is over (or never began) start one
    # A queue holds the customer until someone is free (the phone); otherwise someone must
    # be signed in now for a handoff to stand (a chat), else it becomes a callback.
    queue_holds: bool = True
    # The customer writes and reads the answer here later (a chat): no one to take it means
    # a message left, not the flow's callback (see the engine's `step`).
    written: bool = False
    # The language the channel knows the customer reads (a browser's), for a flow in several
    # languages when their record and their line say none.
    language: str = ""


@dataclass(frozen=True, slots=True)
class Rendered:
    """What a channel made of a turn's actions: the response, and the lines it showed."""

    response: str  # kept with the turn, so a retried request gets the same answer
    lines: tuple[str, ...] = ()  # the bot's words, for the transcript


class Renderer(Protocol):
    """Turns the actions into the channel's response; `flow` says its language."""

    def __call__(self, actions: Sequence[Action], next_turn: int, flow: Flow) -> Rendered: ...


@dataclass(frozen=True, slots=True)
class TurnResult:
    """What the turn decided: the actions and the channel's rendering of them."""

    actions: tuple[Action, ...]
    state: State | None  # None: nothing changed (a replay, or words for a person)
    response: str
    replayed: bool  # this turn was answered before; `response` is that answer
    customer: Customer | None


# Extra reads a channel makes in the turn's first round trip (a chat's rate limits): queue
# them on the pipeline and return what checks their replies (and may raise).
AlsoRead = Callable[[Any], Callable[[list[Any]], None]]


class Turns:
    """The one way a conversation moves on, shared by the phone, the chat and the consoles."""

    def __init__(
        self,
        store: ContextStore,
        conversations: ConversationStore,
        handoffs: HandoffStore,
        agents: AgentStore,
        flows: FlowSet,
        clock: Clock,
    ) -> None:
        self.store = store
        self.conversations = conversations
        self.handoffs = handoffs
        self.agents = agents
        self.flows = flows
        self.clock = clock
        self.redis = store.redis

    # -- a customer's turn ----------------------------------------------------------------

    def take(
        self, given: TurnInput, render: Renderer, *, also: AlsoRead | None = None
    ) -> TurnResult:
        """Take one turn of a conversation: read, step once, write, commit, count."""
        now = self.clock.now()
        current, found, staffed = self._read(given, also, now)
        if current.replay is not None:
            return TurnResult((), None, current.replay, True, current.customer)
        state = State.from_dict(current.state) if current.state is not None else None
        event = given.event
        if event.kind != "start":
            over = state is None or state.status == "done"
            if over and given.opens:
                first = event.value if event.kind == "text" else ""
                event, state = Event.start(given.channel, _phone(found, given), first), None
            elif state is None or (given.turn is not None and current.number != given.turn):
                where = "no such conversation" if state is None else f"at turn {current.number}"
                raise TurnConflict(f"{given.channel} {given.conversation_id}: {where}")
            elif state.status == "handoff" and event.kind in ("text", "digits"):
                # A person has it (or is coming): the words are theirs, the bot says nothing.
                self._note(given, now)
                return TurnResult((), None, "", False, current.customer)
        customer = found if state is None else current.customer
        flow = self.flows.get(state.flow if state else None)
        if state is not None:
            flow = flow.speaking(state.language)
        known = ""
        if state is None and len(flow.spoken) > 1:
            known = current.known_language or given.language
        result = step(
            flow, state, event, customer, now, staffed=staffed, written=given.written,
            language=known,
        )  # fmt: skip
        flow = flow.speaking(result.state.language)  # as it is now held: chosen in this turn?
        rendered = render(result.actions, current.number + 1, flow)
        heard, said, then = Writes(), Writes(), Writes()
        key = key_of(self.conversations.key(given.channel, given.conversation_id))
        if given.heard:
            queue_line(heard, key, "visitor", given.heard, now)
        for line in rendered.lines:
            queue_line(said, key, "bot", line, now)
        queue_events(
            then, given.channel, given.conversation_id, flow.name, result.events, now,
            started=result.started,
        )  # fmt: skip
        self._pipe_open_handoffs(then, given, result.actions, now)
        won = self.conversations.commit(
            given.channel, given.conversation_id, current.number, result.state.to_dict(),
            rendered.response,
            customer=customer if state is None else None,  # the snapshot is taken once
            meta={"flow": flow.name, **(given.meta or {})} if state is None else None,
            before=heard, won=said, then=then,
        )  # fmt: skip
        if isinstance(won, str):  # the same turn was answered by another worker first
            return TurnResult((), None, won, True, customer)
        self._after(given, result.actions, now)
        if result.chose_language:  # the turn stands even if this cannot be written now
            with contextlib.suppress(RedisError):
                self.store.remember_language(
                    customer.id if customer else None,
                    result.state.caller or _phone(customer, given),
                    result.chose_language, now,
                )  # fmt: skip
        metrics.count_turn(given.channel, result.events, result.state.escape_reason)
        return TurnResult(result.actions, result.state, rendered.response, False, customer)

    def _read(
        self, given: TurnInput, also: AlsoRead | None, now: datetime
    ) -> tuple[Turn, Customer | None, bool]:
        """Read the conversation, the customer if it starts now, and whether anyone is in."""
        channel, cid = given.channel, given.conversation_id
        if also is None and given.queue_holds:  # the phone: one command, no pipeline
            if given.event.kind == "start" and given.find is not None:
                kind, value = given.find
                current, customer = self.conversations.load_beside(
                    self.store, kind, value, channel, cid
                )
                return current, customer, True
            return self.conversations.load(channel, cid, given.turn), None, True
        pipe = self.redis.pipeline(transaction=False)
        check = also(pipe) if also is not None else None
        find = (self.store, *given.find) if given.find is not None else None
        read = self.conversations.queue_load(pipe, channel, cid, find, given.turn)
        count = None if given.queue_holds else self.agents.queue_count_online(pipe, now)
        replies = pipe.execute()
        if check is not None:
            check(replies)
        current, customer = read(replies)
        staffed = True if count is None else count(replies) > 0
        return current, customer, staffed

    def _pipe_open_handoffs(
        self, then: Writes, given: TurnInput, actions: Sequence[Action], now: datetime
    ) -> None:
        for action in actions:
            if isinstance(action, Handoff | Callback | Voicemail):
                record = inbox_record(action, given.channel)
                self.handoffs.queue_open(then, self.handoff_id(given), record, now)

    def _after(self, given: TurnInput, actions: Sequence[Action], now: datetime) -> None:
        """What a won turn does beyond its commit: a message left (and how to reach them
        with the answer) goes on the handoff, which waits for a person until answered."""
        hid = self.handoff_id(given)
        for action in actions:
            if isinstance(action, Message) and action.more:
                self.handoffs.add_to_message(hid, action.text, now)
            elif isinstance(action, Message):
                self.handoffs.update(
                    hid, now, message=action.text, message_at=_iso(now), status="callback"
                )
            elif isinstance(action, ReplyTo):
                self.handoffs.update(hid, now, reply_to=_reply_to(action))

    def _note(self, given: TurnInput, now: datetime) -> None:
        """Write the customer's words into the transcript (a person has the conversation)."""
        if not given.heard:
            return
        writes = Writes()
        key = key_of(self.conversations.key(given.channel, given.conversation_id))
        queue_line(writes, key, "visitor", given.heard, now)
        self._send(writes)

    @staticmethod
    def handoff_id(given: TurnInput) -> str:
        return f"{given.channel}:{given.conversation_id}"

    # -- the person's side ----------------------------------------------------------------

    def person_event(
        self, channel: str, conversation_id: str, event: Event, *, written: bool = False
    ) -> EngineTurn | None:
        """Apply a person's event (took it over, closed it) to the conversation's state;
        return what the engine decided (None: no such conversation).

        The turn number stays, so the URLs a call was given stay good; a customer's turn
        that lands in between is not overwritten (the event is worked out again).
        """
        for _ in range(SIDE_RETRIES):
            current = self.conversations.load(channel, conversation_id)
            if current.state is None:
                return None
            state = State.from_dict(current.state)
            flow = self.flows.get(state.flow).speaking(state.language)
            now = self.clock.now()
            result = step(flow, state, event, current.customer, now, written=written)
            then = Writes()
            queue_events(then, channel, conversation_id, flow.name, result.events, now)
            won = self.conversations.commit(
                channel, conversation_id, current.number, result.state.to_dict(), "",
                then=then, advance=False,
            )  # fmt: skip
            if not isinstance(won, str):
                return result
        raise TurnConflict(f"{channel} {conversation_id}: busy; try again")

    def write_line(
        self,
        channel: str,
        conversation_id: str,
        who: str,
        text: str,
        person: str = "",
        buttons: Sequence[Mapping[str, str]] = (),
    ) -> int:
        """Add a line (`who`: agent or system; `person`: the agent's name; `buttons`: quick
        replies under it) to the transcript; return its id."""
        writes = Writes()
        key = key_of(self.conversations.key(channel, conversation_id))
        queue_line(writes, key, who, text, self.clock.now(), person, buttons)
        return int(self._send(writes)[0]) - 1

    def transcript(self, channel: str, conversation_id: str, after: int = -1) -> list[Any]:
        """Return the transcript lines after id `after`."""
        return lines(self.redis, key_of(self.conversations.key(channel, conversation_id)), after)

    def state_of(self, channel: str, conversation_id: str) -> State | None:
        """Return the conversation's state as last committed, or None."""
        current = self.conversations.load(channel, conversation_id)
        return State.from_dict(current.state) if current.state is not None else None

    def _send(self, writes: Writes) -> list[Any]:
        """Send commands on one conversation's keys in one transaction; return the replies."""
        pipe = self.redis.pipeline(transaction=True)
        for command in writes.commands:
            pipe.execute_command(*command)
        return pipe.execute()


def _reply_to(action: ReplyTo) -> dict[str, str] | None:
    """Return where the answer to a message goes besides the conversation, for its record."""
    return {"how": action.how, "address": action.address} if action.how else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _phone(customer: Customer | None, given: TurnInput) -> str:
    if given.caller:
        return given.caller
    return customer.phones[0] if customer is not None and customer.phones else ""
