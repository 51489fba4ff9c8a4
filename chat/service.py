"""The chat channel: the same engine and flows as the phone, typed instead of spoken.

A chat message becomes one turn of the conversation (`presszero.turns`); this module only
decodes the visitor's message, phrases the engine's actions for a screen (buttons, never
"press"), and does the chat's side of a takeover: the person's lines in the transcript.
Who has the conversation is the engine's state, read here for the widget's poll.
"""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from presszero import metrics
from presszero.context.limits import RateLimiter
from presszero.context.store import UnknownCustomer
from presszero.flows.engine.actions import (
    Action,
    AskRating,
    End,
    Event,
    Rated,
    State,
)
from presszero.flows.engine.messages import LEAVE_MESSAGE, masked_email
from presszero.flows.language.model import Flow
from presszero.flows.language.phrases import phrase
from presszero.flows.language.schema import LANGUAGE_TAG
from presszero.flows.render.chat import PERSON_BUTTON, Line, fixed_title, shown
from presszero.turns import AlsoRead, Rendered, TurnInput, Turns

from .identity import verify_token

CHANNEL = "chat"
MAX_MESSAGE = 2000
MAX_SENDER = 128
DEFAULT_SENDER = "default"  # what Rasa calls a sender that gave no id
# What the widget's poll calls each state of a conversation: the bot has it; a person is
# coming or has it; the visitor is leaving a message (or has left one, until it is answered);
# it is over (the next message starts afresh).
MODES = ("bot", "waiting", "with_agent", "message", "closed")
MAX_WAIT = 180  # seconds a chat waits for a person before leaving a message is offered
_PHONE_LIKE = re.compile(r"^\+?[0-9 ().-]{7,}$")


class ChatInputError(ValueError):
    """A chat request we cannot take (the edge answers 400 with this message)."""


