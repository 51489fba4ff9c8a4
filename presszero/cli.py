"""The `presszero` command."""

from __future__ import annotations

import json
import os
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path

import click

from presszero.context.demo import load_demo
from presszero.context.forget import RewriteFailed, forget_customer
from presszero.context.importer import ImportRejected, export_customers, import_customers
from presszero.context.models import Customer

from .config import ConfigError
from .runtime import open_store, redis_for, settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="presszero")
def main() -> None:
    """Support automation that never traps a customer."""
    settings()  # read once, before any command: a bad or unknown variable is reported first


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--demo", is_flag=True, help="Load the demo customers first.")
@click.option("--dev", is_flag=True, help="Flask's reloading dev server instead of gunicorn.")
def serve(host: str, port: int, workers: int, demo: bool, dev: bool) -> None:
    """Serve the webhooks, chat and consoles (gunicorn)."""
    config = settings()
    if not dev and workers > 1:
        # Before prometheus_client is imported: every worker writes its figures here.
        metrics_dir = Path(config["PRESSZERO_DATA_DIR"]).resolve() / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    from presszero.app import create_app

    with redis_for(config) as target:
        if demo:
            with open_store(target) as store:
                load_demo(store)
        app_config = config.with_overrides(
            {"REDIS_URL": target.url, "PRESSZERO_DEMO": demo or config["PRESSZERO_DEMO"]}
        )
        try:  # the workers build this same app: a setting that cannot work stops here
            app = create_app(app_config)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"presszero on http://{host}:{port}  (Redis: {target.describe()})", err=True)
        if dev:
            if os.environ.get("WERKZEUG_RUN_MAIN") == "true":  # the reloader's serving child
                from presszero.voice.callbacks_web import start_dialer

                start_dialer(app)
            app.run(host=host, port=port, debug=True)
            return
        from .server import GunicornServer

        GunicornServer(
            lambda: create_app(app_config),
            {"bind": f"{host}:{port}", "workers": workers},
        ).run()


@main.command()
def demo() -> None:
    """Load the demo customers (their history dated from now)."""
    with open_store() as store:
        for customer in load_demo(store):
            click.echo(f"{customer.id}  {customer.phones[0]}  {customer.name}")


@main.group()
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
        with Path(file).open("w", encoding="utf-8") as out:
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


def _register_channel_commands() -> None:
    from presszero.chat.action_server import commands as action_commands
    from presszero.chat.cli import commands as chat_commands
    from presszero.consoles.cli import commands as lead_commands
    from presszero.flows.cli import commands as flow_commands
    from presszero.guard.cli import commands as guard_commands
    from presszero.voice.callbacks_cli import commands as callback_commands
    from presszero.voice.cli import call

    for command in [
        *flow_commands,
        call,
        *chat_commands,
        *action_commands,
        *lead_commands,
        *guard_commands,
        *callback_commands,
    ]:
        main.add_command(command)


_register_channel_commands()
