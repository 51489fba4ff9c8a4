"""Signing in to the consoles: sessions kept in Redis, and where a sign-in may go next."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from support.consoles import PASSWORD, csrf_of, signed_in

from presszero.context.agents import SESSION_IDLE, SESSION_LIFETIME, AgentStore
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


# -- sessions --------------------------------------------------------------------------------

START = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def cookie_of(client: Any) -> str:
    found = client.get_cookie("session")
    assert found is not None, "no session cookie"
    return found.value


def with_cookie(app: Any, value: str) -> Any:
    client = app.test_client()
    client.set_cookie("session", value)
    return client


def test_the_cookie_holds_only_a_session_id_and_the_form_token(app: Any):
    client, _ = signed_in(app, "lee")
    kept = app.session_interface.get_signing_serializer(app).loads(cookie_of(client))
    assert sorted(kept) == ["_permanent", "csrf", "sid"]


def test_a_cookie_kept_from_before_sign_out_opens_nothing(app: Any):
    client, token = signed_in(app, "lee")
    old = cookie_of(client)
    assert with_cookie(app, old).get("/leads").status_code == 200
    assert client.post("/agent/logout", data={"csrf": token}).status_code == 302
    replayed = with_cookie(app, old)
    page = replayed.get("/leads")
    assert (page.status_code, page.headers["Location"]) == (302, "/agent/login?next=/leads")
    assert replayed.get("/agent/api/waiting").status_code == 401


@pytest.mark.parametrize("change", ["lower the role", "remove", "reset the password"])
def test_a_cookie_from_before_a_change_to_the_agent_opens_nothing(
    app: Any, store: ContextStore, change: str
):
    client, _ = signed_in(app, "lee")
    old = cookie_of(client)
    agents = AgentStore(store.redis)
    if change == "lower the role":
        agents.add("lee", role="agent")
    elif change == "remove":
        agents.remove("lee")
    else:
        agents.add("lee", "a brand new password")
    assert with_cookie(app, old).get("/leads").status_code == 302
    assert with_cookie(app, old).get("/agent/api/waiting").status_code == 401


def test_signing_out_ends_only_that_session(app: Any):
    laptop, token = signed_in(app, "lee")
    phone, _ = signed_in(app, "lee")
    laptop.post("/agent/logout", data={"csrf": token})
    assert laptop.get("/leads").status_code == 302
    assert phone.get("/leads").status_code == 200


def test_a_session_ends_after_an_idle_hour(app: Any):
    with freeze_time(START) as clock:
        client, _ = signed_in(app)
        clock.tick(timedelta(seconds=SESSION_IDLE - 60))
        assert client.get("/agent/api/waiting").status_code == 200
        clock.tick(timedelta(seconds=SESSION_IDLE - 60))
        assert client.get("/agent/api/waiting").status_code == 200
        clock.tick(timedelta(seconds=SESSION_IDLE + 1))
        assert client.get("/agent/api/waiting").status_code == 401


def test_a_session_in_constant_use_still_ends_twelve_hours_after_sign_in(app: Any):
    with freeze_time(START) as clock:
        client, _ = signed_in(app)
        for _ in range(SESSION_LIFETIME // (SESSION_IDLE // 2) - 1):
            clock.tick(timedelta(seconds=SESSION_IDLE // 2))
            assert client.get("/agent/api/waiting").status_code == 200
        clock.tick(timedelta(seconds=SESSION_IDLE // 2))
        assert client.get("/agent/api/waiting").status_code == 401
        assert client.get("/agent").status_code == 302


# -- the sign-in throttle and CSRF -----------------------------------------------------------


def attempt(client: Any, password: str, **headers: str) -> int:
    token = csrf_of(client.get("/agent/login").data)
    data = {"name": "alex", "password": password, "csrf": token}
    return client.post("/agent/login", data=data, headers=headers).status_code


def test_forty_parallel_wrong_passwords_get_five_password_checks(app: Any):
    clients = [app.test_client() for _ in range(40)]
    tokens = [csrf_of(c.get("/agent/login").data) for c in clients]
    start = threading.Barrier(len(clients))

    def guess(i: int) -> int:
        data = {"name": "alex", "password": f"guess number {i}", "csrf": tokens[i]}
        start.wait()
        return clients[i].post("/agent/login", data=data).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        codes = sorted(pool.map(guess, range(len(clients))))
    assert codes == [401] * 5 + [429] * 35
    assert attempt(app.test_client(), PASSWORD) == 429


def test_a_right_password_clears_the_count(app: Any):
    client = app.test_client()
    assert [attempt(client, "wrong one") for _ in range(4)] == [401] * 4
    assert attempt(client, PASSWORD) == 302
    assert [attempt(app.test_client(), "wrong one") for _ in range(5)] == [401] * 5


def test_behind_a_trusted_proxy_the_throttle_counts_per_forwarded_address(app: Any, make_app: Any):
    proxied = make_app(PRESSZERO_TRUST_PROXY=True)
    guesser = {"X-Forwarded-For": "198.51.100.7, 203.0.113.5"}
    for _ in range(5):
        assert attempt(proxied.test_client(), "wrong one", **guesser) == 401
    assert attempt(proxied.test_client(), PASSWORD, **guesser) == 429
    # The client wrote the first entry; our proxy added the last one.
    spoofed = {"X-Forwarded-For": "192.0.2.1, 203.0.113.5"}
    assert attempt(proxied.test_client(), PASSWORD, **spoofed) == 429
    colleague = {"X-Forwarded-For": "203.0.113.9"}
    assert attempt(proxied.test_client(), PASSWORD, **colleague) == 302


def test_without_a_trusted_proxy_a_forwarded_address_escapes_nothing(app: Any):
    for i in range(5):
        assert attempt(app.test_client(), "wrong", **{"X-Forwarded-For": f"192.0.2.{i}"}) == 401
    assert attempt(app.test_client(), PASSWORD, **{"X-Forwarded-For": "192.0.2.99"}) == 429


@pytest.mark.parametrize("method", ["HEAD", "PUT", "PATCH", "DELETE"])
def test_only_a_post_with_the_csrf_token_signs_in(app: Any, method: str):
    client = app.test_client()
    client.get("/agent/login")
    reply = client.open("/agent/login", method=method, data={"name": "alex", "password": PASSWORD})
    assert "Set-Cookie" not in reply.headers or "session=;" in reply.headers["Set-Cookie"]
    assert client.get("/agent").status_code == 302
