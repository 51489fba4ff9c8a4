"""Property tests: whatever a customer does, the shipped flow ends with a person or an answer."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.flow_builders import CHRISTMAS, OPEN, SUNDAY, demo_customer

from presszero.context.demo import DEMO_IDS
from presszero.context.models import Customer
from presszero.flows import End, Event, Prompt, Say, State, shipped_flow, step
from presszero.flows.language.model import AskStep, CallbackStep, MenuStep

FLOW = shipped_flow()
TERMINAL = ("handoff", "callback", "voicemail", "end")
# The language choice (the flow speaks two; a caller's language may be unknown), max_turns
# answers, one more that escapes, and one for an after-hours callback to close.
BOUND = FLOW.escape.max_turns + 3
LEAK = re.compile(r"[{}\[\]]|\bNone\b|\bnull\b")
PHRASES = [
    "billing", "my plan", "new plan", "cancel", "technical help", "agent", "someone",
    "this is ridiculous", "rebook", "yes", "no", "that's all", "main menu", "morning",
    "as soon as possible", "one", "zero", "0", "1", "2", "3", "555 010 0123", "um", "",
]  # fmt: skip

customers = st.sampled_from([*DEMO_IDS, None])
moments = st.one_of(
    st.sampled_from([OPEN, SUNDAY, CHRISTMAS, datetime(2026, 11, 7, 17, 30, tzinfo=UTC)]),
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
)
menu_keys = st.sampled_from(["1", "2", "3", "4", "1#"]).map(Event.digits)
inputs = st.one_of(
    menu_keys,  # twice: walks that go deep into the menus (and round them) are the ones that matter
    menu_keys,
    st.text(alphabet="0123456789#*", max_size=11).map(Event.digits),
    st.builds(
        Event.text,
        st.one_of(st.sampled_from(PHRASES), st.text(max_size=25)),
        st.one_of(st.none(), st.floats(0, 1)),
    ),
    st.just(Event.no_input()),
    st.just(Event.timeout()),
)


def who(customer_id: str | None, now: datetime) -> Customer | None:
    return demo_customer(customer_id, now) if customer_id else None


@settings(max_examples=250, deadline=None)
@given(
    customer_id=customers,
    now=moments,
    channel=st.sampled_from(["voice", "chat"]),
    events=st.lists(inputs, min_size=BOUND, max_size=BOUND),
)
def test_every_run_ends_at_a_person_a_callback_voicemail_or_a_resolved_end(
    customer_id: str | None, now: datetime, channel: str, events: list[Event]
):
    customer = who(customer_id, now)
    turn = step(FLOW, None, Event.start(channel, "+15550109999"), customer, now)
    used = 0
    for event in events:
        if turn.state.status in ("handoff", "done"):
            break
        turn = step(FLOW, turn.state, event, customer, now)
        used += 1
        assert turn.actions, "a customer at a prompt always hears something back"
        for action in turn.actions:
            if isinstance(action, Say | Prompt):
                assert not LEAK.search(action.text), action.text
    assert turn.state.status in ("handoff", "done"), f"still at {turn.state.step} after {used}"
    final = [a for a in turn.actions if not isinstance(a, Say)][-1]
    assert final.kind in TERMINAL
    if isinstance(final, End):
        assert final.outcome == "resolved"


def _prompt_state(customer: Customer | None, now: datetime, channel: str, events: list[Event]):
    """Return a state waiting at some prompt, reached by the events that keep it there."""
    state = step(FLOW, None, Event.start(channel, "+15550109999"), customer, now).state
    for event in events:
        after = step(FLOW, state, event, customer, now).state
        if after.status == "prompt":
            state = after
    return state


def _reached_a_person_or_the_after_hours_step(turn) -> bool:  # type: ignore[no-untyped-def]
    kinds = {a.kind for a in turn.actions}
    if kinds & {"handoff", "callback", "voicemail"}:
        return True
    said = " ".join(a.text for a in turn.actions if isinstance(a, Say))
    waiting = turn.state.status == "prompt" and turn.state.step == FLOW.hours.after_hours
    return waiting and ("closed" in said or "no one is free" in said)


@settings(max_examples=250, deadline=None)
@given(
    customer_id=customers,
    now=moments,
    channel=st.sampled_from(["voice", "chat"]),
    events=st.lists(inputs, max_size=12),
)
def test_pressing_0_from_any_prompt_reaches_a_person_in_one_turn(
    customer_id: str | None, now: datetime, channel: str, events: list[Event]
):
    customer = who(customer_id, now)
    state = _prompt_state(customer, now, channel, events)
    if state.status != "prompt":  # the greeting itself went to a person
        assert state.status == "handoff" or state.step == FLOW.hours.after_hours
        return
    turn = step(FLOW, state, Event.digits("0"), customer, now)
    assert ("escape", "key0") in {(e.kind, e.reason) for e in turn.events}
    assert _reached_a_person_or_the_after_hours_step(turn)


def _every_prompt_state() -> list[State]:
    states = []
    for sid, found in FLOW.steps.items():
        if isinstance(found, MenuStep | AskStep):
            states.append(State(flow="support", status="prompt", step=sid))
        elif isinstance(found, CallbackStep):
            for phase in ("number", "when"):
                states.append(State(flow="support", status="prompt", step=sid, phase=phase))
    return states


@pytest.mark.parametrize("now", [OPEN, SUNDAY], ids=["open", "closed"])
@pytest.mark.parametrize("state", _every_prompt_state(), ids=lambda s: f"{s.step}-{s.phase}")
def test_pressing_0_at_every_prompt_of_the_shipped_flow_reaches_a_person(
    state: State, now: datetime
):
    turn = step(FLOW, state, Event.digits("0"), None, now)
    assert _reached_a_person_or_the_after_hours_step(turn)
    if now == OPEN:
        assert turn.actions[-1].kind == "handoff"


# What a chat sends: typed words, button payloads (menu keys as text), nothing else.
typed = st.one_of(
    st.sampled_from(["1", "2", "3", "4", "/reply here", "/reply email", "jo@example.com"]),
    st.sampled_from(PHRASES),
    st.text(max_size=25),
).map(Event.text)


@settings(max_examples=200, deadline=None)
@given(
    customer_id=customers,
    now=moments,
    staffed=st.booleans(),
    events=st.lists(typed, min_size=BOUND + 3, max_size=BOUND + 3),
)
def test_a_chat_no_one_can_take_ends_with_a_message_left_never_a_trap_or_a_phone_call(
    customer_id: str | None, now: datetime, staffed: bool, events: list[Event]
):
    customer = who(customer_id, now)
    turn = step(FLOW, None, Event.start("chat"), customer, now, staffed=staffed, written=True)
    for event in events:
        if turn.state.status in ("handoff", "done") or turn.state.phase == "sent":
            break
        turn = step(FLOW, turn.state, event, customer, now, staffed=staffed, written=True)
        assert turn.actions, "a chat visitor always reads something back"
        for action in turn.actions:
            if isinstance(action, Say | Prompt):
                assert not LEAK.search(action.text), action.text
            if isinstance(action, Prompt):  # never asked for a number to be called on...
                assert action.entry != "number" or turn.state.step == "rebook"  # ...unasked
    ended = turn.state.status in ("handoff", "done") or turn.state.phase == "sent"
    assert ended, f"still at {turn.state.step} ({turn.state.status}, {turn.state.phase})"
