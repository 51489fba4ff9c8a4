"""How long a flow's words take to say: `presszero check` warns where a caller waits too long.

The gethuman standard asks for short prompts and barge-in. A prompt's spoken length is
estimated from its words and the language's speaking rate (languages.WORDS_PER_SECOND); a
slot such as `{customer.first_name}` counts as two words. The estimate is of the words the
flow's author wrote (a menu's question, or its whole voice prompt); the phone adds "For
billing, press 1" per option, which the options limit (`limits.menu_options`) keeps short.
Warnings, never errors: a long prompt is a choice a lead may make knowingly.
"""

from __future__ import annotations

from .languages import WORDS_PER_SECOND, base, name_of
from .model import (
    AskStep,
    BranchStep,
    EndStep,
    Flow,
    HandoffStep,
    MenuStep,
    Rule,
    SayStep,
    VoicemailStep,
)
from .template import Template
from .yamlsrc import Problem

SLOT_WORDS = 2


def seconds_to_say(template: Template, language: str) -> float:
    """Return about how many seconds `template` takes to say in `language`."""
    words = 0
    for part in template.parts:
        words += len(part.split()) if isinstance(part, str) else SLOT_WORDS
    return words / WORDS_PER_SECOND.get(base(language), 2.5)


def length_warnings(flow: Flow) -> list[Problem]:
    """Return a warning for each prompt or saying over the flow's limits, in any of its
    languages, and for each prompt that cannot be interrupted."""
    found: set[Problem] = set()
    for version in flow.versions.values() or [flow]:
        found.update(_lengths(version))
    for step in flow.steps.values():
        if isinstance(step, MenuStep | AskStep) and not step.barge_in:
            found.add(
                Problem(
                    flow.file,
                    step.line,
                    f"warning: step '{step.id}' turns barge-in off: a caller must hear its "
                    "whole prompt before a key or a word counts (0 for a person included)",
                )
            )
    return sorted(found)


def _lengths(flow: Flow) -> list[Problem]:
    out: list[Problem] = []
    limits = flow.limits
    in_language = f" in {name_of(flow.language)}" if len(flow.spoken) > 1 else ""

    def check(template: Template | None, what: str, limit: float, setting: str) -> None:
        if template is None:
            return
        took = seconds_to_say(template, flow.language)
        if took > limit:
            out.append(
                Problem(
                    flow.file,
                    template.line,
                    f"warning: {what} takes about {took:.0f} s to say{in_language} (limit "
                    f"{limit:.0f} s): shorten it, or set limits: {{{setting}: ...}}",
                )
            )

    def rules(items: tuple[Rule, ...], where: str) -> None:
        for number, rule in enumerate(items, 1):
            check(rule.say, f"{where} rule {number}'s say", limits.say_seconds, "say_seconds")

    rules(flow.greeting, "the greeting")
    for step in flow.steps.values():
        where = f"step '{step.id}'"
        match step:
            case MenuStep() | AskStep():
                voice = step.phrased.get("voice", step.prompt)
                check(voice, f"{where}'s prompt", limits.prompt_seconds, "prompt_seconds")
            case BranchStep(rules=items):
                rules(items, f"{where} branch")
            case SayStep(text=text):
                check(text, f"{where}'s words", limits.say_seconds, "say_seconds")
            case HandoffStep(say=text) | EndStep(say=text) | VoicemailStep(prompt=text):
                check(text, f"{where}'s words", limits.say_seconds, "say_seconds")
    return out
