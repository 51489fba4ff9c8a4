"""The rasa-sdk action server: rasa-sdk's own executor and HTTP endpoint, real tracker JSON.

The tests are plain functions that drive the coroutines with `asyncio.run`, so no plugin
has to be installed for them to run and none can be skipped for want of one.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sanic import Sanic
from sanic_testing.testing import SanicASGITestClient

from presszero.chat.action_server import create_action_app
from presszero.chat.actions import HANDED_OVER, REASK, build_executor
from presszero.chat.identity import make_token
from presszero.context.clock import FixedClock
from presszero.context.demo import load_demo
from presszero.context.embedded import free_port
from presszero.context.handoffs import HandoffStore
from presszero.context.store import ContextStore
from presszero.flows.language.files import shipped_flow

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 in New York: open
CLOSED = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # Monday 22:00 in New York
SECRET = "shared-with-the-website"
RASA_VERSION = "3.21.0"  # what Rasa sends; rasa-sdk 3.21 warns on any other major.minor
HOURS = shipped_flow().hours

DOMAIN: dict[str, Any] = {
    "version": "3.1",
    "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
    "intents": ["greet", "billing", "agent", "nlu_fallback"],
    "entities": [],
    "slots": {
        name: {"type": kind, "influence_conversation": False, "mappings": [{"type": "custom"}]}
        for name, kind in {
            "customer_known": "bool",
            "customer_id": "text",
            "customer_name": "text",
            "customer_first_name": "text",
            "plan_name": "text",
            "plan_status": "text",
            "recently_cancelled": "bool",
            "missed_appointment": "bool",
            "vip": "bool",
            "repeat_contact": "bool",
            "presszero_misses": "float",
            "handoff_reason": "text",
            "handoff_queue": "text",
        }.items()
    },
    "responses": {"utter_greet": [{"text": "Hi! How can I help?"}]},
    "actions": ["action_load_context", "action_handoff", "action_presszero_fallback"],
    "forms": {},
    "e2e_actions": [],
}

CONTEXT_UNKNOWN = {
    "customer_known": False,
    "customer_id": None,
    "customer_name": None,
    "customer_first_name": None,
    "plan_name": None,
    "plan_status": None,
    "recently_cancelled": False,
    "missed_appointment": False,
    "vip": False,
    "repeat_contact": False,
}


# -- tracker JSON as Rasa sends it ---------------------------------------------------------


class Conversation:
    """Builds the events of one Rasa conversation, a second apart, as Rasa logs them."""

    def __init__(self, sender: str = "web-7f3a9c", channel: str = "rest") -> None:
        self.sender = sender
        self.channel = channel
        self.clock = count(int((NOW - timedelta(minutes=5)).timestamp()))
        self.events: list[dict[str, Any]] = [
            self._action("action_session_start"),
            {"event": "session_started", "timestamp": next(self.clock), "metadata": {}},
            self._action("action_listen"),
        ]

    def _action(self, name: str) -> dict[str, Any]:
        return {
            "event": "action",
            "timestamp": next(self.clock),
            "name": name,
            "policy": "RulePolicy",
            "confidence": 1.0,
            "action_text": None,
            "hide_rule_turn": False,
        }

    def user(self, text: str, intent: str, metadata: dict[str, Any] | None = None) -> Conversation:
        ranking = [{"name": intent, "confidence": 0.91}]
        if intent == "nlu_fallback":
            ranking.append({"name": "billing", "confidence": 0.22})
        self.events.append(
            {
                "event": "user",
                "timestamp": next(self.clock),
                "metadata": metadata or {},
                "text": text,
                "parse_data": {
                    "intent": ranking[0],
                    "entities": [],
                    "text": text,
                    "message_id": f"m{len(self.events)}",
                    "metadata": metadata or {},
                    "intent_ranking": ranking,
                },
                "input_channel": self.channel,
                "message_id": f"m{len(self.events)}",
            }
        )
        return self

    def bot(self, action: str, text: str, **slots: Any) -> Conversation:
        self.events.append(self._action(action))
        for name, value in slots.items():
            self.events.append(
                {"event": "slot", "timestamp": next(self.clock), "name": name, "value": value}
            )
        self.events.append(
            {
                "event": "bot",
                "timestamp": next(self.clock),
                "metadata": {"utter_action": action},
                "text": text,
                "data": {"elements": None, "quick_replies": None, "buttons": None},
            }
        )
        self.events.append(self._action("action_listen"))
        return self

    def call(self, next_action: str, **slots: Any) -> dict[str, Any]:
        """Return the action call Rasa posts to the action server's /webhook."""
        latest = next(e for e in reversed(self.events) if e["event"] == "user")
        state = {e["name"]: e["value"] for e in self.events if e["event"] == "slot"} | slots
        return {
            "next_action": next_action,
            "sender_id": self.sender,
            "tracker": {
                "sender_id": self.sender,
                "slots": {name: state.get(name) for name in DOMAIN["slots"]},
                "latest_message": {**latest["parse_data"], "metadata": latest["metadata"]},
                "latest_event_time": latest["timestamp"],
                "followup_action": None,
                "paused": False,
                "events": self.events,
                "latest_input_channel": self.channel,
                "active_loop": {},
                "latest_action": {"action_name": "action_listen"},
                "latest_action_name": "action_listen",
            },
            "domain": DOMAIN,
            "version": RASA_VERSION,
        }


