"""Intent matching: deterministic, tolerant of fillers and typos, and honest when unclear."""

from __future__ import annotations

import pytest

from presszero.flows import shipped_flow
from presszero.flows.language.intents import AGENT, IntentMatcher, contains_phrase, stem, words

INTENTS = {
    "billing": ["billing", "my bill", "a charge on my card", "invoice", "payment"],
    "plan": ["my plan", "change plan", "plan status", "new plan"],
    "cancel": ["cancel", "cancel my plan", "cancellation"],
    "technical": ["technical help", "the app is not working", "can't sign in", "tech support"],
}
MATCHER = IntentMatcher(INTENTS)

AGENT_PHRASES = [
    "agent",
    "representative",
    "operator",
    "a human",
    "real person",
    "someone",
    "talk to somebody",
    "customer service",
    "Agent!",
    "I want to speak to a representative please",
    "uh can I talk to a real person",
    "get me a human being",
    "let me talk to someone",
    "live agent",
    "operator operator",
    "a person please",
    "I want to talk to an agent about my bill",
]


@pytest.mark.parametrize("utterance", AGENT_PHRASES)
def test_every_common_way_of_asking_for_a_person_is_the_agent_intent(utterance: str):
    assert MATCHER.match(utterance).intent == AGENT


@pytest.mark.parametrize("utterance", AGENT_PHRASES)
def test_a_flow_with_no_agent_examples_of_its_own_still_knows_them(utterance: str):
    bare = IntentMatcher({"billing": ["billing"]})
    assert bare.match(utterance).intent == AGENT


@pytest.mark.parametrize(
    ("utterance", "intent"),
    [
        ("billing", "billing"),
        ("BILLING!!!", "billing"),
        ("um, uh, I have a question about my bill please", "billing"),
        ("biling", "billing"),
        ("paymnet", "billing"),
        ("invoices", "billing"),
        ("I would like to cancel", "cancel"),
        ("cancelation", "cancel"),
        ("Cancelling", "cancel"),
        ("I need a new plan", "plan"),
        ("tech suport", "technical"),
        ("techincal help", "technical"),
        ("the app isn't working", "technical"),
    ],
)
def test_an_utterance_finds_its_intent_through_fillers_and_typos(utterance: str, intent: str):
    match = MATCHER.match(utterance)
    assert match.intent == intent
    assert match.confidence >= MATCHER.threshold


@pytest.mark.parametrize(
    "utterance",
    ["", "   ", "um uh", "banana", "purple elephants", "plan billing", "zxqv", "rep"[:2]],
)
def test_a_weak_or_split_match_is_unclear(utterance: str):
    match = MATCHER.match(utterance)
    assert match.unclear
    assert match.intent is None


def test_an_ambiguous_utterance_reports_its_best_guess_with_the_confidence():
    match = MATCHER.match("plan billing")
    assert match.intent is None
    assert match.runner_up in {"plan", "billing"}
    assert match.confidence > 0.5


def test_matching_only_among_some_intents_ignores_the_others():
    assert MATCHER.match("my bill", among={"plan", "cancel"}).intent is None
    assert MATCHER.match("my bill", among={"billing"}).intent == "billing"


def test_the_same_utterance_always_gets_the_same_answer():
    answers = {MATCHER.match("a charge on my card from last week") for _ in range(5)}
    assert len(answers) == 1
    assert next(iter(answers)).intent == "billing"


@pytest.mark.parametrize(
    ("utterance", "menu", "intent"),
    [
        ("new plan", "after_cancellation", "new_plan"),
        ("why was my plan cancelled", "after_cancellation", "about_cancellation"),
        ("a charge I don't recognise", "billing", "charge"),
        ("I forgot my password", "technical", "sign_in"),
        ("the app keeps crashing", "technical", "app_problem"),
        ("that's all thanks", "anything_else", "done"),
        ("main menu", "anything_else", "main_menu"),
        ("rebook", "missed_call", "rebook"),
    ],
)
def test_the_shipped_menus_understand_plain_answers(utterance: str, menu: str, intent: str):
    flow = shipped_flow()
    options = {o.intent for o in flow.steps[menu].options if o.intent}  # type: ignore[union-attr]
    assert flow.matcher.match(utterance, options | {AGENT}).intent == intent


def test_words_and_stems_are_normalised_the_same_way_for_examples_and_utterances():
    assert words("Don't CANCEL—my plan!") == ["dont", "cancel", "my", "plan"]
    assert stem("charges") == stem("charge") == "charge"
    assert stem("billing") == "bill"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("This is RIDICULOUS!", "ridiculous"),
        ("you're useless", "useless"),
        ("I'm not unhelpful", None),
        ("my ridiculousness", None),
    ],
)
def test_a_phrase_is_found_only_as_whole_words(text: str, found: str | None):
    assert contains_phrase(text, ["ridiculous", "useless"]) == found
