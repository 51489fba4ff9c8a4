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
from presszero.flows.language.languages import own_name
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

from .actions import Choice, End, Entry, Event, Prompt, State, Turn
from .dialog import (
    FRUSTRATION,
    SORRY,
    WHEN_CHOICES,
    WHEN_PROMPT,
    as_key,
    ask_value,
    ends_in,
    is_opening,
    phone_answer,
    when_answer,
    yes_or_no,
)
from .languages import choose_words, language_of, language_words, named_language
from .messages import Messages, is_polite
from .summary import WHY


def step(
    flow: Flow,
    state: State | None,
    event: Event,
    customer: Customer | None,
    now: datetime,
    *,
    staffed: bool = True,
    written: bool = False,
    language: str = "",
) -> Turn:
    """Return the next state, the actions to perform and the analytics events for `event`.

    `staffed` says whether a person could take a handoff now (someone is signed in, or a
    queue can hold the customer until someone is); when not, a handoff becomes the flow's
    after-hours step, as when no one answers. `written` says the customer writes and can
    read an answer here later (a chat): when no one can take the conversation they leave a
    message instead of the after-hours step, and after a person closes it the bot asks one
    optional question.

    `language` is the one the customer is known to speak (their record, their last choice,
    their browser), if any: a flow in several languages starts in it, or, on the phone,
    lets the caller choose first. `flow` is the flow in the conversation's language.
    """
    run = _Run(flow, state, customer, now, staffed=staffed, written=written)
    run.handle(event, language)
    return Turn(run.state, tuple(run.actions), tuple(run.events), run.started, run.chose)


