"""Forgetting a customer leaves no trace: not in their record, calls, chats or handoffs."""

from __future__ import annotations

from typing import Any

from freezegun import freeze_time
from support.chat import OPEN, Visitor, agent_online, token_for
from support.servers import contents
from support.twilio_client import Call

from presszero.context.demo import load_demo
from presszero.context.store import ContextStore

TRACES = (b"cus_1002", b"5550100002", b"dana@example.com", b"Dana", b"Reyes")


def every_key_holding_a_trace(store: ContextStore) -> list[bytes]:
    return [
        key
        for key in store.redis.scan_iter("*")
        if any(t in key or t in contents(store, key) for t in TRACES)
    ]


@freeze_time(OPEN)
def test_forget_erases_calls_chats_and_handoffs_too(make_app: Any, store: ContextStore):
    load_demo(store)
    app = make_app()
    agent_online(app)
    call = Call(app.test_client(), caller="+15550100002")
    call.start()
    call.press("0")
    call.post("/voice/status", CallStatus="completed")
    chat = Visitor(app, identity=token_for(app, "dana@example.com"))
    chat.send("hi")
    chat.send("agent")
    chat.send("my plan was cancelled by mistake")
    assert every_key_holding_a_trace(store)  # the test can see traces when there are some
    assert store.forget("cus_1002") is True
    assert every_key_holding_a_trace(store) == []
    assert store.get("cus_1001") is not None
