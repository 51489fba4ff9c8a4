"""A linear model over character and word n-grams, trained from a flow's examples at load.

Each utterance becomes TF-IDF weights of the character 2- to 5-grams of its words (so a typo
keeps most of its word's grams) and of its words and word pairs. Each intent gets its own
logistic regression against all the others (one-vs-rest, positives and negatives weighted
equally), so an intent's score says how much the words look like that intent alone, on an
absolute scale: a menu may ask about only some intents, and an utterance like none of them
scores low on all. Training is L-BFGS on sparse matrices: deterministic, offline, and a
flow of 20 intents x 20 examples trains in a few tens of milliseconds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from .sureness import sureness

Floats = NDArray[np.float64]

CHAR_SIZES = (2, 3, 4, 5)
# The L2 penalty on the weights is this over the number of examples: each intent's loss is
# a mean over its examples, so more examples say more and need less holding back.
REGULARISATION = 0.25


def grams(words: Sequence[str]) -> dict[str, int]:
    """Return how often each feature of an utterance (its words as `words`) occurs."""
    counts: dict[str, int] = {}
    for word in words:
        padded = f" {word} "
        for size in CHAR_SIZES:
            for i in range(len(padded) - size + 1):
                gram = padded[i : i + size]
                counts[gram] = counts.get(gram, 0) + 1
        key = f"w:{word}"
        counts[key] = counts.get(key, 0) + 1
    for first, second in itertools.pairwise(words):
        key = f"b:{first} {second}"
        counts[key] = counts.get(key, 0) + 1
    return counts


class Vectorizer:
    """TF-IDF over the features seen in training (sublinear counts, unit length)."""

    def __init__(self, texts: Sequence[Sequence[str]]) -> None:
        self.index: dict[str, int] = {}
        df: list[int] = []
        for text in texts:
            for gram in grams(text):
                at = self.index.setdefault(gram, len(df))
                if at == len(df):
                    df.append(0)
                df[at] += 1
        n = len(texts)
        self.idf = np.array([math.log((1 + n) / (1 + d)) + 1 for d in df], dtype=np.float64)

    @property
    def size(self) -> int:
        return len(self.index)

    def one(self, words: Sequence[str]) -> tuple[NDArray[np.intp], Floats]:
        """Return the known features of one utterance and their weights."""
        found = [(self.index[g], c) for g, c in grams(words).items() if g in self.index]
        if not found:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        at = np.fromiter((i for i, _ in found), dtype=np.intp, count=len(found))
        counts = np.fromiter((c for _, c in found), dtype=np.float64, count=len(found))
        values = (1.0 + np.log(counts)) * self.idf[at]
        return at, values / np.sqrt(values @ values)

    def many(self, texts: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        """Return the feature matrix of `texts`, one row each."""
        pointers, columns, values = [0], [], []
        for text in texts:
            at, weights = self.one(text)
            columns.append(at)
            values.append(weights)
            pointers.append(pointers[-1] + len(at))
        return sparse.csr_matrix(
            (
                np.concatenate(values) if values else np.zeros(0),
                np.concatenate(columns) if columns else np.zeros(0, dtype=np.intp),
                np.array(pointers),
            ),
            shape=(len(texts), self.size),
        )


def _sigmoid(z: Floats) -> Floats:
    result: Floats = 0.5 * (1.0 + np.tanh(0.5 * z))
    return result


def train(
    x: sparse.csr_matrix,
    labels: NDArray[np.intp],
    classes: int,
    *,
    penalty: float,
    iterations: int = 300,
) -> tuple[Floats, Floats]:
    """Return the weights (features x classes) and biases of one-vs-rest logistic regression."""
    n, d = x.shape
    signs = -np.ones((n, classes))
    signs[np.arange(n), labels] = 1.0
    positives = np.bincount(labels, minlength=classes).astype(np.float64)
    negatives = n - positives
    # Half of each intent's weight on its own examples, half on everyone else's.
    weights = np.where(
        signs > 0, 0.5 / np.maximum(positives, 1.0), 0.5 / np.maximum(negatives, 1.0)
    )
    xt = x.T.tocsr()

    def loss(theta: Floats) -> tuple[float, Floats]:
        w, b = theta[: d * classes].reshape(d, classes), theta[d * classes :]
        margin = -signs * (x @ w + b)
        value = float((weights * np.logaddexp(0.0, margin)).sum())
        value += 0.5 * penalty * float((theta * theta).sum())
        dz = -weights * signs * _sigmoid(margin)
        grad = np.concatenate([(xt @ dz + penalty * w).ravel(), dz.sum(axis=0) + penalty * b])
        return value, grad

    theta = _lbfgs(loss, np.zeros(d * classes + classes), iterations)
    return theta[: d * classes].reshape(d, classes), theta[d * classes :]


def _lbfgs(
    f: Any, theta: Floats, iterations: int, memory: int = 10, tolerance: float = 1e-4
) -> Floats:
    """Minimise `f` (returning value and gradient) from `theta` by limited-memory BFGS."""
    value, grad = f(theta)
    steps: list[tuple[Floats, Floats, float]] = []
    for _ in range(iterations):
        direction = -grad
        alphas = []
        for s, y, rho in reversed(steps):
            alpha = rho * float(s @ direction)
            direction = direction - alpha * y
            alphas.append(alpha)
        if steps:
            s, y, _ = steps[-1]
            direction = direction * (float(s @ y) / float(y @ y))
        for (s, y, rho), alpha in zip(steps, reversed(alphas), strict=True):
            direction = direction + s * (alpha - rho * float(y @ direction))
        slope = float(grad @ direction)
        if slope >= 0:
            direction, slope, steps = -grad, -float(grad @ grad), []
        step = 1.0 if steps else 1.0 / max(1.0, float(np.sqrt(grad @ grad)))
        while True:
            new = theta + step * direction
            new_value, new_grad = f(new)
            if new_value <= value + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s, y = new - theta, new_grad - grad
        sy = float(s @ y)
        if sy > 1e-12:
            steps.append((s, y, 1.0 / sy))
            del steps[:-memory]
        done = abs(value - new_value) <= tolerance * max(1.0, abs(value))
        theta, value, grad = new, new_value, new_grad
        if done:
            break
    return theta


class Model:
    """One-vs-rest scores 0-1 for each class, from utterances given as their words."""

    def __init__(
        self,
        texts: Sequence[Sequence[str]],
        labels: Sequence[int],
        *,
        penalty: float | None = None,
    ) -> None:
        if penalty is None:
            penalty = REGULARISATION / max(len(texts), 1)
        self.vectorizer = Vectorizer(texts)
        self.classes = max(labels, default=-1) + 1
        if texts:
            x = self.vectorizer.many(texts)
            self.weights, self.bias = train(
                x, np.asarray(labels, dtype=np.intp), self.classes, penalty=penalty
            )
        else:
            self.weights, self.bias = np.zeros((0, 0)), np.zeros(0)

    def scores(self, words: Sequence[str]) -> Floats:
        """Return each class's score for one utterance (all 0 when it shares nothing with
        the examples: the biases alone say nothing about it)."""
        at, values = self.vectorizer.one(words)
        if not len(at):
            return np.zeros(self.classes)
        return _sigmoid(values @ self.weights[at] + self.bias)


@dataclass(frozen=True, slots=True)
class Calibration:
    """What cross-validation on the examples found: the threshold, and each held-out
    example's best other class and score (to tell which intents are confused)."""

    threshold: float
    trust: float = 0.0  # how well held-out scores told known from unknown: 0 chance, 1 always
    confused: tuple[tuple[int, int], ...] = ()  # (example, the class it was taken for)
    # both on the threshold's scale (weighed by their share, see `sureness`):
    known: tuple[float, ...] = ()  # held-out examples' scores for their own class
    unknown: tuple[float, ...] = ()  # examples' best scores when their class was left out
    sharpen: float = 0.0  # how far a score is weighed by its share of all the scores


