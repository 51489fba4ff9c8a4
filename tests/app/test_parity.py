"""The same flow through voice and chat makes the same decisions."""

from __future__ import annotations

from typing import Any

import pytest
from freezegun import freeze_time
from support.chat import OPEN, Visitor, agent_online, token_for
from support.twilio_client import Call

from presszero.context.conversations import ConversationStore
from presszero.context.demo import load_demo
from presszero.context.store import ContextStore


@pytest.fixture
def app(make_app: Any, store: ContextStore) -> Any:
    with freeze_time(OPEN):
        load_demo(store)
    return make_app()


def decisions(state: dict[str, Any] | None) -> tuple[str, str, str]:
    assert state is not None
    return state["step"], state["status"], state["escape_reason"]


@freeze_time(OPEN)
@pytest.mark.parametrize(
    ("customer", "inputs"),
    [
        ("+15550109999", ["1", "2"]),
        ("+15550109999", ["billing", "a charge", "0"]),
        ("+15550109999", ["purple", "cabbage"]),
        ("+15550100002", ["1", "1", "1"]),
        ("+15550100002", ["new plan", "agent"]),
        ("+15550100003", ["1", "1"]),
        ("+15550100004", []),
        ("+15550100001", ["4", "this is useless"]),
    ],
)
def test_voice_and_chat_take_the_same_steps_for_the_same_inputs(
    app: Any, customer: str, inputs: list[str]
):
    agent_online(app)
    conversations = ConversationStore(app.extensions["presszero.store"].redis)
    call = Call(app.test_client(), caller=customer)
    chat = Visitor(app, identity=token_for(app, customer))
    call.start()
    chat.send("hi")
    voice_steps = [decisions(conversations.load("voice", call.sid).state)]
    chat_steps = [decisions(conversations.load("chat", chat.sender).state)]
    for given in inputs:
        if voice_steps[-1][1] != "prompt":
            break
        call.press(given) if given.isdigit() else call.speak(given)
        chat.send(given)
        voice_steps.append(decisions(conversations.load("voice", call.sid).state))
        chat_steps.append(decisions(conversations.load("chat", chat.sender).state))
    assert voice_steps == chat_steps