def slots(result: Any) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in result.events if e["event"] == "slot"}


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def demo_store(redis_client: redis.Redis, clock: FixedClock) -> ContextStore:
    store = ContextStore(redis_client, clock)
    load_demo(store)
    return store


@pytest.fixture
def handoffs(redis_client: redis.Redis) -> HandoffStore:
    return HandoffStore(redis_client)


@pytest.fixture
def executor(demo_store: ContextStore, handoffs: HandoffStore, clock: FixedClock) -> Any:
    return build_executor(demo_store, handoffs, clock, hours=HOURS, identity_secret=SECRET)


def dead_redis() -> redis.Redis:
    """Return a client of a Redis that is not there (failing at once, without retries)."""
    return redis.Redis(port=free_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))


def run(executor: Any, call: dict[str, Any]) -> Any:
    return asyncio.run(executor.run(call))


@pytest.fixture
def app(executor: Any) -> Iterator[Sanic]:
    app = create_action_app(executor)
    yield app
    Sanic.unregister_app(app)


def http(app: Sanic, method: str, path: str, **kwargs: Any) -> Any:
    async def go() -> Any:
        async with SanicASGITestClient(app) as client:
            _, response = await client.request(method, path, **kwargs)
            return response

    return asyncio.run(go())


# -- action_load_context ----------------------------------------------------------------------


def test_load_context_reads_a_cancelled_plan_through_the_customer_id_slot(executor: Any):
    call = Conversation().user("hi", "greet").call("action_load_context", customer_id="cus_1002")
    assert slots(run(executor, call)) == {
        "customer_known": True,
        "customer_id": "cus_1002",
        "customer_name": "Dana Reyes",
        "customer_first_name": "Dana",
        "plan_name": "Silver Health",
        "plan_status": "cancelled",
        "recently_cancelled": True,
        "missed_appointment": False,
        "vip": False,
        "repeat_contact": False,
    }


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("+15550100001", {}),
        ("+15550100002", {"recently_cancelled": True}),
        ("+15550100003", {"missed_appointment": True}),
        ("+15550100004", {"repeat_contact": True}),
        ("+15550100005", {"vip": True}),
    ],
)
def test_load_context_on_a_call_knows_each_demo_customers_situation_from_a_signed_phone(
    executor: Any, phone: str, expected: dict[str, bool]
):
    # The Rasa channel that verified the call vouches for the phone with a signed token.
    vouched = {"identity": make_token(SECRET, phone, NOW)}
    call = Conversation(sender=phone, channel="twilio_voice").user("hello", "greet", vouched)
    found = slots(run(executor, call.call("action_load_context")))
    situation = ("recently_cancelled", "missed_appointment", "repeat_contact", "vip")
    assert found["customer_known"] is True
    assert {k: found[k] for k in situation} == {k: expected.get(k, False) for k in situation}


def test_load_context_identifies_a_visitor_by_the_signed_identity_token(executor: Any):
    token = make_token(SECRET, "dana@example.com", NOW)
    call = Conversation().user("hi", "greet", {"identity": token}).call("action_load_context")
    found = slots(run(executor, call))
    assert (found["customer_id"], found["recently_cancelled"]) == ("cus_1002", True)


