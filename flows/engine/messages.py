"""A message left in writing, and the bot's side after a person closes a conversation.

When no one can take a written conversation (a chat), the customer leaves a message, then
says how else to reach them with the answer (an email, a phone for a text, or just here);
the message waits for a person until one answers it. When a person closes a conversation
(or answers its message), the bot has it back and asks one optional question: did we sort
it out? A reply to that is never a miss: a rating, a pleasantry, or words the bot carries
on with as the start of a new conversation.
"""

from __future__ import annotations

import re

from presszero.flows.language.intents import words
from presszero.flows.language.model import HandoffStep

from .actions import AskContact, AskRating, Choice, Event, Message, Rated, ReplyTo
from .dialog import as_key, callable_number, ends_in, phone_answer
from .exits import Exits

EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
REPLY_HERE = "/reply here"
REPLY_EMAIL = "/reply email"
REPLY_SMS = "/reply sms"
RATE_YES = "/rate yes"
RATE_NO = "/rate no"
LEAVE_MESSAGE = "/message"  # waiting for a person: leave a message instead
RATINGS = {
    RATE_YES: "yes", "yes, sorted": "yes", "yes sorted": "yes",
    RATE_NO: "no", "not really": "no",
}  # fmt: skip
# Words that decline or close ("no thanks", "thanks!", "bye"): never an answer to a menu.
POLITE = frozenset({
    "thanks", "thank", "you", "ty", "cheers", "ok", "okay", "great", "good", "perfect", "cool",
    "fine", "brilliant", "awesome", "lovely", "bye", "goodbye", "no", "nope", "nothing", "else",
    "thats", "it", "all", "set", "done", "much", "a", "lot", "so", "very", "for", "your", "help",
})  # fmt: skip
YES = frozenset({"yes", "yeah", "yep", "sure", "please", "yes please", "i do"})
HERE_WORDS = frozenset({
    "just", "here", "is", "fine", "only", "no", "thanks", "none", "nothing", "skip", "thats", "ok",
})  # fmt: skip


