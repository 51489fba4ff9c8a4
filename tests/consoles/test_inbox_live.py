"""The inbox as an agent keeps it open, in Chromium against a real `presszero serve --demo`:
it changes in place, alerts once the agent allows it, says times in the agent's own time zone,
and fits a phone.

Visitors are the demo customers, on the chat webhook with identity tokens signed with the
server's chat secret. The server keeps UTC; a browser context sets its own time zone.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from support.live import add_agent, always_open_flow, emptied, served

from presszero.chat.identity import make_token
from presszero.context.embedded import EmbeddedRedis

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery"
SECRET = "inbox-live-test-chat-secret"
TIMEOUT = 10_000  # ms: the inbox looks every 4 s
PACIFIC = "America/Los_Angeles"
ANA, DANA, SAM, LEE = "+15550100001", "+15550100002", "+15550100003", "+15550100004"

# Desktop notifications and the alert's tones, as the page makes them.
CAPTURE = """
window.notes = [];
window.tones = 0;
(() => {
  const Real = window.Notification;
  class Captured {
    constructor(title, options) { window.notes.push({ title, body: (options || {}).body }); }
    close() {}
    static get permission() { return Real.permission; }
    static requestPermission(done) { return Real.requestPermission(done); }
  }
  window.Notification = Captured;
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.tones += 1;
    return start.apply(this, args);
  };
})();
"""

expect.set_options(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def server(redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    emptied(redis_server.url)
    tmp = tmp_path_factory.mktemp("inbox-live")
    env = {
        **os.environ, "REDIS_URL": redis_server.url, "PRESSZERO_DATA_DIR": str(tmp / "data"),
        "PRESSZERO_FLOWS": str(always_open_flow(tmp)), "PRESSZERO_CHAT_SECRET": SECRET,
    }  # fmt: skip
    add_agent(env, "alex", PASSWORD)
    with served(env, tmp, "--demo") as url:
        yield url


def asks_for_a_person(server: str, phone: str, sender: str) -> None:
    """A demo customer, signed in on the website, asks the chat for a person."""
    token = make_token(SECRET, phone, datetime.now(UTC))
    body = {"sender": sender, "message": "agent", "metadata": {"identity": token}}
    request = urllib.request.Request(
        f"{server}/webhooks/rest/webhook", json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
        assert "passing you to a person" in answer.read().decode()


@dataclass
class Tab:
    """A browser context with the inbox open in its page, and any script errors it raised."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)


@contextmanager
def inbox(browser: Browser, server: str, script: str = "", **options: Any) -> Iterator[Tab]:
    """Open the inbox signed in as Alex in a new context (`options`: the context's; `script`
    runs before each page's own); close it after."""
    context = browser.new_context(base_url=server, **options)
    try:
        context.set_default_timeout(TIMEOUT)
        if script:
            context.add_init_script(script)
        tab = Tab(context, context.new_page())
        tab.page.on("pageerror", lambda exc: tab.errors.append(str(exc)))
        tab.page.goto("/agent/login")
        tab.page.get_by_label("Name").fill("alex")
        tab.page.get_by_label("Password").fill(PASSWORD)
        tab.page.get_by_role("button", name="Sign in").click()
        expect(tab.page.get_by_role("heading", name="Waiting for a person")).to_be_visible()
        yield tab
    finally:
        context.close()


def row(page: Page, name: str) -> Any:
    return page.locator("#waiting tr", has=page.get_by_role("link", name=name))


def test_a_chat_that_starts_waiting_appears_in_place_and_alerts_only_once_allowed(
    browser: Browser, server: str
):
    with inbox(browser, server, CAPTURE, permissions=["notifications"]) as tab:
        page = tab.page
        page.evaluate("window.sameLoad = true")
        expect(page.get_by_role("button", name="Turn on alerts")).to_be_visible()

        asks_for_a_person(server, ANA, "web-live-ana")
        expect(row(page, "Ana Lima")).to_be_visible()
        expect(page).to_have_title("(1) Inbox · presszero")
        assert page.evaluate("[window.notes.length, window.tones]") == [0, 0]  # not allowed yet

        page.get_by_role("button", name="Turn on alerts").click()
        expect(page.locator("#alerts-state")).to_have_text(
            "Alerts are on: a sound and a desktop notification when a chat starts waiting."
        )
        sample = page.evaluate("window.tones")
        assert sample > 0  # turning them on plays what they sound like
        page.get_by_role("link", name="Ana Lima").focus()

        asks_for_a_person(server, DANA, "web-live-dana")
        expect(row(page, "Dana Reyes")).to_be_visible()
        expect(page).to_have_title("(2) Inbox · presszero")
        page.wait_for_function("window.notes.length > 0")
        (note,) = page.evaluate("window.notes")
        assert note["title"] == "Dana Reyes is waiting to chat"
        assert note["body"].startswith("They asked for a person.")
        assert "Their Silver Health plan was cancelled by us" in note["body"]
        assert not re.search(r"cus_|web-|chat:", note["title"] + note["body"])  # no ids
        assert page.evaluate("window.tones") == 2 * sample
        assert page.evaluate("window.sameLoad") is True  # in place: never reloaded
        assert page.evaluate("document.activeElement.textContent") == "Ana Lima"

        page.reload()  # the choice is remembered; who was there at load is not news
        expect(page.get_by_role("button", name="Turn off alerts")).to_be_visible()
        asks_for_a_person(server, LEE, "web-live-lee")
        expect(row(page, "Lee Chen")).to_be_visible()
        page.wait_for_function("window.notes.length > 0")
        page.wait_for_timeout(4_500)  # one more look: nothing else is announced
        assert [n["title"] for n in page.evaluate("window.notes")] == [
            "Lee Chen is waiting to chat"
        ]
        assert tab.errors == []


