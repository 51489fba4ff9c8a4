"""The handoff summary: who, their plan, recent contacts, what they said, why we stepped aside."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from presszero.context.models import Customer
from presszero.context.words import in_words

from .actions import State, Summary

RECENT = timedelta(days=30)

WHY: dict[str, str] = {
    "key0": "They pressed 0 for a person.",
    "agent_intent": "They asked for a person.",
    "no_match": "We did not understand them twice.",
    "no_input": "They did not answer twice.",
    "low_confidence": "We could not hear them clearly.",
    "frustration": "They sounded frustrated.",
    "context_rule": "Their situation sends them straight to a person.",
    "max_turns": "The conversation went on too long without an answer.",
    "flow_error": "The flow could not continue.",
}


def build_summary(
    state: State, customer: Customer | None, now: datetime, tz: tzinfo, reason: str
) -> Summary:
    """Return what the person taking over should see before they say hello."""
    if customer is not None:
        who = customer.name
        phone = state.caller or (customer.phones[0] if customer.phones else "")
        plan = f"{customer.plan.name or 'no plan name'} ({customer.plan.status})"
        recent = tuple(
            _contact_line(c.at, c.channel, c.reason, c.outcome, tz)
            for c in reversed(customer.contacts_within(RECENT, now)[-5:])
        )
        flags = tuple(sorted(customer.flags))
        situation = situation_of(customer, now, tz)
    else:
        situation = ()
        who = "Someone we don't know" + (f", on {state.caller}" if state.caller else "")
        phone, plan, recent, flags = state.caller, "", (), ()
    said = tuple(said_line(s) for s in state.said)
    why = state.why or WHY.get(state.escape_reason) or chose_why(state)
    return Summary(
        who=who,
        customer_id=customer.id if customer else None,
        phone=phone,
        plan=plan,
        flags=flags,
        recent_contacts=recent,
        said=said,
        answers=dict(state.answers),
        reason=state.wanted or reason,
        why=why,
        escape=state.escape_reason or None,
        channel=state.channel,
        language=state.language,
        step=state.said[-1]["step"] if state.said else state.step,
        situation=situation,
        told=told_of(state),
    )


def said_line(said: dict[str, str]) -> str:
    """Return one thing the customer told the bot as an agent reads it: 'pressed 1 (Billing)',
    'said "why was it cancelled" (Questions about the cancellation)'; never a step's id."""
    text = said["text"]
    line = f"pressed {text}" if said["how"] == "pressed" else f'{said["how"]} "{text}"'
    return f"{line} ({said['chose']})" if said.get("chose") else line


def chose_why(state: State) -> str:
    """Return why the bot stepped aside when the customer's own choice led to a person."""
    chose = next((s["chose"] for s in reversed(state.said) if s.get("chose")), "")
    return f"They chose “{chose}” in the menu." if chose else "Their choice led to a person."


def told_of(state: State) -> tuple[str, ...]:
    """Return what the customer told the bot, as a person would retell it."""
    out: list[str] = []
    for said in state.said:
        if said.get("told"):
            out.append(str(said["told"]))
        elif said.get("chose"):
            out.append(f"chose {said['chose'][:1].lower()}{said['chose'][1:]}")
        elif said["how"] != "pressed":
            out.append(f'{"said" if said["how"] == "said" else "wrote"} "{said["text"]}"')
    for name, value in state.answers.items():
        out.append(f"gave their {name.replace('_', ' ')}, {value}")
    return tuple(out)


def situation_of(customer: Customer, now: datetime, tz: tzinfo) -> tuple[str, ...]:
    """Return what a person should know of the customer's situation, in plain words."""
    out: list[str] = []
    if customer.has_flag("vip"):
        out.append("they are a VIP customer")
    missed = customer.missed_appointments_since(now - RECENT, now)
    if missed:
        out.append(f"we missed a call we had booked with them {ago(missed[-1].at, now, tz)}")
    recent = customer.contacts_within(timedelta(hours=48), now)
    if len(recent) >= 2:
        out.append(
            f"their {ORDINALS.get(len(recent) + 1, f'{len(recent) + 1}th')} contact in two days"
        )
    cancelled = customer.cancelled_within(RECENT, now)
    if cancelled is not None:
        by = "by us" if cancelled.by == "company" else "at their request"
        why = f" ({cancelled.reason})" if cancelled.reason else ""
        plan = cancelled.plan or "plan"
        out.append(f"their {plan} plan was cancelled {by} {ago(cancelled.at, now, tz)}{why}")
    elif customer.plan.status not in ("active", "none") and customer.plan.name:
        out.append(f"their {customer.plan.name} plan is {customer.plan.status}")
    return tuple(out)


ORDINALS = {3: "third", 4: "fourth", 5: "fifth", 6: "sixth"}


def ago(moment: datetime, now: datetime, tz: tzinfo) -> str:
    """Return when `moment` was, as a person says it: "today", "yesterday", "3 days ago"."""
    days = (now.astimezone(tz).date() - moment.astimezone(tz).date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    return f"{days} days ago"


def _contact_line(at: datetime, channel: str, reason: str, outcome: str, tz: tzinfo) -> str:
    local = at.astimezone(tz)
    return (
        f"{local:%b} {local.day} {local:%H:%M} {local:%Z}, {in_words(channel, 'channel')}: "
        f"{reason or 'no reason given'} ({in_words(outcome, 'outcome')})"
    )
