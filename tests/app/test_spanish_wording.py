"""A Spanish flow through the real app: every word presszero adds is Spanish, on both channels.

The flow writes its own words in Spanish; everything else a caller hears or a visitor reads
(misses, the way to a person, keys, the queue, the hours, the callback, the chat's message
taking) is presszero's, and must come from the catalogue's Spanish.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from freezegun import freeze_time
from support.chat import Visitor
from support.consoles import PASSWORD, signed_in
from support.flow_builders import write_flow
from support.smtp import MailServer
from support.twilio_client import Call
from support.wording import SOPORTE, english_leaks

from presszero.context.agents import AgentStore
from presszero.context.clock import FixedClock

OPEN = "2026-11-05T15:00:00Z"  # Thursday 10:00 in New York
CLOSED = "2026-11-08T15:00:00Z"  # Sunday: closed all day

HOURS = "de lunes a viernes, de 8:00 a 20:00 y los sábados, de 9:00 a 13:00, hora del Este"


@pytest.fixture
def app(make_app: Any, tmp_path: Path) -> Any:
    flows = tmp_path / "flows"
    flows.mkdir()
    write_flow(flows, SOPORTE, "soporte.yaml")
    return make_app(PRESSZERO_FLOWS=str(flows), PRESSZERO_FLOW="soporte")


def path_of(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path, dict(parse_qsl(parts.query))


def said(call: Call) -> str:
    return " ".join(call.said)


@freeze_time(OPEN)
def test_a_spanish_caller_not_understood_waits_in_line_and_asks_for_a_call_back_in_spanish(
    app: Any,
):
    call = Call(app.test_client())
    start = call.start()
    assert start.find("Gather/Say").get("language") == "es-US"
    call.silence()
    queued = call.press("7")  # the second miss: to a person, who is not free yet
    enqueue = queued.find("Enqueue")
    assert enqueue is not None
    wait_path, wait_query = path_of(enqueue.get("waitUrl", ""))
    waiting = call.twiml(
        f"{wait_path}?call={wait_query['call']}&queue=support", QueuePosition="1", QueueTime="0"
    )
    choice = waiting.find("Gather")
    assert choice is not None
    call.twiml(choice.get("action", ""), Digits="1")
    call.twiml(enqueue.get("action", ""), QueueResult="leave")
    heard = said(call)
    for spanish in (
        "¿En qué le puedo ayudar? Para facturación, oprima 1.",
        "Para hablar con una persona, oprima 0 en cualquier momento.",
        "Lo siento, no escuché nada.",
        "Usted es el número 1 en la fila.",
        "En este momento no hay nadie disponible para contestar.",
        "Para que le devolvamos la llamada en lugar de esperar, oprima 1.",
        "De acuerdo, vamos a programar su llamada de regreso.",
        "Lo siento, en este momento no hay nadie disponible para atenderle.",
        "Podemos devolverle la llamada al número que termina en 9 9 9 9.",
    ):
        assert spanish in heard
    assert english_leaks(heard) == []
    assert all(s.get("language") == "es-US" for s in (call.last or start).iter("Say"))


@freeze_time(CLOSED)
def test_a_spanish_caller_out_of_hours_hears_the_hours_and_books_a_call_back_in_spanish(
    app: Any,
):
    call = Call(app.test_client())
    call.start()
    call.press("0")
    call.press("6502530000#")
    call.press("1")
    end = call.press("2")
    assert end.find("Hangup") is not None
    heard = said(call)
    for spanish in (
        f"En este momento estamos cerrados. Nuestro horario es {HOURS}.",
        "Para usar este número, oprima 1. Para otro número, márquelo ahora y luego oprima "
        "la tecla numeral.",
        "Entendido: el número que termina en 0 0 0 0. Si es correcto, oprima 1.",
        "¿Cuándo prefiere que le llamemos? Lo antes posible, oprima 1. Por la mañana, oprima 2.",
        "Gracias. Le llamaremos al número que termina en 0 0 0 0 mañana por la mañana. Adiós.",
    ):
        assert spanish in heard
    assert english_leaks(heard) == []
    # the call back, when the customer picks it up, greets them in Spanish too
    greeting = call.twiml(f"/voice/callbacks/customer?cb=voice:{call.sid}&n=1")
    says = [(s.text, s.get("language")) for s in greeting.iter("Say")]
    assert says == [("Hola, le devolvemos la llamada que solicitó. Le comunico ahora.", "es-US")]


def read(replies: list[dict[str, Any]]) -> str:
    return " ".join(
        [r["text"] for r in replies] + [b["title"] for r in replies for b in r.get("buttons", [])]
    )


@freeze_time(OPEN)
def test_a_spanish_visitor_with_no_one_in_leaves_a_message_in_spanish(app: Any):
    visitor = Visitor(app, sender="es-visitor-0001")
    shown = [visitor.send("hola")]
    buttons = [b["title"] for b in shown[0][-1]["buttons"]]
    assert buttons == ["Facturación", "Hablar con una persona"]
    shown.append(visitor.send("xyzzy"))
    shown.append(visitor.send("agente"))
    shown.append(visitor.send("Me cobraron dos veces este mes."))
    asked = shown[-1][-1]
    assert [b["title"] for b in asked["buttons"]] == ["Aquí está bien"]
    shown.append(visitor.send("/reply here"))
    shown.append(visitor.send("agente"))
    shown.append(visitor.send("Fue el día 3."))
    text = " ".join(read(replies) for replies in shown)
    for spanish in (
        "Lo siento, no le entendí.",
        "Para hablar con una persona, escriba agente en cualquier momento.",
        "Lo siento, en este momento no hay nadie disponible en el chat.",
        "Deje un mensaje y le responderemos aquí.",
        "Gracias, recibimos su mensaje. ¿De qué otra forma le hacemos llegar la respuesta?",
        "Mensaje enviado: le responderemos aquí.",
        "Todavía no hay nadie disponible en el chat. Ya tenemos su mensaje y le responderemos "
        "aquí.",
        "Lo agregué a su mensaje. Le responderemos aquí.",
    ):
        assert spanish in text
    assert "press" not in text.lower()
    assert "oprima" not in text
    assert english_leaks(text) == []


@freeze_time(CLOSED)
def test_a_spanish_visitor_out_of_hours_reads_the_hours_in_spanish(app: Any):
    visitor = Visitor(app, sender="es-visitor-0002")
    visitor.send("hola")
    text = read(visitor.send("agente"))
    assert f"En este momento estamos cerrados (horario: {HOURS})." in text
    assert english_leaks(text) == []


def test_the_answer_to_a_message_left_in_spanish_is_emailed_and_shown_in_spanish(
    make_app: Any, redis_client: Any, tmp_path: Path
):
    flows = tmp_path / "flows"
    flows.mkdir()
    write_flow(flows, SOPORTE, "soporte.yaml")
    AgentStore(redis_client).add("alex", PASSWORD)
    clock = FixedClock(datetime(2026, 11, 8, 15, 0, tzinfo=UTC))  # Sunday: closed
    with MailServer() as mail:
        app = make_app(
            PRESSZERO_FLOWS=str(flows), PRESSZERO_FLOW="soporte", PRESSZERO_CLOCK=clock,
            **mail.config,
        )  # fmt: skip
        visitor = Visitor(app, sender="es-visitor-0003")
        visitor.send("hola")
        visitor.send("agente")
        visitor.send("Me cobraron dos veces este mes.")
        visitor.send("ana.lopez@example.org")
        clock.moment = datetime(2026, 11, 9, 15, 0, tzinfo=UTC)  # Monday: open
        agent, token = signed_in(app)
        answer = "Ya le devolvimos el segundo cargo."
        hid = f"chat:{visitor.sender}"
        agent.post(f"/agent/messages/{hid}/answer", data={"csrf": token, "text": answer})
        sent = mail.wait_for_one()
    assert sent.message["Subject"] == "Una respuesta a su mensaje para Example Health Support"
    assert sent.body.startswith("Hola:\n")
    assert "Usted dejó este mensaje en el chat del sitio web de Example Health Support:" in (
        sent.body
    )
    assert "Alex, de nuestro equipo de support, respondió:" in sent.body
    assert "También puede leer esto en el chat y responder allí." in sent.body
    assert english_leaks(sent.body) == []
    system = [m for m in visitor.poll()["messages"] if m["from"] == "system"]
    assert system[-2]["text"] == (
        "Alex respondió a su mensaje; también se lo enviamos por correo electrónico a "
        "a…@example.org. ¿Algo más? Solo escríbalo aquí."
    )
    assert system[-1]["text"] == "Una pregunta rápida, si gusta: ¿pudimos resolverlo?"
    assert [b["title"] for b in system[-1]["buttons"]] == ["Sí, resuelto", "La verdad, no"]
