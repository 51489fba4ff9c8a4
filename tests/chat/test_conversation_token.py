"""A chat's own credential: a sender id alone reads nothing of a chat and continues nothing.

Dana signs in on the website (an identity token) and chats; her first answer carries the
conversation token. Someone who has only her sender id — no token, a wrong one, her token
for another sender — gets a 401 or 403 JSON error, reads none of "Hi Dana…", and changes
nothing. A server-side client with a key from PRESSZERO_CHAT_API_KEYS may speak for any
sender. Polls are limited like messages.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from freezegun import freeze_time
from support.chat import OPEN, Visitor, agent_online, token_for

from presszero.chat.access import Credentials, Refused
from presszero.context.demo import load_demo
from presszero.context.store import ContextStore

WEBHOOK = "/webhooks/rest/webhook"
API_KEY = "server-side-rasa-client-key-0001"
DANA = "web-dana-0001"


@pytest.fixture
def app(make_app: Any, store: ContextStore) -> Any:
    with freeze_time(OPEN):
        load_demo(store)
    return make_app(PRESSZERO_CHAT_API_KEYS=API_KEY, PRESSZERO_CHAT_POLL_LIMITS="5/60,100/60")


@pytest.fixture
def dana(app: Any) -> Visitor:
    """Dana, signed in by the website, greeted with her context and asking for a person."""
    with freeze_time(OPEN):
        agent_online(app)
        visitor = Visitor(app, sender=DANA, identity=token_for(app, "+15550100002"))
        said = visitor.texts("hi")
        assert "Hi Dana" in said
        assert "Silver Health" in said
        visitor.send("agent")
    return visitor


def snapshot(app: Any) -> dict[str, Any]:
    """Return every key in Redis but the rate-limit counters, with its value."""
    client = app.extensions["presszero.store"].redis
    out: dict[str, Any] = {}
    for raw in sorted(client.keys("*")):
        key = raw.decode()
        if ":rl:" in key:
            continue
        kind = client.type(key).decode()
        out[key] = {
            "string": lambda k: client.get(k),
            "hash": lambda k: client.hgetall(k),
            "list": lambda k: client.lrange(k, 0, -1),
            "zset": lambda k: client.zrange(k, 0, -1, withscores=True),
            "set": lambda k: client.smembers(k),
            "stream": lambda k: client.xrange(k),
        }[kind](key)
    return out


def test_the_first_answer_carries_a_token_in_a_rasa_custom_message_and_only_its_hash_is_kept(
    app: Any,
):
    with freeze_time(OPEN):
        reply = app.test_client().post(WEBHOOK, json={"sender": "web-new-1", "message": "hi"})
    messages = reply.get_json()
    assert {"recipient_id", "text", "custom"} <= messages[-1].keys()  # as Rasa sends a payload
    assert messages[-1]["recipient_id"] == "web-new-1"
    assert all(m["text"] for m in messages)  # clients that read only the text lose nothing
    token = messages[-1]["custom"]["conversation_token"]
    assert len(token) >= 40
    assert all("custom" not in m for m in messages[:-1])
    stored = json.dumps({k: repr(v) for k, v in snapshot(app).items()})
    assert token not in stored  # only a digest is kept
    assert hashlib.sha256(token.encode()).hexdigest() in stored


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"X-Presszero-Conversation": "not-the-token"}, 403),
        ({"X-Presszero-Conversation": "é" * 10}, 403),
        ({"Authorization": "Bearer not-a-key-we-know-of"}, 401),
    ],
)
def test_a_sender_id_alone_reads_nothing_of_an_identified_chat(
    app: Any, dana: Visitor, headers: dict[str, str], status: int
):
    with freeze_time(OPEN):
        reply = app.test_client().get(f"/chat/poll?sender={DANA}&after=-1", headers=headers)
    assert reply.status_code == status
    body = reply.get_data(as_text=True)
    assert set(reply.get_json()) == {"error", "message"}
    for secret in ("Dana", "Silver Health", "cancelled", "waiting", "queue_position"):
        assert secret not in body


@pytest.mark.parametrize(
    ("metadata", "headers", "status"),
    [
        ({}, {}, 401),
        ({"conversation_token": "not-the-token"}, {}, 403),
        ({}, {"X-Presszero-Conversation": "not-the-token"}, 403),
        ({"conversation_token": 12345}, {}, 401),
    ],
)
def test_a_sender_id_alone_cannot_continue_an_identified_chat(
    app: Any, dana: Visitor, metadata: dict[str, Any], headers: dict[str, str], status: int
):
    before = snapshot(app)
    with freeze_time(OPEN):
        reply = app.test_client().post(
            WEBHOOK,
            json={"sender": DANA, "message": "what is my plan?", "metadata": metadata},
            headers=headers,
        )
    assert reply.status_code == status
    assert reply.get_json()["error"] == {401: "unauthorized", 403: "forbidden"}[status]
    assert "Dana" not in reply.get_data(as_text=True)
    assert snapshot(app) == before  # nothing recorded, nothing changed


def test_another_conversations_token_does_not_open_this_one(app: Any, dana: Visitor):
    with freeze_time(OPEN):
        other = Visitor(app, sender="web-other-0001")
        other.send("hi")
        reply = app.test_client().get(
            f"/chat/poll?sender={DANA}", headers={"X-Presszero-Conversation": other.token}
        )
    assert reply.status_code == 403
    assert "Dana" not in reply.get_data(as_text=True)


def test_with_its_token_the_chat_reads_and_continues(app: Any, dana: Visitor):
    with freeze_time(OPEN):
        polled = dana.poll()
        app.extensions["presszero.chat"].agent_reply(DANA, "alex", "Hi Dana, Alex here.")
        dana.send("thanks, I'll wait")
        later = dana.poll(after=polled["messages"][-1]["id"])
    assert any("Hi Dana" in m["text"] for m in polled["messages"])
    assert polled["status"] == "waiting"
    assert [m["text"] for m in later["messages"]][-3:] == [
        "Alex has joined the chat.",
        "Hi Dana, Alex here.",
        "thanks, I'll wait",
    ]


@pytest.mark.parametrize("where", ["header", "query"])
def test_a_server_side_client_with_an_api_key_reads_and_continues_any_chat(
    app: Any, dana: Visitor, where: str
):
    headers = {"Authorization": f"Bearer {API_KEY}"} if where == "header" else {}
    query = {"token": API_KEY} if where == "query" else {}
    client = app.test_client()
    with freeze_time(OPEN):
        polled = client.get("/chat/poll", query_string={"sender": DANA, **query}, headers=headers)
        sent = client.post(
            WEBHOOK,
            query_string=query,
            json={"sender": DANA, "message": "still here"},
            headers=headers,
        )
        again = dana.poll()
    assert polled.status_code == 200
    assert any("Hi Dana" in m["text"] for m in polled.get_json()["messages"])
    assert sent.status_code == 200, sent.get_data(as_text=True)
    assert sent.get_json() == []  # a person has the chat: the bot says nothing, no new token
    assert again["messages"][-1]["text"] == "still here"


def test_a_conversation_a_server_side_client_started_gets_no_token_and_no_browser_takes_it(
    app: Any,
):
    client = app.test_client()
    key = {"Authorization": f"Bearer {API_KEY}"}
    with freeze_time(OPEN):
        first = client.post(WEBHOOK, json={"sender": "user1", "message": "hi"}, headers=key)
        taken = client.post(WEBHOOK, json={"sender": "user1", "message": "hi"})
        read = client.get("/chat/poll?sender=user1")
    assert first.status_code == 200
    assert all("custom" not in m for m in first.get_json())
    assert taken.status_code == 403
    assert read.status_code == 401
    assert not app.extensions["presszero.store"].redis.exists("pz:conv:{chat:user1}:token")


def test_an_anonymous_chat_goes_on_by_its_sender_id_as_rasa_clients_send_it(app: Any):
    """Rasa's REST contract: {"sender", "message"} and nothing else; its transcript and an
    agent's replies are read only with its token."""
    client = app.test_client()
    with freeze_time(OPEN):
        agent_online(app)
        first = client.post(WEBHOOK, json={"sender": "user1", "message": "hi"})
        then = client.post(WEBHOOK, json={"sender": "user1", "message": "agent"})
        read = client.get("/chat/poll?sender=user1")
        dana = {"identity": token_for(app, "+15550100002")}
        signed = client.post(WEBHOOK, json={"sender": "user1", "message": "?", "metadata": dana})
    assert first.status_code == 200
    assert "custom" in first.get_json()[-1]  # the widget's token, for reading the chat
    assert then.status_code == 200, then.get_data(as_text=True)
    assert "passing you to a person" in " ".join(m["text"] for m in then.get_json())
    assert all("custom" not in m for m in then.get_json())  # no second token
    assert read.status_code == 401  # the transcript and an agent's replies: its token only
    assert signed.status_code == 401  # signing a customer in takes the token


