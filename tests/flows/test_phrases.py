"""presszero's own wording exists in every language it speaks, and a Spanish flow hears it."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
from support.flow_builders import OPEN, SUNDAY, Conversation, talk, tiny_flow
from support.wording import SOPORTE, english_leaks

import presszero.flows
from presszero.flows import Event
from presszero.flows.engine.actions import Prompt
from presszero.flows.language import phrases
from presszero.flows.language.hours import Hours
from presszero.flows.language.phrases import SPANISH, phrase
from presszero.flows.render.voice import option_words, prompt_words, read_aloud

ROOT = Path(presszero.flows.__file__).resolve().parents[1]
PACKAGES = ("flows", "voice", "chat", "context", "consoles", "presszero")
# The calls whose first argument is presszero's own wording: `phrase("...", language)`,
# `english("...")` for a constant said elsewhere, and the engine's `self.words("...")`.
LOOKUPS = frozenset({"phrase", "english", "words"})


def said_phrases() -> dict[str, str]:
    """Return every literal phrase handed to a lookup in presszero's source, with where."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                first = node.args[0]
                said = first.value if isinstance(first, ast.Constant) else None
                if name in LOOKUPS and isinstance(said, str):
                    found[said] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_phrase_presszero_says_has_its_spanish():
    said = said_phrases()
    assert len(said) >= 80, f"the sweep found only {len(said)} phrases: is it still looking?"
    missing = {text: where for text, where in said.items() if text not in SPANISH}
    assert not missing, f"add these to flows/language/phrases.py with their Spanish: {missing}"


@pytest.mark.parametrize("english", sorted(SPANISH))
def test_a_translation_keeps_exactly_the_fields_of_its_english(english: str):
    assert fields(SPANISH[english]) == fields(english), english


def test_a_phrase_missing_from_the_catalogue_fails_loudly_in_tests_and_is_english_live():
    with pytest.raises(KeyError, match=r"phrases\.py"):
        phrase("Welcome to your new plan.", "es-US")
    phrases.strict(False)
    try:
        assert phrase("Welcome to your new plan.", "es-US") == "Welcome to your new plan."
    finally:
        phrases.strict(True)


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("es-US", "Lo siento, no le entendí."),
        ("es-MX", "Lo siento, no le entendí."),
        ("en-US", "Sorry, I didn't catch that."),
        ("en-GB", "Sorry, I didn't catch that."),
    ],
)
def test_a_phrase_is_said_in_the_base_of_the_flows_language(language: str, said: str):
    assert phrase("Sorry, I didn't catch that.", language) == said


@pytest.mark.parametrize(
    ("label", "key", "language", "said"),
    [
        ("Billing", "1", "en-US", "For billing, press 1."),
        ("Use this number", "1", "en-US", "To use this number, press 1."),
        ("In the morning", "2", "en-US", "In the morning, press 2."),
        ("Facturación", "1", "es-US", "Para facturación, oprima 1."),
        ("Usar este número", "1", "es-US", "Para usar este número, oprima 1."),
        ("Por la mañana", "2", "es-US", "Por la mañana, oprima 2."),
    ],
)
def test_an_option_is_said_as_a_support_line_says_it(
    label: str, key: str, language: str, said: str
):
    assert option_words(label, key, language) == said


def prompt(text: str, **more: object) -> Prompt:
    return Prompt(text, "main", ("dtmf",), (), escape_keys=("0",), **more)  # type: ignore[arg-type]


def test_the_way_to_a_person_is_added_in_spanish_unless_the_prompt_already_says_oprima_0():
    added = prompt_words(prompt("¿En qué le puedo ayudar?"), "es-US")
    assert added.endswith("Para hablar con una persona, oprima 0 en cualquier momento.")
    own = prompt("Para hablar con alguien, oprima 0. ¿En qué le puedo ayudar?")
    assert prompt_words(own, "es-US") == own.text


def test_a_spanish_prompt_for_digits_says_pound_as_the_numeral_key():
    said = prompt_words(prompt("Marque su número de cuenta.", entry="digits"), "es-US")
    assert "Luego oprima la tecla numeral." in said
    assert "pound" not in said


def test_a_number_is_read_back_digit_by_digit_in_either_language():
    assert read_aloud("el número que termina en 0002.") == "el número que termina en 0 0 0 2."
    assert read_aloud("the number ending in 0002.") == "the number ending in 0 0 0 2."


