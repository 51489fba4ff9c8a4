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
from presszero.flows.language.phrases import phrase

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
    "si, resuelto": "yes", "sí, resuelto": "yes", "la verdad, no": "no",
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


def reached_by(reply_to: str, language: str = "en-US") -> str:
    """Return where an answer goes besides here, in words ("" for here only)."""
    how, _, address = reply_to.partition(":")
    if how == "email":
        return phrase("by email at {address}", language).format(address=masked_email(address))
    if how == "sms":
        return phrase("by text message to the number ending in {ending}", language).format(
            ending=ends_in(address)
        )
    return ""


def answered_where(reply_to: str, language: str) -> str:
    """Return where an answer goes, in words: "here", "here and by email at d…@example.com"."""
    besides = reached_by(reply_to, language)
    if not besides:
        return phrase("here", language)
    return phrase("here and {besides}", language).format(besides=besides)


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
                self.say(self.words("Type your message, and we'll answer it here."))
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
            self.say(
                self.words("Thanks, we've got your message. Someone will get back to you soon.")
            )
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
            options.append(
                Choice(self.words("Email {address}", address=masked_email(email)), REPLY_EMAIL)
            )
        if phone:
            text = self.words("Text the number ending in {ending}", ending=ends_in(phone))
            options.append(Choice(text, REPLY_SMS))
        options.append(Choice(self.words("Just here is fine"), REPLY_HERE))
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
                    self.words("Sorry, that doesn't look like an email address or a phone number.")
                )
                return
            self.say(self.words("I couldn't read that as an email address or a phone number."))
            reply_to = ""
        how, _, address = reply_to.partition(":")
        st.reply_to, st.phase, st.no_match = reply_to, "sent", 0
        self.actions.append(ReplyTo(how, address))
        where = answered_where(reply_to, self.language)
        self.say(self.words("Message sent: we'll answer {where}.", where=where))

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
        where = answered_where(st.reply_to, self.language)
        if asks and not self.open:
            self.say(
                self.words(
                    "We're closed right now. Your message is with us, and we'll answer {where}.",
                    where=where,
                )
            )
            return
        if asks:
            self.say(
                self.words(
                    "No one is free to chat yet. Your message is with us, "
                    "and we'll answer {where}.",
                    where=where,
                )
            )
            return
        self.actions.append(Message(text, more=True))
        self.say(self.words("I've added that to your message. We'll answer {where}.", where=where))

    # -- after a person -------------------------------------------------------------------

    def hand_back(self) -> None:
        """A person closed the conversation (or answered its message): the bot has it back
        and asks, once and optionally, whether it was sorted out."""
        st = self.state
        st.status, st.outcome, st.phase = "followup", "resolved", ""
        self.event("end", st.step, "resolved")
        self.event("satisfaction", st.step, "asked")
        self.actions.append(
            AskRating(
                (
                    Choice(self.words("Yes, sorted"), RATE_YES),
                    Choice(self.words("Not really"), RATE_NO),
                )
            )
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
                self.say(
                    self.words(
                        "Thanks for letting us know. If you need anything else, just type it."
                    )
                )
            else:
                self.say(
                    self.words(
                        "Sorry we didn't sort it out. Tell me what's still wrong, "
                        "or choose Talk to a person."
                    )
                )
            return
        if not text.strip() or is_polite(text):
            st.status = "done"
            self.say(self.words("You're welcome. If you need anything else, just type it here."))
            return
        first = "" if " ".join(words(text)) in YES else text
        self.start(Event.start(st.channel, st.caller, first))

    def start(self, event: Event) -> None:
        raise NotImplementedError
