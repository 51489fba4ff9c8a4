"""The engine: one pure function from (flow, state, event, customer, now) to the next turn.

No I/O and no clock of its own: the channel adapters hand in the customer they looked up
and the time, then perform the actions that come back. The escape policy is applied here,
at every prompt, so no flow can forget it.
"""

from __future__ import annotations

from datetime import datetime

from presszero.context.models import Customer
from presszero.flows.language.expr import Condition
from presszero.flows.language.intents import AGENT_EXAMPLES, contains_phrase
from presszero.flows.language.model import (
    AskStep,
    BranchStep,
    CallbackStep,
    EndStep,
    Flow,
    HandoffStep,
    MenuStep,
    PromptStep,
    Rule,
    SayStep,
    VoicemailStep,
)

from .actions import Choice, End, Event, Prompt, State, Turn
from .dialog import (
    FRUSTRATION,
    SORRY,
    WHEN_CHOICES,
    WHEN_PROMPT,
    as_key,
    ask_value,
    ends_in,
    phone_answer,
    when_answer,
)
from .exits import Exits
from .summary import WHY


def step(
    flow: Flow, state: State | None, event: Event, customer: Customer | None, now: datetime
) -> Turn:
    """Return the next state, the actions to perform and the analytics events for `event`."""
    run = _Run(flow, state, customer, now)
    run.handle(event)
    return Turn(run.state, tuple(run.actions), tuple(run.events))


