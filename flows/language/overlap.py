"""Intents a menu cannot tell apart: `presszero check` warns about them (never an error)."""

from __future__ import annotations

from .intents import AGENT, words
from .model import Flow, MenuStep
from .yamlsrc import Problem


def overlap_warnings(flow: Flow) -> list[Problem]:
    """Return a warning for each pair of intents offered by one menu whose examples collide
    (the same words), and for each such intent with a single example.

    Read from the examples alone, without training the model: `check` stays quick.
    """
    together: dict[tuple[str, str], str] = {}
    alone: dict[str, str] = {}
    for step in flow.steps.values():
        if not isinstance(step, MenuStep):
            continue
        offered = sorted({o.intent for o in step.options if o.intent and o.intent != AGENT})
        for i, first in enumerate(offered):
            alone.setdefault(first, step.id)
            for second in offered[i + 1 :]:
                together.setdefault((first, second), step.id)
    problems: list[Problem] = []

    def warn(intent: str, message: str) -> None:
        line = flow.intents[intent].line if intent in flow.intents else flow.line
        problems.append(Problem(flow.file, line, f"warning: {message}"))

    said: dict[str, dict[str, str]] = {}
    for name, intent in flow.intents.items():
        for example in intent.examples:
            said.setdefault(" ".join(words(example)), {}).setdefault(name, example)
    for (first, second), menu in together.items():
        shared = [by[first] for by in said.values() if first in by and second in by]
        if shared:
            warn(
                second,
                f"intents '{first}' and '{second}' both have the example '{shared[0]}': "
                f"at menu '{menu}' it is unclear",
            )
    for name, menu in alone.items():
        if name in flow.intents and len(flow.intents[name].examples) < 2:
            warn(
                name,
                f"intent '{name}' (menu '{menu}') has fewer than 2 examples: too few to "
                "tell it from the others",
            )
    return sorted(problems, key=lambda p: (p.line, p.message))