class _Run(Messages):
    """One turn: greet, walk steps, read answers; the ways out live in `Exits`."""

    chose = ""  # the language the customer chose in this turn

    def handle(self, event: Event, language: str = "") -> None:
        """Work out the turn for one event, whatever state the conversation is in."""
        status = self.state.status
        if event.kind == "start" or status == "new":
            self.start(event if event.kind == "start" else Event.start(), language)
        elif status == "prompt" and self.state.phase == "language":
            self.choose_language(event)
        elif event.kind == "taken" and status in ("handoff", "message"):
            self.state.status, self.state.person = "handoff", event.value
            self.state.phase = ""
        elif event.kind == "closed" and self.written and status in ("handoff", "message"):
            self.hand_back()
        elif event.kind == "closed" and status not in ("done", "followup"):
            self.state.status, self.state.outcome = "done", "resolved"
            self.event("end", self.state.step, "resolved")
        elif status == "prompt" and event.kind in ("digits", "text", "no_input", "timeout"):
            self.answer(event)
        elif status == "handoff" and event.kind in ("handoff_failed", "timeout"):
            self.fallback(event.value or "timeout")
        elif status == "handoff" and event.kind == "leave_message" and not self.state.person:
            self.fallback("chose_message")
        elif status == "message" and event.kind == "text":
            self.take_message(event.value)
        elif status == "followup" and event.kind == "text":
            self.follow_up(event.value)

    def start(self, event: Event, language: str = "") -> None:
        """Greet by the first greeting rule that holds and go where it says; words the
        customer opened with ("my bill", "agent") are their first answer. A flow in several
        languages speaks the customer's, if known; else a caller chooses first."""
        self.state = State(flow=self.flow.name, channel=event.channel, caller=event.caller)
        self.started = True
        if len(self.flow.spoken) > 1:
            known = language_of(self.flow, language)
            if not known and not self.written:  # a chat follows its browser; a call asks
                self.ask_language()
                return
            self.speak(known or self.flow.spoken[0])
        self.greet(event.value)

    def greet(self, words: str = "") -> None:
        """Say the first greeting rule that holds and go on; `words` answer its prompt."""
        rule = next(
            (r for r in self.flow.greeting if r.when is None or r.when.holds(self.facts)), None
        )
        if rule is None:
            self.last_resort()
            return
        self.enter(self.follow(rule, "greeting"))
        button = words.startswith("/")  # a quick reply of a conversation that is over
        if self.state.status == "prompt" and not (is_opening(words) or is_polite(words) or button):
            self.answer(Event.text(words))

    # -- the language -----------------------------------------------------------------------

    def speak(self, language: str) -> None:
        """Hold the conversation in `language` (one the flow speaks) from now on."""
        self.use(self.flow.speaking(language))
        self.state.language = language

    def ask_language(self) -> None:
        """Ask a caller which language to go on in, each choice in its own words ("For
        English, press 1. Para español, oprima 2."); silence keeps the first."""
        spoken = self.flow.spoken
        self.state.status, self.state.phase = "prompt", "language"
        choices = tuple(Choice(own_name(lang), str(i), str(i)) for i, lang in enumerate(spoken, 1))
        said = " ".join(choose_words(lang, str(i)) for i, lang in enumerate(spoken, 1))
        hints = tuple(name for lang in spoken for name in language_words(lang))
        self.actions.append(
            Prompt(
                said, "language", ("dtmf", "speech"), hints, choices, 1, self.flow.escape.keys,
                phrased=(("voice", said), ("chat", said)),
            )
        )  # fmt: skip

    def choose_language(self, event: Event) -> None:
        """Read the caller's choice of language, then greet them in it. A person's key or
        words escape; words that choose nothing are taken in the first language, as their
        first answer."""
        self.state.phase = ""
        spoken, policy = self.flow.spoken, self.flow.escape
        text = event.value.strip() if event.kind in ("digits", "text") else ""
        key = text.rstrip("#")[:1] if event.kind == "digits" else as_key(text) if text else None
        person = bool(text) and event.kind == "text" and self.asks_for_person(text)
        if key in policy.keys or person:
            self.speak(spoken[0])
            self.state.escape_reason = "key0" if key in policy.keys else "agent_intent"
            self.state.why = WHY[self.state.escape_reason]
            self.event("escape", "language", self.state.escape_reason)
            self.enter(policy.handoff)
            return
        named = named_language(spoken, text) if event.kind == "text" else None
        chosen = (
            spoken[int(key) - 1] if key and key.isdigit() and 0 < int(key) <= len(spoken) else named
        )
        self.speak(chosen or spoken[0])
        if chosen:
            self.chose = chosen
            self.event("language", "language", chosen)
        self.greet(text if event.kind == "text" and not chosen else "")

    def asks_for_person(self, text: str) -> bool:
        """Return whether words at the language choice ask for a person."""
        intents = self.flow.escape.intents
        return self.flow.matcher.match(text, set(intents)).intent in intents

    def follow(self, rule: Rule, where: str) -> str:
        """Say a matching rule's words and return where it goes; note a context escape."""
        if rule.say:
            self.say(rule.say.render(self.facts))
        if isinstance(rule.when, Condition) and isinstance(
            self.flow.steps.get(rule.goto), HandoffStep
        ):
            self.state.escape_reason = "context_rule"
            self.state.why = WHY["context_rule"]
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
                self.prompt(step)
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
                self.state.status, self.state.outcome = "done", step.outcome
                self.event("end", step.id, step.outcome)
                return
        self.last_resort()

    # -- prompts and answers --------------------------------------------------------------

    def prompt(self, step: PromptStep, sorry: str = "") -> None:
        """Ask the step's question: its words, its choices and what a free answer is."""
        hints: tuple[str, ...] = ()
        options: tuple[Choice, ...] = ()
        phrased: tuple[tuple[str, str], ...] = ()
        most: int | None = 1
        entry: Entry = ""
        if isinstance(step, MenuStep | AskStep):
            text = step.prompt.render(self.facts)
            phrased = tuple((c, t.render(self.facts)) for c, t in step.phrased.items())
        if isinstance(step, MenuStep):
            # While closed, a choice that is "a person now" is not offered (its key still
            # works, and leads to the after-hours step like 0 does).
            options = tuple(
                Choice(o.label, o.payload, o.key)
                for o in step.options
                if self.open or not isinstance(self.flow.steps.get(o.goto), HandoffStep)
            )
            hints = self.flow.remember(("hints", step.id), lambda: _menu_hints(self.flow, step))
        elif isinstance(step, AskStep):
            hints, most = step.hints, step.max_length if step.digits else None
            entry = "digits" if step.digits else ""
        elif self.state.phase == "confirm":
            ending = ends_in(self.state.number_to_confirm)
            text = self.words(
                "Got it: the number ending in {ending}. Is that right?", ending=ending
            )
            options = (
                Choice(self.words("Yes, that's right"), "1", "1"),
                Choice(self.words("No, another number"), "2", "2"),
            )
            phrased = ((
                "voice",
                self.words(
                    "Got it: the number ending in {ending}. If that's right, press 1. "
                    "To give another number, press 2.",
                    ending=ending,
                ),
            ),)  # fmt: skip
            hints = ("yes", "no", "that's right", "another number")
        elif self.state.phase == "when":
            text = self.words(WHEN_PROMPT)
            labels = (
                self.words("As soon as we can"),
                self.words("In the morning"),
                self.words("In the afternoon"),
            )
            options = tuple(Choice(label, str(i), str(i)) for i, label in enumerate(labels, 1))
            hints = _hints([cue for _, cues, _ in WHEN_CHOICES for cue in cues])
        else:
            number, most, entry = self.known_number(), None, "number"
            if number:
                text = self.words(
                    "We can call you back on the number ending in {ending}.", ending=ends_in(number)
                )
                options = (Choice(self.words("Use this number"), "1", "1"),)
            else:
                text = self.words("We can call you back.")
        barge_in = step.barge_in if isinstance(step, MenuStep | AskStep) else True
        self.actions.append(
            Prompt(
                text, step.id, ("dtmf", "speech"), hints, options, most, step.escape.keys,
                sorry, entry, phrased, barge_in,
            )
        )  # fmt: skip

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
                    if self.state.said:
                        self.state.said[-1]["chose"] = option.label
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
                self.miss(step, "no_match", "not_a_phone")
                return
            own = key == "1" and known
            self.told(
                "asked to be called on the number we have" if own else "gave a number to call"
            )
            if own:  # their own number was just named: nothing to read back
                self.state.callback_number, self.state.phase = number, "when"
            else:  # read back what was taken, and have it confirmed before it is used
                self.state.number_to_confirm, self.state.phase = number, "confirm"
            self.state.no_match = self.state.no_input = 0
            self.prompt(step)
        elif self.state.phase == "confirm":
            verdict = yes_or_no(value)
            if verdict is None:
                self.miss(step, "no_match")
                return
            number, self.state.number_to_confirm = self.state.number_to_confirm, ""
            if verdict:
                self.told(f"confirmed the number ending in {ends_in(number)}")
                self.state.callback_number, self.state.phase = number, "when"
            else:
                self.told("said that was not the number")
                self.state.phase = "number"
            self.state.no_match = self.state.no_input = 0
            self.prompt(step)
        else:
            when = when_answer(value)
            if when is None:
                self.miss(step, "no_match")
            else:
                self.told(f"asked to be called {WHEN_WORDS.get(when, 'back')}")
                self.schedule(step, when)

    def told(self, what: str) -> None:
        """Say how the last answer retells to a person, when its words would not ("wrote 1")."""
        if self.state.said:
            self.state.said[-1]["told"] = what

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
        self.prompt(step, self.words(SORRY[sorry or kind]))


WHEN_WORDS = {
    "asap": "as soon as we can",
    "morning": "in the morning",
    "afternoon": "in the afternoon",
}


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
