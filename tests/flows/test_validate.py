"""`presszero check` proves the escape hatch: broken copies fail with the right file:line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.flow_builders import TINY, line_no, problems_in

from presszero.flows.language.files import check_path, library_dir

LOOP = """\
        - {key: "2", intent: billing, goto: loop_a}
  loop_a:
    say: "Round we go."
    goto: loop_b
  loop_b:
    say: "And round again."
    goto: loop_a
"""

MENU_LOOP = """\
        - {key: "2", goto: ping}
  ping:
    menu:
      prompt: "Pong?"
      options:
        - {key: "1", goto: pong}
  pong:
    menu:
      prompt: "Ping?"
      options:
        - {key: "1", goto: ping}
"""

ASK = """\
        - {key: "2", goto: account}
  account:
    ask:
      prompt: "Enter your account number."
      pattern: digits
      save_as: account
      goto: done
"""


def after_options(extra: str) -> str:
    """Return TINY with `extra` (starting with a menu option line) added to main's options."""
    marker = '        - {key: "1", intent: billing, goto: billing_info}\n'
    return TINY.replace(marker, marker + extra)


BROKEN = [
    # (what is wrong, the broken flow text, a text on the line to blame, the message)
    (
        "a dead end",
        TINY.replace("    goto: done\n", "", 1),
        "billing_info:",
        "step 'billing_info' is a dead end",
    ),
    (
        "a missing goto target",
        TINY.replace("goto: done", "goto: nowhere"),
        "goto: nowhere",
        "goes to 'nowhere', but there is no step named 'nowhere'",
    ),
    (
        "an unknown intent",
        TINY.replace("intent: billing,", "intent: bills,"),
        "intent: bills",
        "uses intent 'bills', which is not defined",
    ),
    (
        "a prompt with the escape turned off",
        TINY.replace("  main:\n    menu:", "  main:\n    escape: false\n    menu:"),
        "escape: false",
        "step 'main' turns the escape off",
    ),
    (
        "escape keys removed",
        TINY.replace('  keys: ["0"]', "  keys: []"),
        "keys: []",
        "keys must include 0",
    ),
    (
        "escape keys without 0 on one step",
        TINY.replace("  main:\n    menu:", '  main:\n    escape: {keys: ["9"]}\n    menu:'),
        'keys: ["9"]',
        "step 'main' escape: keys must include 0",
    ),
    (
        "a template field without fallback",
        TINY.replace('say: "Hello."', 'say: "Hello {customer.first_name}."'),
        "Hello {customer.first_name}",
        "{customer.first_name} may have no value here; add a fallback",
    ),
    (
        "an unreachable step",
        TINY.replace(
            "\nintents:\n", '\n  orphan:\n    say: "Nobody hears."\n    goto: done\nintents:\n'
        ),
        "orphan:",
        "step 'orphan' is unreachable",
    ),
    (
        "a loop of says with no exit",
        after_options(LOOP),
        "loop_a:",
        "loop with no exit: steps loop_a, loop_b",
    ),
    (
        "a loop of menus whose only way out is the escape",
        after_options(MENU_LOOP),
        "ping:",
        "loop with no exit: steps ping, pong",
    ),
    (
        "an ask that would swallow a lone 0",
        after_options(ASK),
        "account:",
        "would take a lone 0 as an answer",
    ),
    (
        "a menu option on the escape key",
        TINY.replace('{key: "1", intent: billing', '{key: "0", intent: billing'),
        '{key: "0"',
        "key 0 is the escape to a person",
    ),
    (
        "an escape that leads to a menu, not a person",
        TINY.replace("  handoff: agent\n", "  handoff: main\n"),
        "  handoff: main",
        "handoff 'main' must be a handoff step, but it is a menu step",
    ),
    (
        "three misses before a person",
        TINY.replace("  handoff: agent\n", "  handoff: agent\n  max_no_match: 3\n"),
        "  max_no_match: 3",
        "max_no_match is 3; a person must be at most 2 misses away",
    ),
    (
        "an undeclared queue",
        TINY.replace("handoff: {queue: support,", "handoff: {queue: sales,"),
        "  agent:",
        "uses queue 'sales', which is not declared",
    ),
    (
        "after hours going to a menu",
        TINY.replace("after_hours: callback", "after_hours: main"),
        "after_hours: main",
        "hours.after_hours is 'main', a menu step",
    ),
    (
        "a greeting with no rule for everyone",
        TINY.replace('  - say: "Hello."\n    goto: main\n', ""),
        "when: customer.known",
        "the last rule needs no 'when'",
    ),
    (
        "a condition on an unknown field",
        TINY.replace("when: customer.known", 'when: plan.colour == "red"'),
        "plan.colour",
        "unknown field 'plan.colour' (plan has: name, status, started)",
    ),
    (
        "a condition calling an unknown function",
        TINY.replace("when: customer.known", 'when: is_vip("x")'),
        "is_vip",
        "unknown function 'is_vip'",
    ),
    (
        "a bracket placeholder in a prompt",
        TINY.replace('say: "Hello."', 'say: "Hello [FirstName]."'),
        "[FirstName]",
        "[FirstName] looks like a placeholder",
    ),
    (
        "an answer no step saves",
        TINY.replace('say: "Hello."', 'say: "Hello {answers.account|}."'),
        "answers.account",
        "no ask step saves an answer as 'account'",
    ),
]


