"""The chat channel through Rasa's REST contract, and the agent who takes over."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from freezegun import freeze_time
from support.chat import OPEN, Visitor, agent_online, token_for

from presszero.chat.identity import make_token
from presszero.context.clock import SystemClock
from presszero.context.demo import load_demo
from presszero.context.handoffs import HandoffStore
from presszero.context.store import ContextStore


@pytest.fixture
def app(make_app: Any, store: ContextStore) -> Any:
    with freeze_time(OPEN):
        load_demo(store)
    return make_app()


@freeze_time(OPEN)
def test_an_identified_visitor_is_greeted_with_their_context(app: Any):
    visitor = Visitor(app, identity=token_for(app, "+15550100002"))
    said = visitor.texts("hi")
    assert "Hi Dana" in said
    assert "was cancelled on" in said
    assert "welcome to your new plan" not in said.lower()


@freeze_time(OPEN)
def test_menu_options_come_with_buttons_and_a_person_is_always_offered(app: Any):
    replies = Visitor(app).send("hello")
    buttons = [b for m in replies for b in m.get("buttons", [])]
    assert {"title": "Talk to a person", "payload": "/agent"} in buttons
    assert {"title": "Billing", "payload": "1"} in buttons


@freeze_time(OPEN)
@pytest.mark.parametrize(
    ("subject", "delta"), [("+15550100002", {"hours": -1}), ("", {"hours": 1})]
)
def test_an_expired_or_forged_identity_is_treated_as_anonymous(app: Any, subject: str, delta: dict):
    token = token_for(app, subject, **delta) if subject else "eyJzdWIiOiJjdXNfMTAwMiJ9.forged"
    said = Visitor(app, identity=token).texts("hi")
    assert "Dana" not in said
    assert "cancelled" not in said
    assert "Thanks for getting in touch" in said


@freeze_time(OPEN)
def test_a_token_signed_with_another_secret_is_ignored(app: Any):
    forged = make_token("not-our-secret", "+15550100002", SystemClock().now())
    assert "Dana" not in Visitor(app, identity=forged).texts("hi")


@freeze_time(OPEN)
@pytest.mark.parametrize("asks", ["agent", "talk to a person", "/agent", "I want a real human"])
@pytest.mark.parametrize("after", [[], ["2"], ["2", "1"]])
def test_asking_for_a_person_at_any_point_hands_off(app: Any, asks: str, after: list[str]):
    agent_online(app)
    visitor = Visitor(app)
    visitor.send("hi")
    for message in after:
        visitor.send(message)
    said = visitor.texts(asks)
    assert "passing you to a person" in said
    assert visitor.poll()["status"] == "waiting"


@freeze_time(OPEN)
def test_two_unclear_messages_hand_off(app: Any):
    agent_online(app)
    visitor = Visitor(app)
    visitor.send("hi")
    assert "didn't" in visitor.texts("purple monkey dishwasher").lower()
    assert "passing you to a person" in visitor.texts("flibbertigibbet")


@freeze_time(OPEN)
def test_after_a_handoff_the_bot_says_nothing_more_and_the_agent_sees_it_all(app: Any):
    agent_online(app)
    visitor = Visitor(app, identity=token_for(app, "dana@example.com"))
    visitor.send("hi")
    visitor.send("agent")
    assert visitor.send("hello? my plan was cancelled by mistake") == []
    assert visitor.send("anyone there?") == []
    record = HandoffStore(app.extensions["presszero.store"].redis).get(f"chat:{visitor.sender}")
    assert record is not None
    assert record["who"] == "Dana Reyes"
    assert record["summary"]["escape"] == "agent_intent"
    texts = [m["text"] for m in visitor.poll()["messages"]]
    assert texts[-2:] == ["hello? my plan was cancelled by mistake", "anyone there?"]


@freeze_time(OPEN)
def test_with_no_agent_signed_in_the_visitor_leaves_a_message_that_becomes_a_callback(app: Any):
    visitor = Visitor(app, identity=token_for(app, "+15550100001"))
    visitor.send("hi")
    said = visitor.texts("agent")
    assert "no one is free" in said
    while visitor.poll()["status"] == "bot":  # answer the callback questions with defaults
        said = visitor.texts("1")
    record = HandoffStore(app.extensions["presszero.store"].redis).get(f"chat:{visitor.sender}")
    assert record is not None
    assert record["status"] == "callback"
    assert record["kind"] in ("callback", "voicemail")


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "sender=x&message=y", "content_type": "application/x-www-form-urlencoded"}, 415),
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"json": ["a", "list"]}, 400),
        ({"json": {"sender": "", "message": "hi"}}, 400),
        ({"json": {"sender": "x" * 129, "message": "hi"}}, 400),
        ({"json": {"sender": "web-visitor-0001", "message": 42}}, 400),
        ({"json": {"sender": "web-visitor-0001", "message": "x" * 2001}}, 400),
        ({"json": {"sender": "web-visitor-0001\u0000", "message": "hi"}}, 400),
        ({"json": {"sender": "web-visitor-0001", "message": "hi", "metadata": "x"}}, 400),
        ({"json": {"sender": "web-visitor-0001", "message": "x" * 40_000}}, 413),
    ],
)
def test_malformed_or_oversized_bodies_get_a_4xx_json_error(app: Any, kwargs: dict, status: int):
    reply = app.test_client().post("/webhooks/rest/webhook", **kwargs)
    assert reply.status_code == status
    body = reply.get_json()
    assert body["error"]
    assert body["message"]


def test_the_widget_and_demo_page_are_served(app: Any):
    client = app.test_client()
    with client.get("/chat/widget.js") as widget:
        assert widget.status_code == 200
        assert "textContent" in widget.get_data(as_text=True)
        assert "innerHTML" not in widget.get_data(as_text=True)
    page = client.get("/chat")
    assert page.status_code == 200
    assert b"widget.js" in page.data


@freeze_time(OPEN)
def test_the_demo_page_signs_in_a_demo_customer_only_in_demo_mode(make_app: Any, app: Any):
    assert b'data-identity=""' in app.test_client().get("/chat?as=%2B15550100002").data
    demo = make_app(PRESSZERO_DEMO=True).test_client().get("/chat?as=%2B15550100002")
    assert b'data-identity=""' not in demo.data
    assert b"+15550100002" in demo.data


@freeze_time(OPEN)
def test_a_sender_who_floods_the_chat_is_slowed_with_a_429(app: Any):
    visitor = Visitor(app, sender="web-visitor-flood")
    for _ in range(30):
        visitor.send("hello")
    before = visitor.poll()
    reply = visitor.client.post(
        "/webhooks/rest/webhook",
        json={
            "sender": visitor.sender,
            "message": "agent",
            "metadata": {"conversation_token": visitor.token},
        },
    )
    assert reply.status_code == 429
    assert reply.get_json()["error"] == "too_many_requests"
    assert 0 < int(reply.headers["Retry-After"]) <= 60
    assert visitor.poll() == before  # refused: the chat is as it was
    other = Visitor(app, sender="web-visitor-other")
    assert other.send("hello")  # the limit is per sender


class CountingStream(io.BytesIO):
    """A request body as the network hands it over, counting what the app read of it."""

    taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def test_a_chunked_body_over_16_kib_is_refused_without_being_read_whole(app: Any):
    padding = "x" * 200_000
    body = json.dumps({"sender": "web-visitor-0001", "message": "hi", "metadata": {"p": padding}})
    stream = CountingStream(body.encode())
    reply = app.test_client().post(
        "/webhooks/rest/webhook",
        input_stream=stream,  # no Content-Length: sent in chunks, as a WSGI server passes it on
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert reply.status_code == 413
    assert reply.get_json()["error"] == "too_large"
    assert reply.get_json()["message"]
    assert stream.taken <= 16 * 1024 + 1


def test_a_small_chunked_body_is_answered(app: Any):
    body = json.dumps({"sender": "web-visitor-0001", "message": "hi"}).encode()
    reply = app.test_client().post(
        "/webhooks/rest/webhook",
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert reply.status_code == 200
    assert reply.get_json()[0]["recipient_id"] == "web-visitor-0001"


def test_thousands_of_nested_brackets_are_a_400_not_a_crash(app: Any):
    reply = app.test_client().post(
        "/webhooks/rest/webhook", data="[" * 16_000, content_type="application/json"
    )
    assert reply.status_code == 400
    assert reply.get_json()["error"] == "bad_request"
