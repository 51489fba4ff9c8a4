"""Signing in to the consoles: where a sign-in may send the browser next."""

from __future__ import annotations

from typing import Any

import pytest
from support.consoles import PASSWORD, csrf_of

from presszero.context.agents import AgentStore
from presszero.context.store import ContextStore


@pytest.fixture
def app(make_app: Any, store: ContextStore) -> Any:
    agents = AgentStore(store.redis)
    agents.add("alex", PASSWORD)
    agents.add("lee", PASSWORD, role="lead")
    return make_app()


def sign_in(app: Any, name: str = "alex", **extra: str) -> Any:
    client = app.test_client()
    token = csrf_of(client.get("/agent/login").data)
    data = {"name": name, "password": PASSWORD, "csrf": token, **extra}
    return client.post("/agent/login", data=data)


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\nSet-Cookie: x=1",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/agent",
        "http:/evil.example",
        "javascript:alert(1)",
        "agent",
        "/ \x00",
        "/\x7f/evil.example",
    ],
)
def test_a_sign_in_never_sends_the_browser_off_site(app: Any, target: str):
    reply = sign_in(app, next=target)
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/agent/"


def test_a_sign_in_returns_to_the_page_it_was_asked_for(app: Any):
    reply = sign_in(app, "lee", next="/leads/flows/support?days=30")
    assert (reply.status_code, reply.headers["Location"]) == (302, "/leads/flows/support?days=30")
    assert sign_in(app, "lee").headers["Location"] == "/leads"


def test_the_sign_in_page_drops_a_next_that_leaves_the_site(app: Any):
    page = app.test_client().get("/agent/login?next=/%09/evil.example")
    assert page.status_code == 200
    assert b'name="next" value=""' in page.data
    kept = app.test_client().get("/agent/login?next=/agent/conversations/chat:abc")
    assert b'name="next" value="/agent/conversations/chat:abc"' in kept.data
