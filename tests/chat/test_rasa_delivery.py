"""An agent's words reach a visitor on the team's own Rasa, through Rasa's HTTP API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.rasa_api import TOKEN, RasaApi

from presszero.chat.rasa_api import RasaDeliveryError, RasaServer


@pytest.fixture
def rasa() -> Iterator[RasaApi]:
    with RasaApi() as api:
        yield api


def test_a_reply_is_a_bot_event_sent_on_the_channel_the_visitor_last_used(rasa: RasaApi):
    RasaServer(rasa.url, TOKEN).say("dana@example.com", "Hi Dana, Alex here.", "alex")
    [sent] = rasa.requests
    assert sent.conversation_id == "dana@example.com"
    assert sent.query == {"execute_side_effects": "true", "output_channel": "latest",
                          "token": TOKEN}  # fmt: skip
    assert sent.events == [
        {"event": "bot", "text": "Hi Dana, Alex here.", "metadata": {"presszero_agent": "alex"}}
    ]


def test_handing_back_says_so_and_resumes_the_bot(rasa: RasaApi):
    server = RasaServer(rasa.url, TOKEN)
    rasa.trackers["team/42"] = [{"event": "pause"}]
    server.hand_back("team/42", "Alex has closed this chat. Anything else?", "alex")
    [sent] = rasa.requests
    assert sent.conversation_id == "team/42"  # a slash in the id stays in the id
    assert [e["event"] for e in sent.events] == ["bot", "resume"]
    assert sent.events[0]["text"] == "Alex has closed this chat. Anything else?"


def test_a_wrong_token_is_one_line_with_rasas_reason(rasa: RasaApi):
    why = r"^Rasa answered 401: User is not authenticated\.$"
    with pytest.raises(RasaDeliveryError, match=why):
        RasaServer(rasa.url, "wrong").say("user1", "hello", "alex")
    assert rasa.requests == []


def test_a_rasa_that_cannot_be_reached_is_one_line():
    with RasaApi() as api:
        url = api.url
    with pytest.raises(RasaDeliveryError, match="could not be reached"):
        RasaServer(url, TOKEN).say("user1", "hello", "alex")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, None),
        ({"PRESSZERO_RASA_URL": "http://rasa:5005/"}, RasaServer("http://rasa:5005", "")),
        ({"PRESSZERO_RASA_URL": "http://rasa:5005", "PRESSZERO_RASA_TOKEN": "t"},
         RasaServer("http://rasa:5005", "t")),
    ],
)  # fmt: skip
def test_the_server_comes_from_the_settings(config: dict[str, str], expected: object):
    assert RasaServer.from_config(config) == expected


def test_a_rasa_url_that_is_not_http_is_refused_in_one_line():
    with pytest.raises(ValueError, match="must start with http"):
        RasaServer.from_config({"PRESSZERO_RASA_URL": "rasa:5005"})
