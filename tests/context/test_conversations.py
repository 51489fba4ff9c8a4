"""A turn's commit: what it stores, and what a turn that lost the race leaves behind."""

from __future__ import annotations

import json

import pytest
import redis
from support.builders import record

from presszero.context.conversations import ConversationStore, Writes
from presszero.context.models import Customer
from presszero.context.store import ContextStore, linked_key

TALLY = "pz:stats:{support}:2026-11-23"


@pytest.fixture
def conversations(redis_client: redis.Redis) -> ConversationStore:
    return ConversationStore(redis_client)


def test_a_commit_stores_the_state_the_response_and_what_came_with_it(
    conversations: ConversationStore, redis_client: redis.Redis
):
    store = ContextStore(redis_client)
    store.upsert([Customer.from_dict(record(id="cus_cv1", phones=["+15550107001"]))])
    customer = store.get("cus_cv1")
    assert customer is not None
    then = Writes().hincrby(TALLY, "started:voice", 1)
    turn = conversations.commit(
        "voice", "CA-cv1", 0, {"step": "main"}, "<Response>0</Response>",
        customer=customer, meta={"from": "+15550107001", "to": "+15550009999"},
        fields={"outcome": "handoff"}, then=then,
    )  # fmt: skip
    assert turn == 1
    stored = redis_client.hgetall(conversations.key("voice", "CA-cv1"))
    assert json.loads(stored[b"state"]) == {"step": "main"}
    assert stored[b"turn"] == b"1"
    assert stored[b"resp:0"] == b"<Response>0</Response>"
    assert json.loads(stored[b"meta"]) == {"from": "+15550107001", "to": "+15550009999"}
    assert stored[b"outcome"] == b"handoff"
    assert json.loads(stored[b"customer"])["profile"]["id"] == "cus_cv1"
    assert redis_client.hget(TALLY, "started:voice") == b"1"
    linked = redis_client.zrange(linked_key("pz", "cus_cv1"), 0, -1)
    assert conversations.key("voice", "CA-cv1").encode() in linked
    loaded = conversations.load("voice", "CA-cv1", 1)
    assert (loaded.number, loaded.state, loaded.replay) == (1, {"step": "main"}, None)
    assert loaded.meta["to"] == "+15550009999"
    assert loaded.customer is not None
    assert loaded.customer.id == "cus_cv1"


def test_a_turn_that_lost_the_race_gets_the_winners_answer_and_writes_only_its_before(
    conversations: ConversationStore, redis_client: redis.Redis
):
    key = conversations.key("chat", "visitor-race")
    transcript = key + ":msgs"
    assert conversations.commit("chat", "visitor-race", 0, {"n": 1}, "first") == 1
    before = Writes().rpush(transcript, "the visitor's line")
    won = Writes().rpush(transcript, "the bot's answer")
    then = Writes().hincrby(TALLY, "raced", 1)
    lost = conversations.commit(
        "chat", "visitor-race", 0, {"n": 2}, "second", before=before, won=won, then=then
    )
    assert lost == "first"
    assert redis_client.lrange(transcript, 0, -1) == [b"the visitor's line"]
    assert redis_client.hget(TALLY, "raced") is None
    assert json.loads(redis_client.hget(key, "state")) == {"n": 1}
    assert conversations.load("chat", "visitor-race", 0).replay == "first"
    # The next turn wins: its before, then its won, in that order.
    assert (
        conversations.commit(
            "chat", "visitor-race", 1, {"n": 3}, "third", before=before, won=won, then=then
        )
        == 2
    )
    assert redis_client.lrange(transcript, 0, -1) == [
        b"the visitor's line", b"the visitor's line", b"the bot's answer",
    ]  # fmt: skip
    assert redis_client.hget(TALLY, "raced") == b"1"


def test_writes_carry_arguments_as_redis_py_would_send_them():
    writes = Writes().zadd("z", {"member": 1.5}).expire("k", 60).set("b", b"bytes", nx=True)
    assert json.loads(writes.to_json()) == [
        ["ZADD", "z", "1.5", "member"], ["EXPIRE", "k", "60"], ["SET", "b", "bytes", "NX"],
    ]  # fmt: skip
    with pytest.raises(TypeError, match="not a Redis argument"):
        Writes().set("k", True).to_json()  # type: ignore[arg-type]


def test_writes_carry_any_text_through_the_commit_script_unchanged(
    conversations: ConversationStore, redis_client: redis.Redis
):
    text = 'héllo 👋 𝄞 "quoted" \\ back\u2028slash \x01 ☎'
    transcript = conversations.key("chat", "visitor-text") + ":msgs"
    conversations.commit(
        "chat", "visitor-text", 0, {"said": text}, text,
        before=Writes().rpush(transcript, text), won=Writes().rpush(transcript, text + "!"),
    )  # fmt: skip
    assert redis_client.lrange(transcript, 0, -1) == [text.encode(), (text + "!").encode()]
    assert conversations.load("chat", "visitor-text", 0).replay == text
    assert conversations.load("chat", "visitor-text").state == {"said": text}
