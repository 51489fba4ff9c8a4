"""Prompts are written once and phrased by each channel: keys on the phone, buttons in a chat.

Both walks go through every menu of the shipped flow, over the real webhooks, as the demo
customers and an unknown visitor would, pressing every choice they are offered.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from freezegun import freeze_time
from support.chat import OPEN, Visitor, agent_online, token_for
from support.twilio_client import Call

from presszero.context.demo import load_demo
from presszero.context.store import ContextStore
from presszero.flows import shipped_flow
from presszero.flows.language.model import MenuStep

WHO = ["+15550109999", "+15550100001", "+15550100002", "+15550100003"]
KEY_NUMBER = re.compile(r"(?<![\w.])[0-9*#](?![\w.])")
NUMBER_READ_BACK = re.compile(r"ending in [0-9 ]+")  # the customer's own number: data, not keys
MAX_DEPTH = 6
CLOSED = "2026-11-23T03:00:00Z"  # Sunday 22:00 in New York: the line is closed


@pytest.fixture
def app(make_app: Any, store: ContextStore) -> Any:
    with freeze_time(OPEN):
        load_demo(store)
    return make_app()


def menus() -> dict[str, MenuStep]:
    """Return the shipped flow's menus by the question they ask (as written, no fields)."""
    steps = shipped_flow().steps.values()
    return {s.prompt.source: s for s in steps if isinstance(s, MenuStep)}


def chat_walk(app: Any) -> dict[str, list[dict[str, Any]]]:
    """Walk every menu a chat visitor can reach; return each prompt message by its text."""
    seen: dict[str, list[dict[str, Any]]] = {}
    expanded: set[tuple[str, str]] = set()
    paths: list[tuple[str, tuple[str, ...]]] = [(who, ()) for who in WHO]
    walks = itertools.count()
    while paths:
        who, path = paths.pop()
        visitor = Visitor(app, sender=f"walk-{next(walks)}-x")  # a new visitor each walk
        visitor.identity = token_for(app, who)
        replies = visitor.send("hi")
        for payload in path:
            replies = visitor.send(payload)
        prompt = next((r for r in reversed(replies) if r.get("buttons")), None)
        if prompt is None or len(path) >= MAX_DEPTH:
            continue
        first_visit = (who, prompt["text"]) not in expanded
        expanded.add((who, prompt["text"]))
        seen.setdefault(prompt["text"], []).append(prompt)
        if first_visit:
            for button in prompt["buttons"]:
                if button["payload"] != "/agent":
                    paths.append((who, (*path, button["payload"])))
    return seen


@freeze_time(OPEN)
def test_a_chat_walk_of_every_menu_never_shows_press_or_a_key_number(app: Any):
    agent_online(app)
    shown = chat_walk(app)
    questions = menus()
    chat_words = {
        q: m.phrased["chat"].source if "chat" in m.phrased else q for q, m in questions.items()
    }
    reached = {q for q, words in chat_words.items() if any(words in text for text in shown)}
    assert reached == set(questions), f"menus never reached in chat: {set(questions) - reached}"
    for text, prompts in shown.items():
        assert "press" not in text.lower(), text
        assert not KEY_NUMBER.search(NUMBER_READ_BACK.sub("", text)), text
        for prompt in prompts:
            titles = [b["title"] for b in prompt["buttons"]]
            assert "Talk to a person" in titles
            assert not any("press" in t.lower() or KEY_NUMBER.search(t) for t in titles), titles


def voice_walk(app: Any) -> list[str]:
    """Walk every menu a caller can reach; return what they heard at each prompt."""
    heard: list[str] = []
    seen: set[tuple[str, str]] = set()
    paths: list[tuple[str, tuple[str, ...]]] = [(who, ()) for who in WHO]
    while paths:
        who, path = paths.pop()
        call = Call(app.test_client(), caller=who)
        root = call.start()
        for key in path:
            root = call.press(key)
        gather = root.find("Gather")
        if gather is None or len(path) >= MAX_DEPTH:
            continue
        said = " ".join(s.text or "" for s in gather.iter("Say"))
        question = next((q for q in menus() if q.split("{")[0] in said), None)
        heard.append(said)
        if question is None or (who, question) in seen:
            continue
        seen.add((who, question))
        for option in menus()[question].options:
            if option.key:
                paths.append((who, (*path, option.key)))
    return heard


@freeze_time(OPEN)
def test_a_voice_walk_of_the_same_menus_hears_every_options_key_and_the_escape_key(app: Any):
    heard = voice_walk(app)
    for question, menu in menus().items():
        own = menu.phrased.get("voice")
        at = [said for said in heard if (own.source if own else question) in said]
        assert at, f"the menu {menu.id!r} was never reached on the phone"
        for said in at:
            for option in menu.options:
                assert f"press {option.key}" in said, (menu.id, said)
            assert "press 0" in said, (menu.id, said)


@freeze_time(OPEN)
def test_a_number_read_back_is_digit_by_digit_on_the_phone_and_as_written_in_the_chat(
    app: Any,
):
    # Sam, whose booked call we missed, rebooks it: a call back on his own number
    visitor = Visitor(app, sender="walk-read-back-x")
    visitor.identity = token_for(app, "+15550100003")
    visitor.send("hi")
    offer = " ".join(str(r.get("text", "")) for r in visitor.send("1"))
    assert "ending in 0003." in offer, offer
    with freeze_time(CLOSED):  # on the phone a call back is offered out of hours
        call = Call(app.test_client(), caller="+15550100002")
        call.start()
        heard = " ".join(s.text or "" for s in call.press("0").iter("Say"))
    assert "ending in 0 0 0 2." in heard, heard
