"""The agent inbox: signed in only, CSRF on every change, and a takeover that really works."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from freezegun import freeze_time
from support.chat import OPEN, Visitor, agent_online, token_for
from support.consoles import PASSWORD, csrf_of, signed_in

from presszero.cli import main
from presszero.context.agents import Agent, AgentStore
from presszero.context.demo import load_demo
from presszero.context.handoffs import HandoffStore
from presszero.context.store import ContextStore
from presszero.flows.engine.actions import Handoff, Summary, inbox_record


@pytest.fixture
def app(make_app: Any, store: ContextStore) -> Any:
    with freeze_time(OPEN):
        load_demo(store)
    AgentStore(store.redis).add("alex", PASSWORD)
    return make_app()


def test_the_inbox_refuses_anyone_not_signed_in(app: Any):
    client = app.test_client()
    page = client.get("/agent")
    assert page.status_code == 302
    assert "/agent/login" in page.headers["Location"]
    api = client.get("/agent/api/waiting")
    assert api.status_code == 401
    assert client.get("/agent/conversations/chat:web-visitor-0001").status_code == 302


def test_a_wrong_password_is_refused(app: Any):
    client = app.test_client()
    token = csrf_of(client.get("/agent/login").data)
    reply = client.post("/agent/login", data={"name": "alex", "password": "guess", "csrf": token})
    assert reply.status_code == 401
    assert client.get("/agent").status_code == 302


def test_repeated_failed_sign_ins_are_throttled(app: Any):
    client = app.test_client()
    token = csrf_of(client.get("/agent/login").data)
    for _ in range(5):
        client.post("/agent/login", data={"name": "alex", "password": "nope", "csrf": token})
    blocked = client.post(
        "/agent/login", data={"name": "alex", "password": PASSWORD, "csrf": token}
    )
    assert blocked.status_code == 429


def test_a_post_without_the_csrf_token_is_refused(app: Any):
    client = app.test_client()
    client.get("/agent/login")
    reply = client.post("/agent/login", data={"name": "alex", "password": PASSWORD})
    assert reply.status_code == 400
    client, _ = signed_in(app)
    assert client.post("/agent/conversations/chat:x/resolve", data={"note": "x"}).status_code == 400


def test_the_session_cookie_is_http_only_and_same_site(app: Any, make_app: Any):
    client = app.test_client()
    token = csrf_of(client.get("/agent/login").data)
    reply = client.post("/agent/login", data={"name": "alex", "password": PASSWORD, "csrf": token})
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    tls = make_app(PRESSZERO_PUBLIC_URL="https://support.example.com")
    assert tls.config["SESSION_COOKIE_SECURE"] is True


@freeze_time(OPEN)
def test_an_agent_takes_over_a_chat_replies_and_resolves_it(app: Any, store: ContextStore):
    agent_online(app)
    visitor = Visitor(app, identity=token_for(app, "+15550100002"))
    visitor.send("hi")
    visitor.send("talk to a person")
    visitor.send("My plan was cancelled but I paid.")
    client, token = signed_in(app)
    inbox = client.get("/agent").get_data(as_text=True)
    assert "Dana Reyes" in inbox
    hid = f"chat:{visitor.sender}"
    page = client.get(f"/agent/conversations/{hid}").get_data(as_text=True)
    assert "<strong>Plan:</strong> Silver Health (cancelled)" in page
    assert "Cancelled Silver Health on" in page
    assert "My plan was cancelled but I paid." in page  # the transcript
    assert '<span id="why">They asked for a person.</span>' in page
    client.post(f"/agent/conversations/{hid}/claim", data={"csrf": token})
    client.post(
        f"/agent/conversations/{hid}/reply", data={"csrf": token, "text": "Hi Dana, I'm on it."}
    )
    polled = visitor.poll()
    assert polled["status"] == "with_agent"
    assert polled["agent"] == "Alex"  # as the visitor reads it, not the sign-in name
    agent_lines = [m for m in polled["messages"] if m["from"] == "agent"]
    assert [(m["agent"], m["text"]) for m in agent_lines] == [("Alex", "Hi Dana, I'm on it.")]
    assert visitor.send("thank you!") == []  # still the agent's, never the bot's
    client.post(f"/agent/conversations/{hid}/resolve", data={"csrf": token, "note": "reinstated"})
    assert visitor.poll()["status"] == "closed"
    customer = store.get("cus_1002")
    assert customer is not None
    opened = HandoffStore(store.redis).get(hid)["opened_at"]  # type: ignore[index]
    resolved = [c for c in customer.contacts if c.ref == f"{visitor.sender}:{opened}"]
    assert [(c.channel, c.outcome) for c in resolved] == [("chat", "resolved")]
    assert "resolved by alex: reinstated" in resolved[0].reason


@freeze_time(OPEN)
def test_visitor_text_is_escaped_in_the_inbox(app: Any):
    agent_online(app)
    visitor = Visitor(app)
    visitor.send("hi")
    visitor.send("agent")
    visitor.send("<script>alert(1)</script>")
    client, _ = signed_in(app)
    page = client.get(f"/agent/conversations/chat:{visitor.sender}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@freeze_time(OPEN)
def test_voice_handoffs_appear_in_the_inbox_with_what_the_caller_said(app: Any):
    from support.twilio_client import Call

    call = Call(app.test_client(), caller="+15550100003")
    call.start()
    call.press("2")  # "talk to a person now"
    client, _ = signed_in(app)
    inbox = client.get("/agent").get_data(as_text=True)
    assert "Sam Okafor" in inbox
    page = client.get(f"/agent/conversations/voice:{call.sid}").get_data(as_text=True)
    assert "missed" in page
    assert "pressed" in page


def test_agent_add_creates_an_account_from_the_command_line(redis_url: str, monkeypatch, store):
    monkeypatch.setenv("REDIS_URL", redis_url)
    result = CliRunner().invoke(
        main, ["agent", "add", "Sam", "--password-stdin"], input="a long enough password\n"
    )
    assert result.exit_code == 0, result.output
    assert AgentStore(store.redis).verify("sam", "a long enough password") is not None
    short = CliRunner().invoke(main, ["agent", "add", "kim", "--password-stdin"], input="short\n")
    assert short.exit_code == 1
    assert "at least 10 characters" in short.output


def me(store: ContextStore, name: str = "alex") -> Agent:
    agent = AgentStore(store.redis).get(name)
    assert agent is not None, f"no agent {name}"
    return agent


@freeze_time(OPEN)
def test_an_agent_sets_themselves_available_and_away_from_the_inbox(app: Any, store: ContextStore):
    agents = AgentStore(store.redis)
    client, token = signed_in(app)
    page = client.get("/agent").get_data(as_text=True)
    assert '<strong id="my-status">away</strong>' in page
    assert 'name="status" value="available"' in page
    reply = client.post("/agent/status", data={"csrf": token, "status": "available"})
    assert reply.status_code == 302
    assert [a.name for a in agents.available_for("plans", datetime.now(UTC))] == ["alex"]
    page = client.get("/agent").get_data(as_text=True)
    assert (
        '<strong id="my-status">available</strong> since '
        '<time datetime="2026-11-23T15:00:00Z" data-local="time">15:00 UTC</time>'
    ) in page
    assert 'name="status" value="away"' in page
    client.post("/agent/status", data={"csrf": token, "status": "away"})
    assert me(store).status == "away"


def test_the_status_button_needs_the_csrf_token_and_a_status_an_agent_may_set(
    app: Any, store: ContextStore
):
    client, token = signed_in(app)
    assert client.post("/agent/status", data={"status": "available"}).status_code == 400
    assert client.post("/agent/status", data={"csrf": token, "status": "busy"}).status_code == 400
    assert me(store).status == "away"


def test_a_busy_agent_sees_what_they_are_busy_with_and_sets_what_comes_after(
    app: Any, store: ContextStore
):
    client, token = signed_in(app)
    AgentStore(store.redis).mark_busy("alex", "voice:CA1", datetime.now(UTC))
    page = client.get("/agent").get_data(as_text=True)
    assert '<strong id="my-status">busy</strong>' in page
    assert "(then away)" in page  # they were away before the call
    assert "Set available after this conversation" in page
    client.post("/agent/status", data={"csrf": token, "status": "available"})
    assert (me(store).status, me(store).after) == ("busy", "available")


@pytest.mark.parametrize("change", ["remove", "new password", "new role"])
def test_a_removed_or_reset_agent_is_signed_out_on_their_next_request(
    app: Any, store: ContextStore, change: str
):
    agents = AgentStore(store.redis)
    client, token = signed_in(app)
    assert client.get("/agent").status_code == 200
    if change == "remove":
        agents.remove("alex")
    elif change == "new password":
        agents.add("alex", "a brand new password")
    else:
        agents.add("alex", role="lead")
    refused = client.post("/agent/status", data={"csrf": token, "status": "available"})
    assert refused.status_code == 302
    assert "/agent/login" in refused.headers["Location"]
    assert agents.available_for("plans", datetime.now(UTC)) == []
    assert client.get("/agent").status_code == 302
    assert client.get("/agent/api/waiting").status_code == 401


def test_other_changes_to_an_agent_keep_them_signed_in(app: Any, store: ContextStore):
    client, _ = signed_in(app)
    AgentStore(store.redis).add("alex", endpoint="client:alex", queues=["plans"])
    assert client.get("/agent").status_code == 200


@freeze_time(OPEN)
@pytest.mark.parametrize("sender", ["team/42", "dana@example.com", "user 1", "1234567890"])
def test_a_chat_from_any_rasa_sender_is_answered_from_the_inbox_links(app: Any, sender: str):
    agent_online(app)
    visitor = Visitor(app, sender=sender)
    visitor.send("hi")
    visitor.send("agent")
    client, token = signed_in(app)
    inbox = client.get("/agent").get_data(as_text=True)
    link = url_for_conversation(app, f"chat:{sender}")
    assert f'href="{link}"' in inbox
    assert client.get(link).status_code == 200
    client.post(f"{link}/reply", data={"csrf": token, "text": "Alex here, how can I help?"})
    said = [(m["from"], m["text"]) for m in visitor.poll()["messages"]]
    assert ("agent", "Alex here, how can I help?") in said


def url_for_conversation(app: Any, hid: str) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for("inbox.conversation", hid=hid)


@freeze_time(OPEN)
def test_the_inbox_sections_come_as_html_the_page_swaps_in_place(app: Any):
    refused = app.test_client().get("/agent/api/inbox")
    assert (refused.status_code, refused.get_json()["error"]) == (401, "unauthorized")
    agent_online(app)
    visitor = Visitor(app, identity=token_for(app, "+15550100002"))
    visitor.send("hi")
    visitor.send("talk to a person")
    client, _ = signed_in(app)
    reply = client.get("/agent/api/inbox")
    assert (reply.status_code, reply.mimetype) == (200, "text/html")
    assert reply.headers["Cache-Control"] == "no-store"
    html = reply.get_data(as_text=True)
    assert re.findall(r'data-live="([^"]+)"', html) == [
        "presence",
        "callers",
        "messages",
        "everyone",
    ]
    row = re.search(rf'<tr data-hid="chat:{visitor.sender}"[^>]*>', html)
    assert row is not None
    assert " data-waiting " in row.group(0)
    assert 'data-alert-title="Dana Reyes is waiting to chat"' in row.group(0)
    assert '<time datetime="2026-11-23T15:00:00Z" data-local="time">15:00 UTC</time>' in html
    page = client.get("/agent").get_data(as_text=True)
    assert "<title>(1) Inbox · presszero</title>" in page
    everyone = re.compile(r'<section id="everyone".*?</section>', re.S)
    [listed] = everyone.findall(html)  # one section, holding Dana's row
    assert f'data-hid="chat:{visitor.sender}"' in listed
    assert everyone.findall(page) == [listed]  # nothing to swap until it changes


def caller_waiting(store: ContextStore, call: str, who: str, language: str) -> None:
    """Open a call's handoff as the engine words it, its summary held in `language`."""
    summary = Summary(
        who=who, customer_id=None, phone="+15550109999", plan="", flags=(), recent_contacts=(),
        said=("pressed 0",), answers={}, reason="asked for a person",
        why="They pressed 0 for a person.", escape="key0", channel="voice", step="main",
        language=language,
    )  # fmt: skip
    record = inbox_record(Handoff("support", "asked for a person", summary), "voice")
    HandoffStore(store.redis).open(f"voice:{call}", record, datetime.now(UTC))


