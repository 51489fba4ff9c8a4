"""Prove a loaded flow keeps its promise: from every prompt there is a way to a person.

The proofs, each failing with the file:line of the offending step or field:
- every goto target, queue, intent and saved answer exists;
- every step is reachable from the greeting, an escape or the after-hours fallback;
- no dead ends: every step either ends the conversation (end, handoff, callback,
  voicemail) or goes somewhere, and every loop has a way out that is not the escape;
- every prompt honours the escape policy, so a person is at most 2 caller inputs away:
  one press of 0 (or "agent") reaches a handoff step directly, and the 2nd miss of any
  kind (no match, no input, low confidence) escapes on its own;
- no prompt can swallow the escape: no menu option on an escape key, no `ask` that
  accepts a lone 0;
- the flow's language is one Twilio's <Say> and <Gather> both accept;
- no greeting promises a person on its way to a handoff: out of hours, or with no one free,
  that handoff becomes the after-hours step, so the promise belongs in the handoff's own
  `say`, which is said only when a person is really coming.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .intents import AGENT
from .model import (
    TERMINAL_KINDS,
    AskStep,
    BranchStep,
    CallbackStep,
    EscapePolicy,
    Flow,
    HandoffStep,
    MenuStep,
    Rule,
    SayStep,
    Step,
    VoicemailStep,
    goto_targets,
)
from .template import Template
from .twilio_languages import language_problems
from .yamlsrc import Problem

Report = Callable[[int, str], None]
MAX_MISSES = 2  # the gethuman bar: the 2nd failure to understand ends at a person


def validate(flow: Flow) -> list[Problem]:
    """Return every reason `flow` could trap a customer or fail during a call."""
    out: list[Problem] = []

    def problem(line: int, message: str) -> None:
        out.append(Problem(flow.file, line, message))

    _references(flow, problem)
    _escapes(flow, problem)
    _phrasing(flow, problem)
    _language(flow, problem)
    _promises(flow, problem)
    _menu_sizes(flow, problem)
    if not out:
        _graph(flow, problem)
    return sorted(set(out))


def _references(flow: Flow, problem: Report) -> None:
    steps = flow.steps

    def goto(target: str, line: int, where: str) -> None:
        if target not in steps:
            problem(line, f"{where} goes to '{target}', but there is no step named '{target}'")

    _rules(flow.greeting, "greeting", problem)
    for rule in flow.greeting:
        goto(rule.goto, rule.goto_line, "greeting")
    for step in steps.values():
        for target, line in goto_targets(step):
            goto(target, line, f"step '{step.id}'")
        if isinstance(step, BranchStep):
            _rules(step.rules, f"step '{step.id}' branch", problem)
        queue = getattr(step, "queue", None)
        if queue is not None and queue not in flow.queues:
            declared = ", ".join(flow.queues) or "none"
            problem(
                step.line,
                f"step '{step.id}' uses queue '{queue}', "
                f"which is not declared under queues: (declared: {declared})",
            )
        if isinstance(step, MenuStep):
            for option in step.options:
                if option.intent and option.intent not in flow.intents and option.intent != AGENT:
                    problem(
                        option.line,
                        f"step '{step.id}' uses intent '{option.intent}', "
                        "which is not defined under intents:",
                    )
    saved = {s.save_as for s in steps.values() if isinstance(s, AskStep)}
    for template in _templates(flow):
        for name in sorted(template.answers - saved):
            problem(template.line, f"{{answers.{name}}}: no ask step saves an answer as '{name}'")
    after = steps.get(flow.hours.after_hours)
    if not isinstance(after, CallbackStep | VoicemailStep):
        what = "no step" if after is None else f"a {after.kind} step"
        problem(
            flow.hours.line,
            f"hours.after_hours is '{flow.hours.after_hours}', {what}; "
            "it must name a callback or voicemail step",
        )


# Words that tell a customer a person is coming: a greeting may not say them on its way to a
# handoff, which can fall to a callback or voicemail when closed or busy.
_PROMISE = re.compile(
    r"\b(a |to a |an |the )?(person|people|human|agent|representative|someone|team member|adviser"
    r"|advisor|operator)\b",
    re.IGNORECASE,
)


def _promises(flow: Flow, problem: Report) -> None:
    for rule in flow.greeting:
        target = flow.steps.get(rule.goto)
        if rule.say is None or not isinstance(target, HandoffStep):
            continue
        found = _PROMISE.search(rule.say.source)
        if found:
            problem(
                rule.say.line,
                f"the greeting promises {found.group(0).strip()!r} on its way to handoff "
                f"'{target.id}', which becomes the after-hours step when we are closed or "
                f"no one is free; move those words to '{target.id}''s own say:, which is "
                "said only when a person is really coming",
            )


def _rules(rules: tuple[Rule, ...], where: str, problem: Report) -> None:
    for index, rule in enumerate(rules):
        if rule.when is None and index < len(rules) - 1:
            problem(
                rules[index + 1].line,
                f"{where} rule {index + 2} can never apply: rule {index + 1} has no 'when'",
            )
            return
    if rules and rules[-1].when is not None:
        problem(
            rules[-1].line, f"{where}: the last rule needs no 'when', so everyone goes somewhere"
        )


def _templates(flow: Flow) -> list[Template]:
    found = [r.say for r in flow.greeting if r.say]
    for step in flow.steps.values():
        for name in ("text", "prompt", "say"):
            value = getattr(step, name, None)
            if isinstance(value, Template):
                found.append(value)
        if isinstance(step, MenuStep | AskStep):
            found.extend(step.phrased.values())
        if isinstance(step, BranchStep):
            found.extend(r.say for r in step.rules if r.say)
    return found


def _escapes(flow: Flow, problem: Report) -> None:
    _policy(flow, flow.escape, "escape", problem)
    for step in flow.steps.values():
        if not isinstance(step, MenuStep | AskStep | CallbackStep):
            continue
        policy = step.escape
        where = f"step '{step.id}'"
        if not policy.enabled:
            problem(
                policy.line,
                f"{where} turns the escape off; "
                "every prompt must keep a way to a person (press 0 or say agent)",
            )
            continue
        if policy is not flow.escape:
            _policy(flow, policy, f"{where} escape", problem)
        if isinstance(step, MenuStep):
            for option in step.options:
                if option.key in policy.keys:
                    problem(
                        option.line,
                        f"{where}: key {option.key} is the escape to a person; "
                        "give this option another key",
                    )
                if option.intent in policy.intents:
                    problem(
                        option.line,
                        f"{where}: intent '{option.intent}' is the escape to a person "
                        "and cannot be a menu option",
                    )
        if isinstance(step, AskStep) and _accepts_lone_zero(step):
            problem(
                step.line,
                f"{where} would take a lone 0 as an answer, but 0 is the escape to a person; "
                + ("set min_length: 2 or more" if step.digits else "make the pattern reject '0'"),
            )


# "press 3" and the ways a Spanish line says it ("oprima 3", "marque el 3", "pulse la tecla 3")
_PRESSING = (
    r"\b(?:press(?:ing)?|oprim[ae]|oprimir|puls[ae]|pulsar|marque|marcar|presione|presionar)"
)
_PRESS = re.compile(
    _PRESSING + r"\s+(?:the\s+|el\s+|la\s+tecla\s+|la\s+)?([0-9*#]|[a-z]+)", re.IGNORECASE
)
_KEY_NAMES = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "star": "*", "pound": "#", "hash": "#",
    "cero": "0", "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6",
    "siete": "7", "ocho": "8", "nueve": "9", "asterisco": "*", "numeral": "#", "almohadilla": "#",
}  # fmt: skip


def _phrasing(flow: Flow, problem: Report) -> None:
    """A prompt is a question for every channel: keys are the phone's to add, never chat's."""
    for step in flow.steps.values():
        if not isinstance(step, MenuStep | AskStep):
            continue
        where = f"step '{step.id}' prompt"
        chat = step.phrased.get("chat", step.prompt)
        if re.search(_PRESSING, chat.source, re.IGNORECASE):
            what = "chat prompt" if "chat" in step.phrased else "prompt is shown in chat too and"
            problem(
                chat.line,
                f"{where}: the {what} says 'press'; write the question only (the phone "
                "adds the keys from the options) or give prompt: {voice: ..., chat: ...}",
            )
        voice = step.phrased.get("voice")
        if voice is None:
            continue
        options = step.options if isinstance(step, MenuStep) else ()
        keys = {o.key for o in options if o.key}
        said = {_KEY_NAMES.get(k.lower(), k) for k in _PRESS.findall(voice.source)}
        for key in sorted(said - keys - set(step.escape.keys) - {"#"}):
            known = ", ".join(sorted(keys)) or "none"
            problem(
                voice.line,
                f"{where}: the voice prompt says 'press {key}', but no option has key {key} "
                f"(the options' keys: {known})",
            )
        for key in sorted(keys - said):
            problem(voice.line, f"{where}: the voice prompt never says 'press {key}' for an option")


def _menu_sizes(flow: Flow, problem: Report) -> None:
    """A caller keeps about five choices in mind: a longer menu is split, or allowed."""
    most = flow.limits.menu_options
    for step in flow.steps.values():
        if isinstance(step, MenuStep) and len(step.options) > most:
            problem(
                step.line,
                f"step '{step.id}' menu has {len(step.options)} options, more than the {most} a "
                f"caller can keep in mind: split it into two menus, or allow it with "
                f"limits: {{menu_options: {len(step.options)}}}",
            )


def _language(flow: Flow, problem: Report) -> None:
    if flow.languages:
        return  # a list of languages is checked as it is read, at its line
    for message in language_problems(flow.language):
        problem(flow.line, message)


def _policy(flow: Flow, policy: EscapePolicy, where: str, problem: Report) -> None:
    """Check an escape policy, each mistake at the line that makes it, once: a step's escape
    is not blamed for what it inherits from the flow's (checked on its own)."""

    def at(name: str) -> int | None:
        set_on = policy.line_of(name)
        if policy is not flow.escape and set_on == flow.escape.line_of(name):
            return None  # the flow's escape sets it (or leaves the default): checked there
        return set_on or policy.line or flow.line

    def report(name: str, message: str) -> None:
        line = at(name)
        if line is not None:
            problem(line, message)

    if "0" not in policy.keys:
        report(
            "keys",
            f"{where}: keys must include 0, the key that always reaches a person "
            f"(got: {', '.join(policy.keys) or 'none'})",
        )
    if not policy.intents:
        report(
            "intents", f"{where}: intents must list the intent that asks for a person, e.g. [agent]"
        )
    for intent in policy.intents:
        if intent not in flow.intents and intent != AGENT:
            report("intents", f"{where}: intent '{intent}' is not defined under intents:")
    for name in ("max_no_match", "max_no_input"):
        value = getattr(policy, name)
        if not 1 <= value <= MAX_MISSES:
            report(
                name,
                f"{where}: {name} is {value}; "
                f"a person must be at most {MAX_MISSES} misses away (use 1 or 2)",
            )
    target = flow.steps.get(policy.handoff)
    if not isinstance(target, HandoffStep):
        what = "there is no such step" if target is None else f"it is a {target.kind} step"
        report("handoff", f"{where}: handoff '{policy.handoff}' must be a handoff step, but {what}")