class _Run(Exits):
    """One turn: greet, walk steps, read answers; the ways out live in `Exits`."""

    def handle(self, event: Event) -> None:
        """Work out the turn for one event, whatever state the conversation is in."""
        status = self.state.status
        if event.kind == "start" or status == "new":
            self.start(event if event.kind == "start" else Event.start())
        elif status == "prompt" and event.kind != "handoff_failed":
            self.answer(event)
        elif status == "handoff" and event.kind in ("handoff_failed", "timeout"):
            self.fallback(event.value or "timeout")

    def start(self, event: Event) -> None:
        """Greet by the first greeting rule that holds and go where it says."""
        self.state = State(
            flow=self.flow.name, channel=event.channel or "voice", caller=event.caller
        )
        for rule in self.flow.greeting:
            if rule.when is None or rule.when.holds(self.facts):
                self.enter(self.follow(rule, "greeting"))
                return
        self.last_resort()

    def follow(self, rule: Rule, where: str) -> str:
        """Say a matching rule's words and return where it goes; note a context escape."""
        if rule.say:
            self.say(rule.say.render(self.facts))
        if isinstance(rule.when, Condition) and isinstance(
            self.flow.steps.get(rule.goto), HandoffStep
        ):
            self.state.escape_reason = "context_rule"
            self.state.why = f"{WHY['context_rule']} ({rule.when.source})"
            self.event("escape", where, "context_rule")
        return rule.goto

    def enter(self, sid: str) -> None:
        """Go to step `sid` and on through says and branches until something waits or ends."""
        for _ in range(64):
            step = self.flow.steps.get(sid)
            if step is None:
                break
            self.state.step = sid
            self.event("step", sid)
            if isinstance(step, SayStep):
                self.say(step.text.render(self.facts))
                if not step.goto:
                    break
                sid = step.goto
            elif isinstance(step, BranchStep):
                facts = self.facts
                rule = next((r for r in step.rules if r.when is None or r.when.holds(facts)), None)
                if rule is None:
                    break
                sid = self.follow(rule, step.id)
            elif isinstance(step, MenuStep | AskStep | CallbackStep):
                self.state.status, self.state.no_match, self.state.no_input = "prompt", 0, 0
                self.state.phase = "number" if isinstance(step, CallbackStep) else ""
                self.prompt(step, self.prompt_text(step))
                return
            elif isinstance(step, HandoffStep):
                self.handoff(step)
                return
            elif isinstance(step, VoicemailStep):
                self.voicemail(
                    step.queue, step.reason, step.prompt.render(self.facts) if step.prompt else ""
                )
                return
            elif isinstance(step, EndStep):
                self.say(step.say.render(self.facts) if step.say else "")
                self.actions.append(End(step.outcome))
                self.state.status = "done"
                self.event("end", step.id, step.outcome)
                return
        self.last_resort()

    # -- prompts and answers --------------------------------------------------------------

    def prompt_text(self, step: PromptStep) -> str:
        if not isinstance(step, CallbackStep):
            return step.prompt.render(self.facts)
        if self.state.phase == "when":
            return WHEN_PROMPT
        number = self.known_number()
        enter = "enter it now, then press pound" if self.voice else "type it now"
        if number:
            return (
                f"We can call you back on the number ending in {ends_in(number)}. "
                f"To use it, press 1. For a different number, {enter}."
            )
        return f"We can call you back. For the number to call, {enter}."

    def prompt(self, step: PromptStep, text: str) -> None:
        hints: tuple[str, ...] = ()
        options: tuple[Choice, ...] = ()
        most: int | None = 1
        if isinstance(step, MenuStep):
            options = tuple(Choice(o.label, o.payload, o.key) for o in step.options)
            hints = self.flow.remember(("hints", step.id), lambda: _menu_hints(self.flow, step))
        elif isinstance(step, AskStep):
            hints, most = step.hints, step.max_length if step.digits else None
        elif self.state.phase == "when":
            labels = ("As soon as you can", "Morning", "Afternoon")
            options = tuple(Choice(label, str(i), str(i)) for i, label in enumerate(labels, 1))
            hints = _hints([cue for _, cues, _ in WHEN_CHOICES for cue in cues])
        else:
            options = (Choice("Use this number", "1", "1"),) if self.known_number() else ()
            most = None
        keys = step.escape.keys
        self.actions.append(Prompt(text, step.id, ("dtmf", "speech"), hints, options, most, keys))

    def answer(self, event: Event) -> None:
        """Read an answer at a prompt: escapes first, then the step itself."""
        step = self.flow.steps.get(self.state.step)
        if not isinstance(step, MenuStep | AskStep | CallbackStep):
            self.last_resort()
            return
        policy, st = step.escape, self.state
        st.turns += 1
        if event.kind in ("no_input", "timeout") or not event.value.strip().rstrip("#"):
            if st.turns > policy.max_turns:
                self.escape(step, "max_turns")
            else:
                self.miss(step, "no_input")
            return
        text = event.value.strip()
        how = (
            "pressed" if event.kind == "digits" else "typed" if event.confidence is None else "said"
        )
        st.said.append({"step": step.id, "how": how, "text": text})
        if st.turns > policy.max_turns:
            self.escape(step, "max_turns")
            return
        if event.kind == "digits":
            keys = text.rstrip("#")
            whole = isinstance(step, AskStep) or st.phase == "number"
            if (keys if whole else keys[:1]) in policy.keys:
                self.escape(step, "key0")
            else:
                self.choose(step, keys, from_text=False)
            return
        if as_key(text) in policy.keys:
            self.escape(step, "key0")
            return
        phrase = contains_phrase(text, FRUSTRATION + policy.frustration)
        if phrase:
            self.escape(step, "frustration", f'They sounded frustrated ("{phrase}").')
            return
        among = set(policy.intents)
        if isinstance(step, MenuStep):
            among |= {o.intent for o in step.options if o.intent}
        match = self.flow.matcher.match(text, among)
        if match.intent in policy.intents:
            self.escape(step, "agent_intent")
        elif event.confidence is not None and event.confidence < policy.min_confidence:
            self.miss(step, "low_confidence")
        else:
            self.choose(step, text, from_text=True, intent=match.intent)

    def choose(
        self, step: PromptStep, value: str, *, from_text: bool, intent: str | None = None
    ) -> None:
        """Act on an answer that is not an escape: keys pressed, or words with their intent."""
        if isinstance(step, MenuStep):
            key = as_key(value) if from_text else value[:1]
            named = {value.strip().lower(), intent} if from_text else set()
            for option in step.options:
                if (key is not None and option.key == key) or option.intent in named - {None}:
                    self.enter(option.goto)
                    return
            self.miss(step, "no_match")
        elif isinstance(step, AskStep):
            answer = ask_value(step, value, from_text)
            if answer is None:
                self.miss(step, "no_match", "invalid")
                return
            self.state.answers[step.save_as] = answer
            self.enter(step.goto)
        elif self.state.phase == "number":
            known = self.known_number()
            key = as_key(value) if from_text else value
            number = known if key == "1" and known else phone_answer(value, self.flow.region)
            if not number:
                self.miss(step, "no_match", "invalid")
                return
            self.state.callback_number, self.state.phase = number, "when"
            self.state.no_match = self.state.no_input = 0
            self.prompt(step, self.prompt_text(step))
        else:
            when = when_answer(value)
            if when is None:
                self.miss(step, "no_match")
            else:
                self.schedule(step, when)

    def miss(self, step: PromptStep, kind: str, sorry: str | None = None) -> None:
        """Count a miss; the last allowed one escapes, others apologise and ask again."""
        st, policy = self.state, step.escape
        if kind == "no_input":
            st.no_input += 1
        else:
            st.no_match += 1
        self.event("miss", step.id, kind)
        most = max(policy.max_no_match, policy.max_no_input)
        if (
            st.no_match >= policy.max_no_match
            or st.no_input >= policy.max_no_input
            or st.no_match + st.no_input >= most
        ):
            self.escape(step, kind)
            return
        text = self.prompt_text(step)
        key = policy.keys[0]
        if self.voice and f"press {key}" not in text:
            text = f"{text} For a person, press {key} at any time."
        elif not self.voice:
            text = f"{text} To talk to a person, type agent at any time."
        self.prompt(step, f"{SORRY[sorry or kind]} {text}")


def _menu_hints(flow: Flow, step: MenuStep) -> tuple[str, ...]:
    """Return the words a menu tells the speech recogniser to expect."""
    examples = [
        example
        for o in step.options
        if o.intent in flow.intents
        for example in flow.intents[o.intent].examples[:3]
    ]
    return _hints([*step.hints, *(o.label for o in step.options), *examples])


def _hints(words: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for word in [*words, *AGENT_EXAMPLES[:4]]:
        seen.setdefault(word.strip().lower(), None)
    return tuple(w for w in seen if w)[:40]
