"""The trained intent model: fast to build, deterministic, calibrated from the flow itself."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from support.flow_builders import TINY, line_no

from presszero.flows.cli import check
from presszero.flows.language.intents import IntentMatcher, words
from presszero.flows.language.linear import FALLBACK, Model, calibrate
from presszero.flows.language.sureness import sureness

TOPICS = {
    "billing": "bill invoice charge payment statement fee refund amount card due",
    "plan": "plan coverage upgrade downgrade tier benefits level package option policy",
    "technical": "app website login password crash error screen broken update install",
    "travel": "flight hotel trip booking luggage airport ticket seat gate passport",
    "weather": "rain sunny forecast storm snow wind cloudy temperature humid cold",
}


def topic_examples(count: int = 12) -> dict[str, list[str]]:
    """Return intents whose examples each pair two of the intent's own topic words."""
    out: dict[str, list[str]] = {}
    for name, topic in TOPICS.items():
        vocab = topic.split()
        out[name] = [f"my {vocab[i % 10]} {vocab[(3 * i + 1) % 10]}" for i in range(count)]
    return out


def test_twenty_intents_of_twenty_examples_train_well_under_a_second():
    examples = {
        f"intent_{i}": [f"question {i} about topic{i} number {j} detail{j % 7}" for j in range(20)]
        for i in range(20)
    }
    # Processor time, not the wall clock: other work on the machine does not count.
    started = time.process_time()
    matcher = IntentMatcher(examples)
    assert time.process_time() - started < 0.8
    assert matcher.match("question 3 about topic3 number 5").intent == "intent_3"


def test_the_same_examples_always_train_the_same_model():
    examples = topic_examples()
    first, second = IntentMatcher(examples), IntentMatcher(examples)
    assert first.threshold == second.threshold
    for text in ["my bill", "the app crashed", "is it going to rain", "purple elephants"]:
        assert first.scores(text) == second.scores(text)


def test_held_out_phrasings_of_separate_topics_set_the_threshold_from_the_examples():
    examples = topic_examples()
    texts = [words(t) for name in examples for t in examples[name]]
    labels = [i for i, name in enumerate(examples) for _ in examples[name]]
    calibration = calibrate(texts, labels)
    assert calibration.threshold != FALLBACK
    assert np.median(calibration.unknown) < calibration.threshold
    assert calibration.threshold < np.median(calibration.known)


def test_examples_that_cannot_tell_known_from_unknown_keep_the_even_threshold():
    same = ["one thing", "the thing", "that thing", "a thing"]
    texts = [words(t) for _ in range(4) for t in same]
    labels = [i for i in range(4) for _ in same]
    assert calibrate(texts, labels).threshold == FALLBACK


def test_scores_are_high_for_an_intents_own_words_and_low_for_others():
    model = Model([["my", "bill"], ["the", "app"]], [0, 1])
    bill, app = model.scores(["bill"]), model.scores(["app"])
    assert bill[0] > 0.5 > bill[1]
    assert app[1] > 0.5 > app[0]
    assert np.all(model.scores(["zzz"]) < 0.5)


def test_an_utterance_about_something_the_flow_does_not_know_is_unclear():
    matcher = IntentMatcher(topic_examples())
    assert matcher.match("my invoice amount").intent == "billing"
    assert matcher.match("what is the capital of peru").unclear


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "overlap.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_warns_about_intents_of_one_menu_that_share_an_example(tmp_path: Path):
    text = TINY.replace(
        '        - {key: "1", intent: billing, goto: billing_info}\n',
        '        - {key: "1", intent: billing, goto: billing_info}\n'
        '        - {key: "2", intent: payment, goto: billing_info}\n',
    ).replace(
        '  billing: {examples: ["billing", "my bill"]}\n',
        '  billing: {examples: ["billing", "my bill", "pay my bill"]}\n'
        '  payment: {examples: ["Pay my bill!", "payment"]}\n',
    )
    result = CliRunner().invoke(check, [str(write(tmp_path, text))])
    assert result.exit_code == 0, result.output
    line = line_no(text, "  payment: {examples")
    assert (
        f"overlap.yaml:{line}: warning: intents 'billing' and 'payment' both have the example "
        "'pay my bill': at menu 'main' it is unclear"
    ) in result.output


def test_check_warns_about_a_menu_intent_with_a_single_example(tmp_path: Path):
    text = TINY.replace('["billing", "my bill"]', '["billing"]')
    result = CliRunner().invoke(check, [str(write(tmp_path, text))])
    assert result.exit_code == 0, result.output
    assert "warning: intent 'billing' (menu 'main') has fewer than 2 examples" in result.output


def test_check_does_not_warn_about_a_sound_flow(tmp_path: Path):
    result = CliRunner().invoke(check, [str(write(tmp_path, TINY))])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


def test_check_in_json_lists_the_warnings_apart_from_the_problems(tmp_path: Path):
    text = TINY.replace('["billing", "my bill"]', '["billing"]')
    result = CliRunner().invoke(check, [str(write(tmp_path, text)), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["problems"] == []
    assert [w["line"] for w in report["warnings"]] == [line_no(text, "  billing: {examples")]


def test_examples_that_separate_well_let_the_threshold_decide_alone():
    trusted = IntentMatcher(topic_examples())
    assert trusted.trust > 0.5
    doubtful = IntentMatcher({"plan": ["my plan", "plan status"], "billing": ["billing", "bill"]})
    assert doubtful.trust == 0.0
    assert doubtful.threshold == FALLBACK


def test_a_best_score_is_weighed_by_its_share_only_as_far_as_the_examples_are_trusted():
    assert sureness(0.8, 0.8, 0.5) == pytest.approx(0.8)  # alone: its score
    assert sureness(0.8, 1.6, 0.5) == pytest.approx(0.8 * 0.5**0.5)  # a runner-up as good
    assert sureness(0.8, 1.6, 0.0) == 0.8  # untrusted examples: the score itself
    examples = topic_examples()
    texts = [words(t) for name in examples for t in examples[name]]
    labels = [i for i, name in enumerate(examples) for _ in examples[name]]
    calibration = calibrate(texts, labels)
    assert calibration.sharpen == pytest.approx(0.5 * calibration.trust)
    assert calibration.sharpen > 0
