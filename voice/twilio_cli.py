"""`presszero twilio setup` and `presszero twilio fallback`: a real number pointed at this
server, and the line that answers when it cannot."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from presszero.runtime import settings

from . import golive
from .fallback import thanks_name, write_documents
from .rest import TwilioError, TwilioRest

DEFAULT_FALLBACK_FILE = "presszero-fallback.xml"


@click.group("twilio")
def twilio() -> None:
    """Point a Twilio number at this server, and keep a person reachable when it is down."""


@twilio.command("setup")
@click.option("--number", default="", help="The line, +E164 (default: PRESSZERO_TWILIO_NUMBER).")
@click.option("--url", default="", help="Public https URL (default: PRESSZERO_PUBLIC_URL).")
@click.option(
    "--fallback-url", default="", help="The fallback document (default: PRESSZERO_FALLBACK_URL)."
)
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
def setup(number: str, url: str, fallback_url: str, dry_run: bool) -> None:
    """Set the number's voice URL, status callback and fallback URL through Twilio's API."""
    config = settings()
    try:
        line = golive.phone_number(number or _line_number(config))
        public = golive.https_base(url or str(config["PRESSZERO_PUBLIC_URL"] or ""), _url_name(url))
        fallback = golive.fallback_url(
            fallback_url or str(config["PRESSZERO_FALLBACK_URL"] or ""), public
        )
        with TwilioRest(config, public_url=public) as rest:
            found = rest.phone_number(line)
            if found is None:
                raise golive.GoLiveError(
                    f"{line} is not a number of the Twilio account {rest.account_sid}:"
                    " check --number, or buy it in Twilio's console first"
                )
            golive.refuse_trunked(found)
            todo = golive.changes(found, golive.wanted(public, fallback))
            if not todo:
                click.echo(f"{line} already points at {public}: nothing to change.")
                return
            verb = "would change" if dry_run else "changing"
            click.echo(f"{line} ({found.sid}): {verb}")
            for change in todo:
                click.echo(f"  {change}")
            if dry_run:
                click.echo("Dry run: nothing was changed.")
                return
            rest.update_phone_number(found.sid, {c.field: c.after for c in todo})
    except (golive.GoLiveError, TwilioError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Done: calls to {line} now come to {public}/voice/incoming.")


@twilio.command("fallback")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_FALLBACK_FILE,
    show_default=True,
    help="The fallback document to write (a second one, NAME-thanks.xml, is written beside it).",
)
def fallback(output: Path) -> None:
    """Write the static TwiML the number falls back to when presszero is down."""
    config = settings()
    backup = str(config["PRESSZERO_BACKUP_NUMBER"] or "").strip()
    try:
        if backup:
            backup = golive.phone_number(backup)
            if backup == _line_number(config, required=False):
                raise golive.GoLiveError(
                    f"PRESSZERO_BACKUP_NUMBER is {backup}, the line itself: the fallback would"
                    " ring the line that is down; give a person's or another office's number"
                )
    except golive.GoLiveError as exc:
        raise click.ClickException(f"PRESSZERO_BACKUP_NUMBER: {exc}") from None
    try:
        written = write_documents(output, backup)
    except OSError as exc:
        raise click.ClickException(f"cannot write {exc.filename}: {exc.strerror}") from None
    then = f"rings {backup}, then takes a message" if backup else "takes a message"
    click.echo(f"wrote {written[0]} ({then}) and {written[1]} (its thanks).")
    if not backup:
        click.echo("Set PRESSZERO_BACKUP_NUMBER to ring a person instead of taking a message.")
    click.echo(
        f"Host both side by side (not on this server), then set PRESSZERO_FALLBACK_URL to"
        f" the https URL of {written[0].name} (its Record goes on to {thanks_name(output)})."
    )


def _line_number(config: Mapping[str, Any], *, required: bool = True) -> str:
    """Return the line's number from the settings (PRESSZERO_TWILIO_NUMBER, else
    PRESSZERO_CALLER_ID)."""
    found = str(config["PRESSZERO_TWILIO_NUMBER"] or config["PRESSZERO_CALLER_ID"] or "").strip()
    if not found and required:
        raise golive.GoLiveError(
            "no number given: pass --number +E164 or set PRESSZERO_TWILIO_NUMBER"
        )
    return found


def _url_name(given: str) -> str:
    return "--url" if given else "PRESSZERO_PUBLIC_URL"


commands = [twilio]
