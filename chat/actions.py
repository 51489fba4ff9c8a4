"""rasa-sdk actions for teams that already run Rasa: read the context first, a person on request.

Rasa calls these through its action server (`presszero actions`, see `action_server.py`).
Each action is handed the store, the handoff inbox and the clock; none reads a global, so
rasa-sdk's `ActionExecutor` stays free of transport and tests run the actions through it.

Who the visitor is comes only from sources the visitor cannot forge: the `customer_id` slot
(set by the Rasa side, or by `action_load_context` itself) and a signed `identity` token in the
message metadata (the same token the chat widget uses; its subject may be a customer id, a phone
or an email). The sender id, `phone`/`email` metadata and the tracker's input channel are never
trusted, whatever the channel: Rasa's REST channel takes `sender` and `input_channel` from the
request body, so `{"sender": "+15550100002", "input_channel": "twilio"}` is anyone's to send.
A Rasa channel that has verified the caller (a Twilio channel that checks the request
signature, say) vouches for the phone by putting an `identity` token signed with
PRESSZERO_CHAT_SECRET (`chat.identity.make_token`) in the message metadata.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from rasa_sdk.types import DomainDict

from presszero.context.clock import Clock
from presszero.context.connect import REDIS_ERRORS
from presszero.context.handoffs import HandoffStore
from presszero.context.models import Customer, local_day_start
from presszero.context.store import ContextStore
from presszero.flows.engine.actions import State
from presszero.flows.engine.summary import WHY, build_summary
from presszero.flows.language.hours import Hours

from .identity import verify_token
from .tracker import (
    latest_intent,
    latest_metadata,
    misses_in_a_row,
    said,
    transcript,
)

log = logging.getLogger(__name__)

CHANNEL = "rasa"
PERSON_INTENTS = frozenset(
    {"agent", "human", "human_handoff", "handoff", "talk_to_human", "request_human", "operator"}
)
MAX_MISSES = 2  # the 2nd miss in a row ends at a person
MISSES_SLOT = "presszero_misses"
RECENTLY_CANCELLED = timedelta(days=30)
REPEAT_WINDOW = timedelta(hours=48)
REPEAT_CONTACTS = 2

CONTEXT_SLOTS = (
    "customer_known",
    "customer_id",
    "customer_name",
    "customer_first_name",
    "plan_name",
    "plan_status",
    "recently_cancelled",
    "missed_appointment",
    "vip",
    "repeat_contact",
)

# The agent inbox shows the whole conversation, but answers through the team's own tools
# (Rasa's channel, a phone call), so we promise a reply, not a reply in this window.
HANDED_OVER = (
    "I've passed this to our team with everything you've told me. A person will get back to you."
)
HANDED_OVER_CLOSED = (
    "We're closed right now; our team is here {hours}. I've passed this conversation to them, "
    "and a person will get back to you when we open."
)
COULD_NOT_HAND_OVER = (
    'Sorry, I couldn\'t reach our team just now. Please try again in a minute by typing "agent".'
)
REASK = (
    "Sorry, I didn't understand that. Could you put it another way? "
    'You can type "agent" at any time to talk to a person.'
)

_PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")


class PresszeroAction(Action):
    """An action backed by the context store and the inbox, which it is given, never imports."""

    action_name = ""

    def __init__(
        self,
        store: ContextStore,
        handoffs: HandoffStore,
        clock: Clock,
        *,
        hours: Hours | None = None,
        identity_secret: str = "",
    ) -> None:
        self.store = store
        self.handoffs = handoffs
        self.clock = clock
        self.hours = hours
        self.tz: tzinfo = hours.tz if hours else UTC
        self.identity_secret = identity_secret

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # The store is synchronous: keep its round trips off the action server's event loop.
        return await asyncio.to_thread(self.act, dispatcher, tracker)

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        raise NotImplementedError

    # -- shared by the actions ------------------------------------------------------------

    def identify(self, tracker: Tracker) -> Customer | None:
        """Return the customer this conversation is with, from sources the visitor cannot forge."""
        slot = tracker.get_slot("customer_id")
        if isinstance(slot, str) and slot.strip():
            found = self.store.get(slot.strip())
            if found is not None:
                return found
        subject = self._verified_subject(tracker)
        return self.store.lookup(subject) if subject else None

    def _verified_subject(self, tracker: Tracker) -> str | None:
        """Return the subject of the message's signed identity token, or None."""
        token = latest_metadata(tracker).get("identity")
        return verify_token(self.identity_secret, token, self.clock.now())

    def escalate(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, escape: str
    ) -> list[EventType]:
        """Open the inbox entry, tell the visitor honestly, and pause the bot."""
        now = self.clock.now()
        try:
            customer = self.identify(tracker)
            record = self.handoff_record(tracker, customer, escape, now)
            self.handoffs.open(f"{CHANNEL}:{tracker.sender_id}", record, now)
        except REDIS_ERRORS:  # Redis, or every node of a cluster, out of reach
            # Pausing with no inbox entry would leave the visitor talking to no one.
            log.exception("rasa handoff for %s could not be opened", tracker.sender_id)
            dispatcher.utter_message(text=COULD_NOT_HAND_OVER)
            return []
        if self.hours is not None and self.closed(now):
            dispatcher.utter_message(text=HANDED_OVER_CLOSED.format(hours=self.hours.describe()))
        else:
            dispatcher.utter_message(text=HANDED_OVER)
        return [SlotSet(MISSES_SLOT, 0), ConversationPaused()]

    def handoff_record(
        self, tracker: Tracker, customer: Customer | None, escape: str, now: datetime
    ) -> dict[str, Any]:
        """Return the inbox entry: who, why, the summary and the whole transcript."""
        intent = latest_intent(tracker)
        if not escape and intent in PERSON_INTENTS:
            escape = "agent_intent"
        reason = tracker.get_slot("handoff_reason") or {
            "agent_intent": "asked for a person",
            "no_match": "not understood twice",
        }.get(escape, intent or "handed over by the bot")
        caller = self._trusted_phone(tracker) or ""
        state = State(
            status="handoff",
            step=intent or "chat",
            channel=CHANNEL,
            caller=caller,
            said=said(tracker.events_after_latest_restart()),
            escape_reason=escape,
            why=WHY.get(escape) or handed_over_after(intent),
        )
        summary = build_summary(state, customer, now, self.tz, str(reason))
        record: dict[str, Any] = {
            "channel": CHANNEL,
            "kind": "handoff",
            "queue": tracker.get_slot("handoff_queue") or "support",
            "reason": summary.reason,
            "customer_id": summary.customer_id,
            "who": summary.who,
            "phone": summary.phone,
            "summary": summary.to_dict(),
            "transcript": transcript(tracker.events_after_latest_restart()),
            "sender_id": tracker.sender_id,
        }
        if self.closed(now):
            record["after_hours"] = True
        return record

    def closed(self, now: datetime) -> bool:
        """Return whether no person can answer at `now` (never, without configured hours)."""
        return self.hours is not None and not self.hours.is_open(now)

    def _trusted_phone(self, tracker: Tracker) -> str | None:
        """Return the phone a signed identity token vouches for, or None (never the sender)."""
        subject = (self._verified_subject(tracker) or "").strip()
        return subject if _PHONE.match(subject) else None


