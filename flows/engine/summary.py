"""The handoff summary: who, their plan, recent contacts, what they said, why we stepped aside."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from presszero.context.models import Customer

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
        who = f"{customer.name} ({customer.id})"
        phone = state.caller or (customer.phones[0] if customer.phones else "")
        plan = f"{customer.plan.name or 'no plan name'} ({customer.plan.status})"
        recent = tuple(
            _contact_line(c.at, c.channel, c.reason, c.outcome, tz)
            for c in reversed(customer.contacts_within(RECENT, now)[-5:])
        )
        flags = tuple(sorted(customer.flags))
    else:
        who = "Someone we don't know" + (f", on {state.caller}" if state.caller else "")
        phone, plan, recent, flags = state.caller, "", (), ()
    said = tuple(f"{s['step']}: {s['how']} {s['text']!r}" for s in state.said)
    why = state.why or WHY.get(state.escape_reason, "They chose this in the menu.")
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
        step=state.said[-1]["step"] if state.said else state.step,
    )


def _contact_line(at: datetime, channel: str, reason: str, outcome: str, tz: tzinfo) -> str:
    local = at.astimezone(tz)
    return (
        f"{local:%b} {local.day} {local:%H:%M} {channel}: {reason or 'no reason given'} ({outcome})"
    )
