"""Conditions and templates over customer context: checked at load, safe, never leaking."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.builders import record
from support.flow_builders import demo_customer

from presszero.context.demo import DEMO_IDS
from presszero.context.models import Customer
from presszero.flows import shipped_flow
from presszero.flows.language.expr import ExprError, parse_condition, tokenize
from presszero.flows.language.fields import Facts
from presszero.flows.language.template import Template, parse_template

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
NEW_YORK = ZoneInfo("America/New_York")


def facts(customer: Customer | None, answers: dict[str, str] | None = None) -> Facts:
    return Facts(customer, NOW, NEW_YORK, "Monday to Friday, 8 AM to 8 PM", answers or {})


def customer(**changes: Any) -> Customer:
    return Customer.from_dict(record(**changes))


def contact(at: str) -> dict[str, str]:
    return {"at": at, "channel": "voice", "reason": "claim", "outcome": "handoff"}


CANCELLED = customer(
    plan={"name": "Silver Health", "status": "cancelled"},
    cancellations=[
        {"plan": "Silver Health", "at": "2026-11-20T15:00:00Z", "reason": "x", "by": "company"}
    ],
)
BUSY = customer(contacts=[contact("2026-11-22T12:00:00Z"), contact("2026-11-23T09:00:00Z")])
MISSED = customer(appointments=[{"at": "2026-11-22T20:00:00Z", "kind": "call", "status": "missed"}])
VIP = customer(flags=["VIP"])
PLAIN = customer()


@pytest.mark.parametrize(
    ("condition", "who", "expected"),
    [
        ('plan.status == "cancelled"', CANCELLED, True),
        ('plan.status == "cancelled"', PLAIN, False),
        ('plan.status != "cancelled"', PLAIN, True),
        ('plan.status == "cancelled" and cancellations.last.within("30d")', CANCELLED, True),
        ('plan.status == "cancelled" and cancellations.last.within("2d")', CANCELLED, False),
        ('cancellations.last.by == "company"', CANCELLED, True),
        ("cancellations.last", CANCELLED, True),
        ("cancellations.last", PLAIN, False),
        ("not cancellations.last", PLAIN, True),
        ('contacts.within("48h").count >= 2', BUSY, True),
        ('contacts.within("24h").count >= 2', BUSY, False),
        ('contacts.within("48h").count >= 2', PLAIN, False),
        ("contacts.count == 0", PLAIN, True),
        ('has_flag("vip")', VIP, True),
        ('has_flag("VIP")', VIP, True),
        ('has_flag("vip")', PLAIN, False),
        ('not has_flag("vip")', PLAIN, True),
        ('appointments.missed.since("yesterday")', MISSED, True),
        ('appointments.missed.since("today")', MISSED, False),
        ('appointments.missed.within("2d")', MISSED, True),
        ("appointments.missed.count > 0", MISSED, True),
        ("customer.known", PLAIN, True),
        ('has_flag("vip") or plan.status == "active"', PLAIN, True),
        ('(has_flag("vip") or plan.status == "pending") and customer.known', PLAIN, False),
        ('customer.first_name == "Robin"', PLAIN, True),
        ("1 < 2", None, True),
    ],
)
def test_a_condition_reads_the_customers_context(condition: str, who: Customer, expected: bool):
    assert parse_condition(condition, 1).holds(facts(who)) is expected


@pytest.mark.parametrize(
    "condition",
    [
        'plan.status == "cancelled"',
        'plan.status != "cancelled"',
        'contacts.within("48h").count >= 2',
        "contacts.count == 0",
        'has_flag("vip")',
        'not has_flag("vip")',
        "not cancellations.last",
        'appointments.missed.since("yesterday")',
        "customer.known",
        'customer.first_name != "x" or has_flag("vip")',
    ],
)
def test_a_condition_about_an_unknown_caller_is_false(condition: str):
    assert parse_condition(condition, 1).holds(facts(None)) is False


def test_only_asking_whether_the_caller_is_unknown_holds_for_one():
    assert parse_condition("not customer.known", 1).holds(facts(None)) is True


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ('plan.colour == "red"', "unknown field 'plan.colour' (plan has: name, status, started)"),
        ("planet.status", "unknown field 'planet'"),
        ('is_vip("x")', "unknown function 'is_vip'"),
        ('plan.status == "canceled"', "plan.status is one of active, pending, cancelled"),
        ('contacts.within("two days").count > 1', "not a time window"),
        ('appointments.missed.since("last week")', "not a day"),
        ('contacts.recent("48h")', "unknown call 'contacts.recent'"),
        ("plan.status", "is not a yes/no question"),
        ("plan.status == 2", "cannot compare plan.status (str) with 2 (num)"),
        ('plan.name > "a"', "texts can only be compared with == or !="),
        ('plan.status == "active" and', "expected a field"),
        ('plan.status = "active"', "unexpected '='"),
        ("", "the condition is empty"),
        ('eval("1")', "unknown function 'eval'"),
        ('__import__("os")', "unknown function '__import__'"),
        ("customer.__class__", "unknown field 'customer.__class__'"),
    ],
)
def test_a_wrong_condition_is_a_load_error_that_says_why(condition: str, message: str):
    with pytest.raises(ExprError, match=re.escape(message)):
        parse_condition(condition, 1)


def test_the_tokenizer_points_at_the_column_of_a_stray_character():
    with pytest.raises(ExprError, match="unexpected '@' at column 6"):
        tokenize("plan @ x")


@pytest.mark.parametrize(
    ("template", "who", "expected"),
    [
        ("Hi {customer.first_name|there}.", PLAIN, "Hi Robin."),
        ("Hi {customer.first_name|there}.", None, "Hi there."),
        ("Your {plan.name|} plan.", PLAIN, "Your Silver Health plan."),
        ("Your {plan.name|} plan.", None, "Your plan."),
        (
            "Cancelled on {cancellations.last.date|a recent date}.",
            CANCELLED,
            "Cancelled on November 20.",
        ),
        (
            "Cancelled on {cancellations.last.date|a recent date}.",
            PLAIN,
            "Cancelled on a recent date.",
        ),
        ('{contacts.within("48h").count|no} contacts.', BUSY, "2 contacts."),
        ("We're open {hours}.", None, "We're open Monday to Friday, 8 AM to 8 PM."),
        ("Account {answers.account|unknown}.", None, "Account unknown."),
    ],
)
def test_a_template_fills_fields_or_falls_back(template: str, who: Customer | None, expected: str):
    assert parse_template(template, 1).render(facts(who)) == expected


def test_a_date_in_another_year_says_the_year():
    old = customer(cancellations=[{"plan": "Gold", "at": "2025-03-02T15:00:00Z", "by": "customer"}])
    rendered = parse_template("{cancellations.last.date|recently}", 1).render(facts(old))
    assert rendered == "March 2, 2025"


def test_a_name_with_braces_or_the_word_none_never_reaches_the_customer():
    odd = customer(name="{None} [x]")
    assert parse_template("Hi {customer.first_name|there}.", 1).render(facts(odd)) == "Hi there."


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "Hi {customer.first_name}.",
            "may have no value here; add a fallback, e.g. {customer.first_name|there}",
        ),
        ("On {cancellations.last.date}.", "{cancellations.last.date|recently}"),
        ("Hi [FirstName].", "[FirstName] looks like a placeholder"),
        ("Hi <name>.", "<name> looks like a placeholder"),
        ("Hi {customer.first_name|there.", "is not closed"),
        ("Hi }.", "is not closed"),
        ("Your plan is None.", "'None' must never be said"),
        ("Hi {customer.nickname|there}.", "unknown field 'customer.nickname'"),
        ("{contacts|x}", "cannot be said"),
        ('{has_flag("vip")|x}', "yes/no question"),
        ("Hi {|there}.", "names no field"),
        ("{customer.first_name|[name]}", "looks like a placeholder"),
    ],
)
def test_a_template_that_could_leak_a_placeholder_does_not_load(template: str, message: str):
    with pytest.raises(ExprError, match=re.escape(message)):
        parse_template(template, 1)


def test_a_field_guaranteed_by_its_condition_needs_no_fallback():
    condition = parse_condition(
        'plan.status == "cancelled" and cancellations.last.within("30d")', 1
    )
    template = parse_template(
        "Hi {customer.first_name}, cancelled on {cancellations.last.date}.", 1, condition.guarantees
    )
    assert template.render(facts(CANCELLED)) == "Hi Robin, cancelled on November 20."


def test_a_negated_condition_guarantees_nothing():
    condition = parse_condition("not cancellations.last", 1)
    with pytest.raises(ExprError, match="may have no value here"):
        parse_template("{cancellations.last.date}", 1, condition.guarantees)


def _templates() -> list[Template]:
    flow = shipped_flow()
    found = [rule.say for rule in flow.greeting if rule.say]
    for step in flow.steps.values():
        for name in ("text", "prompt", "say"):
            value = getattr(step, name, None)
            if isinstance(value, Template):
                found.append(value)
        for rule in getattr(step, "rules", ()):
            if rule.say:
                found.append(rule.say)
    return found


LEAK = re.compile(r"[{}\[\]<>]|\bNone\b|\bnull\b|\bundefined\b")


@pytest.mark.parametrize("who", [*DEMO_IDS, None])
def test_no_shipped_template_leaks_a_placeholder_for_any_demo_customer(who: str | None):
    person = demo_customer(who, NOW) if who else None
    rendered = [t.render(facts(person)) for t in _templates()]
    assert len(rendered) > 20
    leaks = [text for text in rendered if LEAK.search(text) or not text.strip()]
    assert leaks == []


MIXED = customer(
    contacts=[
        {"at": "2026-11-22T12:00:00Z", "channel": "voice", "reason": "scheduled call",
         "outcome": "missed"},  # the call we missed: ours
        {"at": "2026-11-22T13:00:00Z", "channel": "voice", "reason": "callback attempt 1 of 3",
         "outcome": "callback", "ref": "CA1", "by": "company"},  # our callback
        {"at": "2026-11-22T14:00:00Z", "channel": "automation",
         "reason": "welcome_new_plan: their plan is not active", "outcome": "suppressed"},
        {"at": "2026-11-23T09:00:00Z", "channel": "voice", "reason": "billing",
         "outcome": "handoff", "ref": "CA2"},  # their call...
        {"at": "2026-11-23T09:30:00Z", "channel": "voice", "reason": "billing; resolved by ann",
         "outcome": "resolved", "ref": "voice:CA2:resolved"},  # ...and its resolution: one
        {"at": "2026-11-23T10:00:00Z", "channel": "email", "reason": "refund",
         "outcome": "resolved"},
    ]
)  # fmt: skip


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('contacts.within("48h").count == 2', True),  # their call and their email
        ('contacts.last.channel == "email"', True),
        ('history.within("48h").count == 5', True),  # ours too, never the guard's
        ('history.first.outcome == "missed" and history.first.by == "company"', True),
        ('automation.within("48h").count == 1', True),
        ('automation.last.kind == "welcome_new_plan"', True),
        ('automation.last.outcome == "suppressed"', True),
        ('contacts.first.by == "customer"', True),
    ],
)
def test_contacts_are_what_the_customer_did_history_and_automation_are_named(
    condition: str, expected: bool
):
    assert parse_condition(condition, 1).holds(facts(MIXED)) is expected


def test_an_automation_outcome_that_cannot_be_is_refused_at_load():
    with pytest.raises(ExprError, match="suppressed"):
        parse_condition('automation.last.outcome == "supressed"', 1)
