"""The widget on another website, in Chromium: one script tag, CORS, and coming back later.

Three servers on 127.0.0.1, each its own origin: presszero (its clock frozen on a Monday
morning, when the line is open), a shop whose origin is in PRESSZERO_CHAT_ORIGINS, and one
whose origin is not. The shop's page holds nothing of presszero's but
`<script src="http://127.0.0.1:PORT/chat/widget.js" defer>`. No request is routed through
Playwright (its routing answers CORS preflights itself): the browser's own CORS decides.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from support.browser import NO_NAMES
from support.live import LOCAL, serving

from presszero import create_app
from presszero.context.agents import AgentStore
from presszero.context.clock import FixedClock
from presszero.context.embedded import EmbeddedRedis, free_port
from presszero.context.store import ContextStore

BROWSER_ARGS = [NO_NAMES]  # nothing leaves this machine, without routing requests
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MONDAY = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 9:30 in New York: open
PASSWORD = "correct horse battery"
FIRST = "Hi, I'm Alex. Which order is it about?"
SECOND = "Found it: your refund is on its way."

expect.set_options(timeout=10_000)

SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{name}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;margin:0;color:#222}}
header{{background:#f4efe6;padding:24px 40px}} main{{padding:24px 40px;max-width:34rem}}</style>
</head><body><header><h1>{name}</h1></header>
<main><p>Hand-thrown mugs and bowls, shipped from our studio.</p>
<p>Questions about an order? Our support chat is in the corner.</p></main>
<script src="{server}/chat/widget.js" defer></script>
</body></html>"""


def shop(name: str, server: str) -> Callable[..., Any]:
    page = SHOP_PAGE.format(name=name, server=server).encode()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [page]

    return app


class Recorded:
    """WSGI middleware noting each request's method, path, Origin and status."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, str, int]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def noting(status: str, headers: Any, *args: Any) -> Any:
            self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"],
                              environ.get("HTTP_ORIGIN", ""), int(status[:3])))  # fmt: skip
            return start_response(status, headers, *args)

        return self.app(environ, noting)


@pytest.fixture(scope="module")
def sites(
    redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Serve presszero, a shop it lists and a shop it does not; yield their origins."""
    listed_port, app_port = free_port(), free_port()
    listed = f"http://{LOCAL}:{listed_port}"
    app = create_app({
        "REDIS_URL": redis_server.url, "PRESSZERO_CLOCK": FixedClock(MONDAY),
        "PRESSZERO_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "PRESSZERO_CHAT_ORIGINS": listed,
    })  # fmt: skip
    store: ContextStore = app.extensions["presszero.store"]
    store.redis.flushall()
    AgentStore(store.redis).add("alex", PASSWORD)
    recorded = Recorded(app)
    with (
        serving(recorded, app_port) as server,
        serving(shop("Clayworks", server), listed_port),
        serving(shop("Unlisted Pottery", server)) as unlisted,
    ):
        yield {"server": server, "listed": listed, "unlisted": unlisted,
               "recorded": recorded, "redis": store.redis}  # fmt: skip


def open_page(browser: Browser, url: str) -> tuple[BrowserContext, Page, list[str], list[str]]:
    """Return a fresh context's page on `url`, its script errors and its console lines."""
    context = browser.new_context(base_url=url, viewport={"width": 1000, "height": 760})
    page = context.new_page()
    errors: list[str] = []
    console: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: console.append(message.text))
    return context, page, errors, console


def kept(page: Page, server: str) -> dict[str, Any]:
    """Return what the widget keeps in the site's localStorage."""
    raw = page.evaluate("key => localStorage.getItem(key)", f"presszero.chat:{server}")
    assert raw, "the widget kept nothing"
    return json.loads(raw)


