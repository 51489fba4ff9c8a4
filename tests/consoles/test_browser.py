"""The widget and the inbox in a real browser: Playwright driving Debian's chromium.

The server is `presszero serve --demo` in a subprocess, as a user runs it, on the test Redis.
Playwright never downloads a browser: it launches /usr/bin/chromium, which `scripts/test`
installs. If chromium cannot start, these tests fail; they are never skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Dialog,
    Locator,
    Page,
    expect,
)
from support.live import add_agent, always_open_flow, emptied, served

from presszero.context.embedded import EmbeddedRedis
from presszero.voice.simulator import SimulatedCall, scripted

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
AGENT, PASSWORD = "alex", "correct horse battery"
LEAD = "lena"
TOKEN = "browser-test-twilio-token"
DANA = "/chat?as=%2B15550100002"  # the demo customer whose plan the company cancelled
TIMEOUT = 10_000  # ms: the widget polls every 2 s and the inbox every 4 s

expect.set_options(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def server(redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the demo on a free loopback port, with one agent; return its base URL."""
    emptied(redis_server.url)
    tmp = tmp_path_factory.mktemp("browser")
    env = {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "PRESSZERO_DATA_DIR": str(tmp / "data"),
        "PRESSZERO_FLOWS": str(always_open_flow(tmp)),
        "TWILIO_AUTH_TOKEN": TOKEN,
    }
    for name, role in ((AGENT, "agent"), (LEAD, "lead")):
        add_agent(env, name, PASSWORD, "--role", role)
    with served(env, tmp, "--demo") as url:
        yield url


