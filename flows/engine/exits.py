"""The ways out of a conversation: escapes, handoffs, after-hours fallbacks, callbacks, voicemail.

`Exits` holds one turn being worked out and everything that ends it; the engine's turn
class builds on it with greetings, steps and answers.
"""

from __future__ import annotations

from datetime import datetime

from presszero.context.models import Customer, format_time
from presszero.flows.language.fields import Facts
from presszero.flows.language.model import (
    CallbackStep,
    Flow,
    HandoffStep,
    PromptStep,
    VoicemailStep,
)
from presszero.flows.language.phrases import phrase

from .actions import Action, Callback, FlowEvent, Handoff, Say, State, Voicemail
from .dialog import callable_number, callback_time, ends_in, said_when
from .summary import WHY, build_summary


class Exits:
    """One turn being worked out; the caller's state is copied, never changed."""

    def __init__(
        self,
        flow: Flow,
        state: State | None,
        customer: Customer | None,
        now: datetime,
        *,
        staffed: bool = True,
        written: bool = False,
    ) -> None:
        self.flow = flow
        self.staffed = staffed
        self.written = written
        self.state = State() if state is None else state.copy()
        self.customer = customer
        self.now = now
        self.use(flow)
        self.actions: list[Action] = []
        self.events: list[FlowEvent] = []
        self.rescued = False
        self.started = False

    def use(self, flow: Flow) -> None:
        """Speak `flow` (the same flow, in the conversation's language) from now on."""
        self.flow = flow
        self.hours = flow.hours
        self.open = flow.hours.is_open(self.now)
        self.language = flow.language
        self.hours_text = flow.remember("hours", lambda: flow.hours.describe(flow.language))

    @property
    def facts(self) -> Facts:
        return Facts(self.customer, self.now, self.hours.tz, self.hours_text, self.state.answers)

    def words(self, english: str, **fields: str) -> str:
        """Return presszero's own wording in the flow's language, its fields filled in."""
        text = phrase(english, self.language)
        return text.format(**fields) if fields else text

    def say(self, text: str) -> None:
        """Add words to say, if there are any."""
        if text:
            self.actions.append(Say(text))

    def event(self, kind: str, step: str, reason: str = "") -> None:
        """Record an analytics event for this turn."""
        self.events.append(FlowEvent(kind, step, reason))

    def enter(self, sid: str) -> None:
        """Go to step `sid` (the engine's turn class knows how)."""
        raise NotImplementedError

    def escape(self, step: PromptStep, code: str, why: str | None = None) -> None:
        """Leave the prompt for a person (or, when no one can answer, a callback)."""
        self.state.escape_reason = code
        self.state.why = why or WHY.get(code, "")
        self.event("escape", step.id, code)
        if isinstance(step, CallbackStep) and (not self.open or self.state.busy):
            self.callback_anyway(step)
            return
        self.enter(step.escape.handoff)

    def handoff(self, step: HandoffStep) -> None:
        """Hand over to a person, or to the after-hours step when closed, busy or unstaffed."""
        if not self.open or self.state.busy or not self.staffed:
            self.state.wanted = self.state.wanted or step.reason
            reason = "after_hours" if not self.open else "busy" if self.state.busy else "no_agent"
            self.fallback(reason)
            return
        self.say(step.say.render(self.facts) if step.say else "")
        self.state.status, self.state.outcome = "handoff", "handoff"
        summary = build_summary(self.state, self.customer, self.now, self.hours.tz, step.reason)
        self.actions.append(Handoff(step.queue, step.reason, summary))
        self.event("handoff", step.id, self.state.escape_reason)

    def fallback(self, reason: str) -> None:
        """Offer the after-hours step instead of a person: closed, busy or no answer; in
        writing, a message to leave and be answered here."""
        st = self.state
        current = self.flow.steps.get(st.step)
        if isinstance(current, HandoffStep):
            st.wanted = st.wanted or current.reason
        if reason == "after_hours":
            today = self.now.astimezone(self.hours.tz).date() in self.hours.closed_dates
            if self.written and today:
                self.say(self.words("We're closed today (open {hours}).", hours=self.hours_text))
            elif self.written:
                self.say(
                    self.words("We're closed right now (open {hours}).", hours=self.hours_text)
                )
            elif today:
                self.say(
                    self.words("We're closed today. We're open {hours}.", hours=self.hours_text)
                )
            else:
                self.say(
                    self.words("We're closed right now. We're open {hours}.", hours=self.hours_text)
                )
        elif reason != "chose_message":
            st.busy = True
            if self.written:
                self.say(self.words("Sorry, no one is free to chat right now."))
            else:
                self.say(self.words("Sorry, no one is free to talk right now."))
        self.event("fallback", st.step, reason)
        target = self.flow.steps.get(self.hours.after_hours)
        if self.written:  # they can read the answer here later: a message, not a phone call
            queue = current.queue if isinstance(current, HandoffStep) else self.first_queue
            self.voicemail(queue, "no one could answer", "")
        elif isinstance(target, CallbackStep | VoicemailStep):
            self.enter(target.id)
        else:
            self.voicemail(self.first_queue, "no one could answer", "")

    @property
    def first_queue(self) -> str:
        return self.flow.queues[0] if self.flow.queues else "support"

    def known_number(self) -> str:
        """Return the number to call back: given, calling from, or on the customer's record;
        "" when none of them can be called (a withheld number, a client or SIP address)."""
        customer = self.customer
        on_record = customer.phones if customer is not None else ()
        for line in (self.state.callback_number, self.state.caller, *on_record):
            number = callable_number(line, self.flow.region) if line else None
            if number:
                return number
        return ""

    def schedule(self, step: CallbackStep, when: str) -> None:
        """Book the callback and say when it will come."""
        moment = callback_time(self.hours, when, self.now)
        number = self.state.callback_number or self.known_number()
        said = said_when(self.hours, moment, when, self.now, self.language)
        if number:
            self.say(
                self.words(
                    "Thanks. We'll call you on the number ending in {ending} {when}. Goodbye.",
                    ending=ends_in(number),
                    when=said,
                )
            )
        else:
            self.say(self.words("Thanks. We'll call you {when}. Goodbye.", when=said))
        summary = build_summary(self.state, self.customer, self.now, self.hours.tz, step.reason)
        reason = self.state.wanted or step.reason
        self.actions.append(
            Callback(step.queue, number, when, format_time(moment), reason, summary)
        )
        self.state.status, self.state.phase, self.state.outcome = "done", "", "callback"
        self.event("callback", step.id, when)

    def callback_anyway(self, step: CallbackStep) -> None:
        """Escaping a callback when no one can answer: call back soon, or take a message."""
        if self.known_number():
            self.schedule(step, "asap")
        else:
            self.voicemail(step.queue, step.reason, "")

    def voicemail(self, queue: str, reason: str, text: str) -> None:
        """Ask for a message for the queue (`text`: the flow's words, else the channel's).

        In writing the message is typed, then how to reach them is asked; the flow's words
        (a recording's "after the tone") are the phone's, so the chat's own are used.
        """
        summary = build_summary(self.state, self.customer, self.now, self.hours.tz, reason)
        prompt = "" if self.written else text
        self.actions.append(Voicemail(queue, self.state.wanted or reason, summary, prompt))
        self.state.status, self.state.outcome = "message", "callback"
        self.state.phase = "message" if self.written else ""
        self.event("voicemail", self.state.step, reason)

    def last_resort(self) -> None:
        """A flow that cannot go on (changed under a live call?) still ends at a person."""
        self.state.escape_reason, self.state.why = "flow_error", WHY["flow_error"]
        target = self.flow.steps.get(self.flow.escape.handoff)
        if isinstance(target, HandoffStep) and not self.rescued:
            self.rescued = True
            self.state.step = target.id
            self.handoff(target)
            return
        queue = self.flow.queues[0] if self.flow.queues else "support"
        summary = build_summary(
            self.state, self.customer, self.now, self.hours.tz, "the flow could not continue"
        )
        self.actions.append(Handoff(queue, "the flow could not continue", summary))
        self.state.status, self.state.outcome = "handoff", "handoff"
        self.event("handoff", self.state.step, "flow_error")