@pytest.mark.parametrize(
    "token",
    [
        make_token("not-the-secret", "cus_1002", NOW),
        make_token(SECRET, "cus_1002", NOW - timedelta(hours=2)),  # expired an hour ago
        "cus_1002",
    ],
    ids=["forged", "expired", "bare id"],
)
def test_a_forged_or_expired_identity_token_leaves_the_visitor_anonymous(executor: Any, token: str):
    call = Conversation().user("hi", "greet", {"identity": token}).call("action_load_context")
    assert slots(run(executor, call)) == CONTEXT_UNKNOWN


def test_a_phone_number_a_browser_sends_as_its_sender_id_reveals_nothing(executor: Any):
    # Rasa's REST channel takes the sender id and metadata from the visitor's own request.
    chat = Conversation(sender="+15550100002", channel="rest")
    call = chat.user("hi", "greet", {"phone": "+15550100002"}).call("action_load_context")
    assert slots(run(executor, call)) == CONTEXT_UNKNOWN


@pytest.mark.parametrize("channel", ["twilio", "twilio_voice", "whatsapp", "rest"])
def test_a_sender_phone_is_never_trusted_whatever_input_channel_the_request_claims(
    executor: Any, handoffs: HandoffStore, channel: str
):
    # Rasa's REST channel takes `input_channel` from the request body: anyone can claim twilio.
    chat = Conversation(sender="+15550100002", channel=channel)
    chat.user("hi", "greet", {"phone": "+15550100002", "email": "dana@example.com"})
    assert slots(run(executor, chat.call("action_load_context"))) == CONTEXT_UNKNOWN
    run(executor, chat.user("a person please", "agent").call("action_handoff"))
    entry = handoffs.get("rasa:+15550100002")
    assert (entry["customer_id"] or "", entry["phone"] or "") == ("", "")
    assert entry["who"] == "Someone we don't know"


def test_a_handoff_from_a_signed_phone_carries_the_callers_number(
    executor: Any, handoffs: HandoffStore
):
    vouched = {"identity": make_token(SECRET, "+15550100002", NOW)}
    chat = Conversation(sender="CA123", channel="twilio_voice").user("agent", "agent", vouched)
    run(executor, chat.call("action_handoff"))
    entry = handoffs.get("rasa:CA123")
    assert (entry["customer_id"], entry["phone"]) == ("cus_1002", "+15550100002")


def test_an_unknown_caller_gets_a_neutral_context_with_no_personal_data(executor: Any):
    vouched = {"identity": make_token(SECRET, "+15550109999", NOW)}
    chat = Conversation(sender="+15550109999", channel="twilio_voice")
    chat.user("hello", "greet", vouched)
    result = run(executor, chat.call("action_load_context"))
    assert slots(result) == CONTEXT_UNKNOWN
    assert result.responses == []


def test_load_context_speaks_neutrally_when_redis_is_down(handoffs: HandoffStore):
    executor = build_executor(
        ContextStore(dead_redis(), FixedClock(NOW)), handoffs, FixedClock(NOW)
    )
    call = Conversation().user("hi", "greet").call("action_load_context", customer_id="cus_1002")
    assert slots(run(executor, call)) == CONTEXT_UNKNOWN


# -- action_handoff ---------------------------------------------------------------------------


def dana_asks_for_a_person() -> Conversation:
    chat = Conversation(sender="web-dana").user("hi", "greet")
    chat.bot("utter_greet", "Hi! How can I help?", customer_id="cus_1002")
    return chat.user("I want to talk to a real person", "agent")


