"""`presszero report`: what the lead console shows, as a table in the terminal."""

from __future__ import annotations

import click

from presszero.context.analytics import (
    ESCAPE_REASONS,
    period_ending,
    read_period,
    repeat_contact_rate,
)
from presszero.context.models import parse_window
from presszero.flows.language.files import DEFAULT_FLOW
from presszero.runtime import open_store


@click.command("report")
@click.option("--since", default="7d", show_default=True, help="How far back: 1d, 7d, 4w …")
@click.option("--flow", default=DEFAULT_FLOW, show_default=True)
def report(since: str, flow: str) -> None:
    """Containment, escape reasons, repeat contacts and the worst steps, as a table."""
    try:
        window = parse_window(since)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    with open_store() as store:
        now = store.clock.now()
        first, last = period_ending(now, window)
        period = read_period(store.redis, flow, first, last)
        touched, repeat = repeat_contact_rate(store, now - window, now)
    click.echo(f"{flow}: {first} to {last}")
    rows = [("conversations", str(period.conversations))]
    contained = period.containment
    share = "-" if contained is None else f"{contained:.0%} resolved without a person"
    rows.append(("contained", share))
    for outcome, n in period.outcomes.most_common():
        rows.append((f"ended: {outcome}", str(n)))
    rate = f"{repeat / touched:.0%} ({repeat} of {touched} customers)" if touched else "-"
    rows.append(("back within 7 days", rate))
    for reason, n in period.escape_reasons.most_common():
        rows.append((f"escape: {ESCAPE_REASONS.get(reason, reason)}", str(n)))
    worst = [s for s in period.worst_steps() if s.escaped][:5]
    for s in worst:
        why = ", ".join(f"{ESCAPE_REASONS.get(r, r)} {n}" for r, n in s.why.most_common())
        rows.append((f"step: {s.step}", f"{s.escaped} escaped of {s.reached} ({why})"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        click.echo(f"  {name:<{width}}  {value}")


commands = [report]
