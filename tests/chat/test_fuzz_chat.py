"""Bad input, generated, against the chat API and the automation check.

Whatever arrives — any JSON shape, raw bytes under any content type, odd Unicode, oversized
bodies — the answer is a JSON list of bot messages or a 4xx JSON error `{"error", "message"}`:
never a 5xx. What a visitor typed is data: JSON to the widget (which sets it as text), and
escaped in the agent inbox's HTML. The chat API is also checked by schemathesis against the
OpenAPI description we ship (`chat/openapi.yaml`).
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from freezegun import freeze_time
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from presszero.context.agents import AgentStore
from presszero.context.clock import FixedClock
from presszero.context.demo import load_demo
from presszero.context.store import ContextStore

OPEN = "2026-11-23T15:00:00Z"  # Monday 10:00 in New York: people are at work
OPEN_AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
KEY = "automation-key-for-fuzzing"
CHAT_KEY = "chat-api-key-for-fuzzing"
PASSWORD = "correct horse battery"
WEBHOOK = "/webhooks/rest/webhook"
OPENAPI = Path(__file__).resolve().parents[2] / "chat" / "openapi.yaml"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text a visitor might type to break something: markup, XML, template fields, control
# characters, bidi overrides, astral characters, and long runs.
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</Say><Dial>+15550000000</Dial><Say>",
    "]]><![CDATA[<b>x</b>",
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>&e;',
    "&amp; &lt; &#x3C; &#60;",
    "{customer.first_name} {{ 7*7 }} {% raw %}",
    "\x00\x07\x1b[31mred\x1b[0m\r\n\t\x7f",
    "\u202eevil\u202c \ufeff \u200b",
    "😀" * 300,
    "agent" * 400,
    "a" * 2000,
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=120),
    st.text(alphabet=st.sampled_from("<>&\"'/=;![]{}% agentbill\x00\x0b\r\n\t"), max_size=60),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=16,
)
SENDER = r"[A-Za-z0-9_.:-]{8,128}"
senders = st.from_regex(r"[A-Za-z0-9_.:-]{8,40}", fullmatch=True)
metadata = st.one_of(
    st.none(),
    json_values,
    st.fixed_dictionaries({}, optional={"identity": st.one_of(json_scalars, st.just("a.b"))}),
)
visitor_messages = st.fixed_dictionaries(
    {"sender": senders, "message": hostile_text}, optional={"metadata": metadata}
)
rasa_bodies = st.fixed_dictionaries(
    {"sender": st.one_of(senders, json_scalars)},
    optional={"message": st.one_of(hostile_text, json_scalars), "metadata": metadata},
)
NOT_JSON = [
    "text/plain",
    "text/html",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "application/javascript",
    "",
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "Application/JSON",
    "application/vnd.api+json",
    *NOT_JSON,
]
raw_bodies = st.one_of(
    st.binary(max_size=400),
    json_values.map(lambda v: json.dumps(v).encode()),
    rasa_bodies.map(lambda v: json.dumps(v).encode()),
    st.sampled_from(
        [
            b"",
            b"null",
            b"{",
            b'{"sender": NaN, "message": Infinity}',
            b'{"sender": "web-visitor-0001", "message": "\\ud800"}',
            b'{"sender": "web-visitor-0001", "message": "hi", "sender": 1}',
            b"\xef\xbb\xbf" + b'{"sender": "web-visitor-0001", "message": "hi"}',
            '{"sender": "web-visitor-0001", "message": "h\u00e9"}'.encode("utf-16"),
            b'{"sender": "web-visitor-0001", "message": "' + b"\xff\xfe" + b'"}',
            b"[" * 50 + b"]" * 50,
        ]
    ),
)

SERVER = {"Authorization": f"Bearer {CHAT_KEY}"}  # a server-side client: reads any sender
_numbers = itertools.count(1)


def fresh() -> tuple[str, dict[str, str]]:
    """Return a sender and a client address no earlier example used (so no rate limit bites)."""
    n = next(_numbers)
    address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
    return f"fuzz-visitor-{n:06d}", {"REMOTE_ADDR": address}


@pytest.fixture
def app(make_app: Any, store: ContextStore) -> Any:
    with freeze_time(OPEN):
        load_demo(store)
    AgentStore(store.redis).add("alex", PASSWORD)
    return make_app(
        PRESSZERO_CLOCK=FixedClock(OPEN_AT),
        PRESSZERO_AUTOMATION_KEY=KEY,
        PRESSZERO_CHAT_API_KEYS=CHAT_KEY,
    )


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def is_valid_rasa_body(body: Any) -> bool:
    """Return True when `body` is a request the OpenAPI description says must be taken."""
    if not isinstance(body, dict) or not set(body) <= {"sender", "message", "metadata"}:
        return False
    sender, message, meta = body.get("sender"), body.get("message", ""), body.get("metadata")
    return (
        isinstance(sender, str)
        and 8 <= len(sender) <= 128
        and all(ch.isascii() and (ch.isalnum() or ch in "-_.:") for ch in sender)
        and isinstance(message, str)
        and len(message) <= 2000
        and (meta is None or isinstance(meta, dict))
        and (not isinstance(meta, dict) or isinstance(meta.get("identity", ""), str))
    )


def json_answer(reply: Any) -> Any:
    """Return the reply's JSON after checking it is a bot-message list or a 4xx JSON error."""
    assert reply.status_code < 500, reply.get_data(as_text=True)
    assert reply.mimetype == "application/json", reply.mimetype
    data = json.loads(reply.get_data(as_text=True))
    if reply.status_code == 200:
        assert isinstance(data, list)
        tokens = [m for m in data if "custom" in m]  # a new conversation's token, once, last
        assert tokens in ([], data[-1:]), data
        for message in tokens:  # beside the last message's text, as Rasa sends a payload
            assert set(message["custom"]) == {"conversation_token"}
            assert len(message["custom"]["conversation_token"]) >= 32
        for message in data:  # every message has its text, as the REST contract says
            assert {"recipient_id", "text"} <= set(message)
            assert set(message) <= {"recipient_id", "text", "buttons", "custom"}
            assert isinstance(message["recipient_id"], str)
            assert isinstance(message["text"], str)
            assert message["text"].strip()
            for button in message.get("buttons", []):
                assert set(button) == {"title", "payload"}
                assert all(isinstance(v, str) and v for v in button.values())
    else:
        assert 400 <= reply.status_code < 500
        assert isinstance(data, dict)
        assert set(data) == {"error", "message"}
        assert isinstance(data["error"], str)
        assert data["error"]
        assert isinstance(data["message"], str)
        assert data["message"]
    return data


