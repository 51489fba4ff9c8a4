"""The shipped line in two languages, end to end: who hears Spanish first, who is asked, what
the agent is told, and a choice remembered for the next call."""

from __future__ import annotations

from typing import Any

import pytest
from freezegun import freeze_time
from support.twilio_client import LANGUAGE_CHOICE, Call, first_say

from presszero.context.clock import SystemClock
from presszero.context.demo import load_demo
from presszero.context.store import ContextStore

OPEN = "2026-11-23T15:00:00Z"  # Monday 10:00 in New York: the line is open
PASSWORD = "correct horse battery staple"
LUCIA = "+15550100006"


@pytest.fixture
def app(make_app: Any, store: ContextStore) -> Any:
    with freeze_time(OPEN):
        load_demo(store)
    return make_app()


def said(root: Any) -> str:
    return " ".join(s.text or "" for s in root.iter("Say"))


@freeze_time(OPEN)
def test_the_spanish_speaking_demo_customer_hears_spanish_first_and_0_tells_the_agent(app: Any):
    agents = app.extensions["presszero.agents"]
    agents.add("ann", PASSWORD, endpoint="+15550107001")
    agents.set_status("ann", "available", SystemClock().now())
    call = Call(app.test_client(), caller=LUCIA, choose="")
    first = said(call.start())
    assert not first.startswith(LANGUAGE_CHOICE)
    assert first.startswith("Hola, Lucía"), first
    assert "oprima 0" in first
    assert "press" not in first
    dialled = call.press("0")
    dial = dialled.find("Dial")
    assert dial is not None, said(dialled)
    whisper = said(call.twiml(dial[0].get("url", "")))
    assert whisper.startswith("A call from Lucía Gómez. They speak Spanish."), whisper


@freeze_time(OPEN)
def test_an_unknown_caller_who_presses_2_hears_spanish_now_and_next_time(app: Any):
    caller = "+15550104242"
    store = app.extensions["presszero.store"]
    call = Call(app.test_client(), caller=caller, choose="")
    assert first_say(call.start()).startswith(LANGUAGE_CHOICE)
    spanish = said(call.press("2"))
    assert "¿En qué le puedo ayudar?" in spanish, spanish
    assert "Para facturación, oprima 1" in spanish
    assert "press" not in spanish
    billing = said(call.press("1"))
    assert "oprima" in billing
    assert "press" not in billing
    assert store.redis.get(f"pz:lang:{caller}") == b"es-US"
    again = Call(app.test_client(), caller=caller, choose="")
    first = said(again.start())
    assert not first.startswith(LANGUAGE_CHOICE)
    assert "¿En qué le puedo ayudar?" in first


def chat(app: Any, sender: str, message: str, **metadata: str) -> list[dict[str, Any]]:
    reply = app.test_client().post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": message, "metadata": metadata}
    )
    assert reply.status_code == 200, reply.get_data(as_text=True)
    messages: list[dict[str, Any]] = reply.get_json()
    return messages


def shown(messages: list[dict[str, Any]]) -> str:
    texts = [m.get("text", "") for m in messages]
    titles = [b["title"] for m in messages for b in m.get("buttons", [])]
    return " | ".join([*texts, *titles])


@freeze_time(OPEN)
def test_the_chat_follows_the_browser_language_of_a_visitor_it_does_not_know(app: Any):
    spanish = shown(chat(app, "visitor-es", "hola", language="es-MX"))
    assert "¿En qué le puedo ayudar?" in spanish
    assert "Facturación" in spanish
    assert "Hablar con una persona" in spanish
    for english in ("press", "oprima", "What can I help you with", "Billing"):
        assert english not in spanish
    english = shown(chat(app, "visitor-fr", "bonjour", language="fr-FR"))
    assert "What can I help you with?" in english  # a language the flow does not speak
    odd = shown(chat(app, "visitor-odd", "hi", language="<script>"))
    assert "What can I help you with?" in odd
