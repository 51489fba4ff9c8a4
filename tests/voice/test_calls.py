"""Calls through the real Flask app, signed as Twilio signs them, TwiML parsed and checked."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from freezegun import freeze_time
from support.twilio_client import Call, first_say, reaches_a_person

from presszero.context.clock import SystemClock
from presszero.context.conversations import ConversationStore
from presszero.context.demo import load_demo
from presszero.context.handoffs import HandoffStore
from presszero.context.store import ContextStore

OPEN = "2026-11-23T15:00:00Z"  # Monday 10:00 in New York: the line is open
CLOSED = "2026-11-23T03:00:00Z"  # Sunday night 22:00 in New York


@pytest.fixture
def app(make_app: Any, store: ContextStore) -> Any:
    with freeze_time(OPEN):
        load_demo(store)
    return make_app()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def call(client: Any, caller: str = "+15550109999") -> Call:
    return Call(client, caller=caller)


@freeze_time(OPEN)
@pytest.mark.parametrize(
    ("caller", "first", "hears", "never"),
    [
        ("+15550100001", "Hi Ana", "What can I help you with?", "welcome"),
        ("+15550100002", "was cancelled on", "How can I help?", "welcome to your new plan"),
        ("+15550100003", "sorry we missed our call", "rebook the call", "thanks for your time"),
        # The person is promised by the handoff's own words, said only when one is coming.
        ("+15550100004", "in touch a few times", "straight to a person", "For billing, press 1"),
        ("+15550100005", "Hi Kim", "straight to a person", "For billing, press 1"),
        ("+15550109999", "Thanks for getting in touch", "What can I help you with?", "Hi "),
    ],
)
def test_the_first_words_reflect_what_we_know_about_the_caller(
    client: Any, caller: str, first: str, hears: str, never: str
):
    root = call(client, caller).start()
    assert first in first_say(root)
    spoken = " ".join(s.text or "" for s in root.iter("Say"))
    assert hears in spoken
    assert never.lower() not in spoken.lower()


@freeze_time(OPEN)
@pytest.mark.parametrize("caller", ["+15550100004", "+15550100005"])
def test_repeat_callers_and_vips_reach_a_person_first(client: Any, caller: str):
    assert reaches_a_person(call(client, caller).start())


@freeze_time(OPEN)
def test_a_handoff_carries_the_summary_for_the_agent(app: Any, client: Any):
    c = call(client, "+15550100002")
    c.start()
    root = c.press("0")
    assert reaches_a_person(root)
    record = HandoffStore(app.extensions["presszero.store"].redis).get(f"voice:{c.sid}")
    assert record is not None
    assert record["who"] == "Dana Reyes"
    assert "cancelled" in record["summary"]["plan"]
    assert record["summary"]["escape"] == "key0"


def prompts_by_keys(app: Any, callers: list[str]) -> dict[str, tuple[str, list[str]]]:
    """Walk the shipped flow by key presses; return each prompt step with a way to reach it."""
    conversations = ConversationStore(app.extensions["presszero.store"].redis)
    found: dict[str, tuple[str, list[str]]] = {}
    frontier = [(caller, []) for caller in callers]
    while frontier:
        caller, path = frontier.pop(0)
        c = call(app.test_client(), caller)
        root = c.start()
        for key in path:
            root = c.press(key)
        state = conversations.load("voice", c.sid).state or {}
        if root.find("Gather") is None or state.get("step") in found:
            continue
        found[state["step"]] = (caller, path)
        frontier += [(caller, [*path, key]) for key in "1234"]
    return found


@freeze_time(OPEN)
def test_pressing_zero_at_every_prompt_of_the_shipped_flow_reaches_a_person(app: Any):
    prompts = prompts_by_keys(app, ["+15550109999", "+15550100002", "+15550100003"])
    flow = app.extensions["presszero.flows"].get()
    menus = {sid for sid, s in flow.steps.items() if s.kind == "menu"}
    assert menus <= set(prompts), f"never reached: {sorted(menus - set(prompts))}"
    assert {"charge_account", "rebook"} <= set(prompts)  # an ask step and a callback prompt
    for where, (caller, path) in prompts.items():
        c = call(app.test_client(), caller)
        c.start()
        for key in path:
            c.press(key)
        assert reaches_a_person(c.press("0")), f"0 at {where} did not reach a person"


@freeze_time(OPEN)
@pytest.mark.parametrize("words", ["agent", "I want to talk to a real person", "operator please"])
def test_asking_for_a_person_in_words_reaches_one(client: Any, words: str):
    c = call(client)
    c.start()
    assert reaches_a_person(c.speak(words))


@freeze_time(OPEN)
def test_two_silences_reach_a_person(client: Any):
    c = call(client)
    c.start()
    assert c.silence().find("Gather") is not None
    assert reaches_a_person(c.silence())


@freeze_time(OPEN)
def test_two_misses_reach_a_person(client: Any):
    c = call(client)
    c.start()
    assert c.press("9").find("Gather") is not None
    assert reaches_a_person(c.speak("purple elephants"))


@freeze_time(OPEN)
def test_low_confidence_speech_counts_as_a_miss(client: Any):
    c = call(client)
    c.start()
    c.speak("billing", confidence=0.2)
    assert reaches_a_person(c.speak("billing", confidence=0.1))


@freeze_time(CLOSED)
def test_out_of_hours_a_person_becomes_a_callback_offer_with_the_real_hours(client: Any):
    c = call(client)
    c.start()
    root = c.press("0")
    spoken = " ".join(s.text or "" for s in root.iter("Say"))
    assert "We're open" in spoken
    assert "Monday to Friday, 8 AM to 8 PM" in spoken
    assert not reaches_a_person(root)
    assert root.find("Gather") is not None or root.find("Record") is not None


@freeze_time(OPEN)
def test_every_prompt_takes_keys_and_speech_and_never_hangs_up_on_silence(client: Any):
    c = call(client)
    root = c.start()
    gather = root.find("Gather")
    assert gather is not None
    assert gather.get("input") == "dtmf speech"
    assert gather.get("actionOnEmptyResult") == "true"
    assert gather.get("timeout")
    assert root.find("Hangup") is None
    assert root.find("Redirect") is not None  # after the Gather, back to us regardless


@freeze_time(OPEN)
def test_a_replayed_turn_gets_the_same_answer_and_does_not_advance(app: Any, client: Any):
    c = call(client)
    c.start()
    action = c.gather_action()
    first = c.post(action, Digits="1").get_data(as_text=True)
    again = c.post(action, Digits="2").get_data(as_text=True)
    assert again == first
    conversations = ConversationStore(app.extensions["presszero.store"].redis)
    assert conversations.load("voice", c.sid).number == 3  # after the language choice


@freeze_time(OPEN)
def test_a_retried_incoming_webhook_does_not_restart_the_call(client: Any):
    c = call(client)
    first = ET.tostring(c.start())
    assert ET.tostring(c.start()) == first


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}],
)
def test_a_missing_or_wrong_signature_is_403_and_changes_nothing(
    client: Any, store: ContextStore, headers: dict[str, str]
):
    before = sorted(store.redis.keys("*"))
    reply = client.post("/voice/incoming", data={"CallSid": "CA1", "From": "+15550100001"},
                        headers=headers)  # fmt: skip
    assert reply.status_code == 403
    assert sorted(store.redis.keys("*")) == before


def test_a_signature_made_with_another_token_is_403(client: Any):
    c = Call(client, token="some-other-token")
    assert c.post("/voice/incoming").status_code == 403


def test_a_signature_for_another_url_is_403(client: Any):
    from support.twilio_client import TOKEN

    from presszero.voice.signature import sign

    data = {"CallSid": "CA1", "From": "+15550100001"}
    signed_elsewhere = sign(TOKEN, "http://localhost/voice/status", data)
    reply = client.post(
        "/voice/incoming", data=data, headers={"X-Twilio-Signature": signed_elsewhere}
    )
    assert reply.status_code == 403


def test_behind_a_trusted_proxy_the_public_url_is_what_is_signed(
    make_app: Any, store: ContextStore
):
    client = make_app(PRESSZERO_TRUST_PROXY=True).test_client()
    from support.twilio_client import TOKEN

    from presszero.voice.signature import sign

    data = {"CallSid": "CA7", "From": "+15550109999"}
    public = "https://support.example.com/voice/incoming"
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "support.example.com",
               "X-Twilio-Signature": sign(TOKEN, public, data)}  # fmt: skip
    assert client.post("/voice/incoming", data=data, headers=headers).status_code == 200


@freeze_time(OPEN)
def test_redis_stopped_mid_call_still_yields_twiml_that_reaches_a_person(make_app: Any):
    import tempfile

    from presszero.context.embedded import EmbeddedRedis, free_port

    with tempfile.TemporaryDirectory() as data:
        server = EmbeddedRedis(data, port=free_port())
        server.start()
        app = make_app(REDIS_URL=server.url)
        c = call(app.test_client())
        assert c.start().find("Gather") is not None
        server.kill()
        root = c.press("1")
        assert reaches_a_person(root)
        assert "something went wrong" in first_say(root)


@freeze_time(OPEN)
def test_a_busy_agent_leads_to_a_callback_offer_not_a_dropped_call(
    make_app: Any, store: ContextStore
):
    load_demo(store)
    c = call(make_app(PRESSZERO_AGENT_NUMBER="+15550001111").test_client(), "+15550100001")
    c.start()
    root = c.press("0")
    dial = root.find("Dial")
    assert dial is not None
    number = dial.find("Number")
    assert number is not None
    assert number.text == "+15550001111"
    whisper = c.twiml(number.get("url", ""))
    assert "Ana Lima" in first_say(whisper)
    after = c.twiml(dial.get("action", ""), DialCallStatus="busy")
    spoken = " ".join(s.text or "" for s in after.iter("Say"))
    assert "no one is free" in spoken
    assert after.find("Gather") is not None or after.find("Record") is not None


@freeze_time(OPEN)
def test_the_status_callback_records_the_call_once_in_the_contact_log(
    client: Any, store: ContextStore
):
    c = call(client, "+15550100001")
    c.start()
    c.press("0")
    for _ in range(2):
        assert c.post("/voice/status", CallStatus="completed").status_code == 204
    customer = store.get("cus_1001")
    assert customer is not None
    mine = [x for x in customer.contacts if x.ref == c.sid]
    assert [(x.channel, x.outcome) for x in mine] == [("voice", "handoff")]


@freeze_time(OPEN)
def test_a_call_that_never_connected_is_recorded_as_missed(client: Any, store: ContextStore):
    c = call(client, "+15550100001")
    assert c.post("/voice/status", CallStatus="no-answer").status_code == 204
    customer = store.get("cus_1001")
    assert customer is not None
    assert [x.outcome for x in customer.contacts if x.ref == c.sid] == ["missed"]


@freeze_time(OPEN)
def test_the_queue_tells_the_caller_their_place_and_offers_a_callback_when_long(
    client: Any, app: Any
):
    agents, handoffs = app.extensions["presszero.agents"], app.extensions["presszero.handoffs"]
    agents.add("alex", "correct horse battery", endpoint="+15550107777", queues=["support"])
    agents.set_status("alex", "available", SystemClock().now())
    agents.mark_busy("alex", "voice:CAearlier", SystemClock().now())  # on another call
    for seconds in (200, 240, 400):  # the queue's recent handle times: 240 s in the middle
        handoffs.record_handle_time("support", seconds)
    c = call(client)
    c.start()
    root = c.press("0")
    enqueue = root.find("Enqueue")
    assert enqueue is not None
    wait = c.twiml(enqueue.get("waitUrl", ""), QueuePosition="3", AvgQueueTime="5", QueueTime="10")
    spoken = " ".join(s.text or "" for s in wait.iter("Say"))
    assert "number 3 in line" in spoken
    assert "about 12 minutes" in spoken  # 3 callers for 1 person at 4 minutes each
    assert "press 1" in spoken
    gather = wait.find("Gather")
    assert gather is not None
    leave = c.twiml(gather.get("action", ""), Digits="1")
    assert leave.find("Leave") is not None
    after = c.twiml(enqueue.get("action", ""), QueueResult="leave")
    assert after.find("Gather") is not None
