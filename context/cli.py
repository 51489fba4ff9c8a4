"""`presszero context`: import, show, export and forget customers."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

import click

from presszero.flows.language.languages import name_of
from presszero.runtime import open_store

from .forget import RewriteFailed, forget_customer
from .importer import ImportRejected, export_customers, import_customers
from .models import Customer


@click.group()
def context() -> None:
    """Import, show, export and forget customers."""


@context.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def context_import(file: str) -> None:
    """Import customers from a JSONL file (all or nothing)."""
    try:
        stream = sys.stdin.buffer if file == "-" else Path(file).open("rb")  # noqa: SIM115
    except OSError as exc:
        raise click.ClickException(f"{file}: {exc.strerror}") from None
    with stream, open_store() as store:
        try:
            result = import_customers(store, stream, source=file)
        except ImportRejected as exc:
            for line in exc.lines():
                click.echo(line, err=True)
            raise click.ClickException(str(exc)) from None
    click.echo(f"imported {result.customers} customers ({result.new_contacts} new contacts)")


@context.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True), default="-")
def context_export(file: str) -> None:
    """Write every customer to a JSONL file (or standard output)."""
    with open_store() as store:
        if file == "-":
            export_customers(store, sys.stdout)
            return
        try:
            out = Path(file).open("w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise click.ClickException(f"{file}: {exc.strerror}") from None
        with out:
            count = export_customers(store, out)
        click.echo(f"exported {count} customers to {file}", err=True)


@context.command("show")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print the JSONL record instead.")
def context_show(query: str, as_json: bool) -> None:
    """Show the customer with this phone, email or id."""
    with open_store() as store:
        customer = store.lookup(query)
        now = store.clock.now()
    if customer is None:
        raise click.ClickException(f"no customer with phone, email or id {query!r}")
    if as_json:
        click.echo(json.dumps(customer.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(describe(customer, now))


@context.command("forget")
@click.argument("customer_id")
def context_forget(customer_id: str) -> None:
    """Erase every record that names a customer, then the copies Redis keeps on disk."""
    with open_store() as store:
        try:
            if not forget_customer(store, customer_id):
                raise click.ClickException(f"no customer with id {customer_id!r}")
        except RewriteFailed as exc:
            raise click.ClickException(f"forgot {customer_id} in Redis, but {exc}") from None
    click.echo(f"forgot {customer_id}")


def describe(customer: Customer, now: datetime) -> str:
    """Return a readable account of a customer for the terminal."""
    rows = [f"{customer.name}  ({customer.id})"]
    rows.append(f"  phones        {', '.join(customer.phones) or '-'}")
    rows.append(f"  email         {customer.email or '-'}")
    if customer.language:
        rows.append(f"  language      {name_of(customer.language)} ({customer.language})")
    plan = customer.plan
    since = f" (started {_when(plan.started_at, now)})" if plan.started_at else ""
    rows.append(f"  plan          {plan.name or '-'}: {plan.status}{since}")
    for c in customer.cancellations:
        why = f" ({c.reason})" if c.reason else ""
        rows.append(f"  cancelled     {c.plan} on {_when(c.at, now)} by the {c.by}{why}")
    for a in customer.appointments:
        rows.append(f"  appointment   {a.kind} {_when(a.at, now)}: {a.status}")
    recent = customer.contacts[-10:]
    in_48h = len(customer.contacts_within(timedelta(hours=48), now))
    rows.append(f"  contacts      {len(customer.contacts)} in all, {in_48h} in the last 48 hours")
    for contact in recent:
        rows.append(
            f"    {_when(contact.at, now)}  {contact.channel:<5} {contact.outcome:<9}"
            f" {contact.reason}"
        )
    rows.append(f"  flags         {', '.join(sorted(customer.flags)) or '-'}")
    return "\n".join(rows)


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    seconds = (now - moment).total_seconds()
    if abs(seconds) < 3600 * 48:
        amount = f"{abs(seconds) / 3600:.0f} hours"
    else:
        amount = f"{abs(seconds) / 86400:.0f} days"
    relative = f"{amount} ago" if seconds >= 0 else f"in {amount}"
    return f"{moment:%Y-%m-%d %H:%M} UTC ({relative})"
