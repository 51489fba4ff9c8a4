"""`presszero call`: walk a running server's voice line as a caller would."""

from __future__ import annotations

import click
import requests

from presszero.runtime import server_url, settings

from .signature import auth_token
from .simulator import CallError, HangUp, SimulatedCall, scripted


@click.command("call")
@click.option("--from", "caller", default="+15550109999", show_default=True, help="Caller ID.")
@click.option("--to", "called", default="+15550009999", show_default=True, help="Number called.")
@click.option("--script", default=None, help='Inputs in turn: keys or words, "-" for silence.')
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="The server.")
@click.option(
    "--agent",
    type=click.Choice(["answered", "voicemail", "busy", "no-answer", "failed"]),
    default="answered",
    show_default=True,
    help="What the agent's phone does when the call is transferred (voicemail: it answers"
    " and presses no key).",
)
def call(caller: str, called: str, script: str | None, url: str, agent: str) -> None:
    """Call the voice line as Twilio would: signed webhooks, TwiML followed, inputs typed."""
    url = server_url(url)
    # A server of this data dir has made the development token; a call never makes one.
    token = auth_token(settings(), make=False)
    simulated = SimulatedCall(
        url, token, caller=caller, called=called, agent=agent, echo=click.echo
    )
    answer = scripted(script.split(",")) if script is not None else _ask
    click.echo(f"☎ {caller} calls {called} at {url}")
    try:
        log = simulated.run(answer)
    except requests.RequestException:
        raise click.ClickException(f"cannot reach {url}: is `presszero serve` running?") from None
    except CallError as exc:
        hint = ""
        if " 403" in str(exc):
            hint = " (the server refused the signature: set TWILIO_AUTH_TOKEN to the server's)"
        raise click.ClickException(f"{exc}{hint}") from None
    if log.ended_with in ("dial", "enqueue"):
        click.echo(f"→ transferred to a person ({log.target})")


def _ask(_prompt: str) -> str | None:
    given = click.prompt(
        "  keys or words (Enter: silence, q: hang up)", default="", show_default=False
    )
    if given.strip().lower() == "q":
        raise HangUp
    return given.strip() or None