# -- the Rasa REST webhook ----------------------------------------------------------------


@FUZZ
@given(body=st.one_of(visitor_messages, rasa_bodies, json_values))
@example(body={"sender": "fuzz-visitor", "message": "<script>alert(1)</script>"})
@example(body={"sender": "fuzz-visitor", "message": "hi", "metadata": {"identity": "\ud800.x"}})
@example(body={"sender": "fuzz-visitor", "message": "\x00" * 2000, "metadata": None})
def test_any_json_body_gets_bot_messages_or_a_json_error(client: Any, body: Any):
    sender, address = fresh()
    if isinstance(body, dict) and re.fullmatch(SENDER, str(body.get("sender"))):
        body["sender"] = sender  # a fresh conversation, so a valid body always gets the bot
    reply = client.post(WEBHOOK, json=body, environ_base=address)
    data = json_answer(reply)
    if is_valid_rasa_body(body):
        assert reply.status_code == 200, data
        assert data[:-1], "a new conversation always gets at least one bot message and a token"
        assert {m["recipient_id"] for m in data} == {sender}


@FUZZ
@given(
    body=raw_bodies, content_type=st.one_of(st.sampled_from(CONTENT_TYPES), st.text(max_size=40))
)
def test_raw_bytes_under_any_content_type_get_bot_messages_or_a_json_error(
    client: Any, body: bytes, content_type: str
):
    _, address = fresh()
    sent_type = content_type if content_type.isprintable() else ""
    headers = {"Content-Type": sent_type} if sent_type else {}
    reply = client.post(WEBHOOK, data=body, headers=headers, environ_base=address)
    json_answer(reply)
    if sent_type in NOT_JSON:
        assert reply.status_code == 415
    elif sent_type in CONTENT_TYPES:  # JSON: judged by what the body holds, never refused as
        assert reply.status_code != 415  # the wrong type