SHARPEN = 0.5  # at full trust, a score is weighed by the square root of its share


FOLDS = 3
FALLBACK = 0.5  # too few examples to learn anything from: an even score


def calibrate(texts: Sequence[Sequence[str]], labels: Sequence[int]) -> Calibration:
    """Return the threshold that best separates in-scope from out-of-scope utterances.

    Each of `FOLDS` rounds trains on the examples without one fold of every intent's
    examples and without one fold of the intents: the held-out examples of trained intents
    say how high an unseen phrasing of a known intent scores, those of the left-out intents
    how high something the flow does not know scores. The threshold is the score that
    misjudges the fewest of both, weighted equally.
    """
    labels = list(labels)
    classes = max(labels, default=-1) + 1
    if classes < 2 or len(texts) < 4:
        return Calibration(FALLBACK)
    seen: dict[int, int] = {}
    folds = []
    for label in labels:
        folds.append(seen.get(label, 0) % FOLDS)
        seen[label] = seen.get(label, 0) + 1
    known: list[float] = []
    unknown: list[float] = []
    totals: tuple[list[float], list[float]] = ([], [])
    confused: list[tuple[int, int]] = []
    for fold in range(FOLDS):
        left_out = {c for c in range(classes) if c % FOLDS == fold} if classes >= 3 else set()
        kept = [i for i, c in enumerate(labels) if folds[i] != fold and c not in left_out]
        trained = sorted({labels[i] for i in kept})
        if len(trained) < 2:
            continue
        compact = {c: j for j, c in enumerate(trained)}
        model = Model([texts[i] for i in kept], [compact[labels[i]] for i in kept])
        for i, label in enumerate(labels):
            if label in left_out:
                scores = model.scores(texts[i])
                unknown.append(float(scores.max()))
                totals[1].append(float(scores.sum()))
            elif folds[i] == fold and label in compact:
                scores = model.scores(texts[i])
                known.append(float(scores[compact[label]]))
                totals[0].append(float(scores.sum()))
                best = int(scores.argmax())
                if trained[best] != label:
                    confused.append((i, trained[best]))
    if not known:
        return Calibration(FALLBACK)
    _, trust = _separating(known, unknown)
    sharpen = SHARPEN * trust
    weighed = [
        [sureness(s, t, sharpen) for s, t in zip(kind, total, strict=True)]
        for kind, total in ((known, totals[0]), (unknown, totals[1]))
    ]
    threshold, _ = _separating(*weighed)
    in_scope, out_of_scope = (tuple(scores) for scores in weighed)
    return Calibration(threshold, trust, tuple(confused), in_scope, out_of_scope, sharpen)


def _separating(known: list[float], unknown: list[float]) -> tuple[float, float]:
    """Return the threshold with the fewest known scores under it plus unknown ones at or
    over it, each as a share of its own kind, trusted as far as the two kinds differ; and
    that trust.

    A balanced one-vs-rest score of 0.5 means "as likely this intent as not": where the
    held-out scores cannot tell known from unknown (short examples shared between intents),
    that is the threshold; where they can, the best separating score, in proportion.
    """
    if not unknown:
        return FALLBACK, 0.0
    k, u = np.sort(known), np.sort(unknown)
    # How often a known phrasing outscores an unknown one (0.5: no better than chance).
    below = np.searchsorted(u, k, side="left") + np.searchsorted(u, k, side="right")
    auc = float(below.sum()) / (2 * len(k) * len(u))
    trust = min(1.0, max(0.0, 2 * auc - 1))
    candidates = np.unique(np.concatenate([known, unknown, [FALLBACK]]))
    missed = np.searchsorted(k, candidates, side="left") / len(k)
    passed = 1.0 - np.searchsorted(u, candidates, side="left") / len(u)
    errors = missed + passed
    best = float(np.median(candidates[errors <= errors.min() + 1e-9]))
    return FALLBACK + trust * (best - FALLBACK), trust
