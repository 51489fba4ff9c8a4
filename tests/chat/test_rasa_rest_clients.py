"""Rasa's own REST-channel requests, replayed against presszero: answered in Rasa's shape.

The requests are those Rasa's repository makes of its REST channel (RasaHQ/rasa):
`rasa shell` (`rasa/core/channels/console.py`, checked by `tests/core/test_channels.py::
test_console_input`) posts `{"message", "sender": "default"}` to `?stream=true` and reads one
JSON object per line; the integration tests (`tests/integration_tests/conftest.py`) post a
uuid4 sender and read a JSON list whose every message is addressed to that sender;
`test_channel_inheritance` sent `/greet` from `test_channel_inheritance`; `UserMessage` turns a
numeric sender into its digits (`test_int_sender_id_in_user_message`) and strips the text
(`test_newsline_strip`); `RestInput._extract_input_channel` takes an `input_channel` field or
none. What each answer must look like is what `rasa.core.channels.rest.RestInput.receive`
returns: `response.json(collector.messages)`, or with `stream=true` `json.dumps(message) +
"\\n"` per message as `text/event-stream`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from freezegun import freeze_time
from support.chat import OPEN

from presszero.context.demo import load_demo
from presszero.context.store import ContextStore

# The keys of a message in Rasa's REST output (rasa.core.channels.channel.CollectingOutputChannel).
RASA_KEYS = {"recipient_id", "text", "buttons", "image", "attachment", "custom", "elements",
             "quick_replies"}  # fmt: skip
WEBHOOK = "/webhooks/rest/webhook"


@pytest.fixture
def client(make_app: Any, store: ContextStore) -> Any:
    with freeze_time(OPEN):
        load_demo(store)
    return make_app().test_client()


def rasa_shaped(messages: Any, sender: str) -> list[dict[str, Any]]:
    """Return the messages, having checked each is a Rasa REST message to `sender`."""
    assert isinstance(messages, list)
    assert messages
    for m in messages:
        assert isinstance(m, dict)
        assert set(m) <= RASA_KEYS, m
        assert m["recipient_id"] == sender
        assert isinstance(m.get("text", ""), str)
        for button in m.get("buttons", []):
            assert set(button) == {"title", "payload"}
    return messages


def texts(messages: list[dict[str, Any]]) -> str:
    return " ".join(m.get("text", "") for m in messages)


@freeze_time(OPEN)
def test_rasa_shell_streams_one_json_message_per_line(client: Any):
    # rasa/core/channels/console.py: send_message_receive_stream
    reply = client.post(
        f"{WEBHOOK}?stream=true&token=", json={"message": "Test Input", "sender": "default"}
    )
    assert reply.status_code == 200
    assert reply.mimetype == "text/event-stream"
    body = reply.get_data(as_text=True)
    assert body.endswith("\n")
    lines = [json.loads(line) for line in body.splitlines() if line]
    said = rasa_shaped(lines, "default")
    assert "Talk to a person" in json.dumps(said)  # the menu, with its way to a person


@freeze_time(OPEN)
def test_the_same_turn_streamed_and_not_says_the_same(client: Any):
    # Two fresh senders, one streamed: the same words and buttons in the same order.
    listed = client.post(WEBHOOK, json={"sender": "listed-1", "message": "my bill"}).get_json()
    streamed = client.post(
        f"{WEBHOOK}?stream=true", json={"sender": "streamed-1", "message": "my bill"}
    ).get_data(as_text=True)
    lines = [json.loads(line) for line in streamed.splitlines()]

    def words(messages: list[dict[str, Any]]) -> list[Any]:
        return [(m.get("text"), m.get("buttons")) for m in messages if "text" in m]

    assert words(lines) == words(listed)
    assert len(words(listed)) >= 1


@freeze_time(OPEN)
def test_a_uuid_sender_gets_a_json_list_addressed_to_it(client: Any):
    # tests/integration_tests/conftest.py: send_message_to_rasa_server
    sender = str(uuid.uuid4())
    reply = client.post(WEBHOOK, json={"sender": sender, "message": "cu"})
    assert reply.status_code == 200
    assert reply.mimetype == "application/json"
    rasa_shaped(reply.get_json(), sender)


@freeze_time(OPEN)
@pytest.mark.parametrize(
    ("body", "sender"),
    [
        ({"sender": "test_channel_inheritance", "message": "/greet"}, "test_channel_inheritance"),
        ({"sender": 1234567890, "message": "A text"}, "1234567890"),  # UserMessage: str(sender)
        ({"message": "hello"}, "default"),  # UserMessage.DEFAULT_SENDER_ID
        ({"sender": None, "message": "hello"}, "default"),
        ({"sender": "user1", "message": "\n/restart\n"}, "user1"),
        ({"sender": "dana@example.com", "message": "hi"}, "dana@example.com"),
        ({"sender": "u", "message": "hi"}, "u"),
        ({"sender": "whatsapp:+15550100999", "message": "hi"}, "whatsapp:+15550100999"),
        ({"sender": "team/42", "message": "hi"}, "team/42"),
        ({"sender": "user2", "message": None}, "user2"),
        ({"sender": "user3"}, "user3"),
        ({"sender": "user4", "message": "hi", "metadata": None}, "user4"),
        ({"sender": "user5", "message": "hi", "input_channel": None}, "user5"),
        ({"sender": "user6", "message": "hi", "input_channel": "custom"}, "user6"),
    ],
)
def test_senders_and_bodies_rasa_accepts_are_answered_in_rasa_shape(
    client: Any, body: dict[str, Any], sender: str
):
    reply = client.post(WEBHOOK, json=body)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    said = rasa_shaped(reply.get_json(), sender)
    assert "Talk to a person" in json.dumps(said)


@freeze_time(OPEN)
def test_an_input_channel_in_the_body_does_not_make_a_visitor_a_caller(client: Any):
    # Rasa takes input_channel from the body; presszero never lets it vouch for anyone.
    said = texts(
        client.post(
            WEBHOOK,
            json={"sender": "+15550100002", "message": "hi", "input_channel": "twilio"},
        ).get_json()
    )
    assert "Dana" not in said
    assert "cancelled" not in said


@freeze_time(OPEN)
@pytest.mark.parametrize(
    ("body", "why"),
    [
        ([{"sender": "user7", "message": "hi"}], "JSON object"),
        ({"sender": "", "message": "hi"}, "1 to 128"),
        ({"sender": "x" * 129, "message": "hi"}, "1 to 128"),
        ({"sender": ["user8"], "message": "hi"}, "1 to 128"),
        ({"sender": True, "message": "hi"}, "1 to 128"),
        ({"sender": "user\n9", "message": "hi"}, "control characters"),
        ({"sender": "user10", "message": 5}, "must be a string"),
        ({"sender": "user11", "message": "hi", "metadata": [1]}, "metadata"),
    ],
)
def test_what_presszero_cannot_take_is_a_one_line_json_error_in_either_mode(
    client: Any, body: Any, why: str
):
    for url in (WEBHOOK, f"{WEBHOOK}?stream=true"):
        reply = client.post(url, json=body)
        assert reply.status_code == 400
        error = reply.get_json()
        assert error["error"] == "bad_request"
        assert why in error["message"]
        assert "\n" not in error["message"]


def test_rasa_health_check_answers_as_rasa_does(client: Any):
    reply = client.get("/webhooks/rest/")
    assert reply.status_code == 200
    assert reply.get_json() == {"status": "ok"}


@freeze_time(OPEN)
def test_rasa_shell_with_a_key_in_its_url_goes_on_talking_as_default(make_app: Any):
    # console.py: `?stream=true&token={auth_token}`; the same sender, message after message
    key = "rasa-shell-auth-token-0001"
    client = make_app(PRESSZERO_CHAT_API_KEYS=key).test_client()
    said = []
    for message in ("hi", "1", "agent"):
        reply = client.post(
            f"{WEBHOOK}?stream=true&token={key}", json={"message": message, "sender": "default"}
        )
        assert reply.status_code == 200, reply.get_data(as_text=True)
        lines = [json.loads(line) for line in reply.get_data(as_text=True).splitlines()]
        said.append(texts(rasa_shaped(lines, "default")))
        assert all("custom" not in m for m in lines)  # a server-side client gets no token
    assert "What is your billing question about?" in said[1]
    assert "no one is free to chat right now" in said[2]  # the handoff: no agent is in
    without = client.post(
        f"{WEBHOOK}?stream=true&token=", json={"message": "hi", "sender": "default"}
    )
    assert without.status_code == 403  # the key's conversation: no browser takes it over
