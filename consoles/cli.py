"""`presszero agent`: the people who answer; `presszero report`: the lead console's figures."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import click

from presszero.context.agents import (
    ROLES,
    Agent,
    AgentError,
    AgentStore,
    normalise_endpoint,
    normalise_name,
    parse_languages,
    parse_queues,
)
from presszero.context.analytics import (
    ESCAPE_REASONS,
    flows_with_figures,
    period_ending,
    read_period,
    repeat_contact_rate,
    report_days,
)
from presszero.flows.language.files import DEFAULT_FLOW, check_path, library_dir
from presszero.runtime import open_store, settings


@click.group("agent")
def agent() -> None:
    """Manage the people who answer: accounts, where they answer, their queues and status."""


@agent.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), help="agent (the default) or lead.")
@click.option("--phone", help="Where they answer: +E164, sip:user@host or client:NAME.")
@click.option("--queues", help="The queues they take, q1,q2 (default: every queue).")
@click.option(
    "--languages",
    help="The languages they speak, en-US,es-US (default: the flow's first language).",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def agent_add(
    name: str,
    role: str | None,
    phone: str | None,
    queues: str | None,
    languages: str | None,
    password_stdin: bool,
) -> None:
    """Add an agent, or update one (a password given resets theirs and signs them out)."""
    with open_store() as store:
        agents = AgentStore(store.redis)
        try:
            normalise_name(name)  # all refused before any password prompt
            if phone is not None:
                normalise_endpoint(phone, store.region)
            taken = parse_queues(queues) if queues is not None else None
            spoken = parse_languages(languages) if languages is not None else None
            exists = agents.get(name) is not None
            password = None
            if password_stdin:
                password = sys.stdin.readline().rstrip("\n")
            elif not exists:
                password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
            made = agents.add(
                name,
                password,
                role,
                endpoint=phone,
                queues=taken,
                languages=spoken,
                region=store.region,
                now=store.clock.now(),
            )
        except AgentError as exc:
            raise click.ClickException(str(exc)) from None
    where = masked(made.endpoint) or "no phone"
    click.echo(
        f"{made.role} {made.name}: answers at {where}, takes {queue_list(made)},"
        f" speaks {language_list(made)}"
    )
    if password is not None:
        click.echo(f"{made.name} can now sign in at /agent")


@agent.command("list")
def agent_list() -> None:
    """List the agents: role, where they answer (masked), queues, languages, status and since
    when."""
    with open_store() as store:
        everyone = AgentStore(store.redis).everyone()
    if not everyone:
        click.echo("no agents yet: add one with `presszero agent add NAME`")
        return
    rows = [("NAME", "ROLE", "ANSWERS AT", "QUEUES", "LANGUAGES", "STATUS", "SINCE")]
    for a in everyone:
        since = a.since.strftime("%Y-%m-%d %H:%M UTC") if a.since else "-"
        status = f"busy ({a.busy_with})" if a.status == "busy" else a.status
        where = masked(a.endpoint) or "-"
        rows.append((a.name, a.role, where, queue_list(a), language_list(a), status, since))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [f"{cell:<{width}}" for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))


@agent.command("remove")
@click.argument("name")
def agent_remove(name: str) -> None:
    """Remove an agent; their console sessions end at once."""
    with open_store() as store:
        removed = AgentStore(store.redis).remove(name)
    if not removed:
        raise click.ClickException(f"no agent named {name.strip().lower()!r}")
    click.echo(f"removed {name.strip().lower()}; their sessions are ended")


@agent.command("status")
@click.argument("name")
@click.argument("status", type=click.Choice(["available", "away"]))
def agent_status(name: str, status: str) -> None:
    """Set an agent available (calls for their queues ring them) or away."""
    with open_store() as store:
        try:
            now = AgentStore(store.redis).set_status(name, status, store.clock.now())
        except AgentError as exc:
            raise click.ClickException(str(exc)) from None
    if now.status == "busy":
        click.echo(f"{now.name} is busy ({now.busy_with}); {status} when it ends")
    else:
        click.echo(f"{now.name} is {now.status}")


def masked(endpoint: str) -> str:
    """Return a phone cut to its last four digits; a sip: or client: address as it is."""
    return "…" + endpoint[-4:] if endpoint.startswith("+") else endpoint


def queue_list(who: Agent) -> str:
    return ",".join(who.queues) or "all"


def language_list(who: Agent) -> str:
    """Return the languages an agent speaks; "default" (the flow's first) when they named none."""
    return ",".join(who.languages) or "default"


@click.command("report")
@click.option("--since", default="7d", show_default=True, help="How far back: 1d, 7d, 4w …")
@click.option("--flow", default=DEFAULT_FLOW, show_default=True)
def report(since: str, flow: str) -> None:
    """Containment, escape reasons, repeat contacts and the worst steps, as a table."""
    try:
        span = report_days(since)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    with open_store() as store:
        known = flows_with_figures(store.redis) | set(_configured_flows())
        if flow not in known:
            names = ", ".join(sorted(known)) or "none yet"
            raise click.ClickException(f"no flow named {flow!r} (known flows: {names})")
        now = store.clock.now()
        first, last = period_ending(now, timedelta(days=span - 1))
        period = read_period(store.redis, flow, first, last)
        start = datetime.combine(first, time(), UTC)
        touched, repeat = repeat_contact_rate(store, start, now)
    click.echo(f"{flow}: {first} to {last} (UTC days)")
    rows = [("conversations", str(period.conversations))]
    contained = period.containment
    share = "-" if contained is None else f"{contained:.0%} resolved without a person"
    rows.append(("contained", share))
    for outcome, n in period.outcomes.most_common():
        rows.append((f"ended: {outcome}", str(n)))
    sat = period.satisfaction
    if sat.asked:
        share = "-" if sat.sorted_share is None else f"{sat.sorted_share:.0%}"
        rows.append(("sorted, they said", f"{share} ({sat.yes} of {sat.answered} answers, "
                     f"asked {sat.asked} times)"))  # fmt: skip
    rate = f"{repeat / touched:.0%} ({repeat} of {touched} customers)" if touched else "-"
    rows.append(("back within 7 days", rate))
    for reason, n in period.escape_reasons.most_common():
        rows.append((f"escape: {ESCAPE_REASONS.get(reason, reason)}", str(n)))
    for s in period.step_rows()[:5]:
        why = ", ".join(f"{ESCAPE_REASONS.get(r, r)} {n}" for r, n in s.why.most_common())
        rows.append((f"step: {s.step}", f"{s.escaped} escaped of {s.reached} ({why})"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        click.echo(f"  {name:<{width}}  {value}")


def _configured_flows() -> list[str]:
    """Return the names of the flows this server is configured with (sound ones only)."""
    path = Path(settings().get("PRESSZERO_FLOWS") or library_dir())
    return list(check_path(path)[0]) if path.exists() else []


commands = [agent, report]
