"""A flow in several languages: every text in each, checked; a caller chooses once."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from support.flow_builders import (
    OPEN,
    Conversation,
    demo_customer,
    line_no,
    problems_in,
    tiny_flow,
    write_flow,
)

from presszero.cli import main
from presszero.flows import Event
from presszero.flows.engine.actions import Handoff, Prompt
from presszero.flows.language.lengths import length_warnings

BOTH = """\
flow: both
languages: [en-US, es-US]
queues: [support]
escape:
  keys: ["0"]
  intents: [agent]
  handoff: agent
hours:
  timezone: America/New_York
  open: {mon-sun: "00:00-24:00"}
  after_hours: callback
greeting:
  - when: customer.known
    say: {en-US: "Hi {customer.first_name}.", es-US: "Hola, {customer.first_name}."}
    goto: main
  - say: {en-US: "Hello.", es-US: "Hola."}
    goto: main
steps:
  main:
    menu:
      prompt:
        en-US: "What can I help you with?"
        es-US: "¿En qué le puedo ayudar?"
      options:
        - {key: "1", intent: billing, goto: billing_info,
           label: {en-US: "Billing", es-US: "Facturación"}}
  billing_info:
    say: {en-US: "Bills go out on the first.", es-US: "Las facturas salen el día primero."}
    goto: done
  done:
    end: {outcome: resolved}
  agent:
    handoff: {queue: support, reason: "asked for a person"}
  callback:
    callback: {queue: support}
intents:
  billing:
    examples:
      en-US: ["billing", "my bill"]
      es-US: ["facturación", "mi factura", "un cobro"]
