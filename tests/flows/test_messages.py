"""The engine in writing: a message left when no one can take it, and the bot after a person."""

from __future__ import annotations

import pytest
from support.flow_builders import OPEN, SUNDAY, demo_customer

from presszero.flows import Event, Handoff, Prompt, Say, State, shipped_flow, step
from presszero.flows.engine.actions import (
    AskContact,
    AskRating,
    Callback,
    Message,
    Rated,
    ReplyTo,
    Turn,
    Voicemail,
)

FLOW = shipped_flow()
DANA = demo_customer("cus_1002")


def chat(*events: Event, customer=None, now=SUNDAY, staffed=False, written=True) -> Turn:  # type: ignore[no-untyped-def]
    """Return the last turn of a chat that opened with "hi" and went on with `events`."""
    turn = step(FLOW, None, Event.start("chat"), customer, now, staffed=staffed, written=written)
    for event in events:
        turn = step(FLOW, turn.state, event, customer, now, staffed=staffed, written=written)
    return turn


def said(turn: Turn) -> str:
    return " ".join(a.text for a in turn.actions if isinstance(a, Say))


def test_out_of_hours_a_chat_visitor_is_told_the_hours_and_asked_for_a_message_not_a_number():
    turn = chat(Event.text("agent"))
    assert said(turn).startswith("We're closed right now (open Monday to Friday, 8 AM to 8 PM")
    assert [a.kind for a in turn.actions] == ["say", "voicemail"]
    assert not any(isinstance(a, Prompt | Callback) for a in turn.actions)
    assert (turn.state.status, turn.state.phase) == ("message", "message")
    assert ("fallback", "agent", "after_hours") in {(e.kind, e.step, e.reason) for e in turn.events}


def test_the_phone_out_of_hours_still_offers_a_callback():
    turn = chat(Event.text("agent"), written=False)
    assert turn.actions[-1].kind == "prompt"
    assert turn.state.step == "callback"


def test_in_hours_with_no_one_signed_in_the_visitor_leaves_a_message():
    turn = chat(Event.text("billing"), Event.text("agent"), now=OPEN)
    assert "Sorry, no one is free to chat right now." in said(turn)
    voicemail = turn.actions[-1]
    assert isinstance(voicemail, Voicemail)
    assert voicemail.queue == "billing"  # the queue they were going to
    assert voicemail.prompt == ""  # the chat's own words, never "after the tone"


def test_the_message_is_kept_then_how_to_reach_them_is_asked_with_what_is_on_their_record():
    turn = chat(Event.text("agent"), Event.text("My card was charged twice"), customer=DANA)
    assert turn.actions[0] == Message("My card was charged twice")
    ask = turn.actions[-1]
    assert isinstance(ask, AskContact)
    assert [c.label for c in ask.options] == [
        "Email d…@example.com", "Text the number ending in 0002", "Just here is fine",
    ]  # fmt: skip
    assert turn.state.phase == "contact"


def test_someone_we_do_not_know_is_offered_only_just_here():
    turn = chat(Event.text("agent"), Event.text("Do you cover dental?"))
    ask = turn.actions[-1]
    assert isinstance(ask, AskContact)
    assert [c.payload for c in ask.options] == ["/reply here"]


@pytest.mark.parametrize(
    ("answer", "reply_to", "words"),
    [
        ("Jo.Marsh@Example.org", ("email", "jo.marsh@example.org"), "by email at j…@example.org"),
        ("(415) 555-0123", ("sms", "+14155550123"), "text message to the number ending in 0123"),
        ("/reply email", ("email", "dana@example.com"), "by email at d…@example.com"),
        ("/reply sms", ("sms", "+15550100002"), "the number ending in 0002"),
        ("just here is fine", ("", ""), "we'll answer here."),
        ("/reply here", ("", ""), "we'll answer here."),
    ],
)
def test_how_to_reach_them_is_an_email_a_phone_or_just_here(
    answer: str, reply_to: tuple[str, str], words: str
):
    turn = chat(Event.text("agent"), Event.text("a question"), Event.text(answer), customer=DANA)
    assert ReplyTo(*reply_to) in turn.actions
    assert words in said(turn)
    assert said(turn).startswith("Message sent: we'll answer here")
    assert (turn.state.status, turn.state.phase) == ("message", "sent")


@pytest.mark.parametrize("answer", ["jo@", "5551234", "0000000", "call me maybe", "jo@example"])
def test_an_email_or_phone_that_cannot_be_used_is_asked_again_then_kept_here(answer: str):
    turn = chat(Event.text("agent"), Event.text("a question"), Event.text(answer))
    ask = turn.actions[-1]
    assert isinstance(ask, AskContact)
    assert ask.sorry == "Sorry, that doesn't look like an email address or a phone number."
    assert not any(e.kind == "miss" for e in turn.events)
    again = step(FLOW, turn.state, Event.text(answer), None, SUNDAY, staffed=False, written=True)
    assert ReplyTo("", "") in again.actions  # the 2nd time: here, and said so
    assert "couldn't read that" in said(again)
    assert again.state.phase == "sent"


