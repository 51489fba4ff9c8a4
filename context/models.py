"""Typed customer-context records and the recency questions asked of them.

The wire shape is the JSONL record of the spec. `Customer.from_dict` is strict: unknown
fields, wrong types and values outside the allowed sets raise `RecordError` naming the
field, so a bad import line never reaches the store half-understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from .phones import PhoneError, normalise_phone

PlanStatus = Literal["active", "pending", "cancelled", "suspended", "none"]
ContactOutcome = Literal["resolved", "handoff", "abandoned", "missed", "callback"]
AppointmentStatus = Literal["scheduled", "completed", "missed", "cancelled"]
Channel = Literal["voice", "chat", "email", "sms", "agent", "automation"]
Party = Literal["company", "customer"]

PLAN_STATUSES: tuple[str, ...] = get_args(PlanStatus)
CONTACT_OUTCOMES: tuple[str, ...] = get_args(ContactOutcome)
# What the outbound guard decided about an automated message (channel "automation" only).
AUTOMATION_OUTCOMES = ("allowed", "suppressed", "replaced")
APPOINTMENT_STATUSES: tuple[str, ...] = get_args(AppointmentStatus)
CHANNELS: tuple[str, ...] = get_args(Channel)
CUSTOMER_CHANNELS = ("voice", "chat", "email", "sms")  # the ways a customer gets in touch
PARTIES: tuple[str, ...] = get_args(Party)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# A language tag as the record takes it: a language, then an optional script or region
# ("es", "es-US", "zh-Hant-TW"); BCP 47's extensions and private use are not needed here.
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?$")
_WINDOW = re.compile(r"^\s*(\d+)\s*(m|h|d|w)\s*$")
_WINDOW_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class RecordError(ValueError):
    """A customer record that does not match the schema; `field` says where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


def parse_window(text: str) -> timedelta:
    """Return the duration written as "90m", "48h", "30d" or "2w".

    Windows are elapsed time, not calendar time: "48h" is 48 real hours even across a
    daylight-saving change.
    """
    match = _WINDOW.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"not a time window: {text!r} (write e.g. 90m, 48h, 30d, 2w)")
    return timedelta(**{_WINDOW_UNITS[match.group(2)]: int(match.group(1))})


