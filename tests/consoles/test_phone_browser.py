"""The inbox's phone in Chromium: the SDK served by presszero, the panel's plain words, and a
call that rings in the page, against a real `presszero serve`.

Nothing leaves this machine: every HTTP request to a host other than 127.0.0.1 is aborted and
no other name resolves. Twilio's signalling (a WebSocket) is either unreachable or played by a
stand-in that speaks the SDK's side of it (`Signalling`).
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect
from support.browser import NO_NAMES, keep_local
from support.live import add_agent, always_open_flow, emptied, served

from presszero.context.embedded import EmbeddedRedis

PASSWORD = "correct horse battery"
TIMEOUT = 10_000  # ms
TWILIO = {
    "TWILIO_AUTH_TOKEN": "browser-phone-test-token",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_API_KEY": "SK" + "2" * 32,
    "TWILIO_API_SECRET": "an-api-key-secret-of-32-letters!",
    "PRESSZERO_TWIML_APP_SID": "AP" + "3" * 32,
    "PRESSZERO_TWILIO_API_URL": "http://127.0.0.1:9",  # nothing listens: no REST call leaves
}
SIGNALLING = "wss://voice-js.roaming.twilio.com/signal"
CALL_SID = "CA" + "4" * 32

expect.set_options(timeout=TIMEOUT)


BROWSER_ARGS = [NO_NAMES]  # the conftest's chromium, resolving no name but 127.0.0.1


@pytest.fixture(scope="module")
def server(redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve presszero with Twilio set up; Cleo answers in the browser, Alex on his mobile."""
    emptied(redis_server.url)
    tmp = tmp_path_factory.mktemp("phone")
    env = {
        **os.environ, **TWILIO, "REDIS_URL": redis_server.url,
        "PRESSZERO_DATA_DIR": str(tmp / "data"), "PRESSZERO_FLOWS": str(always_open_flow(tmp)),
    }  # fmt: skip
    add_agent(env, "cleo", PASSWORD, "--phone", "client:desk-7")
    add_agent(env, "alex", PASSWORD, "--phone", "+15550107001")
    with served(env, tmp) as url:
        yield url


@dataclass
class Tab:
    """A signed-in inbox page; what it threw, what it tried to fetch elsewhere, its sockets."""

    page: Page
    errors: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)


@pytest.fixture
def inbox(browser: Browser, server: str) -> Iterator[Any]:
    """Return an opener of the inbox, signed in as an agent, in a fresh context."""
    contexts = []

    def open_as(name: str, signalling: Signalling | None = None) -> Tab:
        context = browser.new_context(base_url=server)
        context.set_default_timeout(TIMEOUT)
        contexts.append(context)
        tab = Tab(context.new_page(), aborted=keep_local(context))
        if signalling is not None:
            context.route_web_socket(SIGNALLING, signalling.take)
        tab.page.on("pageerror", lambda exc: tab.errors.append(str(exc)))
        tab.page.on("websocket", lambda socket: tab.sockets.append(socket.url))
        tab.page.goto("/agent/login")
        tab.page.get_by_label("Name").fill(name)
        tab.page.get_by_label("Password").fill(PASSWORD)
        tab.page.get_by_role("button", name="Sign in").click()
        expect(tab.page.get_by_role("heading", name="Waiting for a person")).to_be_visible()
        return tab

    yield open_as
    for context in contexts:
        context.close()


class Signalling:
    """Twilio's signalling server, as far as the SDK needs it to register and ring a call."""

    def __init__(self) -> None:
        self.socket: WebSocketRoute | None = None
        self.received: list[dict[str, Any]] = []

    def take(self, socket: WebSocketRoute) -> None:
        self.socket = socket
        socket.on_message(self.answer)

    def answer(self, message: str | bytes) -> None:
        sent = json.loads(message)
        self.received.append(sent)
        if sent["type"] == "listen":  # the page signs in with its token
            claims = jwt.decode(sent["payload"]["token"], options={"verify_signature": False})
            self.send("connected", region="us1", token={"identity": claims["grants"]["identity"],
                                                        "ttl": 3600})  # fmt: skip
        elif sent["type"] == "register":
            self.send("ready")

    def send(self, kind: str, **payload: Any) -> None:
        assert self.socket is not None, "the page never opened the signalling socket"
        self.socket.send(json.dumps({"type": kind, "payload": payload}))

    def ring(self, who: str, caller: str = "+15550100002") -> None:
        """Offer the page a call, as Twilio does when TwiML dials <Client>."""
        self.send(
            "invite", callsid=CALL_SID, sdp="v=0\r\n",
            parameters={"From": caller, "CallSid": CALL_SID, "Params": f"who={who}"},
        )  # fmt: skip

    def sent(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m["type"] == kind]