@dataclass
class Tab:
    """One browser context with one page, and any script errors it raised."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)


OpenTab = Callable[[], Tab]


@pytest.fixture
def open_tab(browser: Browser, server: str) -> Iterator[OpenTab]:
    """Return a maker of fresh browser contexts (separate cookies); close them afterwards."""
    tabs: list[Tab] = []

    def make() -> Tab:
        context = browser.new_context(base_url=server, viewport={"width": 1100, "height": 760})
        context.set_default_timeout(TIMEOUT)
        tab = Tab(context, context.new_page())
        tab.page.on("pageerror", lambda exc: tab.errors.append(str(exc)))
        tab.page.on("dialog", lambda dialog: refuse(dialog, tab.errors))
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:
        tab.context.close()
    assert [e for tab in tabs for e in tab.errors] == []


def refuse(dialog: Dialog, errors: list[str]) -> None:
    """Note a dialog (an alert() that got run) as an error, and close it."""
    errors.append(f"dialog: {dialog.message}")
    dialog.dismiss()


def sign_in(page: Page, name: str = AGENT) -> None:
    page.goto("/agent/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    landing = "Waiting for a person" if name == AGENT else "Flows"
    expect(page.get_by_role("heading", name=landing)).to_be_visible()


def widget_log(page: Page) -> Locator:
    return page.get_by_role("log", name="Messages")


def send_by_keyboard(page: Page, text: str) -> None:
    """Send a chat message with the keyboard only: focus the field, type, press Enter."""
    page.get_by_label("Your message").focus()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def test_an_unauthenticated_browser_is_sent_to_sign_in_and_sees_no_conversations(
    open_tab: OpenTab,
):
    tab = open_tab()
    page = tab.page
    page.goto("/agent")
    expect(page).to_have_url(re.compile(r"/agent/login\?next=/agent$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.locator("#waiting").count() == 0
    page.goto("/agent/conversations/chat:web-someone-else")
    expect(page).to_have_url(re.compile(r"/agent/login"))
    assert page.locator("#transcript").count() == 0
    api = tab.context.request.get("/agent/api/waiting")
    assert api.status == 401
    assert api.json()["error"] == "unauthorized"


def test_a_visitor_asks_for_a_person_and_a_signed_in_agent_takes_over_and_replies(
    open_tab: OpenTab,
):
    agent = open_tab().page
    sign_in(agent)  # the open inbox counts the agent as available for chats

    visitor = open_tab().page
    visitor.goto(DANA)
    chat = widget_log(visitor)
    expect(chat).to_contain_text("Hi Dana. I can see your Silver Health plan was cancelled on")
    visitor.get_by_role("button", name="Talk to a person").click()
    expect(chat).to_contain_text("I'm passing you to a person now.")
    expect(visitor.get_by_role("status")).to_have_text("Waiting for a person (you're 1st in line).")
    send_by_keyboard(visitor, "Why was my plan cancelled? I paid last week.")
    expect(chat.locator(".pz-visitor").last).to_have_text(
        "Why was my plan cancelled? I paid last week."
    )
    expect(visitor.get_by_label("Your message")).to_have_value("")

    agent.get_by_role("link", name="Dana Reyes").click()  # the inbox reloads itself
    expect(agent.get_by_role("heading", name="Dana Reyes", level=1)).to_be_visible()
    context = agent.locator("section", has=agent.get_by_role("heading", name="Context"))
    expect(context).to_contain_text("Plan: Silver Health (cancelled)")
    expect(context).to_contain_text("by the company (non-payment)")
    expect(agent.locator("#why")).not_to_be_empty()
    transcript = agent.locator("#transcript")
    expect(transcript).to_contain_text("Why was my plan cancelled? I paid last week.")
    expect(transcript).to_contain_text("I can see your Silver Health plan was cancelled")

    agent.locator("#reply").fill("Hi Dana, I'm Alex. I can see your payment; let me fix this.")
    agent.get_by_role("button", name="Send reply").click()
    expect(transcript).to_contain_text("I can see your payment; let me fix this.")

    reply = chat.locator(".pz-agent")
    expect(reply).to_have_text("AlexHi Dana, I'm Alex. I can see your payment; let me fix this.")
    expect(reply.locator(".pz-who")).to_have_text("Alex")  # the sign-in name, as a name
    expect(chat).to_contain_text("Alex has joined the chat.")
    expect(visitor.get_by_role("status")).to_have_text("You're chatting with Alex.")

    send_by_keyboard(visitor, "Thank you!")
    expect(transcript).to_contain_text("Thank you!")  # the inbox shows it without a reload

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visitor.locator(".pz-chat").screenshot(path=SCREENSHOTS / "chat-widget.png")
    agent.screenshot(path=SCREENSHOTS / "agent-inbox.png", full_page=True)


def test_markup_a_visitor_types_is_shown_as_text_in_the_widget_and_the_inbox(open_tab: OpenTab):
    agent = open_tab().page
    sign_in(agent)
    markup = "<img src=x onerror=alert(1)>"

    visitor = open_tab().page
    visitor.goto("/chat?as=%2B15550100001")  # Ana Lima
    chat = widget_log(visitor)
    expect(chat).to_contain_text("Hi Ana, thanks for getting in touch.")
    visitor.get_by_role("button", name="Talk to a person").click()
    expect(visitor.get_by_role("status")).to_contain_text("Waiting for a person")
    send_by_keyboard(visitor, markup)
    expect(chat.locator(".pz-visitor").last).to_have_text(markup)
    assert chat.locator("img").count() == 0

    agent.get_by_role("link", name="Ana Lima").click()
    transcript = agent.locator("#transcript")
    expect(transcript).to_contain_text(markup)
    assert transcript.locator("img").count() == 0

    agent.locator("#reply").fill("<b>bold</b> & <script>alert(2)</script>")
    agent.get_by_role("button", name="Send reply").click()
    expect(chat.locator(".pz-agent")).to_contain_text("<b>bold</b> & <script>alert(2)</script>")
    assert chat.locator("b, script").count() == 0


def test_a_lead_sees_the_flow_diagram_and_the_steps_where_callers_escape(
    open_tab: OpenTab, server: str
):
    lead = open_tab().page
    sign_in(lead, LEAD)
    lead.get_by_role("link", name="support").click()
    expect(lead.get_by_role("heading", name="support", level=1)).to_be_visible()
    main_row = lead.locator(
        "#steps tbody tr", has=lead.locator("td", has_text=re.compile("^main$"))
    )
    before = int(main_row.locator("td").nth(2).inner_text())  # other tests here chat too
    # A number of this test's own: its first call answers the language choice (1, English),
    # which the line then remembers for the others.
    for script in (["1", "0"], ["0"], ["0"], ["9", "9"], ["1", "0"]):
        SimulatedCall(server, TOKEN, caller="+15550104747").run(scripted(script))
    lead.reload()
    diagram = lead.locator("#diagram")
    expect(diagram).to_be_visible()
    lead.wait_for_function("document.querySelector('#diagram').naturalWidth > 0")
    rows = lead.locator("#steps tbody tr")
    expect(rows.first.locator("td").first).to_have_text("main")
    expect(main_row.locator("td").nth(2)).to_have_text(str(before + 4))  # three 0s, two misses
    expect(lead.locator("#steps")).to_contain_text("pressed 0")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    lead.screenshot(path=SCREENSHOTS / "lead-console.png", full_page=True)
    agent = open_tab().page
    sign_in(agent)
    assert agent.request.get(f"{server}/leads").status == 403  # agents cannot open it