class TooManyMessages(RuntimeError):
    """The sender or their address is over its rate limit (the edge answers 429)."""

    def __init__(self, seconds: int, what: str = "messages") -> None:
        super().__init__(f"too many {what}; try again in {seconds} seconds")
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
    """Chat turns, the transcript, and the chat's side of a takeover by a person."""

    def __init__(
        self,
        turns: Turns,
        identity_secret: str,
        limiter: RateLimiter | None = None,
        *,
        max_wait: int = MAX_WAIT,
    ):
        self.turns = turns
        self.max_wait = max_wait
        self.store = turns.store
        self.handoffs = turns.handoffs
        self.agents = turns.agents
        self.clock = turns.clock
        self.redis = turns.redis
        self.identity_secret = identity_secret
        self.limiter = limiter or RateLimiter(self.redis)

    # -- the visitor ----------------------------------------------------------------------

    def receive(
        self,
        sender: str,
        message: str,
        metadata: Mapping[str, Any],
        address: str = "unknown",
        *,
        admit: AlsoRead | None = None,
    ) -> list[Reply]:
        """Take one visitor message; return what the bot says (nothing once a person has it).

        Raise TooManyMessages, having changed nothing but the counts, when the sender or the
        address (the visitor's IP) is over its rate limit. `admit` queues its own reads in the
        same round trip and raises to refuse the message (a wrong conversation token).
        """
        text = " ".join(message.split())
        subject = verify_token(self.identity_secret, metadata.get("identity"), self.clock.now())
        person = text == PERSON_BUTTON["payload"]
        event = Event.text("agent" if person else text)
        if text == LEAVE_MESSAGE:  # waiting for a person: leave a message instead
            event = Event.leave_message()
        given = TurnInput(
            CHANNEL, sender, event,
            find=(identity_kind(subject), subject) if subject else None,
            heard=self.heard(sender, text),
            opens=True, queue_holds=False, written=True,
            language=browser_language(metadata.get("language")),
        )  # fmt: skip

        def limits(pipe: Any) -> Any:
            admitted = admit(pipe) if admit is not None else None
            verdict = self.limiter.queue(pipe, sender, address)

            def check(replies: list[Any]) -> None:
                if admitted is not None:
                    admitted(replies)
                wait = verdict(replies)
                if wait:
                    raise TooManyMessages(wait)

            return check

        result = self.turns.take(given, _render, also=limits)
        if result.replayed:  # a second message raced this one; it answered
            return []
        customer = result.customer
        if customer is not None and any(isinstance(a, End) for a in result.actions):
            step = result.state.step if result.state else ""
            self._record_contact(customer.id, sender, "resolved", step)
        for action in result.actions:
            if isinstance(action, Rated) and customer is not None:
                self._note_rating(customer.id, sender, action.answer)
        return [
            Reply(r["text"], tuple(r.get("buttons", ())))
            for r in json.loads(result.response or "[]")
        ]

    def _record_contact(
        self, customer_id: str, sender: str, outcome: str, reason: str, ref: str = ""
    ) -> None:
        contact = self.store.new_contact(CHANNEL, outcome, reason=reason, ref=ref or sender)
        try:
            self.store.record_contact(customer_id, contact)
        except UnknownCustomer:
            self.store.record_unattributed("", contact)
        metrics.OUTCOMES.labels(CHANNEL, outcome).inc()

    def _note_rating(self, customer_id: str, sender: str, answer: str) -> None:
        """Write the visitor's rating onto the contact it rates (the chat a person closed, or
        the answer to their message), so it is one contact, not a contact of its own."""
        contact = (self.handoffs.get(f"{CHANNEL}:{sender}") or {}).get("contact") or {}
        if contact.get("channel") and contact.get("ref"):
            said = "said it was sorted" if answer == "yes" else "said it was not sorted"
            with contextlib.suppress(UnknownCustomer):
                self.store.amend_contact(customer_id, contact["channel"], contact["ref"], said)

    # -- the transcript and the widget's poll ---------------------------------------------

    def transcript(self, sender: str, after: int = -1) -> list[dict[str, Any]]:
        """Return the messages after id `after`, each with its id."""
        lines = self.turns.transcript(CHANNEL, sender, after)
        return [{**m, "agent": shown_name(m["agent"])} if m.get("agent") else m for m in lines]

    def status(self, sender: str) -> dict[str, Any]:
        """Return who has the conversation and, while waiting, the place in the queue (and
        whether leaving a message is offered); while a message is taken, where it stands."""
        state = self.turns.state_of(CHANNEL, sender)
        mode = mode_of(state)
        out: dict[str, Any] = {"status": mode, "queue_position": None, "agent": None}
        if mode == "waiting":  # among the people still waiting for a person, no one else
            hid = f"{CHANNEL}:{sender}"
            out["queue_position"] = self.handoffs.position(hid)
            opened = (self.handoffs.get(hid) or {}).get("opened_at")
            waited = (self.clock.now() - _moment(opened)).total_seconds() if opened else 0
            out["offer_message"] = waited >= self.max_wait
        elif mode == "with_agent":
            record = self.handoffs.get(f"{CHANNEL}:{sender}") or {}
            out["agent"] = shown_name(record["agent"]) if record.get("agent") else None
        elif mode == "message" and state is not None:
            flow = self.turns.flows.get(state.flow)
            how, _, address = state.reply_to.partition(":")
            shown_to = masked_email(address) if how == "email" else f"…{address[-4:]}"
            out["message"] = {
                "step": state.phase or "message",
                "closed": not flow.hours.is_open(self.clock.now()),
                "hours": flow.remember("hours", lambda: flow.hours.describe(flow.language)),
                "reply_by": how or None,
                "reply_to": shown_to if how else None,
            }
        return out

    def language_of(self, sender: str) -> str:
        """Return the language the conversation is held in (the default flow's if none)."""
        state = self.turns.state_of(CHANNEL, sender)
        flow = self.turns.flows.get(state.flow if state else None)
        return flow.speaking(state.language).language if state else flow.language

    def heard(self, sender: str, text: str) -> str:
        """Return the visitor's words as a person reads them: a button by its title (in the
        conversation's language, read only for a button: a message costs no extra read)."""
        if fixed_title(text, "en-US") is None:
            return "" if text == "/start" else text
        return fixed_title(text, self.language_of(sender)) or text

    # -- the agent ------------------------------------------------------------------------

    def claim(self, sender: str, agent: str) -> None:
        """Let `agent` take the chat over: the visitor is told who joined."""
        now = self.clock.now()
        self.turns.person_event(CHANNEL, sender, Event.taken(agent))
        record = self.handoffs.update(f"{CHANNEL}:{sender}", now, status="claimed", agent=agent)
        opened = (record or {}).get("opened_at")
        if opened:
            waited = now - datetime.fromisoformat(opened.replace("Z", "+00:00"))
            metrics.QUEUE_WAIT.labels(CHANNEL).observe(max(waited.total_seconds(), 0.0))
        joined = phrase("{name} has joined the chat.", self.language_of(sender))
        joined = joined.format(name=shown_name(agent))
        self.turns.write_line(CHANNEL, sender, "system", joined)

    def agent_reply(self, sender: str, agent: str, text: str) -> int:
        """Send the agent's words to the visitor (taking the chat, if no one had it)."""
        if mode_of(self.turns.state_of(CHANNEL, sender)) == "waiting":
            self.claim(sender, agent)
        return self.turns.write_line(CHANNEL, sender, "agent", text, agent)

    def resolve(self, sender: str, agent: str, note: str) -> None:
        """Close the chat, record the outcome in the customer's contact log, and hand the
        visitor back to the bot with a clear line and one optional question."""
        now, hid = self.clock.now(), f"{CHANNEL}:{sender}"
        before = self.handoffs.get(hid) or {}
        ref = f"{sender}:{before.get('opened_at', '')}"  # this chat's, not the sender's last
        record = self.handoffs.update(
            hid, now, status="resolved", resolved_by=agent, resolution=note,
            contact={"channel": CHANNEL, "ref": ref},
        )  # fmt: skip
        closed = phrase(
            "{name} has closed this chat. Anything else? Just type it here.",
            self.language_of(sender),
        )
        self.hand_back(sender, closed.format(name=shown_name(agent)), note)
        reason = (record or {}).get("reason", "")
        customer_id = (record or {}).get("customer_id")
        detail = f"{reason}; resolved by {agent}" + (f": {note}" if note else "")
        if customer_id:
            self._record_contact(customer_id, sender, "resolved", detail, ref)

    def hand_back(self, sender: str, said: str, note: str = "") -> None:
        """A person is done with the chat: it goes back to the bot, the visitor reads `said`,
        then the bot's one optional question (did we sort it out?)."""
        turn = self.turns.person_event(CHANNEL, sender, Event.closed(note), written=True)
        self.turns.write_line(CHANNEL, sender, "system", said)
        rating = [a for a in (turn.actions if turn else ()) if isinstance(a, AskRating)]
        for line in shown(rating, self.language_of(sender)):
            self.turns.write_line(CHANNEL, sender, "system", line.text, buttons=line.buttons)


