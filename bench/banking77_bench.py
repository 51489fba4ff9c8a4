"""Banking77, open-intent protocol: the shipped intent matcher against TF-IDF + LR.

Run with `python bench/banking77_bench.py` (needs scikit-learn for the baseline:
`pip install -e '.[bench]'`). For each share of known intents (25, 50, 75 %) and each of
`--splits` random splits, both models train on the known intents' training examples and
are tested on all of test.csv; a test utterance of an unknown intent is right only when it
comes out "unclear". Reported per share, as the mean over splits:

- the shipped matcher at its own calibrated threshold: accuracy on known intents (unclear
  counts as wrong), recall of unknown ones, mean and p99 time per utterance, build time
  (training plus the calibration);
- the baseline (character 2-5-gram TF-IDF within words, sublinear, + multinomial logistic
  regression, C=10) with its threshold set to give the same unknown recall on this split,
  and with the usual 0.5 threshold on its top probability.

The matcher is asked to choose among the known intents only (`among`), so the person
detector plays no part: this measures the intent model.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from presszero.flows.language.intents import IntentMatcher

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "banking77"


def read(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [(row["text"], row["category"]) for row in csv.DictReader(f)]


def p99(values: list[float]) -> float:
    return float(np.percentile(values, 99))


def shipped(
    train: list[tuple[str, str]], test: list[tuple[str, str]], known: list[str]
) -> dict[str, Any]:
    examples: dict[str, list[str]] = {name: [] for name in known}
    for text, name in train:
        if name in examples:
            examples[name].append(text)
    started = time.perf_counter()
    matcher = IntentMatcher(examples, builtin_agent=False)
    matcher.warm_up()  # trained and calibrated now, as a server does when it loads a flow
    build = time.perf_counter() - started
    among = set(known)
    said: list[str | None] = []
    took: list[float] = []
    for text, _ in test:
        started = time.perf_counter()
        match = matcher.match(text, among)
        took.append(time.perf_counter() - started)
        said.append(match.intent)
    return {"said": said, "times": took, "build": build, "threshold": matcher.threshold}


def baseline(
    train: list[tuple[str, str]], test: list[tuple[str, str]], known: list[str]
) -> dict[str, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [t for t, name in train if name in known]
    labels = [name for _, name in train if name in known]
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    model = LogisticRegression(C=10, max_iter=1000).fit(vectorizer.fit_transform(texts), labels)
    build = time.perf_counter() - started
    best: list[str] = []
    confidence: list[float] = []
    took: list[float] = []
    for text, _ in test:
        started = time.perf_counter()
        probabilities = model.predict_proba(vectorizer.transform([text]))[0]
        took.append(time.perf_counter() - started)
        top = int(probabilities.argmax())
        best.append(str(model.classes_[top]))
        confidence.append(float(probabilities[top]))
    return {"best": best, "confidence": confidence, "times": took, "build": build}


def scores(said: list[str | None], test: list[tuple[str, str]], known: set[str]) -> tuple:
    """Return (accuracy on known intents, recall of unknown ones)."""
    right_known = [s == name for s, (_, name) in zip(said, test, strict=True) if name in known]
    unclear_unknown = [
        s is None for s, (_, name) in zip(said, test, strict=True) if name not in known
    ]
    return statistics.mean(right_known), statistics.mean(unclear_unknown)


def at_recall(result: dict[str, Any], test: list[tuple[str, str]], known: set[str], recall: float):
    """Return the baseline's answers with its threshold set for `recall` of unknown intents."""
    unknown = sorted(
        c for c, (_, n) in zip(result["confidence"], test, strict=True) if n not in known
    )
    # The smallest threshold that calls at least `recall` of the unknown utterances unclear.
    cut = unknown[min(len(unknown) - 1, int(np.ceil(recall * len(unknown))) - 1)] if recall else -1
    return [
        b if c > cut else None for b, c in zip(result["best"], result["confidence"], strict=True)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--known", default="25,50,75", help="shares of known intents, in %%")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train, test = read(args.data / "train.csv"), read(args.data / "test.csv")
    intents = sorted({name for _, name in train})
    header = (
        "| known | shipped: accuracy, known | unknown recall | baseline accuracy at that recall "
        "| baseline (p>=0.5): accuracy, unknown recall | shipped: mean, p99 per utterance, build "
        "| baseline: mean, p99, build |"
    )
    rows = []
    for share in (int(s) for s in args.known.split(",")):
        figures: dict[str, list[float]] = {}
        for split in range(args.splits):
            rng = random.Random(f"{args.seed}-{share}-{split}")
            known = sorted(rng.sample(intents, round(len(intents) * share / 100)))
            ours, theirs = shipped(train, test, known), baseline(train, test, known)
            accuracy, recall = scores(ours["said"], test, set(known))
            matched, _ = scores(at_recall(theirs, test, set(known), recall), test, set(known))
            plain = [
                b if c >= 0.5 else None
                for b, c in zip(theirs["best"], theirs["confidence"], strict=True)
            ]
            plain_accuracy, plain_recall = scores(plain, test, set(known))
            got = {
                "accuracy": accuracy,
                "recall": recall,
                "matched": matched,
                "plain_accuracy": plain_accuracy,
                "plain_recall": plain_recall,
                "mean": statistics.mean(ours["times"]) * 1e3,
                "p99": p99(ours["times"]) * 1e3,
                "build": ours["build"],
                "threshold": ours["threshold"],
                "base_mean": statistics.mean(theirs["times"]) * 1e3,
                "base_p99": p99(theirs["times"]) * 1e3,
                "base_build": theirs["build"],
            }
            for key, value in got.items():
                figures.setdefault(key, []).append(value)
            print(
                f"{share}% split {split}: shipped {accuracy:.3f} known / {recall:.3f} unknown "
                f"(threshold {ours['threshold']:.3f}); baseline {matched:.3f} at that recall; "
                f"p99 {got['p99']:.2f} ms; build {ours['build']:.1f} s",
                flush=True,
            )
        m = {key: statistics.mean(values) for key, values in figures.items()}
        rows.append(
            f"| {share} % | {m['accuracy']:.1%} | {m['recall']:.1%} | {m['matched']:.1%} "
            f"| {m['plain_accuracy']:.1%}, {m['plain_recall']:.1%} "
            f"| {m['mean']:.2f} ms, {m['p99']:.2f} ms, {m['build']:.1f} s "
            f"| {m['base_mean']:.2f} ms, {m['base_p99']:.2f} ms, {m['base_build']:.1f} s |"
        )
    print(f"\nmean of {args.splits} splits\n{header}\n|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
