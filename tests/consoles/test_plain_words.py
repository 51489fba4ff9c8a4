"""What an agent reads and hears speaks of people and situations: no customer ids (but the one
labelled field), no step or queue names in snake_case, no conditions, no raw channel codes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from freezegun import freeze_time
from support.chat import OPEN, Visitor, agent_online, token_for
from support.consoles import PASSWORD, signed_in
from support.twilio_client import BASE, Call

from presszero.context.clock import SystemClock
from presszero.context.demo import load_demo
from presszero.context.store import ContextStore

# A code an agent should never have to read: an id, a step's or handoff's name, a condition,
# a pressed key quoted as data, a channel's code name.
CODES = re.compile(r"cus_\d|\b[a-z]+_[a-z_]+\b|has_flag|==|\bpressed '|\bvoice\b|\{|\}|\bNone\b")
RECORD_FIELD = re.compile(r"Customer record: cus_\d+")


def visible(html: str) -> str:
    """Return the text a person sees on a page (no scripts, styles, tags or attributes)."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    text = re.sub(r"<[^>]+>", " ", html)
    text = text.replace("&#39;", "'").replace("&amp;", "&").replace("&quot;", '"')
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def app(make_app: Any, store: ContextStore, twilio_api: Any) -> Any:
    with freeze_time(OPEN):
        load_demo(store)
    return make_app(**{**twilio_api.config, "PRESSZERO_PUBLIC_URL": BASE})


@freeze_time(OPEN)
def test_every_demo_customers_handoff_reads_in_plain_words_to_the_agent(app: Any):
    agents = app.extensions["presszero.agents"]
    agents.add("ann", PASSWORD, endpoint="+15550107001")
    agents.add("alex", PASSWORD)
    whispers = []
    # Ana chooses billing then 0; Dana and Sam press 0 at their menus; Lee and Kim go straight
    for number, keys in [("1", "10"), ("2", "0"), ("3", "0"), ("3", "2"), ("4", ""), ("5", "")]:
        agents.set_status("ann", "available", SystemClock().now())
        call = Call(app.test_client(), caller=f"+155501000{number.zfill(2)}")
        call.start()
        for key in keys:
            call.press(key)
        assert call.last is not None
        dial = call.last.find("Dial")
        assert dial is not None, f"no agent rung for {number} {keys}"
        assert len(dial) == 1
        whisper = call.twiml(dial[0].get("url", ""))
        whispers.append(" ".join(say.text or "" for say in whisper.iter("Say")))
        call.twiml(dial.get("action", ""), DialCallStatus="no-answer")
    agents.set_status("ann", "away", SystemClock().now())
    agents.set_status("alex", "available", SystemClock().now())
    agent_online(app, "alex")
    chats = [("+15550100002", ["hi", "why was it cancelled"]),
             ("+15550100003", ["rebook", "agent"]), ("", ["purple", "cows"])]  # fmt: skip
    for phone, messages in chats:
        visitor = Visitor(app, sender=f"web-{phone or 'stranger'}")
        visitor.identity = token_for(app, phone) if phone else ""
        for message in messages:
            visitor.send(message)

    for heard in whispers:
        assert heard.startswith("A call from "), heard
        assert not CODES.search(heard), heard
    client, _ = signed_in(app, "alex")
    inbox = client.get("/agent").get_data(as_text=True)
    pages = [visible(inbox)]
    for link in sorted(set(re.findall(r'href="(/agent/conversations/[^"]+)"', inbox))):
        pages.append(visible(client.get(link).get_data(as_text=True)))
    assert len(pages) == 1 + 6 + 3  # the inbox, six calls and three chats
    for page in pages:
        assert not CODES.search(RECORD_FIELD.sub("", page)), CODES.findall(page)
    assert "Dana Reyes website chat" in pages[0]  # the channel column, in words
    assert "Ana Lima phone call" in pages[0]
    ana = next(page for page in pages[1:] if "Ana Lima" in page and "phone call" in page)
    assert "What they told the bot pressed 1 (Billing) pressed 0" in ana
    assert "Customer record: cus_1001" in ana
    sam = [page for page in pages[1:] if "Sam Okafor" in page and "phone call" in page]
    assert any("They chose “A person now” in the menu." in page for page in sam)
    dana = next(page for page in pages[1:] if "Dana Reyes" in page and "website chat" in page)
    assert "Why the bot stepped aside: They chose “Questions about the cancellation”" in dana