def rows_of(page: str, hid: str) -> list[str]:
    """Return every list item and table row of the page about this handoff."""
    return re.findall(rf'<(?:li|tr) data-hid="{re.escape(hid)}".*?</(?:li|tr)>', page, re.S)


def test_the_inbox_and_the_conversation_say_a_caller_speaks_spanish(app: Any, store: ContextStore):
    caller_waiting(store, "CA1", "Someone we don't know, on +15550109999", "es-US")
    caller_waiting(store, "CA2", "Someone else", "en-US")
    caller_waiting(store, "CA3", "A third one", "")
    client, _ = signed_in(app)
    for page in (client.get("/agent"), client.get("/agent/api/inbox")):
        html = page.get_data(as_text=True)
        spanish = rows_of(html, "voice:CA1")
        assert len(spanish) == 2  # on hold, and in the list of everyone waiting
        assert all("Speaks Spanish" in row for row in spanish)
        others = rows_of(html, "voice:CA2") + rows_of(html, "voice:CA3")
        assert len(others) == 4
        assert not any("Speaks" in row for row in others)  # English goes without saying
    page = client.get("/agent/conversations/voice:CA1").get_data(as_text=True)
    assert '<span class="tag language" id="language">Speaks Spanish</span>' in page
    assert "Speaks" not in client.get("/agent/conversations/voice:CA2").get_data(as_text=True)
