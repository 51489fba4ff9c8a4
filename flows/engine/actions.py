"""What goes into the engine (events) and what comes out (actions, analytics events, state).

Everything here is plain data: actions and events have `to_dict()` for JSON, and the
conversation state round-trips through `to_json()` / `State.from_json()` so any worker can
take the next turn.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, Literal

EventKind = Literal[
    "start", "digits", "text", "no_input", "handoff_failed", "timeout", "taken", "closed",
    "leave_message",
]  # fmt: skip
# new: nothing said yet; prompt: the bot waits for an answer; handoff: with a person, or
# waiting for one; message: taking a message for a person (written: the message, how to reach
# them, then left until a person answers it); followup: a person closed it and the bot asked
# one optional question; done: over.
Status = Literal["new", "prompt", "handoff", "message", "followup", "done"]


@dataclass(frozen=True, slots=True)
class Event:
    """Something the customer or the line did; build one with the class methods."""

    kind: EventKind
    # digits: the keys pressed; text: the words; start: the first words, if the customer
    # opened with some; handoff_failed: why; taken: the person's name; closed: a note
    value: str = ""
    confidence: float | None = None  # text from speech: recogniser confidence 0-1; typed: None
    channel: str = ""  # start: "voice" or "chat" (kept for the record; the engine never asks)
    caller: str = ""  # start: the caller's number (E.164) when the channel knows it

    @classmethod
    def start(cls, channel: str = "voice", caller: str = "", first: str = "") -> Event:
        """Return the event that opens a conversation (`first`: words it opened with)."""
        return cls("start", first, channel=channel, caller=caller)

    @classmethod
    def digits(cls, keys: str) -> Event:
        """Return keys pressed on the phone (a trailing # is ignored)."""
        return cls("digits", keys)

    @classmethod
    def text(cls, words: str, confidence: float | None = None) -> Event:
        """Return words spoken (with the recogniser's confidence) or typed (confidence None)."""
        return cls("text", words, confidence)

    @classmethod
    def no_input(cls) -> Event:
        """Return silence at a prompt."""
        return cls("no_input")

    @classmethod
    def handoff_failed(cls, reason: str = "busy") -> Event:
        """Return that the person could not be reached ("busy", "no_answer", ...)."""
        return cls("handoff_failed", reason)

    @classmethod
    def timeout(cls) -> Event:
        """Return that a wait ran out: at a prompt it is silence, in a queue a long wait."""
        return cls("timeout")

    @classmethod
    def taken(cls, person: str) -> Event:
        """Return that a person took the conversation over."""
        return cls("taken", person)

    @classmethod
    def closed(cls, note: str = "") -> Event:
        """Return that the person who had the conversation closed it (or answered the
        message it left)."""
        return cls("closed", note)

    @classmethod
    def leave_message(cls) -> Event:
        """Return that a customer waiting for a person would rather leave a message."""
        return cls("leave_message")


# -- actions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    """What the person taking over needs, so the customer never repeats themselves."""

    who: str  # "Dana Reyes", or "Someone we don't know, on +15550109999"; never an id
    customer_id: str | None
    phone: str
    plan: str  # "Silver Health (cancelled)", or "" when unknown
    flags: tuple[str, ...]
    recent_contacts: tuple[str, ...]  # newest first, one line each
    said: tuple[str, ...]  # what they said, typed or pressed, in order ('pressed 1 (Billing)')
    answers: dict[str, str]  # values collected by ask steps
    reason: str  # the handoff step's reason ("asked for a person")
    why: str  # why the bot stepped aside, in words
    escape: str | None  # the escape code (key0, agent_intent, no_match, ...), if any
    channel: str
    step: str  # the last step the customer answered at (or the step reached, if none)
    # Their situation in plain words, most pressing first ("their plan was cancelled by us
    # 3 days ago", "we missed a call we had booked with them yesterday")
    situation: tuple[str, ...] = ()
    told: tuple[str, ...] = ()  # what they told the bot, retold ('chose billing', 'said "..."')
    language: str = ""  # the conversation's language ("es-US"), "" if the flow speaks one

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as JSON-ready data."""
        return asdict(self)

    def to_text(self) -> str:
        """Return the summary as short lines for an agent's screen."""
        rows = [f"Who: {self.who}", f"Why: {self.why}", f"Reason: {self.reason}"]
        if self.customer_id:
            rows.insert(1, f"Customer record: {self.customer_id}")
        rows.extend(f"Situation: {s}" for s in self.situation)
        if self.plan:
            rows.append(f"Plan: {self.plan}")
        if self.flags:
            rows.append(f"Flags: {', '.join(self.flags)}")
        rows.extend(f"Recent: {c}" for c in self.recent_contacts)
        rows.extend(f"{k}: {v}" for k, v in self.answers.items())
        rows.extend(f"Said: {s}" for s in self.said)
        return "\n".join(rows)


@dataclass(frozen=True, slots=True)
class Say:
    kind: ClassVar[str] = "say"
    text: str


@dataclass(frozen=True, slots=True)
class Choice:
    """A choice at a prompt: a key on the phone, a button in a chat (payload: what it sends)."""

    label: str
    payload: str
    key: str | None = None


# What a free answer at a prompt is, for the channel to say how to give it: "" (none),
# "digits" (an account number ...), "number" (a phone number to call back).
Entry = Literal["", "digits", "number"]


@dataclass(frozen=True, slots=True)
class Prompt:
    """A question, its choices and the way out; each channel phrases it in its own words."""

    kind: ClassVar[str] = "prompt"
    text: str  # the question alone: no keys, no "press", no "type"
    step: str
    expects: tuple[str, ...] = ("dtmf", "speech")  # every speech prompt also takes keys
    hints: tuple[str, ...] = ()  # words the recogniser should expect
    options: tuple[Choice, ...] = ()
    max_digits: int | None = 1  # None: keys until # or the timeout
    escape_keys: tuple[str, ...] = ("0",)
    sorry: str = ""  # said first when asking again ("Sorry, I didn't catch that.")
    entry: Entry = ""
    phrased: tuple[tuple[str, str], ...] = ()  # (channel, the whole prompt in its words)
    barge_in: bool = True  # the customer may answer before the prompt is over

    def words_for(self, channel: str) -> str | None:
        """Return the prompt the flow wrote for `channel` itself, if it wrote one."""
        return next((text for name, text in self.phrased if name == channel), None)


@dataclass(frozen=True, slots=True)
class Handoff:
    kind: ClassVar[str] = "handoff"
    queue: str
    reason: str
    summary: Summary


@dataclass(frozen=True, slots=True)
class Callback:
    kind: ClassVar[str] = "callback"
    queue: str
    number: str  # E.164, or "" if the customer gave none (then use the caller's line)
    when: str  # "asap", "morning" or "afternoon"
    not_before: str  # ISO 8601 UTC: the earliest time to call
    reason: str
    summary: Summary


@dataclass(frozen=True, slots=True)
class Voicemail:
    kind: ClassVar[str] = "voicemail"
    queue: str
    reason: str
    summary: Summary
    prompt: str = ""  # the flow's words; "" lets each channel ask for a message its own way


@dataclass(frozen=True, slots=True)
class Message:
    """The message the customer left for a person (a chat's typed one)."""

    kind: ClassVar[str] = "message"
    text: str
    more: bool = False  # added to a message already left


@dataclass(frozen=True, slots=True)
class AskContact:
    """Ask how to reach them with the answer, beside the conversation itself (optional)."""

    kind: ClassVar[str] = "ask_contact"
    options: tuple[Choice, ...]  # what is on their record, then "Just here is fine"
    sorry: str = ""  # said first when asking again


@dataclass(frozen=True, slots=True)
class ReplyTo:
    """Where the answer to a message goes besides the conversation: how ("email", "sms", or
    "" for here only) and the address (an email, a phone in E.164, or "")."""

    kind: ClassVar[str] = "reply_to"
    how: str
    address: str


@dataclass(frozen=True, slots=True)
class AskRating:
    """After a person closed the conversation: one optional question, did we sort it out?"""

    kind: ClassVar[str] = "ask_rating"
    options: tuple[Choice, ...]


@dataclass(frozen=True, slots=True)
class Rated:
    """The customer's answer to that question: "yes" (sorted) or "no"."""

    kind: ClassVar[str] = "rated"
    answer: str


@dataclass(frozen=True, slots=True)
class End:
    kind: ClassVar[str] = "end"
    outcome: str  # resolved or abandoned


Action = (
    Say | Prompt | Handoff | Callback | Voicemail | Message | AskContact | ReplyTo | AskRating
    | Rated | End
)  # fmt: skip


def inbox_record(action: Handoff | Callback | Voicemail, channel: str) -> dict[str, Any]:
    """Return what the agent inbox keeps of a handoff, callback or voicemail."""
    summary = action.summary
    record: dict[str, Any] = {
        "channel": channel,
        "kind": action.kind,
        "queue": action.queue,
        "reason": action.reason,
        "customer_id": summary.customer_id,
        "who": summary.who,
        "phone": summary.phone,
        "summary": summary.to_dict(),
    }
    if isinstance(action, Callback):
        record["status"] = "callback"
        record["callback"] = {
            "number": action.number or summary.phone,
            "when": action.when,
            "not_before": action.not_before,
        }
    elif isinstance(action, Voicemail):
        record["status"] = "callback"  # a message to answer: a person calls back
    return record


def action_to_dict(action: Action) -> dict[str, Any]:
    """Return an action as JSON-ready data with its kind under "type"."""
    return {"type": action.kind, **asdict(action)}


# -- analytics and state --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlowEvent:
    """One countable thing that happened in a turn.

    kind: step (a step was reached), miss (no_match / no_input / low_confidence),
    escape (key0, agent_intent, no_match, no_input, low_confidence, frustration,
    context_rule, max_turns), fallback (a handoff became a callback or voicemail:
    after_hours, busy, no_agent, no_answer, timeout, chose_message), handoff, callback,
    voicemail, end (outcome), satisfaction (asked, yes, no: the question after a person).
    """

    kind: str
    step: str
    reason: str = ""

    def to_dict(self) -> dict[str, str]:
        """Return the event as JSON-ready data."""
        return {"kind": self.kind, "step": self.step, "reason": self.reason}


@dataclass(slots=True)
class State:
    """One conversation between turns; small, and JSON all the way down."""

    flow: str = ""
    status: Status = "new"  # prompt: waiting for input; handoff: with a person; done: over
    step: str = ""  # the step waiting for input, or the last one reached
    # In a callback step: "number", "confirm" (a typed number read back) or "when"; taking
    # a written message: "message" (its words), "contact" (how to reach them), "sent" (left,
    # until a person answers it).
    phase: str = ""
    channel: str = "voice"
    caller: str = ""
    no_match: int = 0  # misses at the current prompt
    no_input: int = 0
    turns: int = 0  # answers given in the whole conversation
    said: list[dict[str, str]] = field(default_factory=list)  # {"step", "how", "text"}
    answers: dict[str, str] = field(default_factory=dict)
    callback_number: str = ""
    number_to_confirm: str = ""  # a number the customer typed, read back, not yet confirmed
    escape_reason: str = ""  # why the customer left the flow (key0, agent_intent, ...)
    why: str = ""  # the same, in words for the agent
    wanted: str = ""  # the reason of a handoff that became a callback or voicemail
    busy: bool = False  # a handoff already failed: no one is free
    # How it stands as a contact: handoff, callback, resolved or abandoned ("" while the bot
    # is still talking); the contact log and the inbox read it from here.
    outcome: str = ""
    person: str = ""  # who has it, once a person took it over
    # Where the answer to a message left goes besides here: "email:…", "sms:+1…" or "".
    reply_to: str = ""
    # The language the conversation is held in (one of the flow's languages); "" before it
    # is known (the flow's first language is spoken until then).
    language: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the state as JSON-ready data (a copy: changing it leaves the state as is)."""
        data = {name: getattr(self, name) for name in _STATE_FIELDS}
        data["said"] = [dict(item) for item in self.said]
        data["answers"] = dict(self.answers)
        return data

    def copy(self) -> State:
        """Return a copy to change without touching this state."""
        return State(**self.to_dict())

    def to_json(self) -> str:
        """Return the state as compact JSON."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        """Return the state saved by `to_dict` (unknown keys are an error)."""
        unknown = data.keys() - set(_STATE_FIELDS)
        if unknown:
            raise ValueError(f"unknown state keys: {', '.join(sorted(unknown))}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> State:
        """Return the state saved by `to_json`."""
        return cls.from_dict(json.loads(text))


_STATE_FIELDS = tuple(f.name for f in fields(State))  # in order: the JSON reads the same


@dataclass(frozen=True, slots=True)
class Turn:
    """The result of one step: unpacks as `state, actions`; `events` are for analytics."""

    state: State
    actions: tuple[Action, ...]
    events: tuple[FlowEvent, ...] = ()
    started: bool = False  # a conversation began in this turn (count it as one)
    chose_language: str = ""  # the customer chose this language in this turn: remember it

    def __iter__(self) -> Iterator[Any]:
        yield self.state
        yield self.actions