def test_an_oversized_body_gets_a_413_json_error(client: Any):
    for size in [16 * 1024 + 1, 1024 * 1024 + 1, 4 * 1024 * 1024]:  # ours, Flask's, far past
        body = json.dumps({"sender": "web-visitor-0001", "message": "x" * size}).encode()
        reply = client.post(WEBHOOK, data=body, content_type="application/json")
        assert reply.status_code == 413, size
        assert json_answer(reply)["error"] == "too_large"


@pytest.mark.parametrize(
    ("path", "headers"),
    [(WEBHOOK, {}), ("/automation/check", {"Authorization": f"Bearer {KEY}"})],
)
def test_deeply_nested_json_gets_a_400_json_error(client: Any, path: str, headers: dict):
    body = b'{"sender": "web-visitor-0001", "metadata": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    reply = client.post(path, data=body, content_type="application/json", headers=headers)
    assert reply.status_code == 400
    json_answer(reply)


@pytest.mark.parametrize("token", ["é.é", "\u2603." + "a" * 64, "a.\ud800", "\ud800.b"])
def test_an_identity_token_with_non_ascii_characters_is_ignored_not_an_error(
    client: Any, token: str
):
    sender, _ = fresh()
    body = {"sender": sender, "message": "hi", "metadata": {"identity": token}}
    said = " ".join(m.get("text", "") for m in json_answer(client.post(WEBHOOK, json=body)))
    assert "Thanks for getting in touch" in said
    assert "having trouble" not in said


# -- the poll -------------------------------------------------------------------------------


@FUZZ
@given(
    sender=st.one_of(senders, hostile_text),
    after=st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.text(max_size=30),
        st.sampled_from(["", "NaN", "inf", "-1e9", "0x10", "1_000", " 7 ", "\u0663", "1" * 5000]),
    ),
)
def test_any_poll_gets_a_transcript_or_a_json_error(client: Any, sender: str, after: str):
    query = {"sender": sender, "after": after}
    unknown = client.get("/chat/poll", query_string=query, environ_base=fresh()[1])
    assert unknown.status_code in (400, 401), unknown.get_data(as_text=True)
    assert set(unknown.get_json()) == {"error", "message"}
    reply = client.get("/chat/poll", query_string=query, headers=SERVER, environ_base=fresh()[1])
    assert reply.status_code in (200, 400), reply.get_data(as_text=True)
    assert reply.mimetype == "application/json"
    data = reply.get_json()
    if reply.status_code == 200:
        assert set(data) == {"messages", "status", "queue_position", "agent"}
        assert data["messages"] == []  # no one has written to a random sender
        assert data["status"] == "bot"  # and Redis is up: never reported as an outage
    else:
        assert set(data) == {"error", "message"}


def test_a_poll_after_an_id_past_any_transcript_is_answered_not_reported_as_an_outage(
    client: Any,
):
    for after in [str(2**63 - 1), str(2**64), "9" * 40]:
        query = {"sender": "web-visitor-0001", "after": after}
        reply = client.get("/chat/poll", query_string=query, headers=SERVER)
        assert reply.status_code in (200, 400), after
        assert reply.get_json().get("status") != "unavailable", after


# -- the automation check -------------------------------------------------------------------

automation_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "customer": st.one_of(
                st.sampled_from(
                    ["cus_1002", "+15550100002", "dana@example.com", " (555) 010-0002 "]
                ),
                hostile_text,
                json_scalars,
            ),
            "kind": st.one_of(
                st.sampled_from(["welcome_new_plan", "thanks_for_call"]), hostile_text
            ),
        },
    ),
)


@FUZZ
@given(
    body=automation_bodies,
    key=st.sampled_from([KEY, "", "wrong", KEY + " ", "é"]),
    as_json=st.booleans(),
)
def test_any_automation_check_gets_a_decision_or_a_json_error(
    client: Any, body: Any, key: str, as_json: bool
):
    headers = {"Authorization": f"Bearer {key}"}
    if as_json:
        reply = client.post("/automation/check", json=body, headers=headers)
    else:
        reply = client.post("/automation/check", data=json.dumps(body), headers=headers)
    assert reply.status_code < 500, reply.get_data(as_text=True)
    assert reply.mimetype == "application/json"
    data = reply.get_json()
    if key.strip() != KEY:
        assert reply.status_code == 401
    if reply.status_code == 200:
        assert data["decision"] in ("allow", "suppress", "replace")
        assert as_json
    else:
        assert data["error"]
        assert data["message"]


