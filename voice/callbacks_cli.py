"""`presszero callbacks list`: the callbacks owed, when, to whom (masked), tries and outcome."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

import click

from presszero.config import ConfigError
from presszero.context.agents import AgentStore
from presszero.context.callbacks import CallbackStore
from presszero.context.connect import mget
from presszero.context.handoffs import HandoffStore
from presszero.flows.language.hours import Hours, zone_label
from presszero.flowset import FlowSet
from presszero.runtime import open_store, settings

from .callbacks import MAX_ATTEMPTS, OWED, number_of, why_not_dialling, window_of
from .rest import TwilioRest


@click.group("callbacks")
def callbacks() -> None:
    """The callbacks owed to customers, which presszero dials when an agent is free."""


@callbacks.command("list")
def callbacks_list() -> None:
    """List the callbacks owed: when (the flow's local time), to whom, tries and outcome."""
    config = settings()
    try:
        flows = FlowSet.from_config(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    hours = flows.get().hours
    with open_store() as store:
        now = store.clock.now()
        callbacks, handoffs = CallbackStore(store.redis), HandoffStore(store.redis)
        owed = callbacks.owed()
        ids = [handoff_id for handoff_id, _ in owed]
        raws = mget(store.redis, [handoffs.key(i) for i in ids])
        records = {i: json.loads(raw) for i, raw in zip(ids, raws, strict=True) if raw}
        dialling = callbacks.dialling_of(ids)
        agents = AgentStore(store.redis)
        staffed = {
            q: bool(agents.available_for(q, now)) for q in {_queue(r) for r in records.values()}
        }
    rows = [("WHEN", "TO", "QUEUE", "TRIES", "OUTCOME")]
    for (handoff_id, due), state in zip(owed, dialling, strict=True):
        record = records.get(handoff_id)
        if record is None:  # closed between the two reads
            continue
        when = _when(record, due, hours.tz)
        tries = f"{state.get('attempts', '0')}/{MAX_ATTEMPTS}"
        outcome = _outcome(record, state, due, now, hours, staffed.get(_queue(record), False))
        rows.append((when, masked(number_of(record)), _queue(record), tries, outcome))
    if len(rows) == 1:
        click.echo("No callbacks owed.")
    else:
        click.echo(f"Callbacks owed ({len(rows) - 1}), times in {zone_label(hours.timezone)}:")
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [f"{cell:<{width}}" for cell, width in zip(row, widths, strict=False)]
            click.echo("  ".join([*cells, row[-1]]))
    try:
        with TwilioRest(config) as rest:
            why = why_not_dialling(rest, str(config["PRESSZERO_CALLER_ID"] or ""))
    except ValueError as exc:  # a half-set or malformed Twilio setting, named in the message
        why = str(exc)
    if not config["PRESSZERO_DIALER"]:
        why = "PRESSZERO_DIALER is off"
    if why:
        click.echo(f"Nothing is being dialled: {why}.")


def masked(number: str) -> str:
    """Return a number cut to its last four digits."""
    digits = "".join(c for c in number if c.isdigit())
    return "…" + digits[-4:] if digits else "-"


def _queue(record: Mapping[str, Any]) -> str:
    return str(record.get("queue") or "support")


def _when(record: Mapping[str, Any], due: float, tz: tzinfo) -> str:
    callback = record.get("callback")
    window = callback.get("when") if isinstance(callback, Mapping) else "asap"
    promised = callback.get("not_before") if isinstance(callback, Mapping) else None
    moment = datetime.fromisoformat(promised) if promised else _at(due)
    if moment is None:
        return f"- ({window})"
    return f"{moment.astimezone(tz):%a %d %b %H:%M} ({window})"


def _outcome(
    record: Mapping[str, Any],
    state: Mapping[str, str],
    due: float,
    now: datetime,
    hours: Hours,
    staffed: bool,
) -> str:
    """Return how a callback stands, in words."""
    tz = hours.tz
    agent, last = state.get("agent", ""), state.get("outcome", "")
    step = state.get("state", "owed")
    if step == "failed":
        return f"calls failed ({last}); in the inbox for a person"
    if step == "dialling":
        return f"ringing {agent}"
    if step == "connecting":
        return f"{agent} is calling them"
    if step == "connected":
        return f"{agent} is talking with them"
    if step == "done":
        return "talked"
    if record.get("status") not in OWED:
        return f"a person has it ({record.get('agent') or record.get('status')})"
    next_at = _at(due)
    if next_at is not None and next_at > now:
        then = f"next try {next_at.astimezone(tz):%a %H:%M}"
        return f"{last}; {then}" if last else f"not tried yet; {then}"
    opens = hours.next_open(now, window_of(record))
    if opens is None or opens > now:
        waiting = f"due when open, {opens.astimezone(tz):%a %H:%M}" if opens else "due when open"
    else:
        waiting = "due, no agent of its queue is available" if not staffed else "due"
    return f"{last}; {waiting}" if last else waiting


def _at(score: float) -> datetime | None:
    return None if math.isinf(score) else datetime.fromtimestamp(score, UTC)


commands = [callbacks]
