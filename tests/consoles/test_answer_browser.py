"""An agent answers a caller on hold from the inbox, in Chromium, against a real server.

The server is `presszero serve` with Twilio's REST API pointed at the stand-in; the callers
are signed webhooks as Twilio sends them. No one is on duty, so the callers wait in line.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
import redis
import requests
from playwright.sync_api import Browser, expect
from support.live import LOCAL, add_agent, always_open_flow, emptied, served
from support.twilio_api import TwilioApi
from support.twilio_client import TOKEN

from presszero.context.agents import AgentStore
from presszero.context.embedded import EmbeddedRedis, free_port
from presszero.voice.signature import sign

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery"
TIMEOUT = 10_000  # ms: the inbox refreshes itself every 4 s


@pytest.fixture(scope="module")
def line(
    redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, TwilioApi, redis.Redis]]:
    """Serve the demo with Twilio's REST API at the stand-in; one agent, away."""
    emptied(redis_server.url)
    tmp = tmp_path_factory.mktemp("answer")
    port = free_port()
    url = f"http://{LOCAL}:{port}"
    client = redis.Redis.from_url(redis_server.url)
    with TwilioApi() as api:
        env = {
            **os.environ, **api.config, "PRESSZERO_PUBLIC_URL": url,
            "REDIS_URL": redis_server.url, "PRESSZERO_DATA_DIR": str(tmp / "data"),
            "PRESSZERO_FLOWS": str(always_open_flow(tmp)),
        }  # fmt: skip
        add_agent(env, "alex", PASSWORD, "--phone", "+15550107001")
        with served(env, tmp, "--demo", port=port) as served_url:
            assert served_url == url
            yield url, api, client
    client.close()


class Caller:
    """A caller's webhooks, signed as Twilio signs them."""

    def __init__(self, base: str, number: str) -> None:
        self.base, self.number = base, number
        self.sid = "CA" + os.urandom(16).hex()
        self.http = requests.Session()

    def post(self, path: str, **params: str) -> ET.Element:
        url = urljoin(self.base + "/", path.lstrip("/"))
        form = {"CallSid": self.sid, "From": self.number, "To": "+15550009999",
                "AccountSid": "AC" + "0" * 32, "CallStatus": "in-progress", **params}  # fmt: skip
        reply = self.http.post(
            url, data=form, headers={"X-Twilio-Signature": sign(TOKEN, url, form)}
        )
        assert reply.status_code in (200, 204), reply.text
        return ET.fromstring(reply.text) if reply.text else ET.Element("Response")

    def to_a_person(self) -> ET.Element:
        """Call, and press 0 at the first prompt (if the greeting did not go to a person)."""
        root = self.post("/voice/incoming")
        gather = root.find("Gather")
        if gather is not None:
            root = self.post(gather.get("action", ""), Digits="0")
        return root


def test_an_agent_answers_a_caller_on_hold_from_the_inbox_and_is_busy_until_the_call_ends(
    browser: Browser, line: tuple[str, TwilioApi, redis.Redis]
):
    url, api, client = line
    dana, lee = Caller(url, "+15550100002"), Caller(url, "+15550100004")
    for caller in (dana, lee):
        held = caller.to_a_person()
        assert held.find("Enqueue") is not None, ET.tostring(held).decode()  # no one on duty
        api.incoming(caller.sid, caller.number)
    context = browser.new_context(base_url=url, viewport={"width": 1100, "height": 900})
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto("/agent/login")
        page.get_by_label("Name").fill("alex")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        on_hold = page.locator("#callers")
        expect(on_hold.get_by_text("Dana Reyes")).to_be_visible()
        expect(on_hold.get_by_text("their Silver Health plan was cancelled by us")).to_be_visible()
        expect(on_hold.get_by_text("Lee Chen")).to_be_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "inbox-callers.png"), full_page=True)

        page.get_by_role("button", name="Answer Dana Reyes").click()
        expect(page.get_by_role("status").first).to_contain_text("Putting Dana Reyes")
        seen = api.wait_for(lambda r: r.path.endswith(f"/Calls/{dana.sid}.json"))
        assert seen.method == "POST"
        assert seen.form["Url"] == f"{url}/voice/connect?call={dana.sid}&agent=alex"
        assert AgentStore(client).get("alex").status == "busy"

        page.goto("/agent")
        expect(page.locator("#my-status")).to_have_text("busy")
        expect(on_hold.get_by_text("Dana Reyes")).to_have_count(0)
        expect(on_hold.get_by_text("Lee Chen")).to_be_visible()

        ring = dana.post(f"/voice/connect?call={dana.sid}&agent=alex")  # Twilio follows
        whisper = ring.find("Dial/Number")
        assert whisper is not None
        assert whisper.text == "+15550107001"
        dana.post(whisper.get("url", ""))  # Alex picks up and hears who it is
        dana.post("/voice/status", CallStatus="completed", CallDuration="240")
        assert AgentStore(client).get("alex").status == "away"
        page.reload()
        expect(page.locator("#my-status")).to_have_text("away")
    finally:
        context.close()
    assert errors == []


def test_the_answer_button_needs_the_inbox_sign_in(line: tuple[str, TwilioApi, redis.Redis]):
    url, api, _ = line
    before = len(api.seen)
    reply = requests.post(f"{url}/agent/conversations/voice:CA{'0' * 32}/answer", timeout=10)
    assert reply.status_code in (302, 400, 401, 403)
    assert not re.search(r"Putting .* through", reply.text)
    assert len(api.seen) == before