def masked_email(address: str) -> str:
    """Return an email as it is shown back: "d…@example.com"."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


def reached_by(reply_to: str) -> str:
    """Return where an answer goes besides here, in words ("" for here only)."""
    how, _, address = reply_to.partition(":")
    if how == "email":
        return f"by email at {masked_email(address)}"
    if how == "sms":
        return f"by text message to the number ending in {ends_in(address)}"
    return ""


def is_polite(text: str) -> bool:
    """Return True for words that only thank, decline or say goodbye."""
    said = words(text)
    return bool(said) and all(w in POLITE for w in said)


class Messages(Exits):
    """Taking a written message, and the optional question after a person closed it."""

    def take_message(self, text: str) -> None:
        """Read the customer's words while a message is being taken from them."""
        st = self.state
        text = " ".join(text.split())
        if st.phase == "message":
            if not text:
                self.say("Type your message, and we'll answer it here.")
                return
            self.actions.append(Message(text))
            st.phase, st.no_match = "contact", 0
            self.ask_contact()
        elif st.phase == "contact":
            self.take_contact(text)
        elif st.phase == "sent":
            self.add_to_message(text)
        else:  # a message to a voicemail step, typed: keep it, and it is over
            self.actions.append(Message(text))
            self.say("Thanks, we've got your message. Someone will get back to you soon.")
            st.status = "done"

    def on_record(self) -> tuple[str, str]:
        """Return the customer's email and a phone we could text, from their record."""
        customer = self.customer
        if customer is None:
            return "", ""
        phone = next(
            (n for p in customer.phones if (n := callable_number(p, self.flow.region))), ""
        )
        return customer.email or "", phone

    def ask_contact(self, sorry: str = "") -> None:
        """Ask how to reach them with the answer besides here: what is on their record, or any
        email or phone they type, or nothing."""
        email, phone = self.on_record()
        options = []
        if email:
            options.append(Choice(f"Email {masked_email(email)}", REPLY_EMAIL))
        if phone:
            options.append(Choice(f"Text the number ending in {ends_in(phone)}", REPLY_SMS))
        options.append(Choice("Just here is fine", REPLY_HERE))
        self.actions.append(AskContact(tuple(options), sorry))

    def take_contact(self, text: str) -> None:
        """Read how to reach them: a button, an email, a phone number, or here only."""
        st = self.state
        email, phone = self.on_record()
        low = text.strip().lower()
        reply_to: str | None = None
        if low == REPLY_EMAIL and email:
            reply_to = f"email:{email}"
        elif low == REPLY_SMS and phone:
            reply_to = f"sms:{phone}"
        elif low == REPLY_HERE or (words(low) and set(words(low)) <= HERE_WORDS):
            reply_to = ""
        elif EMAIL.fullmatch(text.strip()):
            reply_to = f"email:{text.strip().lower()}"
        elif "@" not in text and (number := phone_answer(text, self.flow.region)):
            reply_to = f"sms:{number}"
        if reply_to is None:
            st.no_match += 1
            if st.no_match < self.flow.escape.max_no_match:
                self.ask_contact(
                    "Sorry, that doesn't look like an email address or a phone number."
                )
                return
            self.say("I couldn't read that as an email address or a phone number.")
            reply_to = ""
        how, _, address = reply_to.partition(":")
        st.reply_to, st.phase, st.no_match = reply_to, "sent", 0
        self.actions.append(ReplyTo(how, address))
        besides = reached_by(reply_to)
        self.say(f"Message sent: we'll answer here{' and ' + besides if besides else ''}.")

    def add_to_message(self, text: str) -> None:
        """Words after the message was left: more for the message, or asking for a person,
        who can take it now only if someone is in."""
        st = self.state
        if not text:
            return
        policy = self.flow.escape
        asks = as_key(text) in policy.keys or (
            self.flow.matcher.match(text, set(policy.intents)).intent in policy.intents
        )
        if asks and self.open and self.staffed:
            target = self.flow.steps.get(policy.handoff)
            if isinstance(target, HandoffStep):
                st.escape_reason, st.busy, st.phase = "agent_intent", False, ""
                self.event("escape", st.step, "agent_intent")
                self.enter(target.id)
                return
        besides = reached_by(st.reply_to)
        where = f"here{' and ' + besides if besides else ''}"
        if asks:
            now = "We're closed right now" if not self.open else "No one is free to chat yet"
            self.say(f"{now}. Your message is with us, and we'll answer {where}.")
            return
        self.actions.append(Message(text, more=True))
        self.say(f"I've added that to your message. We'll answer {where}.")

    # -- after a person -------------------------------------------------------------------

    def hand_back(self) -> None:
        """A person closed the conversation (or answered its message): the bot has it back
        and asks, once and optionally, whether it was sorted out."""
        st = self.state
        st.status, st.outcome, st.phase = "followup", "resolved", ""
        self.event("end", st.step, "resolved")
        self.event("satisfaction", st.step, "asked")
        self.actions.append(
            AskRating((Choice("Yes, sorted", RATE_YES), Choice("Not really", RATE_NO)))
        )

    def follow_up(self, text: str) -> None:
        """Read the reply to "did we sort it out?": a rating, a pleasantry, or a new start."""
        st = self.state
        rating = RATINGS.get(" ".join(text.lower().split()).strip(" .!"))
        if rating:
            self.actions.append(Rated(rating))
            self.event("satisfaction", st.step, rating)
            st.status = "done"
            if rating == "yes":
                self.say("Thanks for letting us know. If you need anything else, just type it.")
            else:
                self.say(
                    "Sorry we didn't sort it out. Tell me what's still wrong, "
                    "or choose Talk to a person."
                )
            return
        if not text.strip() or is_polite(text):
            st.status = "done"
            self.say("You're welcome. If you need anything else, just type it here.")
            return
        first = "" if " ".join(words(text)) in YES else text
        self.start(Event.start(st.channel, st.caller, first))

    def start(self, event: Event) -> None:
        raise NotImplementedError
