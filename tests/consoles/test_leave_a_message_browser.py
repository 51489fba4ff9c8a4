"""Nobody left without a reply, in Chromium: a chat out of hours leaves a message, the agent
answers it the next day, the visitor reads it in the widget and the SMTP server received it.

The app runs in this process (a werkzeug server thread on 127.0.0.1) so that its clock is a
FixedClock the test moves: Sunday, when the line is closed, then Monday morning.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from support.browser import keep_local
from support.live import LOCAL
from support.smtp import MailServer
from werkzeug.serving import make_server

from presszero import create_app
from presszero.context.agents import AgentStore
from presszero.context.clock import FixedClock
from presszero.context.demo import load_demo
from presszero.context.embedded import EmbeddedRedis, free_port
from presszero.context.store import ContextStore

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SUNDAY = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)  # 10:00 in New York: closed all day
MONDAY = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 9:30: open
PASSWORD = "correct horse battery"
ANSWER = "Hi Dana, you're right: we refunded the second charge this morning."

expect.set_options(timeout=10_000)


@pytest.fixture(scope="module")
def mail() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


@pytest.fixture(scope="module")
def served_app(
    redis_server: EmbeddedRedis, mail: MailServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, FixedClock]]:
    """Serve the app, its clock frozen on a Sunday, on a free loopback port."""
    clock = FixedClock(SUNDAY)
    app = create_app({
        "REDIS_URL": redis_server.url, "PRESSZERO_CLOCK": clock, "PRESSZERO_DEMO": True,
        "PRESSZERO_DATA_DIR": str(tmp_path_factory.mktemp("data")), **mail.config,
    })  # fmt: skip
    store: ContextStore = app.extensions["presszero.store"]
    store.redis.flushall()
    load_demo(store)
    AgentStore(store.redis).add("alex", PASSWORD)
    server = make_server(LOCAL, free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,))
    thread.start()
    try:
        yield f"http://{LOCAL}:{server.server_port}", clock
    finally:
        server.shutdown()
        thread.join(timeout=10)


def open_page(browser: Browser, url: str) -> tuple[Any, Page, list[str]]:
    context = browser.new_context(base_url=url, viewport={"width": 1000, "height": 760})
    keep_local(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, errors


def test_a_message_left_out_of_hours_is_answered_next_day_in_the_widget_and_by_email(
    browser: Browser, served_app: tuple[str, FixedClock], mail: MailServer
):
    url, clock = served_app
    visitor_context, visitor, errors = open_page(browser, url)
    visitor.goto("/chat?as=%2B15550100002")  # Dana, signed in by the demo page
    log = visitor.get_by_role("log", name="Messages")
    status = visitor.locator(".pz-status")
    expect(log).to_contain_text("Hi Dana.")
    visitor.get_by_role("button", name="Talk to a person").click()
    expect(log).to_contain_text("We're closed right now (open Monday to Friday, 8 AM to 8 PM")
    expect(log).to_contain_text("Leave a message and we'll answer here.")
    expect(status).to_have_text("We're closed — leave a message.")
    assert "call you back" not in log.inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visitor.locator(".pz-chat").screenshot(path=SCREENSHOTS / "chat-leave-a-message.png")

    visitor.get_by_label("Your message").fill(
        "I was charged twice for November. Please refund one."
    )
    visitor.get_by_role("button", name="Send", exact=True).click()
    expect(log).to_contain_text("How else should we reach you with the answer?")
    expect(visitor.get_by_role("button", name="Just here is fine")).to_be_visible()
    visitor.get_by_label("Your message").fill("dana.reyes@example.org")
    visitor.get_by_role("button", name="Send", exact=True).click()
    expect(status).to_have_text("Message sent — we'll answer here and by email at d…@example.org.")

    clock.moment = MONDAY  # the next morning
    agent_context, agent, agent_errors = open_page(browser, url)
    agent.goto("/agent/login")
    agent.get_by_label("Name").fill("alex")
    agent.get_by_label("Password").fill(PASSWORD)
    agent.get_by_role("button", name="Sign in").click()
    messages = agent.locator("#messages")
    expect(messages).to_contain_text("I was charged twice for November.")
    messages.get_by_role("link", name="Dana Reyes").click()
    expect(agent.locator("#reply-to")).to_have_text("dana.reyes@example.org")
    agent.get_by_label("Your answer").fill(ANSWER)
    agent.get_by_role("button", name="Send the answer").click()
    expect(agent.get_by_role("status").first).to_contain_text(
        "Answered Dana Reyes: emailed to d…@example.org."
    )
    expect(agent.locator("#messages")).not_to_contain_text("I was charged twice")

    sent = mail.wait_for_one()
    assert sent.recipients == ["dana.reyes@example.org"]
    assert ANSWER in sent.body
    assert "> I was charged twice for November. Please refund one." in sent.body

    visitor.goto("/chat?as=%2B15550100002")  # Dana comes back to the page
    log = visitor.get_by_role("log", name="Messages")
    expect(log.locator(".pz-agent")).to_contain_text(ANSWER)
    expect(log).to_contain_text("Alex answered your message; we also emailed it to d…@example.org.")
    expect(visitor.get_by_role("button", name="Yes, sorted")).to_be_visible()
    visitor_context.close()
    agent_context.close()
    assert errors + agent_errors == []