def test_handoff_opens_an_inbox_entry_with_the_transcript_and_pauses_the_bot(
    executor: Any, handoffs: HandoffStore
):
    chat = dana_asks_for_a_person()
    result = run(executor, chat.call("action_handoff"))
    assert [e["event"] for e in result.events] == ["slot", "pause"]
    assert result.events[-1] == {"event": "pause", "timestamp": None}
    assert [r["text"] for r in result.responses] == [HANDED_OVER]
    [entry] = handoffs.waiting()
    assert entry["id"] == "rasa:web-dana"
    assert (entry["channel"], entry["kind"], entry["status"]) == ("rasa", "handoff", "waiting")
    assert (entry["customer_id"], entry["who"]) == ("cus_1002", "Dana Reyes")
    assert entry["reason"] == "asked for a person"
    assert entry["summary"]["plan"] == "Silver Health (cancelled)"
    assert entry["summary"]["why"] == "They asked for a person."
    assert entry["summary"]["said"] == [
        'typed "hi"',
        'typed "I want to talk to a real person"',  # what they wrote, never an intent's name
    ]
    start = int((NOW - timedelta(minutes=5)).timestamp())
    assert entry["transcript"] == [
        {"from": "visitor", "text": "hi", "at": _iso(start + 3)},
        {"from": "bot", "text": "Hi! How can I help?", "at": _iso(start + 6)},
        {"from": "visitor", "text": "I want to talk to a real person", "at": _iso(start + 8)},
    ]