"""


def both():
    return tiny_flow(BOTH)


def test_a_flow_in_two_languages_loads_as_one_flow_in_each():
    flow = both()
    assert flow.language == "en-US"
    assert flow.spoken == ("en-US", "es-US")
    spanish = flow.speaking("es-US")
    assert spanish.language == "es-US"
    assert spanish.speaking("en-US") is flow
    assert spanish.steps["main"].prompt.source == "¿En qué le puedo ayudar?"
    assert spanish.steps["main"].options[0].label == "Facturación"
    assert spanish.intents["billing"].examples == ("facturación", "mi factura", "un cobro")
    assert flow.steps["main"].options[0].label == "Billing"
    assert flow.speaking("fr-CA") is flow  # a language it does not speak: its first


def test_check_names_the_line_of_a_text_missing_its_spanish(tmp_path: Path):
    text = BOTH.replace('        es-US: "¿En qué le puedo ayudar?"\n', "")
    line = line_no(text, 'en-US: "What can I help you with?"')
    problems = problems_in(tmp_path, text)
    assert [(p.line, p.message) for p in problems] == [
        (line, "step 'main' menu.prompt has no es-US version")
    ]


def test_check_refuses_a_text_in_one_language_where_the_flow_speaks_two(tmp_path: Path):
    text = BOTH.replace('say: {en-US: "Hello.", es-US: "Hola."}', 'say: "Hello."').replace(
        'label: {en-US: "Billing", es-US: "Facturación"}', 'label: "Billing"'
    )
    problems = problems_in(tmp_path, text)
    lines = sorted(p.line for p in problems)
    assert lines == sorted([line_no(text, 'say: "Hello."'), line_no(text, 'label: "Billing"')])
    assert all("the flow speaks en-US, es-US" in p.message for p in problems)


def test_check_refuses_examples_and_labels_missing_a_language(tmp_path: Path):
    text = BOTH.replace('      es-US: ["facturación", "mi factura", "un cobro"]\n', "").replace(
        'label: {en-US: "Billing", es-US: "Facturación"}', "label: {en-US: Billing}"
    )
    messages = sorted(p.message for p in problems_in(tmp_path, text))
    assert messages == [
        "intent 'billing'.examples has no es-US version",
        "step 'main' menu.label has no es-US version",
    ]


def test_a_language_the_flow_does_not_list_is_named(tmp_path: Path):
    text = BOTH.replace('es-US: "Hola."', 'es-MX: "Hola."')
    problems = problems_in(tmp_path, text)
    assert any(
        "'es-MX' is not one of the flow's languages (en-US, es-US)" in p.message for p in problems
    ), problems


def test_each_language_must_be_one_presszero_and_twilio_speak(tmp_path: Path):
    text = BOTH.replace("languages: [en-US, es-US]", "languages: [en-US, es-US, fr-FR]")
    text = text.replace('es-US: "Hola."}', 'es-US: "Hola.", fr-FR: "Bonjour."}')
    problems = problems_in(tmp_path, text)
    assert any("language 'fr-FR'" in p.message for p in problems), problems


def test_a_menu_with_more_than_five_options_fails_unless_allowed(tmp_path: Path):
    from support.flow_builders import TINY

    options = "".join(
        f'        - {{key: "{k}", goto: done, label: "Option {k}"}}\n' for k in "23456"
    )
    text = TINY.replace(
        '        - {key: "1", intent: billing, goto: billing_info}\n',
        '        - {key: "1", intent: billing, goto: billing_info}\n' + options,
    )
    problems = problems_in(tmp_path, text)
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [
        (
            line_no(text, "  main:"),
            "step 'main' menu has 6 options, more than the 5 a caller can keep in mind",
        )
    ]
    allowed = text.replace("queues: [support]", "queues: [support]\nlimits: {menu_options: 6}")
    assert problems_in(tmp_path, allowed) == []


def test_check_warns_on_a_twenty_second_prompt_in_either_language(tmp_path: Path):
    long_es = (
        "Gracias por llamar. Antes de empezar, tenga a mano su número de cuenta, la fecha de "
        "su última factura y el nombre del titular del plan, porque se lo pediremos más "
        "adelante para poder ayudarle con su consulta lo antes posible. Gracias por su "
        "paciencia y por elegirnos."
    )
    text = BOTH.replace('es-US: "¿En qué le puedo ayudar?"', f'es-US: "{long_es}"')
    path = write_flow(tmp_path, text)
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0, result.output
    line = line_no(text, "Gracias por llamar")
    assert f"flow.yaml:{line}: warning: step 'main''s prompt takes about 2" in result.output
    assert "in Spanish (limit 8 s)" in result.output
    # the English prompt is short: no warning about it
    assert result.output.count("warning:") == 1


def test_the_shipped_length_limits_can_be_set_and_barge_in_turned_off_is_said(tmp_path: Path):
    text = BOTH.replace("queues: [support]", "queues: [support]\nlimits: {prompt_seconds: 1}")
    text = text.replace(
        "    menu:\n      prompt:", "    menu:\n      barge_in: false\n      prompt:"
    )
    flow = tiny_flow(text)
    warnings = [w.message for w in length_warnings(flow)]
    assert any("limit 1 s" in w and "in English" in w for w in warnings), warnings
    assert any("turns barge-in off" in w for w in warnings), warnings
    assert length_warnings(both()) == []


# -- choosing a language on the phone -------------------------------------------------------


def call(language: str = "", customer_id: str | None = None) -> Conversation:
    customer = demo_customer(customer_id) if customer_id else None
    return Conversation(both(), customer, OPEN, language=language).start()


def test_a_caller_whose_language_is_unknown_hears_the_choice_first():
    conversation = call()
    assert conversation.heard_last().startswith("For English, press 1. Para español, oprima 2.")
    (prompt,) = conversation.last
    assert isinstance(prompt, Prompt)
    assert prompt.escape_keys == ("0",)


def test_pressing_2_holds_the_rest_of_the_call_in_spanish_and_is_remembered():
    conversation = call()
    conversation.send(Event.digits("2"))
    assert conversation.chose == ["es-US"]
    assert conversation.state.language == "es-US"
    assert "Hola." in conversation.heard_last()
    assert "¿En qué le puedo ayudar?" in conversation.heard_last()
    conversation.send(Event.text("mi factura", 0.9))
    assert "Las facturas salen el día primero." in conversation.heard_last()


def test_saying_espanol_chooses_spanish_and_silence_keeps_english_unremembered():
    said = call()
    said.send(Event.text("español", 0.8))
    assert said.chose == ["es-US"]
    quiet = call()
    quiet.send(Event.no_input())
    assert quiet.chose == []
    assert quiet.state.language == "en-US"
    assert "What can I help you with?" in quiet.heard_last()


def test_zero_at_the_choice_reaches_a_person():
    conversation = call()
    conversation.send(Event.digits("0"))
    handoff = [a for a in conversation.last if isinstance(a, Handoff)]
    assert handoff
    assert conversation.state.escape_reason == "key0"


def test_a_known_language_skips_the_choice_and_a_chat_follows_the_browser():
    known = call(language="es-US", customer_id="cus_1001")
    assert known.heard_last().startswith("Hola, Ana.")
    browser = Conversation(both(), None, OPEN, language="es-MX", written=True)
    browser.start(channel="chat")
    assert "¿En qué le puedo ayudar?" in browser.heard_last("chat")
    assert "Facturación" in browser.heard_last("chat")
    unknown = Conversation(both(), None, OPEN, written=True).start(channel="chat")
    assert "What can I help you with?" in unknown.heard_last("chat")


def test_a_copy_of_the_shipped_flow_without_one_spanish_prompt_fails_at_its_line(tmp_path: Path):
    from presszero.flows.language.files import library_dir

    shipped = (library_dir() / "support.yaml").read_text(encoding="utf-8")
    spanish = 'prompt: {en-US: "What can I help you with?", es-US: "¿En qué le puedo ayudar?"}'
    assert shipped.count(spanish) == 1
    text = shipped.replace(spanish, 'prompt: {en-US: "What can I help you with?"}')
    assert problems_in(tmp_path, shipped) == []
    problems = problems_in(tmp_path, text)
    assert [(p.line, p.message) for p in problems] == [
        (line_no(text, "en-US: \"What can I help you with?\""),
         "step 'main' menu.prompt has no es-US version")
    ]  # fmt: skip
