"""Deterministic intent matching from a flow's examples: no model, no network, well under 1 ms.

Utterances and examples are normalised the same way (case, punctuation, filler words, a
light stemmer); words not in the examples are matched to the nearest known word within a
small edit distance, so "biling" and "reprezentative" still land. Each example scores how
much of it the utterance covers (weighted so words shared by many intents count less); the
best intent wins only if it is clearly ahead, otherwise the answer is "unclear".
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from .person import PersonDetector

AGENT = "agent"

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

_CANDIDATES = 12  # known words checked for a typo, those sharing the most trigrams first
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


def _distance(a: str, b: str, limit: int) -> int:
    """Return the edit distance (adjacent swaps count once), or limit+1 if larger.

    Only the diagonal band of width `limit` is computed: anything outside it is too far.
    """
    big = limit + 1
    if abs(len(a) - len(b)) > limit:
        return big
    if a == b:
        return 0
    width = len(b) + 1
    prev2 = [big] * width
    prev = [j if j <= limit else big for j in range(width)]
    for i in range(1, len(a) + 1):
        row = [big] * width
        row[0] = i if i <= limit else big
        ca, best = a[i - 1], row[0]
        for j in range(max(1, i - limit), min(len(b), i + limit) + 1):
            cb = b[j - 1]
            value = prev[j - 1] + (ca != cb)
            if prev[j] + 1 < value:
                value = prev[j] + 1
            if row[j - 1] + 1 < value:
                value = row[j - 1] + 1
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb and prev2[j - 2] + 1 < value:
                value = prev2[j - 2] + 1
            row[j] = value
            if value < best:
                best = value
        if best > limit:
            return big
        prev2, prev = prev, row
    return min(prev[-1], big)


def _trigrams(word: str) -> set[str]:
    padded = f"^{word}$"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class IntentMatcher:
    """Match utterances to the intents whose examples they resemble most."""

    def __init__(
        self,
        examples: Mapping[str, Iterable[str]],
        *,
        threshold: float = 0.5,
        margin: float = 0.1,
        builtin_agent: bool = True,
    ) -> None:
        self.threshold = threshold
        self.margin = margin
        merged = {name: list(texts) for name, texts in examples.items()}
        # Asking for a person is the person detector's to tell, with the flow's own phrases.
        own = merged.pop(AGENT, [])
        self.person = PersonDetector(
            [*own, *(AGENT_EXAMPLES if builtin_agent else ())],
            {w for texts in merged.values() for text in texts for w in words(text)},
        )
        self.intents = (AGENT, *merged)
        self._examples: list[tuple[str, frozenset[str]]] = []
        holders: dict[str, set[str]] = {}
        for name, texts in merged.items():
            for text in texts:
                toks = frozenset(tokens(text))
                if toks:
                    self._examples.append((name, toks))
                    for tok in toks:
                        holders.setdefault(tok, set()).add(name)
        count = max(len(merged), 1)
        self._weight = {t: math.log(1 + count / len(h)) for t, h in holders.items()}
        self._unseen = math.log(1 + count)
        self._postings: dict[str, list[int]] = {}
        self._totals: list[float] = []
        for index, (_, toks) in enumerate(self._examples):
            self._totals.append(sum(self._weight[t] for t in toks))
            for tok in toks:
                self._postings.setdefault(tok, []).append(index)
        # Typos are matched against the words as written and their stems ("biling" is one
        # letter from "billing", two from its stem "bill").
        self._forms: dict[str, str] = {t: t for t in self._weight}
        for texts in merged.values():
            for text in texts:
                for word in words(text):
                    if stem(word) in self._weight:
                        self._forms.setdefault(word, stem(word))
        self._grams: dict[str, set[str]] = {}
        for form in self._forms:
            if len(form) >= 4:
                for gram in _trigrams(form):
                    self._grams.setdefault(gram, set()).add(form)
        self._near: dict[str, tuple[tuple[str, float], ...]] = {}

    def _nearest(self, word: str) -> tuple[tuple[str, float], ...]:
        """Return the known stems `word` may be (a typo of), with a similarity each."""
        stemmed = stem(word)
        if stemmed in self._weight:
            return ((stemmed, 1.0),)
        cached = self._near.get(word)
        if cached is not None:
            return cached
        found: dict[str, float] = {}
        if len(word) >= 4:
            limit = 1 if len(word) < 8 else 2
            grams = _trigrams(word)
            shared: dict[str, int] = {}
            for gram in grams:
                for form in self._grams.get(gram, ()):
                    shared[form] = shared.get(form, 0) + 1
            # One edit spoils at most 4 trigrams (a swap), so a near word shares the rest.
            enough = max(1, len(grams) - 4 * limit)
            near = [
                (count, form)
                for form, count in shared.items()
                if count >= enough and abs(len(form) - len(word)) <= limit
            ]
            for _, form in heapq.nlargest(_CANDIDATES, near):
                d = _distance(word, form, limit)
                if d <= limit:
                    similarity = 1.0 - 0.5 * d / max(len(word), len(form))
                    known = self._forms[form]
                    found[known] = max(found.get(known, 0.0), similarity)
        result = tuple(found.items())
        if len(self._near) > 50_000:
            self._near.clear()
        self._near[word] = result
        return result

    def match(self, text: str, among: Collection[str] | None = None) -> Match:
        """Return the intent `text` asks for, considering only `among` when given.

        A request for a person wins over every other intent; the runner-up says what else
        the words resembled.
        """
        if among is None or AGENT in among:
            request = self.person.detect(text)
            if request is not None:
                rest = self._scores(text, among)
                other = max(sorted(rest), key=rest.__getitem__, default=None)
                return Match(
                    AGENT, request.confidence, other, round(rest[other], 3) if other else 0.0
                )
        return self._decide(self._scores(text, among))

    def _scores(self, text: str, among: Collection[str] | None) -> dict[str, float]:
        said = {w for w in words(text) if w not in FILLERS}
        if not said:
            return {}
        best: dict[str, float] = {}
        said_weight = 0.0
        for word in said:
            near = self._nearest(word)
            said_weight += max((self._weight[k] for k, _ in near), default=self._unseen)
            for known, similarity in near:
                if similarity > best.get(known, 0.0):
                    best[known] = similarity
        covered: dict[int, float] = {}
        for known, similarity in best.items():
            gain = similarity * self._weight[known]
            for index in self._postings.get(known, ()):
                covered[index] = covered.get(index, 0.0) + gain
        scores: dict[str, float] = {}
        for index, got in covered.items():
            name = self._examples[index][0]
            if among is not None and name not in among:
                continue
            score = 0.7 * got / self._totals[index] + 0.3 * min(got / said_weight, 1.0)
            if score > scores.get(name, 0.0):
                scores[name] = score
        return scores

    def _decide(self, scores: dict[str, float]) -> Match:
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        if not ranked:
            return Match(None, 0.0)
        top, score = ranked[0]
        second, second_score = ranked[1] if len(ranked) > 1 else (None, 0.0)
        if score < self.threshold or score - second_score < self.margin:
            return Match(None, round(score, 3), top, round(score, 3))
        return Match(top, round(score, 3), second, round(second_score, 3))