def parse_time(value: Any, where: str) -> datetime:
    """Return an aware UTC datetime from an ISO 8601 string with a zone (Z or an offset)."""
    if not isinstance(value, str):
        raise RecordError(where, f"expected an ISO 8601 time string, got {_kind(value)}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise RecordError(where, f"not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise RecordError(where, f"time has no zone (add Z or an offset): {value!r}")
    return parsed.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """Return the record's wire form of a time: UTC, seconds, with a Z."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- field readers ------------------------------------------------------------------------


def _kind(value: Any) -> str:
    return {
        type(None): "null",
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _object(
    data: Any, where: str, allowed: tuple[str, ...], required: tuple[str, ...]
) -> dict[str, Any]:
    problems = _object_problems(data, where, allowed, required)
    if problems:
        raise problems[0]
    return data  # type: ignore[no-any-return]


def _object_problems(
    data: Any, where: str, allowed: tuple[str, ...], required: tuple[str, ...]
) -> list[RecordError]:
    """Return every unknown field and every missing one of the object `data`."""
    if not isinstance(data, dict):
        return [RecordError(where, f"expected an object, got {_kind(data)}")]
    prefix = f"{where}." if where else ""
    unknown = [
        RecordError(f"{prefix}{key}", f"unknown field (allowed: {', '.join(allowed)})")
        for key in sorted(set(data) - set(allowed))
    ]
    missing = [
        RecordError(f"{prefix}{key}", "required field is missing")
        for key in required
        if key not in data
    ]
    return unknown + missing


def _str(
    data: dict[str, Any], key: str, where: str, *, required: bool = True, default: str = ""
) -> str:
    value = data.get(key, None if required else default)
    if value is None and not required:
        return default
    if not isinstance(value, str):
        raise RecordError(where, f"expected a string, got {_kind(value)}")
    return value


def _choice(
    data: dict[str, Any], key: str, where: str, allowed: tuple[str, ...], default: str = ""
) -> str:
    value = data.get(key, default) if default else data.get(key)
    if value not in allowed or not isinstance(value, str):
        raise RecordError(where, f"must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _list(data: dict[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(where, f"expected a list, got {_kind(value)}")
    return value


# -- records ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    status: PlanStatus
    started_at: datetime | None = None

    @classmethod
    def from_dict(cls, data: Any, where: str = "plan") -> Plan:
        _object(data, where, ("name", "status", "started_at"), ("status",))
        started = data.get("started_at")
        return cls(
            name=_str(data, "name", f"{where}.name", required=False),
            status=_choice(data, "status", f"{where}.status", PLAN_STATUSES),  # type: ignore[arg-type]
            started_at=None if started is None else parse_time(started, f"{where}.started_at"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": self.status}
        if self.started_at is not None:
            out["started_at"] = format_time(self.started_at)
        return out


NO_PLAN = Plan(name="", status="none")


@dataclass(frozen=True, slots=True)
class Cancellation:
    plan: str
    at: datetime
    reason: str = ""
    by: Party = "customer"

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Cancellation:
        _object(data, where, ("plan", "at", "reason", "by"), ("plan", "at", "by"))
        return cls(
            plan=_str(data, "plan", f"{where}.plan"),
            at=parse_time(data["at"], f"{where}.at"),
            reason=_str(data, "reason", f"{where}.reason", required=False),
            by=_choice(data, "by", f"{where}.by", PARTIES),  # type: ignore[arg-type]
        )

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan, "at": format_time(self.at), "reason": self.reason, "by": self.by}


def usual_party(channel: str, outcome: str) -> Party:
    """Return who started a contact whose record does not say: the company for our
    automation and for a call that did not happen (`missed`), else the customer."""
    return "company" if outcome == "missed" or channel == "automation" else "customer"


@dataclass(frozen=True, slots=True)
class Contact:
    at: datetime
    channel: Channel
    reason: str
    outcome: ContactOutcome
    ref: str = ""  # the channel's own id for this contact (a CallSid, a chat sender); "" if none
    # Who started it: the customer (a call, chat, email or message of theirs), or the company
    # (a callback we made, a call we missed). Unset in a record: "company" for a `missed`
    # outcome (the call that did not happen was ours to make or answer), else "customer".
    by: Party = "customer"

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Contact:
        _object(
            data, where, ("at", "channel", "reason", "outcome", "ref", "by"),
            ("at", "channel", "outcome"),
        )  # fmt: skip
        channel = _choice(data, "channel", f"{where}.channel", CHANNELS)
        outcomes = AUTOMATION_OUTCOMES if channel == "automation" else CONTACT_OUTCOMES
        outcome = _choice(data, "outcome", f"{where}.outcome", outcomes)
        default = usual_party(channel, outcome)
        return cls(
            at=parse_time(data["at"], f"{where}.at"),
            channel=channel,  # type: ignore[arg-type]
            reason=_str(data, "reason", f"{where}.reason", required=False),
            outcome=outcome,  # type: ignore[arg-type]
            ref=_str(data, "ref", f"{where}.ref", required=False),
            by=_choice(data, "by", f"{where}.by", PARTIES, default),  # type: ignore[arg-type]
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "at": format_time(self.at),
            "channel": self.channel,
            "reason": self.reason,
            "outcome": self.outcome,
        }
        if self.ref:
            out["ref"] = self.ref
        if self.by != usual_party(self.channel, self.outcome):
            out["by"] = self.by
        return out

    @property
    def conversation(self) -> str:
        """Return the conversation this record is of ("" if it does not say): a call's
        status and an agent's resolution of that call are one contact, not two."""
        ref = self.ref.removesuffix(":resolved")
        head, sep, rest = ref.partition(":")
        if sep and head in ("voice", "chat", "rasa"):
            ref = rest
        return f"{self.channel}:{ref}" if ref else ""

    @property
    def key(self) -> str:
        """Return the identity that makes recording this contact idempotent."""
        if self.ref:
            return f"{self.channel}:{self.ref}"
        return f"{self.channel}@{format_time(self.at)}:{self.reason}:{self.outcome}"


@dataclass(frozen=True, slots=True)
class Appointment:
    at: datetime
    kind: str
    status: AppointmentStatus

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Appointment:
        _object(data, where, ("at", "kind", "status"), ("at", "status"))
        return cls(
            at=parse_time(data["at"], f"{where}.at"),
            kind=_str(data, "kind", f"{where}.kind", required=False, default="call"),
            status=_choice(data, "status", f"{where}.status", APPOINTMENT_STATUSES),  # type: ignore[arg-type]
        )

    def to_dict(self) -> dict[str, Any]:
        return {"at": format_time(self.at), "kind": self.kind, "status": self.status}


CUSTOMER_FIELDS = (
    "id",
    "name",
    "phones",
    "email",
    "plan",
    "cancellations",
    "contacts",
    "appointments",
    "flags",
    "language",
)


@dataclass(frozen=True, slots=True)
class Customer:
    """One customer as the store knows them. Lists are kept oldest first."""

    id: str
    name: str
    phones: tuple[str, ...] = ()
    email: str = ""
    plan: Plan = NO_PLAN
    cancellations: tuple[Cancellation, ...] = ()
    contacts: tuple[Contact, ...] = ()
    appointments: tuple[Appointment, ...] = ()
    flags: frozenset[str] = field(default_factory=frozenset)
    language: str = ""  # the language they speak ("es-US"), "" when unknown

    @classmethod
    def from_dict(cls, data: Any, *, region: str = "US") -> Customer:
        """Build a customer from a JSONL record, normalising phones and email."""
        customer, problems = cls.checked(data, region=region)
        if customer is None:
            raise problems[0]
        return customer

    @classmethod
    def checked(cls, data: Any, *, region: str = "US") -> tuple[Customer | None, list[RecordError]]:
        """Return the customer a JSONL record describes, or None and every problem it has."""
        problems = _object_problems(data, "", CUSTOMER_FIELDS, ("id", "name"))
        if not isinstance(data, dict):
            return None, problems

        def parsed(parse: Any, *args: Any) -> Any:
            try:
                return parse(*args)
            except RecordError as exc:
                problems.append(exc)
                return None

        ident = parsed(_customer_id, data) if "id" in data else None
        name = parsed(_customer_name, data) if "name" in data else None
        phones: list[str] = []
        for i, raw in enumerate(parsed(_list, data, "phones", "phones") or []):
            phone = parsed(_phone, raw, f"phones[{i}]", region)
            if phone is not None and phone not in phones:
                phones.append(phone)
        email = parsed(_email, data)
        language = parsed(_language, data)
        plan = NO_PLAN if data.get("plan") is None else parsed(Plan.from_dict, data["plan"])
        flags = parsed(_list, data, "flags", "flags") or []
        for i, flag in enumerate(flags):
            if not isinstance(flag, str) or not flag.strip():
                problems.append(RecordError(f"flags[{i}]", "expected a non-empty string"))
        lists = {
            key: _records(data, key, kind, problems)
            for key, kind in (
                ("cancellations", Cancellation),
                ("contacts", Contact),
                ("appointments", Appointment),
            )
        }
        if problems or ident is None or name is None:
            return None, problems
        customer = cls(
            id=ident,
            name=name,
            phones=tuple(phones),
            email=email,
            plan=plan,
            cancellations=lists["cancellations"],
            contacts=lists["contacts"],
            appointments=lists["appointments"],
            flags=frozenset(f.strip().lower() for f in flags),
            language=language or "",
        )
        return customer, []

    def to_dict(self) -> dict[str, Any]:
        """Return the JSONL record of this customer (what `from_dict` accepts)."""
        return {
            "id": self.id,
            "name": self.name,
            "phones": list(self.phones),
            "email": self.email or None,
            "plan": self.plan.to_dict(),
            "cancellations": [c.to_dict() for c in self.cancellations],
            "contacts": [c.to_dict() for c in self.contacts],
            "appointments": [a.to_dict() for a in self.appointments],
            "flags": sorted(self.flags),
            **({"language": self.language} if self.language else {}),
        }

    # -- what the assistant asks before it speaks -----------------------------------------

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""

    def has_flag(self, flag: str) -> bool:
        return flag.lower() in self.flags

    @property
    def last_cancellation(self) -> Cancellation | None:
        return self.cancellations[-1] if self.cancellations else None

    @property
    def own_contacts(self) -> tuple[Contact, ...]:
        """Return the contacts the customer made, one per conversation: their calls, chats,
        emails and messages; never our automation's decisions, our callbacks or the calls
        we missed. What a support lead means by "they have been in touch"."""
        seen: set[str] = set()
        out: list[Contact] = []
        for contact in self.contacts:
            if contact.channel not in CUSTOMER_CHANNELS or contact.by != "customer":
                continue
            conversation = contact.conversation
            if conversation and conversation in seen:
                continue
            seen.add(conversation)
            out.append(contact)
        return tuple(out)

    @property
    def history(self) -> tuple[Contact, ...]:
        """Return every contact between us and the customer, theirs and ours (callbacks, calls
        we missed); not our automation's decisions."""
        return tuple(c for c in self.contacts if c.channel != "automation")

    @property
    def automation(self) -> tuple[Contact, ...]:
        """Return what the outbound guard decided about automated messages to the customer."""
        return tuple(c for c in self.contacts if c.channel == "automation")

    def contacts_within(self, window: timedelta, now: datetime) -> tuple[Contact, ...]:
        """Return the contacts the customer made in the `window` of time up to `now`."""
        since = now - window
        return tuple(c for c in self.own_contacts if since <= c.at <= now)

    def contacts_since(self, since: datetime, now: datetime) -> tuple[Contact, ...]:
        return tuple(c for c in self.contacts if since <= c.at <= now)

    def cancelled_within(self, window: timedelta, now: datetime) -> Cancellation | None:
        """Return the last cancellation if it happened within `window` before `now`."""
        last = self.last_cancellation
        if last is not None and now - window <= last.at <= now:
            return last
        return None

    def missed_appointments_since(self, since: datetime, now: datetime) -> tuple[Appointment, ...]:
        return tuple(a for a in self.appointments if a.status == "missed" and since <= a.at <= now)

    def with_contact(self, contact: Contact) -> Customer:
        """Return a copy with `contact` in the log (kept in time order)."""
        contacts = sorted((*self.contacts, contact), key=lambda c: c.at)
        return replace(self, contacts=tuple(contacts))


def _records(
    data: dict[str, Any], key: str, kind: Any, problems: list[RecordError]
) -> tuple[Any, ...]:
    """Return the list `key` of `kind` records, oldest first; add what is wrong to `problems`."""
    items = []
    try:
        given = _list(data, key, key)
    except RecordError as exc:
        problems.append(exc)
        return ()
    for i, item in enumerate(given):
        try:
            items.append(kind.from_dict(item, f"{key}[{i}]"))
        except RecordError as exc:
            problems.append(exc)
    return tuple(sorted(items, key=lambda item: item.at))


def _customer_id(data: dict[str, Any]) -> str:
    ident = _str(data, "id", "id")
    if not _ID.match(ident):
        raise RecordError("id", "must be 1-64 letters, digits or _.:- characters")
    return ident


def _customer_name(data: dict[str, Any]) -> str:
    name = _str(data, "name", "name").strip()
    if not name:
        raise RecordError("name", "must not be empty")
    return name


def _phone(raw: Any, where: str, region: str) -> str:
    if not isinstance(raw, str):
        raise RecordError(where, f"expected a string, got {_kind(raw)}")
    try:
        return normalise_phone(raw, region)
    except PhoneError as exc:
        raise RecordError(where, str(exc)) from None


def _email(data: dict[str, Any]) -> str:
    email = _str(data, "email", "email", required=False).strip().lower()
    if email and not _EMAIL.match(email):
        raise RecordError("email", f"not an email address: {email!r}")
    return email


def _language(data: dict[str, Any]) -> str:
    raw = _str(data, "language", "language", required=False)
    return normalise_language(raw, "language") if raw.strip() else ""


def normalise_language(raw: str, where: str) -> str:
    """Return a language tag presszero speaks in its usual case ("es-us" → "es-US"), or raise
    RecordError naming `where`."""
    # Imported here: presszero.flows imports this module (the engine reads customers).
    from presszero.flows.language.languages import SUPPORTED, supported

    tag = raw.strip().replace("_", "-")
    if not _LANGUAGE.match(tag):
        raise RecordError(where, f"not a language tag (write e.g. en-US, es-US): {raw!r}")
    if not supported(tag):
        spoken = " and ".join(f"{b}-*" for b in SUPPORTED)
        raise RecordError(where, f"presszero speaks {spoken} only, not {raw!r}")
    parts = tag.split("-")
    return "-".join(
        [parts[0].lower()] + [p.title() if len(p) == 4 else p.upper() for p in parts[1:]]
    )


def local_day_start(now: datetime, timezone: Any, days_back: int = 0) -> datetime:
    """Return local midnight `days_back` days before `now`'s local date, as UTC.

    "Since yesterday" in New York is a calendar question: across a daylight-saving change
    that start is 23 or 25 hours before the same wall time today.
    """
    local = now.astimezone(timezone)
    day = local.date() - timedelta(days=days_back)
    start = datetime(day.year, day.month, day.day, tzinfo=timezone)
    return start.astimezone(UTC)


def utc(moment: datetime) -> datetime:
    """Return `moment` as an aware UTC time (naive times are taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