def test_on_a_listed_site_the_visitor_reaches_a_person_and_finds_the_reply_on_return(
    browser: Browser, sites: dict[str, Any]
):
    server = sites["server"]
    agent_context, agent, agent_errors, _ = open_page(browser, server)
    agent.goto("/agent/login")
    agent.get_by_label("Name").fill("alex")
    agent.get_by_label("Password").fill(PASSWORD)
    agent.get_by_role("button", name="Sign in").click()
    expect(agent.get_by_role("heading", name="Waiting for a person")).to_be_visible()

    context, visitor, errors, _ = open_page(browser, sites["listed"])
    visitor.goto("/")
    launcher = visitor.get_by_role("button", name="Chat with us")
    panel = visitor.get_by_role("region", name="Support chat")
    expect(launcher).to_be_visible()
    expect(panel).to_be_hidden()  # nothing is started until the visitor opens it
    assert not [s for s in sites["recorded"].seen if s[1] == "/webhooks/rest/webhook"]
    launcher.click()
    log = visitor.get_by_role("log", name="Messages")
    expect(log).to_contain_text("Thanks for getting in touch")
    visitor.get_by_role("button", name="Talk to a person").click()
    expect(log).to_contain_text("I'm passing you to a person now.")
    expect(visitor.get_by_role("status")).to_have_text("Waiting for a person (you're 1st in line).")
    first = kept(visitor, server)
    assert first["sender"].startswith("web-")
    assert len(first["token"]) >= 40

    agent.get_by_role("link", name="Someone we don't know").click()
    agent.locator("#reply").fill(FIRST)
    agent.get_by_role("button", name="Send reply").click()
    expect(log.locator(".pz-agent")).to_contain_text(FIRST)  # it arrives in the open widget
    expect(visitor.get_by_role("status")).to_have_text("You're chatting with Alex.")

    visitor.get_by_role("button", name="Close the chat").click()
    expect(panel).to_be_hidden()
    agent.locator("#reply").fill(SECOND)
    agent.get_by_role("button", name="Send reply").click()
    badge = visitor.locator(".pz-badge")
    expect(badge).to_have_text("1")  # it arrives while the widget is closed
    expect(launcher).to_have_accessible_name("Chat with us (1 unread reply)")

    visitor.reload()  # the visitor comes back to the shop
    launcher = visitor.get_by_role("button", name="Chat with us")
    expect(visitor.locator(".pz-badge")).to_have_text("1")
    expect(panel).to_be_hidden()
    assert kept(visitor, server)["sender"] == first["sender"]  # the same conversation
    assert kept(visitor, server)["token"] == first["token"]
    launcher.click()
    log = visitor.get_by_role("log", name="Messages")
    expect(log.locator(".pz-agent")).to_have_count(2)
    expect(log.locator(".pz-agent").last).to_contain_text(SECOND)
    expect(log.locator(".pz-visitor")).to_contain_text(["Talk to a person"])
    expect(visitor.locator(".pz-badge")).to_be_hidden()
    expect(visitor.get_by_role("status")).to_have_text("You're chatting with Alex.")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visitor.screenshot(path=SCREENSHOTS / "widget-on-another-site.png")

    visitor.get_by_label("Your message").fill("Thank you!")
    visitor.get_by_role("button", name="Send", exact=True).click()
    expect(agent.locator("#transcript")).to_contain_text("Thank you!")  # one conversation
    cross = [s for s in sites["recorded"].seen if s[1] == "/webhooks/rest/webhook"]
    assert {(m, o, status) for m, _, o, status in cross} == {
        ("OPTIONS", sites["listed"], 204),
        ("POST", sites["listed"], 200),
    }
    context.close()
    agent_context.close()
    assert errors + agent_errors == []


def test_on_a_site_not_listed_the_browser_refuses_and_the_widget_says_it_cannot_connect(
    browser: Browser, sites: dict[str, Any]
):
    conversations = sorted(sites["redis"].keys("pz:conv:*"))
    recorded = sites["recorded"].seen
    before = len(recorded)
    context, visitor, errors, console = open_page(browser, sites["unlisted"])
    visitor.goto("/")
    visitor.get_by_role("button", name="Chat with us").click()
    expect(visitor.locator(".pz-status")).to_have_text(
        "We couldn't reach the chat service. Please try again, or call us."
    )
    assert any("blocked by CORS policy" in line for line in console), console
    asked = [(m, p, o, s) for m, p, o, s in recorded[before:] if p.startswith("/webhooks/")]
    assert asked == [("OPTIONS", "/webhooks/rest/webhook", sites["unlisted"], 403)]  # no POST
    assert sorted(sites["redis"].keys("pz:conv:*")) == conversations  # nothing started
    context.close()
    assert errors == []
