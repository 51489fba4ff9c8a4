"""Intent matching from a flow's examples: deterministic, offline, well under 1 ms.

A request for a person is told apart first by its own detector (`person.py`); every other
intent is scored by a linear model over character and word n-grams trained from the flow's
examples (`linear.py`), the first time the flow is asked to match (so `presszero check`
pays neither for training nor for importing numpy). The best intent wins only if it reaches
the threshold calibrated on those same examples and is clearly ahead; otherwise the answer
is "unclear".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from .person import PersonDetector
from .sureness import sureness

if TYPE_CHECKING:
    from .linear import Calibration, Model

AGENT = "agent"
TRUSTED = 0.5  # calibration trust from which the score's share alone judges a close runner-up

# Every flow understands these as a request for a person, whatever its YAML lists.
AGENT_EXAMPLES = (
    "agent", "live agent", "an agent please", "representative", "a representative", "a rep",
    "person", "talk to a person", "a real person please", "people",
    "operator", "a human", "human", "a real human", "real person", "a person", "a live person",
    "someone", "somebody", "talk to somebody", "talk to someone", "speak to someone",
    "speak to a person", "talk to a human", "customer service", "customer care",
    "customer support", "support team", "staff member", "advisor", "transfer me",
    "connect me to someone",
)  # fmt: skip

FILLERS = frozenset({
    "um", "umm", "uh", "uhh", "er", "erm", "hmm", "mm", "ah", "please", "pls", "just", "like",
    "actually", "basically", "well", "so", "hi", "hello", "hey", "i", "im", "me", "my", "mine",
    "a", "an", "the", "to", "of", "for", "on", "in", "at", "about", "with", "is", "it", "its",
    "be", "can", "could", "would", "will", "want", "wanna", "need", "id", "have", "do", "does",
    "did", "am", "are", "was", "some", "this", "that", "thats", "there", "and", "or", "but",
    "how", "what", "ok", "okay", "yeah", "thanks", "thank", "let", "lets", "get", "got", "you",
    "your", "youre", "go", "going",
})  # fmt: skip

_SPACE = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class Match:
    """The best intent (None when unclear), its confidence 0-1, and the runner-up."""

    intent: str | None
    confidence: float
    runner_up: str | None = None
    runner_up_confidence: float = 0.0

    @property
    def unclear(self) -> bool:
        return self.intent is None


def words(text: str) -> list[str]:
    """Return the lower-case words of `text`, accents and punctuation removed."""
    spaced = _SPACE.sub(" ", text.lower().replace("'", "").replace("\u2019", ""))
    return unicodedata.normalize("NFKD", spaced).encode("ascii", "ignore").decode().split()


def stem(word: str) -> str:
    """Return a crude stem so "charges", "charged" and "charge" meet."""
    for suffix in ("ation", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Return the meaningful, stemmed words of `text` (fillers dropped)."""
    return [stem(w) for w in words(text) if w not in FILLERS]


def contains_phrase(text: str, phrases: Iterable[str]) -> str | None:
    """Return the first of `phrases` said in `text` as whole words, or None."""
    said = f" {' '.join(words(text))} "
    for phrase in phrases:
        if f" {' '.join(words(phrase))} " in said:
            return phrase
    return None


class IntentMatcher:
    """Match utterances to intents with a model trained on the flow's examples at load.

    Asking for a person is told apart first, by its own detector; every other intent has a
    score 0-1 from the linear model (`linear.py`). The best intent is the answer only when
    its score reaches the threshold and it is clearly ahead of the runner-up; the threshold
    comes from the flow's own examples (see `calibrate`), unless one is given.
    """

    def __init__(
        self,
        examples: Mapping[str, Iterable[str]],
        *,
        threshold: float | None = None,
        margin: float = 0.1,
        builtin_agent: bool = True,
    ) -> None:
        self.margin = margin
        merged = {name: list(texts) for name, texts in examples.items()}
        # Asking for a person is the person detector's to tell, with the flow's own phrases.
        own = merged.pop(AGENT, [])
        self.person = PersonDetector(
            [*own, *(AGENT_EXAMPLES if builtin_agent else ())],
            {w for texts in merged.values() for text in texts for w in words(text)},
        )
        self.intents = (AGENT, *merged)
        self.names: tuple[str, ...] = tuple(n for n, texts in merged.items() if texts)
        self.examples = [
            (index, words(text)) for index, name in enumerate(self.names) for text in merged[name]
        ]
        self.given_threshold = threshold

    @cached_property
    def model(self) -> Model:
        """The linear model, trained on first use (a server's flows warm it up at load)."""
        from .linear import Model

        return Model([f for _, f in self.examples], [i for i, _ in self.examples])

    @cached_property
    def calibration(self) -> Calibration | None:
        """What cross-validation on the examples found (None when a threshold was given)."""
        from .linear import calibrate

        if self.given_threshold is not None:
            return None
        return calibrate([f for _, f in self.examples], [i for i, _ in self.examples])

    @property
    def threshold(self) -> float:
        return self.calibration.threshold if self.calibration else self.given_threshold or 0.5

    @property
    def trust(self) -> float:
        return self.calibration.trust if self.calibration else 0.0

    @property
    def sharpen(self) -> float:
        return self.calibration.sharpen if self.calibration else 0.0

    def warm_up(self) -> None:
        """Train and calibrate now, so the first caller does not wait for it."""
        _ = self.model, self.calibration

    def scores(self, text: str, among: Collection[str] | None = None) -> dict[str, float]:
        """Return every intent's score for `text` (of those in `among`, when given)."""
        raw = self.model.scores(words(text))
        return {
            name: float(raw[i])
            for i, name in enumerate(self.names)
            if among is None or name in among
        }

    def match(self, text: str, among: Collection[str] | None = None) -> Match:
        """Return the intent `text` asks for, considering only `among` when given.

        A request for a person wins over every other intent; the runner-up says what else
        the words resembled.
        """
        rest = self.scores(text, among) if words(text) else {}
        ranked = sorted(rest.items(), key=lambda item: (-item[1], item[0]))
        if among is None or AGENT in among:
            request = self.person.detect(text)
            if request is not None:
                other, other_score = ranked[0] if ranked else (None, 0.0)
                return Match(AGENT, round(request.confidence, 3), other, round(other_score, 3))
        if not ranked:
            return Match(None, 0.0)
        top, score = ranked[0]
        second, second_score = ranked[1] if len(ranked) > 1 else (None, 0.0)
        # Unclear when the best is weak, or when the runner-up is nearly as good: within the
        # margin, or two thirds of the best ("plan billing"). The better the examples told
        # known from unknown in calibration, the more the threshold alone decides.
        doubt = 1.0 - self.trust
        sure = sureness(score, sum(rest.values()), self.sharpen)
        # Weighed by its share, a score already pays for a close runner-up: the rules for
        # one are for examples that tell known from unknown poorly (the shipped flow's).
        close = self.trust < TRUSTED and (
            score - second_score < self.margin * doubt or second_score >= score * (1 - doubt / 3)
        )
        if sure < self.threshold or close:
            return Match(None, round(score, 3), top, round(score, 3))
        return Match(top, round(score, 3), second, round(second_score, 3))