def test_words_after_the_message_is_left_are_added_to_it_and_agent_keeps_it_honest():
    left = chat(Event.text("agent"), Event.text("a question"), Event.text("/reply here"))
    more = step(FLOW, left.state, Event.text("my account is 12345"), None, SUNDAY, written=True)
    assert more.actions[0] == Message("my account is 12345", more=True)
    assert "I've added that to your message" in said(more)
    still = step(FLOW, left.state, Event.text("agent"), None, SUNDAY, staffed=True, written=True)
    assert not any(isinstance(a, Handoff | Message) for a in still.actions)
    assert "We're closed right now. Your message is with us" in said(still)
    # next morning, with someone in: asking for a person gets one
    live = step(FLOW, left.state, Event.text("agent"), None, OPEN, staffed=True, written=True)
    assert isinstance(live.actions[-1], Handoff)
    assert live.state.status == "handoff"


def test_a_visitor_waiting_for_a_person_may_leave_a_message_instead_until_someone_joins():
    waiting = chat(Event.text("agent"), now=OPEN, staffed=True)
    assert waiting.state.status == "handoff"
    turn = step(FLOW, waiting.state, Event.leave_message(), None, OPEN, written=True)
    assert isinstance(turn.actions[-1], Voicemail)
    assert "no one is free" not in said(turn)  # their choice, not an apology
    assert ("fallback", "agent", "chose_message") in {
        (e.kind, e.step, e.reason) for e in turn.events
    }
    taken = step(FLOW, waiting.state, Event.taken("alex"), None, OPEN)
    assert step(FLOW, taken.state, Event.leave_message(), None, OPEN, written=True).actions == ()


def _closed_by_a_person() -> State:
    waiting = chat(Event.text("agent"), now=OPEN, staffed=True)
    taken = step(FLOW, waiting.state, Event.taken("alex"), None, OPEN, written=True)
    return step(FLOW, taken.state, Event.closed(), None, OPEN, written=True).state


def test_a_person_closing_a_chat_hands_it_back_with_one_optional_question():
    waiting = chat(Event.text("agent"), now=OPEN, staffed=True)
    taken = step(FLOW, waiting.state, Event.taken("alex"), None, OPEN, written=True)
    closed = step(FLOW, taken.state, Event.closed("done"), None, OPEN, written=True)
    assert closed.state.status == "followup"
    assert closed.state.outcome == "resolved"
    ask = closed.actions[-1]
    assert isinstance(ask, AskRating)
    assert [(c.label, c.payload) for c in ask.options] == [
        ("Yes, sorted", "/rate yes"), ("Not really", "/rate no"),
    ]  # fmt: skip
    assert ("satisfaction", "asked") in {(e.kind, e.reason) for e in closed.events}
    on_the_phone = step(FLOW, taken.state, Event.closed("done"), None, OPEN)
    assert on_the_phone.state.status == "done"
    assert on_the_phone.actions == ()


@pytest.mark.parametrize(
    ("answer", "rating"),
    [("/rate yes", "yes"), ("/rate no", "no"), ("Yes, sorted", "yes"), ("not really", "no")],
)
def test_the_rating_is_kept_and_counted(answer: str, rating: str):
    turn = step(FLOW, _closed_by_a_person(), Event.text(answer), None, OPEN, written=True)
    assert Rated(rating) in turn.actions
    assert ("satisfaction", rating) in {(e.kind, e.reason) for e in turn.events}
    assert turn.state.status == "done"


@pytest.mark.parametrize("answer", ["thanks!", "Thank you so much", "no thanks", "ok bye", "no"])
def test_thanks_after_a_person_closed_the_chat_is_never_a_miss(answer: str):
    turn = step(FLOW, _closed_by_a_person(), Event.text(answer), None, OPEN, written=True)
    assert "didn't catch" not in said(turn)
    assert not any(e.kind in ("miss", "satisfaction") for e in turn.events)
    assert "You're welcome" in said(turn)
    after = step(FLOW, turn.state, Event.text(answer), None, OPEN, written=True)
    assert after.state.status == "done"  # the conversation is over: the chat starts afresh


def test_free_text_after_the_question_carries_on_with_the_bot_as_a_new_conversation():
    turn = step(FLOW, _closed_by_a_person(), Event.text("my bill"), None, OPEN, written=True)
    assert turn.started
    assert turn.state.step == "billing"
    assert "didn't catch" not in said(turn) + " ".join(
        a.text for a in turn.actions if isinstance(a, Prompt)
    )
    yes = step(FLOW, _closed_by_a_person(), Event.text("yes please"), None, OPEN, written=True)
    assert yes.state.step == "main"
    assert not any(e.kind == "miss" for e in yes.events)


@pytest.mark.parametrize("first", ["thanks!", "/rate yes", "cheers"])
def test_a_chat_that_opens_with_thanks_or_an_old_button_is_greeted_never_missed(first: str):
    turn = step(FLOW, None, Event.start("chat", first=first), None, OPEN, written=True)
    assert turn.state.step == "main"
    assert not any(e.kind == "miss" for e in turn.events)
