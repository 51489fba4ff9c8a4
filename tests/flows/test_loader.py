"""Flow files load into typed models; every mistake names its file:line and the allowed keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.flow_builders import TINY, line_no, problems_in, tiny_flow

from presszero.flows import FlowError, load_flow, shipped_flow
from presszero.flows.language.model import AskStep, MenuStep
from presszero.flows.language.yamlsrc import parse_yaml


def test_yaml_booleans_and_digits_stay_strings():
    data, problems = parse_yaml("a: yes\nb: no\nc: on\nd: off\ne: 0\nf: 007\ng: ~\n", "x.yaml")
    assert problems == []
    assert data == {"a": "yes", "b": "no", "c": "on", "d": "off", "e": "0", "f": "007", "g": None}


def test_intent_examples_written_as_yes_and_no_are_words():
    text = TINY.replace('["billing", "my bill"]', "[yes, no, on, off, 1]")
    assert tiny_flow(text).intents["billing"].examples == ("yes", "no", "on", "off", "1")


def test_an_unquoted_menu_key_is_the_string_it_looks_like():
    flow = tiny_flow(TINY.replace('{key: "1"', "{key: 1"))
    main = flow.steps["main"]
    assert isinstance(main, MenuStep)
    assert main.options[0].key == "1"


@pytest.mark.parametrize(
    ("text", "blamed", "message"),
    [
        (
            TINY.replace("prompt:", "promt:"),
            "promt:",
            "unknown key 'promt' in step 'main' menu (allowed: prompt, options, hints, barge_in)",
        ),
        (
            TINY.replace("queues:", "queue:"),
            "queue:",
            "unknown key 'queue' in the flow file (allowed: flow, language, languages, escape, "
            "queues, hours, limits, greeting, steps, intents)",
        ),
        (
            TINY.replace("  handoff: agent\n", "  handof: agent\n", 1),
            "handof:",
            "unknown key 'handof' in escape (allowed: keys, intents, max_no_match",
        ),
        (
            TINY.replace("end: {outcome: resolved}", "end: {outcome: fine}"),
            "outcome: fine",
            "end.outcome must be one of resolved, abandoned; got 'fine'",
        ),
        (
            TINY.replace("  main:\n    menu:", "  main:\n    escape: no\n    menu:"),
            "escape: no",
            "escape must be a mapping or true/false, not the text 'no'",
        ),
        (
            TINY.replace("America/New_York", "Mars/Olympus"),
            "Mars/Olympus",
            "unknown timezone 'Mars/Olympus'",
        ),
        (
            TINY.replace('"08:00-20:00"', '"8am to 8pm"'),
            "8am to 8pm",
            'hours.open.mon-fri must be like "08:00-20:00"',
        ),
        (
            TINY.replace("mon-fri:", "weekdays:"),
            "weekdays:",
            "'weekdays' is not a day or range of days",
        ),
        (
            TINY.replace("  done:\n", "  done:\n    say: hi\n"),
            "  done:",
            "step 'done' needs exactly one of say, menu, ask, branch, handoff, callback, "
            "voicemail, end (found: say, end)",
        ),
        (
            TINY.replace("queues: [support]\n", "queues: [support]\nqueues: [billing]\n"),
            "queues: [billing]",
            "'queues' is given twice (first on line 2)",
        ),
        (
            TINY.replace("intents: [agent]", "intents: [agent"),
            "intents: [agent",
            "not valid YAML",
        ),
        (
            TINY.replace('  - say: "Hello."', '  - say: "Hello {customer.first_name|there."'),
            "Hello {customer",
            "is not closed",
        ),
    ],
    ids=[
        "misspelt key",
        "top-level key",
        "escape key",
        "end outcome",
        "yes for a boolean",
        "timezone",
        "hours range",
        "day name",
        "two kinds in a step",
        "duplicate step",
        "broken yaml",
        "open brace",
    ],
)
def test_a_mistake_is_reported_with_its_line_and_what_is_allowed(
    tmp_path: Path, text: str, blamed: str, message: str
):
    problems = problems_in(tmp_path, text)
    assert problems, "expected the broken copy to fail"
    expected = line_no(text, blamed)
    hits = [p for p in problems if message in p.message]
    assert hits, [str(p) for p in problems]
    assert expected in {p.line for p in hits} or message == "not valid YAML", [str(p) for p in hits]
    assert str(hits[0]).startswith(f"{tmp_path / 'flow.yaml'}:{hits[0].line}: ")


def test_load_flow_raises_with_every_problem(tmp_path: Path):
    path = tmp_path / "flow.yaml"
    path.write_text(TINY.replace("goto: done", "goto: nowhere").replace("prompt:", "promt:"))
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    assert [p.line for p in caught.value.problems] == [line_no(path.read_text(), "promt:")]
    assert f"{path}:" in str(caught.value)


def test_an_ask_step_reads_its_pattern_and_lengths():
    flow = shipped_flow()
    ask = flow.steps["charge_account"]
    assert isinstance(ask, AskStep)
    assert (ask.pattern, ask.min_length, ask.max_length, ask.save_as) == (
        "digits",
        6,
        10,
        "account_number",
    )
    assert ask.escape.handoff == "billing_agent"


def test_a_step_escape_override_keeps_the_rest_of_the_policy():
    flow = shipped_flow()
    billing, main = flow.steps["billing"], flow.steps["main"]
    assert isinstance(billing, MenuStep)
    assert isinstance(main, MenuStep)
    assert billing.escape.handoff == "billing_agent"
    assert billing.escape.keys == main.escape.keys == ("0",)
    assert billing.escape.max_no_match == 2
    assert main.escape.handoff == "agent"


def test_the_shipped_flow_loads_with_its_hours_and_queues():
    flow = shipped_flow("support")
    assert flow.name == "support"
    assert flow.hours.timezone == "America/New_York"
    assert flow.hours.after_hours == "callback"
    assert set(flow.queues) == {"support", "billing", "plans", "priority"}
    assert flow.region == "US"


def test_asking_for_a_flow_that_is_not_shipped_names_the_ones_that_are():
    with pytest.raises(KeyError, match="shipped: support"):
        shipped_flow("sales")
