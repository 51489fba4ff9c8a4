"""Time intent matching: 50 intents x 20 examples, many utterances, mean and p99 per utterance.

Run with `python bench/intent_bench.py` (optionally `--utterances N --seed S`). The
utterances mix exact examples, examples with fillers, examples with typos (the slow,
fuzzy path, mostly uncached), requests for a person, and noise.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from presszero.flows.language.intents import AGENT_EXAMPLES, IntentMatcher

FILLERS = ["um", "uh", "please", "I want to", "can I", "so", "yeah", "I'd like to"]
CONSONANTS = "bcdfghjklmnprstvwz"
VOWELS = "aeiou"


def word(rng: random.Random) -> str:
    """Return a pronounceable made-up word of 4 to 10 letters."""
    syllables = rng.randint(2, 4)
    return "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(syllables)) + (
        rng.choice(CONSONANTS) if rng.random() < 0.5 else ""
    )


def build(rng: random.Random, intents: int = 50, examples: int = 20) -> dict[str, list[str]]:
    """Return `intents` intents of `examples` examples, each from its own topic words."""
    shared = [word(rng) for _ in range(40)]
    out: dict[str, list[str]] = {}
    for i in range(intents):
        topic = [word(rng) for _ in range(12)]
        out[f"intent_{i}"] = [
            " ".join(rng.sample(topic, rng.randint(1, 3)) + rng.sample(shared, rng.randint(0, 2)))
            for _ in range(examples)
        ]
    return out


def typo(rng: random.Random, text: str) -> str:
    """Return `text` with one letter dropped, doubled, swapped or replaced in one word."""
    words = text.split()
    i = rng.randrange(len(words))
    w = words[i]
    if len(w) >= 5:
        j = rng.randrange(1, len(w) - 1)
        kind = rng.randrange(4)
        w = (
            w[:j] + w[j + 1 :],
            w[:j] + w[j] + w[j:],
            w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :],
            w[:j] + rng.choice(VOWELS) + w[j + 1 :],
        )[kind]
    words[i] = w
    return " ".join(words)


def utterances(rng: random.Random, intents: dict[str, list[str]], count: int) -> list[str]:
    """Return a realistic mix of things customers say."""
    examples = [e for texts in intents.values() for e in texts]
    out = []
    for _ in range(count):
        roll = rng.random()
        text = rng.choice(examples)
        if roll < 0.25:
            out.append(text)
        elif roll < 0.50:
            out.append(f"{rng.choice(FILLERS)} {text} {rng.choice(FILLERS)}")
        elif roll < 0.80:
            out.append(typo(rng, f"{rng.choice(FILLERS)} {text}"))
        elif roll < 0.90:
            out.append(rng.choice(AGENT_EXAMPLES))
        else:
            out.append(" ".join(word(rng) for _ in range(rng.randint(1, 6))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    intents = build(rng)
    started = time.perf_counter()
    matcher = IntentMatcher(intents)
    matcher.warm_up()  # trained and calibrated now, as a server does when it loads a flow
    built_ms = (time.perf_counter() - started) * 1000
    said = utterances(rng, intents, args.utterances)
    timings: list[float] = []
    for text in said:
        t0 = time.perf_counter_ns()
        matcher.match(text)
        timings.append((time.perf_counter_ns() - t0) / 1000)
    timings.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(f"intents: 50 x 20 examples (model trained and calibrated in {built_ms:.1f} ms)")
    print(f"utterances: {len(timings)}")
    print(
        f"per utterance: mean {statistics.fmean(timings):.1f} us, "
        f"median {statistics.median(timings):.1f} us, p99 {p99:.1f} us, max {timings[-1]:.1f} us"
    )
    verdict = "under" if p99 < 1000 else "OVER"
    print(f"p99 is {verdict} the 1 ms budget")


if __name__ == "__main__":
    main()