def state(tab: Tab) -> Any:
    return tab.page.get_by_role("status").filter(has_text="Phone:")


def test_the_sdk_comes_from_presszero_and_the_panel_says_plainly_that_twilio_is_out_of_reach(
    inbox: Any,
):
    tab = inbox("cleo")
    assert tab.page.evaluate('typeof Twilio.Device === "function"')
    expect(state(tab)).to_have_text(
        "Phone: offline — cannot reach Twilio. Check the network; trying again."
    )
    expect(tab.page.get_by_role("button", name="Accept")).to_be_hidden()
    assert tab.sockets[0] == SIGNALLING  # the only thing the page tried beyond presszero
    assert set(tab.sockets) == {SIGNALLING}
    assert tab.aborted == []  # the SDK's sounds come from presszero too
    assert tab.errors == []


def test_a_call_rings_in_the_page_and_the_agent_declines_it(inbox: Any):
    twilio = Signalling()
    tab = inbox("cleo", twilio)
    expect(state(tab)).to_have_text("Phone: ready. Calls for you ring here.")
    (listen,) = twilio.sent("listen")
    claims = jwt.decode(listen["payload"]["token"], options={"verify_signature": False})
    assert claims["grants"]["identity"] == "desk-7"

    twilio.ring("Dana Reyes")
    expect(state(tab)).to_have_text("Phone: incoming call from Dana Reyes.")
    assert tab.page.evaluate("window.presszeroPhone.busy()") is True
    tab.page.get_by_role("button", name="Decline the call from Dana Reyes").click()
    expect(state(tab)).to_have_text("Phone: ready. You declined the call from Dana Reyes.")
    assert [m["payload"]["callsid"] for m in twilio.sent("reject")] == [CALL_SID]
    expect(tab.page.get_by_role("button", name="Accept the call from Dana Reyes")).to_be_hidden()
    assert tab.page.evaluate("window.presszeroPhone.busy()") is False
    assert tab.errors == []


def test_the_inbox_list_changes_in_place_under_a_ringing_call_which_keeps_ringing(
    inbox: Any, server: str
):
    twilio = Signalling()
    tab = inbox("cleo", twilio)
    expect(state(tab)).to_have_text("Phone: ready. Calls for you ring here.")
    tab.page.evaluate("window.sameLoad = true")
    twilio.ring("Sam Ortiz", caller="+15550100003")
    expect(state(tab)).to_have_text("Phone: incoming call from Sam Ortiz.")
    # someone new starts waiting: the list changes while the call rings
    ask = json.dumps({"sender": "web-reload-check", "message": "agent"}).encode()
    request = urllib.request.Request(
        f"{server}/webhooks/rest/webhook", ask, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    expect(tab.page.get_by_role("link", name="Someone we don't know")).to_be_visible()
    assert tab.page.evaluate("window.sameLoad") is True  # the same page: never reloaded
    expect(state(tab)).to_have_text("Phone: incoming call from Sam Ortiz.")
    assert tab.page.evaluate("window.presszeroPhone.busy()") is True
    tab.page.get_by_role("button", name="Decline the call from Sam Ortiz").click()
    expect(state(tab)).to_have_text("Phone: ready. You declined the call from Sam Ortiz.")
    assert [m["payload"]["callsid"] for m in twilio.sent("reject")] == [CALL_SID]
    assert tab.errors == []


def test_a_caller_who_hangs_up_while_it_rings_is_said_so(inbox: Any):
    twilio = Signalling()
    tab = inbox("cleo", twilio)
    expect(state(tab)).to_have_text("Phone: ready. Calls for you ring here.")
    twilio.ring("Lee Chen", caller="+15550100004")
    accept = tab.page.get_by_role("button", name="Accept the call from Lee Chen")
    expect(accept).to_be_visible()
    twilio.send("cancel", callsid=CALL_SID)
    expect(state(tab)).to_have_text("Phone: ready. Lee Chen hung up before you answered.")
    expect(accept).to_be_hidden()
    assert tab.errors == []


def test_an_agent_answering_on_their_own_phone_gets_the_inbox_without_the_sdk(inbox: Any):
    tab = inbox("alex")
    expect(tab.page.locator("#callers")).to_be_visible()
    assert tab.page.locator("#phone").count() == 0
    assert tab.page.evaluate('typeof Twilio === "undefined"')
    assert tab.sockets == []
    assert tab.errors == []
