"""`presszero guard check`: ask the outbound guard from the command line."""

from __future__ import annotations

import click

from presszero.context.handoffs import HandoffStore
from presszero.flows.language.yamlsrc import FlowError
from presszero.runtime import open_store, settings

from .files import guard_path
from .rules import UnknownKind, read_guard
from .service import OutboundGuard


@click.group("guard")
def guard() -> None:
    """Ask the outbound guard before sending something automated."""


@guard.command("check")
@click.argument("customer")
@click.argument("kind")
def guard_check(customer: str, kind: str) -> None:
    """Say whether KIND (e.g. welcome_new_plan) may go to CUSTOMER (id, phone or email), and why."""
    try:
        rules = read_guard(guard_path(settings()))
    except FlowError as exc:
        raise click.ClickException(f"the guard rules do not load:\n{exc}") from None
    with open_store() as store:
        service = OutboundGuard(store, HandoffStore(store.redis), rules, store.clock)
        try:
            checked = service.check(customer, kind)
        except UnknownKind as exc:
            raise click.ClickException(str(exc)) from None
    d = checked.decision
    if checked.customer_id is None:
        raise click.ClickException(f"no customer with phone, email or id {customer!r}")
    instead = f" → send {d.replace_with} instead" if d.replace_with else ""
    why = f": {d.why}" if d.why and d.why != d.decision else ""  # a rule without a why
    click.echo(f"{d.decision}{instead}{why}  ({d.rule})")


commands = [guard]