def test_signing_in_closes_an_anonymous_chat_to_all_but_its_token(app: Any):
    client = app.test_client()
    with freeze_time(OPEN):
        first = client.post(WEBHOOK, json={"sender": "web-later-dana", "message": "hi"})
        token = first.get_json()[-1]["custom"]["conversation_token"]
        dana = {"identity": token_for(app, "+15550100002"), "conversation_token": token}
        signed = client.post(
            WEBHOOK, json={"sender": "web-later-dana", "message": "hi", "metadata": dana}
        )
        anyone = client.post(WEBHOOK, json={"sender": "web-later-dana", "message": "my plan?"})
    assert signed.status_code == 200
    assert anyone.status_code == 401
    assert "Dana" not in anyone.get_data(as_text=True)


@pytest.mark.parametrize("identified", [True, False])
def test_of_two_first_messages_for_one_sender_only_one_gets_the_token(app: Any, identified: bool):
    access = app.extensions["presszero.chat_access"]
    redis = app.extensions["presszero.store"].redis
    verdicts: list[Any] = []
    pipes = [redis.pipeline(transaction=False) for _ in range(2)]
    checks = [
        access.queue_message(pipe, f"web-race-{identified}", Credentials(), identified=identified)
        for pipe in pipes
    ]
    for pipe, check in zip(pipes, checks, strict=True):
        try:
            verdicts.append(check(pipe.execute()))
        except Refused as exc:
            verdicts.append(exc.status)
    assert isinstance(verdicts[0], str)
    assert len(verdicts[0]) >= 40
    assert verdicts[1] == (401 if identified else "")  # anonymous: goes on, without a token


def test_polls_are_limited_like_messages_with_a_429(app: Any, dana: Visitor):
    with freeze_time(OPEN):
        for _ in range(5):
            dana.poll()
        reply = dana.client.get(
            f"/chat/poll?sender={DANA}", headers={"X-Presszero-Conversation": dana.token}
        )
        other = Visitor(app, sender="web-other-0002")
        other.send("hi")
        others = other.poll()  # the limit is per sender
    assert reply.status_code == 429
    assert reply.get_json()["error"] == "too_many_requests"
    assert 0 < int(reply.headers["Retry-After"]) <= 60
    assert "Dana" not in reply.get_data(as_text=True)
    assert others["status"] == "bot"


def test_guessing_tokens_is_limited_too(app: Any, dana: Visitor):
    with freeze_time(OPEN):
        answers = [
            app.test_client()
            .get(f"/chat/poll?sender={DANA}", headers={"X-Presszero-Conversation": f"guess-{n}"})
            .status_code
            for n in range(7)
        ]
    assert answers == [403] * 5 + [429] * 2
