"""The inbox's conversation page shows what a webhook gave it without trusting it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from support.consoles import PASSWORD, signed_in

from presszero.context.agents import AgentStore
from presszero.context.handoffs import HandoffStore
from presszero.context.store import ContextStore

RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"


@pytest.fixture
def app(make_app: Any, store: ContextStore) -> Any:
    AgentStore(store.redis).add("alex", PASSWORD)
    return make_app()


def page_with_recording(app: Any, store: ContextStore, url: str) -> str:
    record = {"channel": "voice", "kind": "voicemail", "queue": "support", "who": "Someone",
              "reason": "left a voicemail", "recording_url": url, "status": "waiting",
              "summary": {"why": "They left a voicemail.", "said": []}}  # fmt: skip
    HandoffStore(store.redis).open("voice:CA1", record, datetime.now(UTC))
    client, _ = signed_in(app)
    page = client.get("/agent/conversations/voice:CA1")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_a_twilio_recording_is_a_link(app: Any, store: ContextStore):
    html = page_with_recording(app, store, RECORDING)
    assert f'<a href="{RECORDING}">recording</a>' in html


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "http://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
        "https://api.twilio.com.evil.example/RE1",
        "https://evil.example/api.twilio.com/RE1",
        "https://api.twilio.com@evil.example/RE1",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example/RE1",
    ],
)
def test_any_other_recording_url_is_shown_as_text_never_as_a_link(
    app: Any, store: ContextStore, url: str
):
    html = page_with_recording(app, store, url)
    assert "Voicemail:" in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert all("evil" not in h and not h.startswith(("javascript", "data", "http:")) for h in hrefs)
    assert "not a Twilio recording link" in html