def _accepts_lone_zero(step: AskStep) -> bool:
    if step.digits:
        return step.min_length <= 1
    return re.fullmatch(step.pattern, "0") is not None


def _edges(flow: Flow, step: Step) -> list[str]:
    """Return where `step` can lead, escapes and the after-hours fallback included."""
    targets = [t for t, _ in goto_targets(step)]
    if isinstance(step, MenuStep | AskStep | CallbackStep):
        targets.append(step.escape.handoff)
    if isinstance(step, HandoffStep):
        targets.append(flow.hours.after_hours)
    return targets


def _graph(flow: Flow, problem: Report) -> None:
    steps = flow.steps
    seen: set[str] = set()
    todo = [r.goto for r in flow.greeting] + [flow.escape.handoff, flow.hours.after_hours]
    while todo:
        sid = todo.pop()
        if sid in seen or sid not in steps:
            continue
        seen.add(sid)
        todo.extend(_edges(flow, steps[sid]))
    for step in steps.values():
        if step.id not in seen:
            problem(
                step.line,
                f"step '{step.id}' is unreachable: no greeting rule, goto or escape leads to it",
            )
    dead = _dead_ends(flow, problem)
    # Which steps can finish the conversation without the customer having to escape?
    finishes = {s.id for s in steps.values() if s.kind in TERMINAL_KINDS}
    grew = True
    while grew:
        grew = False
        for step in steps.values():
            if step.id not in finishes and any(t in finishes for t, _ in goto_targets(step)):
                finishes.add(step.id)
                grew = True
    stuck = [s for s in steps.values() if s.id not in finishes and s.id not in dead]
    for loop in _loops(stuck):
        names = ", ".join(loop)
        problem(
            steps[loop[0]].line,
            f"loop with no exit: steps {names} only lead to each other, "
            "never to an end, handoff, callback or voicemail",
        )


def _dead_ends(flow: Flow, problem: Report) -> set[str]:
    dead: set[str] = set()
    for step in flow.steps.values():
        if isinstance(step, SayStep) and not step.goto:
            problem(
                step.line, f"step '{step.id}' is a dead end: after saying its text it has no goto"
            )
        elif isinstance(step, MenuStep) and not step.options:
            problem(step.line, f"step '{step.id}' is a dead end: the menu has no options")
        else:
            continue
        dead.add(step.id)
    return dead


def _loops(stuck: list[Step]) -> list[list[str]]:
    """Return the cycles among `stuck` steps (strongly connected parts), in file order."""
    ids = {s.id for s in stuck}
    succ = {s.id: [t for t, _ in goto_targets(s) if t in ids] for s in stuck}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part: list[str] = []
            while True:
                w = stack.pop()
                part.append(w)
                if w == v:
                    break
            if len(part) > 1 or v in succ[v]:
                order = [s.id for s in stuck if s.id in part]
                found.append(order)

    for s in stuck:
        if s.id not in index:
            visit(s.id)
    return found