def pacific(moment: datetime) -> str:
    """Return a time of day as en-US says it in Los Angeles: "7:05 AM PST"."""
    local = moment.astimezone(ZoneInfo(PACIFIC))
    return f"{local.hour % 12 or 12}:{local:%M %p} {local.tzname()}"


def assert_local_times(page: Page) -> int:
    """Check that every time on the page reads in Los Angeles time; return how many."""
    times = page.locator("time[data-local]")
    expect(times.first).not_to_contain_text("UTC")
    count = times.count()
    for n in range(count):
        moment = datetime.fromisoformat(str(times.nth(n).get_attribute("datetime")))
        local = moment.astimezone(ZoneInfo(PACIFIC))
        text = times.nth(n).inner_text()
        if times.nth(n).get_attribute("data-local") == "date":
            assert text == f"{local:%b} {local.day}"
        else:
            assert pacific(moment) in text, (text, pacific(moment))
        assert "Pacific" in str(times.nth(n).get_attribute("title"))
    return count


def test_times_are_shown_in_the_time_zone_of_the_agents_browser(browser: Browser, server: str):
    with inbox(browser, server, timezone_id=PACIFIC, locale="en-US") as tab:
        page = tab.page
        asks_for_a_person(server, SAM, "web-live-sam")
        sam = row(page, "Sam Okafor")
        expect(sam).to_be_visible()
        since = sam.locator("time")
        opened = datetime.fromisoformat(str(since.get_attribute("datetime")))
        expect(since).to_contain_text(pacific(opened))
        assert assert_local_times(page) >= 2  # the status's since, and everyone's since

        page.get_by_role("link", name="Sam Okafor").click()
        expect(page.get_by_role("heading", name="Sam Okafor")).to_be_visible()
        expect(page.locator(".meta time")).to_contain_text(pacific(opened))
        expect(page.locator("#transcript time").first).not_to_contain_text("UTC")
        assert assert_local_times(page) >= 3  # since, the transcript's lines
        assert tab.errors == []


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    targets = page.locator("main button:visible, main a.target:visible, header button")
    for n in range(targets.count()):
        box = targets.nth(n).bounding_box()
        assert box is not None
        assert box["height"] >= 44, (targets.nth(n).inner_text(), box)
        assert box["x"] >= 0, (targets.nth(n).inner_text(), box)
        assert box["x"] + box["width"] <= 390, (targets.nth(n).inner_text(), box)


def test_at_390_px_wide_nothing_scrolls_sideways_and_the_reply_form_works(
    browser: Browser, server: str
):
    with inbox(browser, server, viewport={"width": 390, "height": 844}) as tab:
        page = tab.page
        sender = "web-live-phone-" + "x" * 60  # a long id, in links and data attributes
        asks_for_a_person(server, DANA, sender)
        dana = page.locator(f'#waiting tr[data-hid="chat:{sender}"]')
        expect(dana).to_be_visible()
        fits(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "inbox-phone-width.png", full_page=True)

        dana.get_by_role("link", name="Dana Reyes").click()
        expect(page.get_by_role("heading", name="Dana Reyes")).to_be_visible()
        fits(page)
        page.get_by_role("link", name="Reply").click()
        page.get_by_label("Reply to the visitor").fill("Hi Dana, I'm Alex: your plan is back.")
        page.get_by_role("button", name="Send reply").click()
        expect(page.locator("#transcript")).to_contain_text("your plan is back.")
        fits(page)
        assert tab.errors == []