@pytest.mark.parametrize(
    ("broken", "text", "blamed", "message"), BROKEN, ids=[case[0] for case in BROKEN]
)
def test_check_fails_a_broken_copy_at_the_right_line(
    tmp_path: Path, broken: str, text: str, blamed: str, message: str
):
    problems = problems_in(tmp_path, text)
    found = [(p.line, p.message) for p in problems]
    expected_line = line_no(text, blamed)
    assert any(line == expected_line and message in text_ for line, text_ in found), found
    assert all(p.file.endswith("flow.yaml") for p in problems)


def shipped_with(pattern: str, replacement: str) -> str:
    """Return the shipped support flow with the one line matching `pattern` replaced."""
    changed, count = re.subn(pattern, replacement, (library_dir() / "support.yaml").read_text())
    assert count == 1, f"{pattern!r} matched {count} lines of the shipped flow"
    return changed


def test_a_mistake_in_the_flows_escape_is_one_problem_at_its_line(tmp_path: Path):
    # Every step with an escape of its own inherits the flow's max_no_match: one cause.
    text = shipped_with(r"(?m)^  max_no_match: 2\b", "  max_no_match: 5")
    problems = [(p.line, p.message) for p in problems_in(tmp_path, text)]
    misses = "a person must be at most 2 misses away (use 1 or 2)"
    assert problems == [(line_no(text, "max_no_match: 5"), f"escape: max_no_match is 5; {misses}")]


def test_a_mistake_in_a_steps_own_escape_is_one_problem_at_that_step(tmp_path: Path):
    text = shipped_with(
        r"escape: \{handoff: tech_agent\}", "escape: {handoff: tech_agent, max_no_input: 0}"
    )
    problems = [(p.line, p.message) for p in problems_in(tmp_path, text)]
    misses = "a person must be at most 2 misses away (use 1 or 2)"
    assert problems == [
        (line_no(text, "max_no_input: 0"), f"step 'technical' escape: max_no_input is 0; {misses}")
    ]


def test_the_tiny_flow_the_broken_copies_come_from_is_sound(tmp_path: Path):
    assert problems_in(tmp_path, TINY) == []


def test_the_shipped_flows_are_sound():
    flows, problems = check_path(library_dir())
    assert problems == []
    assert "support" in flows


def test_a_condition_can_vouch_for_a_field_without_fallback(tmp_path: Path):
    text = TINY.replace(
        'say: "Hi {customer.first_name}."',
        'say: "Hi {customer.first_name}, we miss you since {cancellations.last.date}."',
    ).replace("when: customer.known", 'when: cancellations.last.within("30d")')
    assert problems_in(tmp_path, text) == []


def test_a_field_vouched_for_only_on_one_side_of_or_still_needs_a_fallback(tmp_path: Path):
    text = TINY.replace(
        'say: "Hi {customer.first_name}."', 'say: "Since {cancellations.last.date}."'
    ).replace("when: customer.known", 'when: cancellations.last.within("30d") or has_flag("vip")')
    messages = [p.message for p in problems_in(tmp_path, text)]
    assert any("{cancellations.last.date} may have no value here" in m for m in messages)


def test_two_flows_with_one_name_in_a_folder_are_a_problem(tmp_path: Path):
    (tmp_path / "a.yaml").write_text(TINY, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(TINY, encoding="utf-8")
    flows, problems = check_path(tmp_path)
    assert [p.message for p in problems] == [
        f"flow 'tiny' is also defined in {tmp_path / 'a.yaml'}"
    ]
    assert list(flows) == ["tiny"]


@pytest.mark.parametrize(
    ("language", "refused_by"),
    [
        ("cy-GB", "<Gather>"),  # Welsh is spoken, never listened for
        ("en-GB-WLS", "<Gather>"),
        ("yue-Hant-HK", "<Say>"),  # heard, never spoken
        ("es-AR", "<Say>"),
        ("xx-XX", "<Say> and <Gather>"),
        ("en-us", "<Say> and <Gather>"),  # Twilio's values are case-sensitive
    ],
)
def test_check_refuses_a_language_twilios_say_or_gather_would_refuse(
    tmp_path: Path, language: str, refused_by: str
):
    text = TINY.replace("flow: tiny\n", f"flow: tiny\nlanguage: {language}\n")
    problems = problems_in(tmp_path, text)
    messages = [p.message for p in problems if p.line == 1]
    assert any(f"language '{language}'" in m and refused_by in m for m in messages), problems


@pytest.mark.parametrize("language", ["en-US", "en-GB", "es-US", "es-MX", "en-IN"])
def test_a_language_both_say_and_gather_accept_passes_check(tmp_path: Path, language: str):
    text = TINY.replace("flow: tiny\n", f"flow: tiny\nlanguage: {language}\n")
    assert problems_in(tmp_path, text) == []


@pytest.mark.parametrize("language", ["fr-CA", "de-DE", "ja-JP"])
def test_a_language_presszero_has_no_words_in_fails_check_though_twilio_takes_it(
    tmp_path: Path, language: str
):
    text = TINY.replace("flow: tiny\n", f"flow: tiny\nlanguage: {language}\n")
    assert [str(p).split(": ", 1)[1] for p in problems_in(tmp_path, text)] == [
        f"language '{language}': presszero's own words (how to press a key, the hours, the "
        "queue's messages) exist only in English, Spanish"
    ]


def test_a_mis_cased_language_is_told_the_spelling_twilio_accepts(tmp_path: Path):
    text = TINY.replace("flow: tiny\n", "flow: tiny\nlanguage: EN-us\n")
    assert any("did you mean 'en-US'" in p.message for p in problems_in(tmp_path, text))