class LoadContext(PresszeroAction):
    """Fill the context slots from the store before the bot says a word."""

    action_name = "action_load_context"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        try:
            customer = self.identify(tracker)
        except REDIS_ERRORS:
            # Speak neutrally rather than not at all.
            log.exception("context lookup for %s failed", tracker.sender_id)
            customer = None
        values = self.context_slots(customer, self.clock.now())
        return [SlotSet(name, values[name]) for name in CONTEXT_SLOTS]

    def context_slots(self, customer: Customer | None, now: datetime) -> dict[str, Any]:
        """Return the slot values for this customer; an unknown visitor gets no personal data."""
        if customer is None:
            return dict.fromkeys(CONTEXT_SLOTS) | {
                "customer_known": False,
                "recently_cancelled": False,
                "missed_appointment": False,
                "vip": False,
                "repeat_contact": False,
            }
        yesterday = local_day_start(now, self.tz, days_back=1)
        return {
            "customer_known": True,
            "customer_id": customer.id,
            "customer_name": customer.name,
            "customer_first_name": customer.first_name or None,
            "plan_name": customer.plan.name or None,
            "plan_status": customer.plan.status,
            "recently_cancelled": customer.cancelled_within(RECENTLY_CANCELLED, now) is not None,
            "missed_appointment": bool(customer.missed_appointments_since(yesterday, now)),
            "vip": customer.has_flag("vip"),
            "repeat_contact": len(customer.contacts_within(REPEAT_WINDOW, now)) >= REPEAT_CONTACTS,
        }


class Handoff(PresszeroAction):
    """Hand the conversation to a person: the inbox gets it, the bot steps aside."""

    action_name = "action_handoff"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        return self.escalate(dispatcher, tracker, "")


class Fallback(PresszeroAction):
    """Re-ask after the first miss; the second miss in a row goes to a person."""

    action_name = "action_presszero_fallback"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        # The events, not the slot, are the record: a domain that forgot to declare the slot
        # (Rasa drops unknown SlotSets) still escalates on the 2nd miss.
        misses = misses_in_a_row(tracker.events_after_latest_restart(), self.name())
        if misses >= MAX_MISSES:
            return self.escalate(dispatcher, tracker, "no_match")
        dispatcher.utter_message(text=REASK)
        return [SlotSet(MISSES_SLOT, misses)]


def handed_over_after(intent: str | None) -> str:
    """Return why Rasa stepped aside when no escape says it, in words: the intent's name
    ("ask_billing") read as words, never as an id."""
    if not intent:
        return "The Rasa bot handed them over after their last message."
    return f"The Rasa bot handed them over after they asked about {intent.replace('_', ' ')}."


def build_executor(
    store: ContextStore,
    handoffs: HandoffStore,
    clock: Clock,
    *,
    hours: Hours | None = None,
    identity_secret: str = "",
) -> ActionExecutor:
    """Return rasa-sdk's executor with the presszero actions registered on these stores."""
    executor = ActionExecutor()
    for kind in (LoadContext, Handoff, Fallback):
        executor.register_action(
            kind(
                store,
                handoffs,
                clock,
                hours=hours,
                identity_secret=identity_secret,
            )
        )
    return executor