def test_a_customer_with_a_lone_surrogate_gets_an_answer_not_a_server_error(client: Any):
    for customer in ["\ud800", "a@\ud800", "1\udfff"]:  # an id, an email, a phone
        body = json.dumps({"customer": customer, "kind": "welcome_new_plan"})
        reply = client.post(
            "/automation/check",
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {KEY}"},
        )
        assert reply.status_code in (200, 400), repr(customer)


# -- the agent inbox --------------------------------------------------------------------------


VOID = {"br", "img", "input", "hr", "meta", "link", "source", "wbr", "area", "base", "col"}


class Transcript(HTMLParser):
    """The inbox page's transcript as the browser sees it: each line's speaker and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # > 0 inside <ul id="transcript">
        self.lines: list[list[str]] = []  # [who, text] per <li>
        self.tags: list[str] = []  # every tag opened inside the transcript
        self.in_who = False
        self.in_line = False
        self.in_time = False  # the line's time, ours: not part of what was said

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            ours = tag == "time" and [name for name, _ in attrs] == ["datetime", "data-local"]
            self.tags.append("time (ours)" if ours else tag)
            self.depth += tag not in VOID
            if tag == "li":
                self.lines.append(["", ""])
                self.in_line = True
            self.in_who = tag == "span" and ("class", "who") in attrs
            self.in_time = ours
        elif tag == "ul" and ("id", "transcript") in attrs:
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in VOID:
            self.depth -= 1
            self.in_who = self.in_time = False
            self.in_line = self.in_line and tag != "li"

    def handle_data(self, data: str) -> None:
        if self.in_line and not self.in_time:
            self.lines[-1][0 if self.in_who else 1] += data


def signed_in(app: Any) -> Any:
    """Return a test client signed in to the inbox as the agent alex."""
    client = app.test_client()
    page = client.get("/agent/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None
    reply = client.post(
        "/agent/login", data={"name": "alex", "password": PASSWORD, "csrf": token.group(1)}
    )
    assert reply.status_code == 302
    return client


@settings(FUZZ, max_examples=20)
@given(said=st.lists(hostile_text.filter(lambda s: bool(s.split())), min_size=1, max_size=3))
def test_what_a_visitor_typed_reaches_the_inbox_as_text_never_as_markup(app: Any, said: list):
    agent = signed_in(app)
    AgentStore(app.extensions["presszero.store"].redis).seen("alex", OPEN_AT)
    sender, address = fresh()
    visitor, token = app.test_client(), ""
    for message in ["hi", "agent", *said]:
        body = {"sender": sender, "message": message,
                "metadata": {"conversation_token": token}}  # fmt: skip
        reply = visitor.post(WEBHOOK, json=body, environ_base=address)
        assert reply.status_code == 200, reply.get_data(as_text=True)
        token = token or reply.get_json()[-1]["custom"]["conversation_token"]
    page = agent.get(f"/agent/conversations/chat:{sender}")
    assert page.status_code == 200
    transcript = Transcript()
    transcript.feed(page.get_data(as_text=True))
    transcript.close()
    assert set(transcript.tags) == {"li", "span", "time (ours)"}, "markup from the visitor"
    assert transcript.tags.count("time (ours)") == transcript.tags.count("li")  # one a line
    typed = [text for who, text in transcript.lines if who == "visitor"]
    assert typed == ["hi", "agent", *(" ".join(m.split()) for m in said)]


# -- schemathesis against the OpenAPI description we ship ------------------------------------


SCHEMA = schemathesis.openapi.from_path(OPENAPI)


@SCHEMA.parametrize()
@settings(FUZZ, max_examples=40)
def test_the_chat_api_answers_as_its_openapi_description_says(case: Any, app: Any):
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]  # fmt: skip
    case.call_and_validate(app=app, checks=checks)