def _iso(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat().replace("+00:00", "Z")


def test_handoff_out_of_hours_says_when_a_person_will_reply(
    demo_store: ContextStore, handoffs: HandoffStore
):
    late = FixedClock(CLOSED)
    executor = build_executor(demo_store, handoffs, late, hours=HOURS)
    result = run(executor, dana_asks_for_a_person().call("action_handoff"))
    [reply] = result.responses
    assert "closed right now" in reply["text"]
    assert "Monday to Friday, 8 AM to 8 PM" in reply["text"]
    assert result.events[-1]["event"] == "pause"
    assert handoffs.get("rasa:web-dana")["after_hours"] is True


def test_handoff_that_cannot_reach_the_inbox_says_so_and_keeps_the_bot_talking(
    demo_store: ContextStore, clock: FixedClock
):
    executor = build_executor(demo_store, HandoffStore(dead_redis()), clock)
    result = run(executor, dana_asks_for_a_person().call("action_handoff"))
    assert result.events == []  # no pause: a paused bot with no inbox entry is a dead end
    assert "couldn't reach our team" in result.responses[0]["text"]


# -- action_presszero_fallback ----------------------------------------------------------------


def test_the_first_miss_asks_again_and_the_second_escalates_to_a_person(
    executor: Any, handoffs: HandoffStore
):
    chat = Conversation(sender="web-lost").user("flurb the wozzle", "nlu_fallback")
    first = run(executor, chat.call("action_presszero_fallback"))
    assert [r["text"] for r in first.responses] == [REASK]
    assert slots(first) == {"presszero_misses": 1}
    assert handoffs.waiting() == []

    chat.bot("action_presszero_fallback", REASK, presszero_misses=1)
    second = run(executor, chat.user("wozzle!!", "nlu_fallback").call("action_presszero_fallback"))
    assert second.events[-1]["event"] == "pause"
    entry = handoffs.get("rasa:web-lost")
    assert entry["summary"]["escape"] == "no_match"
    assert entry["summary"]["who"] == "Someone we don't know"
    assert [line["text"] for line in entry["transcript"]] == ["flurb the wozzle", REASK, "wozzle!!"]


def test_a_miss_after_an_understood_message_starts_the_count_again(
    executor: Any, handoffs: HandoffStore
):
    chat = Conversation().user("flurb", "nlu_fallback")
    chat.bot("action_presszero_fallback", REASK, presszero_misses=1)
    chat.user("hi", "greet").bot("utter_greet", "Hi! How can I help?")
    result = run(executor, chat.user("wozzle", "nlu_fallback").call("action_presszero_fallback"))
    assert [r["text"] for r in result.responses] == [REASK]
    assert handoffs.waiting() == []


def test_the_second_miss_escapes_even_when_the_domain_forgot_the_misses_slot(
    executor: Any, handoffs: HandoffStore
):
    chat = Conversation(sender="web-noslot").user("flurb", "nlu_fallback")
    chat.bot("action_presszero_fallback", REASK)  # Rasa dropped the undeclared SlotSet
    result = run(executor, chat.user("wozzle", "nlu_fallback").call("action_presszero_fallback"))
    assert result.events[-1]["event"] == "pause"
    assert handoffs.get("rasa:web-noslot") is not None


# -- rasa-sdk's HTTP endpoint ----------------------------------------------------------------


def test_health_answers_ok(app: Sanic):
    response = http(app, "GET", "/health")
    assert (response.status_code, response.json) == (200, {"status": "ok"})


def test_actions_lists_the_three_presszero_actions(app: Sanic):
    response = http(app, "GET", "/actions")
    assert sorted(a["name"] for a in response.json) == [
        "action_handoff",
        "action_load_context",
        "action_presszero_fallback",
    ]


def test_the_webhook_fills_the_context_slots_from_real_tracker_json(app: Sanic):
    vouched = {"identity": make_token(SECRET, "+15550100002", NOW)}
    call = Conversation(sender="+15550100002", channel="twilio_voice")
    call.user("hello", "greet", vouched)
    response = http(app, "POST", "/webhook", json=call.call("action_load_context"))
    assert response.status_code == 200
    body = response.json
    found = {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"}
    assert (found["customer_first_name"], found["recently_cancelled"]) == ("Dana", True)
    assert body["responses"] == []


def test_the_webhook_hands_off_with_a_pause_event_and_an_inbox_entry(
    app: Sanic, handoffs: HandoffStore
):
    response = http(app, "POST", "/webhook", json=dana_asks_for_a_person().call("action_handoff"))
    assert response.status_code == 200
    body = response.json
    assert {"event": "pause", "timestamp": None} in body["events"]
    assert [r["text"] for r in body["responses"]] == [HANDED_OVER]
    assert handoffs.get("rasa:web-dana")["customer_id"] == "cus_1002"


def test_an_unknown_action_is_a_404_naming_it(app: Sanic):
    call = Conversation().user("hi", "greet").call("action_order_pizza")
    response = http(app, "POST", "/webhook", json=call)
    assert response.status_code == 404
    assert response.json["action_name"] == "action_order_pizza"


def test_the_endpoint_allows_no_cross_origin_calls(app: Sanic):
    response = http(app, "GET", "/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


# -- presszero actions -----------------------------------------------------------------------


def slots_over_http(base: str, call: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base}/webhook",
        data=json.dumps(call).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as reply:
        events = json.load(reply)["events"]
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_the_actions_command_serves_the_webhook_until_interrupted(
    redis_url: str, demo_store: ContextStore, tmp_path: Path
):
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "PRESSZERO_DATA_DIR": str(tmp_path),
           "PRESSZERO_CHAT_SECRET": SECRET}  # fmt: skip
    script = "from presszero.chat.action_server import actions; actions()"
    server = subprocess.Popen(
        [sys.executable, "-c", script, "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health") as reply:
                    assert json.load(reply) == {"status": "ok"}
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "presszero actions did not come up"
                time.sleep(0.2)

        claimed = Conversation(sender="+15550100005", channel="twilio").user("hi", "greet")
        assert slots_over_http(base, claimed.call("action_load_context"))["vip"] is False
        vouched = {"identity": make_token(SECRET, "+15550100005", datetime.now(UTC))}
        by_phone = Conversation(sender="+15550100005", channel="twilio")
        by_phone.user("hi", "greet", vouched)
        assert slots_over_http(base, by_phone.call("action_load_context"))["vip"] is True
        token = make_token(SECRET, "cus_1002", datetime.now(UTC))
        by_token = Conversation().user("hi", "greet", {"identity": token})
        found = slots_over_http(base, by_token.call("action_load_context"))
        assert found["customer_id"] == "cus_1002"
    finally:
        server.send_signal(signal.SIGINT)
        code = server.wait(30)
        server.stderr.close()
    assert code == 0


def test_the_actions_command_loads_without_importing_rasa_sdk_or_sanic(tmp_path: Path):
    # cli.py registers it for every `presszero` command; only `presszero actions` pays for them.
    check = (
        "import sys, presszero.chat.action_server\n"
        "print(sorted({'rasa_sdk', 'sanic'} & set(sys.modules)))"
    )
    found = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert (found.returncode, found.stdout.strip()) == (0, "[]")


# -- the person's replies, back through Rasa ----------------------------------------------------


@pytest.fixture
def rasa_api() -> Iterator[Any]:
    from support.rasa_api import RasaApi

    with RasaApi() as api:
        yield api


def inbox_on(make_app: Any, clock: FixedClock, demo_store: ContextStore, **config: Any) -> Any:
    from support.consoles import PASSWORD, signed_in

    from presszero.context.agents import AgentStore

    AgentStore(demo_store.redis).add("alex", PASSWORD)
    return signed_in(make_app(PRESSZERO_CLOCK=clock, **config), "alex")


def test_an_agents_reply_and_resolution_reach_the_visitor_through_rasa(
    executor: Any, make_app: Any, clock: FixedClock, demo_store: ContextStore, rasa_api: Any
):
    from support.rasa_api import TOKEN

    run(executor, dana_asks_for_a_person().call("action_handoff"))
    client, csrf = inbox_on(
        make_app, clock, demo_store, PRESSZERO_RASA_URL=rasa_api.url, PRESSZERO_RASA_TOKEN=TOKEN
    )
    page = client.get("/agent/conversations/rasa:web-dana").get_data(as_text=True)
    assert 'id="reply-form"' in page
    assert "Dana Reyes" in page
    client.post("/agent/conversations/rasa:web-dana/reply",
                data={"csrf": csrf, "text": "Hi Dana, Alex here. Let me look."})  # fmt: skip
    [said] = rasa_api.requests
    assert said.conversation_id == "web-dana"
    assert said.events == [{"event": "bot", "text": "Hi Dana, Alex here. Let me look.",
                            "metadata": {"presszero_agent": "alex"}}]  # fmt: skip
    assert HandoffStore(demo_store.redis).get("rasa:web-dana")["status"] == "claimed"
    page = client.get("/agent/conversations/rasa:web-dana").get_data(as_text=True)
    assert "Hi Dana, Alex here. Let me look." in page  # the inbox keeps what was sent
    client.post("/agent/conversations/rasa:web-dana/resolve", data={"csrf": csrf, "note": "ok"})
    closing = rasa_api.requests[-1]
    assert [e["event"] for e in closing.events] == ["bot", "resume"]
    assert closing.events[0]["text"] == "Alex has closed this chat. Anything else?"
    assert HandoffStore(demo_store.redis).get("rasa:web-dana")["status"] == "resolved"
    dana = demo_store.get("cus_1002")
    assert dana is not None
    assert [(c.channel, c.outcome) for c in dana.contacts if c.at == NOW] == [("chat", "resolved")]


def test_a_reply_rasa_refuses_is_not_recorded_and_the_agent_is_told(
    executor: Any, make_app: Any, clock: FixedClock, demo_store: ContextStore, rasa_api: Any
):
    run(executor, dana_asks_for_a_person().call("action_handoff"))
    client, csrf = inbox_on(
        make_app, clock, demo_store,
        PRESSZERO_RASA_URL=rasa_api.url, PRESSZERO_RASA_TOKEN="not-rasas-token",
    )  # fmt: skip
    reply = client.post("/agent/conversations/rasa:web-dana/reply",
                        data={"csrf": csrf, "text": "Hello?"}, follow_redirects=True)  # fmt: skip
    page = reply.get_data(as_text=True)
    assert "Not sent: Rasa answered 401: User is not authenticated." in page
    assert '<span class="who">alex</span>Hello?' not in page
    assert HandoffStore(demo_store.redis).get("rasa:web-dana")["status"] == "waiting"
    resolved = client.post("/agent/conversations/rasa:web-dana/resolve",
                           data={"csrf": csrf, "note": ""}, follow_redirects=True)  # fmt: skip
    assert "Not resolved: the bot could not be handed the chat back" in resolved.get_data(
        as_text=True
    )
    assert HandoffStore(demo_store.redis).get("rasa:web-dana")["status"] == "waiting"


def test_without_a_rasa_url_the_inbox_says_where_to_answer(
    executor: Any, make_app: Any, clock: FixedClock, demo_store: ContextStore
):
    run(executor, dana_asks_for_a_person().call("action_handoff"))
    client, _ = inbox_on(make_app, clock, demo_store)
    page = client.get("/agent/conversations/rasa:web-dana").get_data(as_text=True)
    assert 'id="reply-form"' not in page
    assert "answer the customer there" in page
