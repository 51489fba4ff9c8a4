"""Words that hold: nothing says a person is coming when the hours make that false."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.flow_builders import TINY, line_no, problems_in

from presszero.context.demo import demo_records
from presszero.context.models import Customer
from presszero.flows import shipped_flow
from presszero.flows.engine import step
from presszero.flows.engine.actions import Event, Handoff, Prompt, Say
from presszero.flows.render.chat import shown
from presszero.flows.render.voice import spoken

CLOSED = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Sunday 22:00 in New York
OPEN = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
PROMISES = ("a person", "someone", "an agent", "straight to")


def first_turn(customer_id: str, now: datetime) -> tuple[str, list[object]]:
    record = next(r for r in demo_records(now) if r["id"] == customer_id)
    customer = Customer.from_dict(record)
    turn = step(
        shipped_flow(),
        None,
        Event.start("voice", customer.phones[0]),
        customer,
        now,
        language="en-US",
    )
    said = " ".join(a.text for a in turn.actions if isinstance(a, Say | Prompt))
    return said, list(turn.actions)


@pytest.mark.parametrize("customer_id", ["cus_1004", "cus_1005"])
def test_closed_the_straight_to_a_person_greetings_promise_no_person(customer_id: str):
    said, actions = first_turn(customer_id, CLOSED)
    assert "We're closed right now" in said
    assert not any(promise in said for promise in PROMISES), said
    assert not any(isinstance(a, Handoff) for a in actions)


@pytest.mark.parametrize(
    ("customer_id", "promise"),
    [("cus_1005", "Hi Kim. Let me get you straight to a person."),
     ("cus_1004", "I can see you've been in touch a few times. So let me get you straight to a "
                  "person.")],
)  # fmt: skip
def test_open_the_same_greetings_still_say_a_person_is_coming(customer_id: str, promise: str):
    said, actions = first_turn(customer_id, OPEN)
    assert promise in said
    assert any(isinstance(a, Handoff) for a in actions)


def test_closed_sam_is_not_offered_a_person_now_but_his_key_still_leads_somewhere():
    said, actions = first_turn("cus_1003", CLOSED)
    assert "sorry we missed our call" in said
    [prompt] = [a for a in actions if isinstance(a, Prompt)]
    assert [c.label for c in prompt.options] == ["Rebooking the call"]
    heard = " ".join(spoken([prompt]))
    assert "person now" not in heard.lower()
    buttons = [b["title"] for line in shown([prompt]) for b in line.buttons]
    assert "A person now" not in buttons
    record = next(r for r in demo_records(CLOSED) if r["id"] == "cus_1003")
    customer = Customer.from_dict(record)
    start = step(
        shipped_flow(),
        None,
        Event.start("voice", "+15550100003"),
        customer,
        CLOSED,
        language="en-US",
    )
    pressed = step(shipped_flow(), start.state, Event.digits("2"), customer, CLOSED)
    words = " ".join(a.text for a in pressed.actions if isinstance(a, Say | Prompt))
    assert "We're closed right now" in words  # then the callback offer: never a dead end


def test_open_sam_is_offered_a_person_now():
    _, actions = first_turn("cus_1003", OPEN)
    [prompt] = [a for a in actions if isinstance(a, Prompt)]
    assert [c.label for c in prompt.options] == ["Rebooking the call", "A person now"]


def test_check_flags_a_greeting_that_promises_a_person_before_a_handoff(tmp_path: Path):
    text = TINY.replace(
        '  - say: "Hello."\n    goto: main',
        '  - say: "Hello. Let me put you through to someone."\n    goto: agent',
    )
    problems = problems_in(tmp_path, text)
    assert [(p.line, p.message.split(";")[0]) for p in problems] == [
        (line_no(text, "put you through"),
         "the greeting promises 'someone' on its way to handoff 'agent', which becomes the "
         "after-hours step when we are closed or no one is free"),
    ]  # fmt: skip


def test_check_lets_the_handoff_itself_make_the_promise(tmp_path: Path):
    text = TINY.replace('  - say: "Hello."\n    goto: main', '  - say: "Hello."\n    goto: agent')
    text = text.replace(
        'handoff: {queue: support, reason: "asked for a person"}',
        'handoff: {queue: support, reason: "asked for a person", say: "Putting you through."}',
    )
    assert problems_in(tmp_path, text) == []
