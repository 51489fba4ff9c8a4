"""Builders for flow tests: a small sound flow to break, demo customers, a conversation driver."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from presszero.context.demo import demo_records
from presszero.context.models import Customer
from presszero.flows import Event, Flow, State, step
from presszero.flows.engine.actions import Action, Say
from presszero.flows.language.files import check_file
from presszero.flows.language.loader import parse_flow
from presszero.flows.language.yamlsrc import Problem
from presszero.flows.render import words

OPEN = datetime(2026, 11, 5, 15, 0, tzinfo=UTC)  # Thursday 10:00 in New York
SUNDAY = datetime(2026, 11, 8, 15, 0, tzinfo=UTC)  # closed all day
CHRISTMAS = datetime(2026, 12, 25, 16, 0, tzinfo=UTC)  # a closed date (a Friday)

TINY = """\
flow: tiny
queues: [support]
escape:
  keys: ["0"]
  intents: [agent]
  handoff: agent
hours:
  timezone: America/New_York
  open: {mon-fri: "08:00-20:00"}
  after_hours: callback
greeting:
  - when: customer.known
    say: "Hi {customer.first_name}."
    goto: main
  - say: "Hello."
    goto: main
steps:
  main:
    menu:
      prompt: "What can I help you with?"
      options:
        - {key: "1", intent: billing, goto: billing_info}
  billing_info:
    say: "Bills go out on the first of the month."
    goto: done
  done:
    end: {outcome: resolved}
  agent:
    handoff: {queue: support, reason: "asked for a person"}
  callback:
    callback: {queue: support}
intents:
  billing: {examples: ["billing", "my bill"]}
"""


def line_no(text: str, needle: str) -> int:
    """Return the 1-based line of the first line of `text` containing `needle`."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} is not in the flow text")


def write_flow(folder: Path, text: str, name: str = "flow.yaml") -> Path:
    """Write a flow file and return its path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_in(folder: Path, text: str) -> list[Problem]:
    """Return every problem `presszero check` finds in `text`."""
    return check_file(write_flow(folder, text))[1]


def tiny_flow(text: str = TINY) -> Flow:
    """Return the flow in `text`, which must load."""
    flow, problems = parse_flow(text, "tiny.yaml")
    assert not problems, problems
    assert flow is not None
    return flow


def demo_customer(customer_id: str, now: datetime = OPEN) -> Customer:
    """Return one of the spec's demo customers, their history dated from `now`."""
    records = {r["id"]: r for r in demo_records(now)}
    return Customer.from_dict(records[customer_id])


@dataclass
class Conversation:
    """A conversation driven turn by turn, keeping everything heard and every event."""

    flow: Flow
    customer: Customer | None = None
    now: datetime = OPEN
    state: State | None = None
    actions: list[Action] = field(default_factory=list)
    last: tuple[Action, ...] = ()
    events: list[tuple[str, str, str]] = field(default_factory=list)
    language: str = ""  # what the turn knows the customer speaks, at the start
    written: bool = False  # the customer reads the answer here later (a chat)
    chose: list[str] = field(default_factory=list)  # languages chosen, turn by turn

    def send(self, event: Event) -> tuple[Action, ...]:
        flow = self.flow.speaking(self.state.language) if self.state else self.flow
        turn = step(
            flow, self.state, event, self.customer, self.now, written=self.written,
            language=self.language,
        )  # fmt: skip
        self.state, self.last = turn.state, turn.actions
        if turn.chose_language:
            self.chose.append(turn.chose_language)
        self.actions.extend(turn.actions)
        self.events.extend((e.kind, e.step, e.reason) for e in turn.events)
        return turn.actions

    def start(self, channel: str = "voice", caller: str = "+15550109999") -> Conversation:
        self.send(Event.start(channel, caller))
        return self

    def heard(self, channel: str = "voice") -> str:
        """Return everything the customer heard (or read, in a chat), in that channel's words."""
        return " ".join(words(channel, self.actions, self.flow.language))

    def heard_last(self, channel: str = "voice") -> str:
        """Return what the last turn said (or showed), in that channel's words."""
        return " ".join(words(channel, self.last))

    def ended_with(self) -> str:
        final = [a for a in self.last if not isinstance(a, Say)]
        return final[-1].kind if final else "nothing"


def talk(flow: Flow, customer: Customer | None, now: datetime, *inputs: Event) -> Conversation:
    """Return a conversation started and fed `inputs`."""
    conversation = Conversation(flow, customer, now).start()
    for event in inputs:
        conversation.send(event)
    return conversation
