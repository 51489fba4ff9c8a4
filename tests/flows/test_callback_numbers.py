"""Callbacks go only to numbers that can be called, and the number taken is read back."""

from __future__ import annotations

import pytest
from support.flow_builders import SUNDAY, Conversation, talk

from presszero.flows import Callback, Event, Prompt, shipped_flow
from presszero.flows.render.chat import prompt_text
from presszero.flows.render.voice import prompt_words, read_aloud

FLOW = shipped_flow()


def offered(conversation: Conversation) -> Prompt:
    prompt = conversation.last[-1]
    assert isinstance(prompt, Prompt)
    assert prompt.step == "callback"
    return prompt


@pytest.mark.parametrize(
    "caller",
    [
        "anonymous",
        "Anonymous",
        "restricted",
        "+266696687",  # how some networks spell a withheld number
        "client:alice",
        "client:5551234567",  # a browser client, though its name is all digits
        "sip:+15550100002@pbx.example.com",
        "sip:alice@pbx.example.com",
        "+10000000",
    ],
)
def test_a_caller_whose_line_cannot_be_called_is_asked_for_a_number(caller: str):
    conversation = Conversation(FLOW, None, SUNDAY).start("voice", caller)
    conversation.send(Event.digits("0"))
    prompt = offered(conversation)
    assert "ending in" not in prompt.text
    assert prompt.options == ()  # no "use this number"
    assert "Enter the number to call" in prompt_words(prompt)
    assert "Type the number to call" in prompt_text(prompt)
    conversation.send(Event.digits("1"))  # "use this number" is not on offer
    assert "ending in" not in offered(conversation).text


def test_a_caller_hears_what_to_do_with_their_own_number_in_plain_english():
    conversation = Conversation(FLOW, None, SUNDAY).start("voice", "+15550100001")
    conversation.send(Event.digits("0"))
    said = read_aloud(prompt_words(offered(conversation)))
    assert "the number ending in 0 0 0 1. To use this number, press 1. For a different" in said
    assert "For use" not in said


def test_escaping_a_callback_with_no_callable_number_takes_a_message_not_a_callback_to_nowhere():
    conversation = Conversation(FLOW, None, SUNDAY).start("voice", "anonymous")
    conversation.send(Event.digits("0"))
    conversation.send(Event.digits("0"))
    assert conversation.last[-1].kind == "voicemail"
    assert not any(isinstance(a, Callback) for a in conversation.actions)


@pytest.mark.parametrize(
    "typed",
    [
        "5551234#",  # seven digits: no area code
        "0000000#",
        "5550100123#",  # a fictional 555-01xx number: no one answers it
        "123456789012345#",  # too long
    ],
)
def test_a_typed_number_that_is_not_a_full_phone_number_is_asked_again(typed: str):
    conversation = Conversation(FLOW, None, SUNDAY).start("voice", "anonymous")
    conversation.send(Event.digits("0"))
    conversation.send(Event.digits(typed))
    prompt = offered(conversation)
    assert prompt.sorry == "Sorry, that doesn't look like a full phone number."
    assert conversation.state is not None
    assert conversation.state.phase == "number"
    assert conversation.state.callback_number == ""


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("4155550123#", "+14155550123"),
        ("(212) 555-0199#", "+12125550199"),
        ("+1 415 555 0123#", "+14155550123"),
    ],
)
def test_a_valid_typed_number_is_read_back_and_called(typed: str, number: str):
    conversation = Conversation(FLOW, None, SUNDAY).start("voice", "anonymous")
    conversation.send(Event.digits("0"))
    conversation.send(Event.digits(typed))
    asked = offered(conversation)
    assert asked.text == f"Got it: the number ending in {number[-4:]}. Is that right?"
    assert [c.label for c in asked.options] == ["Yes, that's right", "No, another number"]
    conversation.send(Event.digits("1"))  # that's right
    conversation.send(Event.digits("1"))  # as soon as we can
    callback = conversation.last[-1]
    assert isinstance(callback, Callback)
    assert callback.number == number


@pytest.mark.parametrize("no", [Event.digits("2"), Event.text("no, another number")])
def test_a_number_read_back_wrong_is_never_called_and_another_is_asked_for(no: Event):
    conversation = Conversation(FLOW, None, SUNDAY).start("voice", "anonymous")
    conversation.send(Event.digits("0"))
    conversation.send(Event.digits("4155550123#"))
    conversation.send(no)
    again = offered(conversation)
    assert "ending in 0123" not in again.text
    assert again.entry == "number"
    conversation.send(Event.digits("2125550199#"))
    assert "ending in 0199" in offered(conversation).text
    conversation.send(Event.text("yes"))
    conversation.send(Event.digits("1"))
    callback = conversation.last[-1]
    assert isinstance(callback, Callback)
    assert callback.number == "+12125550199"
    assert "said that was not the number" in callback.summary.told


def test_the_read_back_is_digit_by_digit_on_the_phone_and_as_written_in_the_chat():
    conversation = Conversation(FLOW, None, SUNDAY).start("chat", "")
    conversation.send(Event.text("agent"))
    conversation.send(Event.text("my number is 415 555 0002"))
    asked = offered(conversation)
    assert "ending in 0 0 0 2. If that's right, press 1" in read_aloud(prompt_words(asked))
    assert prompt_text(asked) == "Got it: the number ending in 0002. Is that right?"
    assert "0002" in conversation.heard("chat")


def test_a_callable_caller_is_still_offered_their_own_number():
    conversation = talk(FLOW, None, SUNDAY, Event.digits("0"))
    assert "ending in 9999" in offered(conversation).text
