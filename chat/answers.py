"""Answering a message a chat visitor left: into the conversation, and by email or text.

The answer is written into the conversation's transcript first, so the visitor reads it in
the widget when they come back whatever happens next; then it goes where they asked, by email
(SMTP, `PRESSZERO_SMTP_*`) or by text message (Twilio's Messages API). A delivery that fails
loses nothing: the message stays listed in the inbox, saying what failed. Every delivery, and
every failure, goes into the customer's contact log.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, getaddresses, make_msgid
from typing import Any

from presszero.config import ConfigError
from presszero.context.handoffs import CLOSED
from presszero.context.models import Customer
from presszero.context.store import UnknownCustomer
from presszero.flows.engine.messages import masked_email
from presszero.flows.language.phrases import phrase
from presszero.voice.rest import TwilioError, TwilioRest

from .service import CHANNEL, ChatService, shown_name

SMTP_TIMEOUT = 10.0


class DeliveryFailed(Exception):
    """The answer did not reach the email address or phone; str() says why, for the agent."""


class AnswerRefused(Exception):
    """There is no message to answer here (none was left, or it was answered and closed)."""


@dataclass(frozen=True)
class Mailer:
    """Sends plain-text email through one SMTP server, with STARTTLS unless told not to."""

    host: str
    port: int
    sender: str  # the From: "Example Support <support@example.com>"
    user: str = ""
    password: str = ""
    starttls: bool = True
    timeout: float = SMTP_TIMEOUT

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Mailer | None:
        """Return the mailer the PRESSZERO_SMTP_* settings describe (None: no SMTP_HOST)."""
        host = str(settings.get("PRESSZERO_SMTP_HOST") or "").strip()
        if not host:
            return None
        sender = str(settings.get("PRESSZERO_SMTP_FROM") or "").strip()
        if not sender or "@" not in sender:
            raise ConfigError(
                "PRESSZERO_SMTP_FROM is not set (the address answers are sent from, "
                'e.g. "Example Support <support@example.com>"); PRESSZERO_SMTP_HOST is'
            )
        raw_port = str(settings.get("PRESSZERO_SMTP_PORT") or "587").strip()
        if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
            raise ConfigError(f"PRESSZERO_SMTP_PORT must be a port number, got {raw_port!r}")
        user = str(settings.get("PRESSZERO_SMTP_USER") or "")
        password = str(settings.get("PRESSZERO_SMTP_PASSWORD") or "")
        if bool(user) != bool(password):
            missing = "PRESSZERO_SMTP_PASSWORD" if user else "PRESSZERO_SMTP_USER"
            raise ConfigError(f"{missing} is not set (the other of the pair is)")
        starttls = bool(settings.get("PRESSZERO_SMTP_STARTTLS", True))
        return cls(host, int(raw_port), sender, user, password, starttls)

    @property
    def company(self) -> str:
        """Return who the mail is from, as the customer knows them: the From's name, or its
        domain ("Example Support", else "example.com")."""
        name, address = getaddresses([self.sender])[0]
        return name.strip() or address.rpartition("@")[2]

    def send(self, to: str, subject: str, body: str) -> None:
        """Send one plain-text email; raise DeliveryFailed saying why it did not go."""
        mail = EmailMessage()
        name, address = getaddresses([self.sender])[0]
        mail["From"] = formataddr((name, address))
        mail["To"] = to
        mail["Subject"] = subject
        mail["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or None)
        mail.set_content(body)
        where = f"{self.host}:{self.port}"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    if not smtp.has_extn("starttls"):
                        raise DeliveryFailed(f"the mail server at {where} does not offer STARTTLS")
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            code, said = next(iter(exc.recipients.values()))
            raise DeliveryFailed(
                f"the mail server refused the address ({code} {_text(said)})"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(
                f"the mail server said {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except (smtplib.SMTPException, ssl.SSLError) as exc:
            raise DeliveryFailed(f"the mail server at {where} failed: {exc}") from exc
        except OSError as exc:
            raise DeliveryFailed(
                f"could not reach the mail server at {where} ({exc.strerror or exc})"
            ) from exc


def _text(said: bytes | str) -> str:
    return said.decode(errors="replace") if isinstance(said, bytes) else str(said)


def email_for(
    company: str,
    queue: str,
    agent: str,
    message: str,
    answer: str,
    first_name: str = "",
    language: str = "en-US",
) -> tuple[str, str]:
    """Return the subject and body of the email that carries an answer: it names who it is
    from, quotes their message and gives the answer, in the conversation's language. Every
    part is filled in or left out, never a placeholder."""

    def say(english: str, **fields: str) -> str:
        return phrase(english, language).format(**fields)

    if company:
        subject = say("An answer to your message to {company}", company=company)
    else:
        subject = say("An answer to your message")
    quoted = "\n".join(f"> {line}" for line in message.splitlines() or [message])
    team = say("our {queue} team", queue=queue) if queue else say("our team")
    body = "\n".join(
        [
            say("Hello {name},", name=first_name) if first_name else say("Hello,"),
            "",
            say("You left this message in the chat on {company}'s website:", company=company)
            if company
            else say("You left this message in our website chat:"),
            "",
            quoted,
            "",
            say("{name} from {team} answered:", name=shown_name(agent), team=team),
            "",
            answer,
            "",
            say("You can read this in the chat too, and write back there."),
            "",
            company or say("Customer support"),
        ]
    )
    return subject, body + "\n"


def sms_for(company: str, agent: str, message: str, answer: str, language: str = "en-US") -> str:
    """Return the text message that carries an answer (its start quotes their message)."""
    about = message if len(message) <= 60 else message[:57].rstrip() + "..."
    head = f"{company}: " if company else ""
    said = phrase('{name} answered your message "{about}": {answer}', language)
    return head + said.format(name=shown_name(agent), about=about, answer=answer)


class Delivery:
    """Where answers go besides the conversation: email (SMTP) and text messages (Twilio)."""

    def __init__(self, mailer: Mailer | None, twilio: TwilioRest, sms_from: str) -> None:
        self.mailer = mailer
        self.twilio = twilio
        self.sms_from = sms_from

    @property
    def company(self) -> str:
        return self.mailer.company if self.mailer is not None else ""

    def email(self, to: str, subject: str, body: str) -> None:
        if self.mailer is None:
            raise DeliveryFailed("no mail server is set up (PRESSZERO_SMTP_HOST)")
        self.mailer.send(to, subject, body)

    def sms(self, to: str, body: str) -> None:
        try:
            self.twilio.send_sms(to, self.sms_from, body)
        except TwilioError as exc:
            raise DeliveryFailed(str(exc)) from exc


class Answers:
    """An agent's answer to a message left in chat: transcript, delivery, record, hand-back."""

    def __init__(self, chat: ChatService, delivery: Delivery) -> None:
        self.chat = chat
        self.delivery = delivery

    def answer(self, handoff_id: str, agent: str, text: str) -> dict[str, Any]:
        """Answer the message of `handoff_id`; return its record as it now stands (still open,
        saying what failed, when the delivery failed)."""
        chat, handoffs = self.chat, self.chat.handoffs
        record = handoffs.get(handoff_id)
        if (
            record is None
            or record.get("channel") != CHANNEL
            or not record.get("message")
            or record.get("status") in CLOSED
        ):
            raise AnswerRefused("there is no message waiting for an answer here")
        sender = handoff_id.partition(":")[2]
        line = chat.turns.write_line(CHANNEL, sender, "agent", text, agent)
        reply_to = record.get("reply_to") or {}
        how, address = str(reply_to.get("how") or ""), str(reply_to.get("address") or "")
        customer = self._customer(record)
        try:
            language = chat.language_of(sender)
            told = self._deliver(how, address, record, agent, text, customer, language)
            delivered, note = True, told
        except DeliveryFailed as exc:
            delivered = False
            note = f"{'email' if how == 'email' else 'text message'} not delivered: {exc}"
        now = chat.clock.now()
        contact = self._log(record, sender, line, how, address, agent, note, delivered)
        answers = [
            *record.get("answers", []),
            {"by": agent, "text": text, "at": now.isoformat(), "delivery": note},
        ]
        changes: dict[str, Any] = {"answers": answers, "delivery": note, "contact": contact}
        if delivered:
            changes.update(status="resolved", resolved_by=agent, resolution=f"answered: {note}")
        updated = handoffs.update(handoff_id, now, **changes) or record
        self._hand_back(sender, agent, how if delivered else "", address)
        return updated

    def _deliver(
        self,
        how: str,
        address: str,
        record: dict[str, Any],
        agent: str,
        text: str,
        customer: Customer | None,
        language: str,
    ) -> str:
        """Send the answer where the visitor asked, in their conversation's language; return
        what was done, in words (for the agent)."""
        message, queue = str(record.get("message") or ""), str(record.get("queue") or "")
        company = self.delivery.company
        if how == "email":
            first = customer.first_name if customer is not None else ""
            subject, body = email_for(company, queue, agent, message, text, first, language)
            self.delivery.email(address, subject, body)
            return f"emailed to {masked_email(address)}"
        if how == "sms":
            self.delivery.sms(address, sms_for(company, agent, message, text, language))
            return f"texted to the number ending in {address[-4:]}"
        return "answered in the chat"

    def _customer(self, record: dict[str, Any]) -> Customer | None:
        customer_id = record.get("customer_id")
        return self.chat.store.get(str(customer_id)) if customer_id else None

    def _log(
        self,
        record: dict[str, Any],
        sender: str,
        line: int,
        how: str,
        address: str,
        agent: str,
        note: str,
        delivered: bool,
    ) -> dict[str, str]:
        """Write the contact log: the chat the customer started, answered; and our delivery of
        the answer (or its failure), a contact we made. Return the chat's, which a rating of
        the answer is written onto."""
        store = self.chat.store
        reason = str(record.get("reason", ""))
        ref = f"{sender}:{record.get('opened_at', '')}"  # this message's chat
        contacts = [
            store.new_contact(
                CHANNEL, "resolved", reason=f"{reason}; {agent} answered their message", ref=ref
            )
        ]
        if how:
            contacts.append(
                store.new_contact(
                    how,
                    "resolved" if delivered else "callback",
                    reason=f"{reason}; {agent} answered their message: {note} ({address})",
                    ref=f"{sender}:answer:{line}",
                    by="company",
                )
            )
        customer_id = record.get("customer_id")
        for contact in contacts:
            try:
                if not customer_id:
                    raise UnknownCustomer("")
                store.record_contact(str(customer_id), contact)
            except UnknownCustomer:
                store.record_unattributed(address if how == "sms" else "", contact)
        return {"channel": CHANNEL, "ref": ref}

    def _hand_back(self, sender: str, agent: str, how: str, address: str) -> None:
        """The conversation goes back to the bot, which asks whether it was sorted out."""
        language, name = self.chat.language_of(sender), shown_name(agent)
        if how == "email":
            said = phrase(
                "{name} answered your message; we also emailed it to {address}. "
                "Anything else? Just type it here.",
                language,
            ).format(name=name, address=masked_email(address))
        elif how == "sms":
            said = phrase(
                "{name} answered your message; we also texted it to the number ending in "
                "{ending}. Anything else? Just type it here.",
                language,
            ).format(name=name, ending=address[-4:])
        else:
            said = phrase(
                "{name} answered your message. Anything else? Just type it here.", language
            ).format(name=name)
        self.chat.hand_back(sender, said, "answered")