def test_the_hours_in_words_in_spanish():
    week = ((480, 1200),), ((480, 1200),), ((480, 1200),), ((480, 1200),), ((480, 1200),)
    hours = Hours("America/New_York", (*week, ((540, 780),), ()), frozenset(), "callback")
    assert hours.describe("es-US") == (
        "de lunes a viernes, de 8:00 a 20:00 y los sábados, de 9:00 a 13:00, hora del Este"
    )
    assert hours.describe() == (
        "Monday to Friday, 8 AM to 8 PM, and Saturday, 9 AM to 1 PM, New York time"
    )
    madrid = Hours("Europe/Madrid", (((540, 1080),),) * 7, frozenset(), "callback")
    assert madrid.describe("es-ES") == "de lunes a domingo, de 9:00 a 18:00, hora de Madrid"


# -- a Spanish flow through the engine, in both channels' words ------------------------------


def test_a_spanish_caller_who_is_not_understood_hears_spanish_and_then_reaches_a_person():
    heard = talk(tiny_flow(SOPORTE), None, OPEN, Event.digits("7"), Event.no_input()).heard()
    assert "Lo siento, no le entendí." in heard
    assert "Para facturación, oprima 1." in heard
    assert "Para hablar con una persona, oprima 0 en cualquier momento." in heard
    assert english_leaks(heard) == []


def test_a_spanish_visitor_reads_spanish_buttons_and_is_told_to_type_agente():
    chat = Conversation(tiny_flow(SOPORTE), None, OPEN).start("chat")
    chat.send(Event.text("xyzzy"))
    read = chat.heard("chat")
    assert "Hablar con una persona" in read
    assert "Para hablar con una persona, escriba agente en cualquier momento." in read
    assert "oprima" not in read
    assert "press" not in read
    assert english_leaks(read) == []
    chat.send(Event.text("agente"))
    assert chat.ended_with() == "handoff"


def test_a_spanish_caller_out_of_hours_hears_the_hours_and_confirms_a_number_in_spanish():
    call = talk(
        tiny_flow(SOPORTE), None, SUNDAY,
        Event.digits("0"), Event.digits("6502530000"), Event.digits("1"), Event.digits("2"),
    )  # fmt: skip
    heard = call.heard()
    for spanish in (
        "En este momento estamos cerrados. Nuestro horario es de lunes a viernes, de 8:00 a "
        "20:00 y los sábados, de 9:00 a 13:00, hora del Este.",
        "Podemos devolverle la llamada al número que termina en 9 9 9 9.",
        "Para usar este número, oprima 1.",
        "Entendido: el número que termina en 0 0 0 0. Si es correcto, oprima 1.",
        "¿Cuándo prefiere que le llamemos? Lo antes posible, oprima 1. Por la mañana, oprima 2.",
        "Gracias. Le llamaremos al número que termina en 0 0 0 0 mañana por la mañana. Adiós.",
    ):
        assert spanish in heard
    assert english_leaks(heard) == []
    assert call.ended_with() == "callback"


def test_an_english_flow_still_says_presszeros_english():
    heard = talk(tiny_flow(), None, OPEN, Event.digits("7")).heard()
    assert "Sorry, I didn't catch that." in heard
    assert "For a person, press 0 at any time." in heard
    assert "Lo siento" not in heard


def test_the_yes_or_no_and_the_time_of_a_callback_can_be_said_in_spanish():
    call = talk(
        tiny_flow(SOPORTE), None, SUNDAY,
        Event.digits("0"), Event.digits("6502530000"), Event.text("sí", 0.9),
        Event.text("por la tarde", 0.9),
    )  # fmt: skip
    assert "mañana por la tarde" in call.heard()
    assert call.ended_with() == "callback"


def test_a_spanish_caller_may_say_the_key_and_say_their_number_in_spanish_words():
    call = talk(
        tiny_flow(SOPORTE), None, SUNDAY,
        Event.text("oprimo el cero", 0.9),
        Event.text("seis cinco cero dos cinco tres cero cero cero cero", 0.9),
        Event.text("uno", 0.9), Event.text("dos", 0.9),
    )  # fmt: skip
    assert "Le llamaremos al número que termina en 0 0 0 0 mañana por la mañana." in call.heard()
    assert call.ended_with() == "callback"