def _render(actions: Sequence[Action], next_turn: int, flow: Flow) -> Rendered:
    lines = shown(actions, flow.language)
    response = json.dumps([_plain(line) for line in lines])
    return Rendered(response, tuple(line.text for line in lines))


def _plain(line: Line) -> dict[str, Any]:
    out: dict[str, Any] = {"text": line.text}
    if line.buttons:
        out["buttons"] = list(line.buttons)
    return out


def _moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def mode_of(state: State | None) -> str:
    """Return the widget's name for where a conversation stands (see MODES)."""
    if state is None or state.status in ("new", "prompt"):
        return "bot"
    if state.status == "handoff":
        return "with_agent" if state.person else "waiting"
    return "message" if state.status == "message" else "closed"


def identity_kind(subject: str) -> str:
    """Return how to find the customer a signed identity names: email, phone or id."""
    if "@" in subject:
        return "email"
    return "phone" if _PHONE_LIKE.match(subject) else "id"


def check_message(body: Any) -> tuple[str, str, dict[str, Any]]:
    """Return (sender, message, metadata) from a Rasa REST body, or raise ChatInputError.

    Takes what Rasa's REST channel takes: a missing sender is Rasa's `default`, a number is
    its digits, a missing or null message is an empty one, null metadata is none. Refused,
    as Rasa would also refuse or presszero cannot keep: a body that is not an object, a sender
    or message of another type, and anything past the limits below.
    """
    if not isinstance(body, dict):
        raise ChatInputError("the body must be a JSON object with sender and message")
    sender, message = body.get("sender", DEFAULT_SENDER), body.get("message")
    metadata = body.get("metadata") or {}
    if sender is None:
        sender = DEFAULT_SENDER
    elif isinstance(sender, int) and not isinstance(sender, bool):
        sender = str(sender)
    if not isinstance(sender, str) or not 1 <= len(sender) <= MAX_SENDER:
        raise ChatInputError(f"sender must be a string of 1 to {MAX_SENDER} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") for ch in sender):
        raise ChatInputError("sender may not hold control characters or line breaks")
    if message is None:
        message = ""
    if not isinstance(message, str):
        raise ChatInputError("message must be a string")
    if len(message) > MAX_MESSAGE:
        raise ChatInputError(f"message is longer than {MAX_MESSAGE} characters")
    if not isinstance(metadata, dict):
        raise ChatInputError("metadata must be an object")
    return sender, message, metadata


def shown_name(agent: str) -> str:
    """Return an agent's name as a visitor reads it: "alex" signs in, "Alex" joins the chat."""
    return agent.title()


def browser_language(value: Any) -> str:
    """Return the language tag a widget sent (`metadata.language`: the browser's
    `navigator.language`), or "" for anything that is not one."""
    if isinstance(value, str) and LANGUAGE_TAG.fullmatch(value.strip()):
        return value.strip()
    if isinstance(value, str) and re.fullmatch(r"[a-z]{2,3}", value.strip()):
        return value.strip()
    return ""
