"""`presszero agent add` and `presszero chat`."""

from __future__ import annotations

import secrets
import sys
import threading
import time

import click
import requests

from presszero.context.agents import ROLES, AgentError, AgentStore
from presszero.context.clock import SystemClock
from presszero.runtime import open_store, settings
from presszero.secrets_file import setting_or_data_secret

from .identity import make_token


@click.group("agent")
def agent() -> None:
    """Manage the people who take over conversations."""


@agent.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def agent_add(name: str, role: str, password_stdin: bool) -> None:
    """Create an agent (or a support lead with --role lead), or reset their password."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with open_store() as store:
        try:
            made = AgentStore(store.redis).add(name, password, role)
        except AgentError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{made.role} {made.name} can now sign in at /agent")


@click.command("chat")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="The server.")
@click.option("--as", "who", default="", help="Chat as this customer (phone, email or id).")
def chat(url: str, who: str) -> None:
    """Chat with a running server in the terminal, as a website visitor would."""
    metadata = {}
    if who:
        secret = setting_or_data_secret(settings(), "PRESSZERO_CHAT_SECRET", "chat-identity-secret")
        metadata["identity"] = make_token(secret, who, SystemClock().now())
    sender = "cli-" + secrets.token_hex(12)
    http = requests.Session()
    seen = [-1]
    stop = threading.Event()

    def send(message: str) -> None:
        try:
            body = {"sender": sender, "message": message, "metadata": metadata}
            reply = http.post(f"{url}/webhooks/rest/webhook", json=body, timeout=15)
        except requests.ConnectionError:
            raise click.ClickException(
                f"cannot reach {url}: is `presszero serve` running?"
            ) from None
        if reply.status_code != 200:
            raise click.ClickException(
                f"the server answered {reply.status_code}: {reply.text[:200]}"
            )
        for m in reply.json():
            click.echo(f"bot: {m['text']}")
            if m.get("buttons"):
                click.echo(
                    "     " + "  ".join(f"[{b['payload']}] {b['title']}" for b in m["buttons"])
                )

    def poll() -> None:
        while not stop.wait(2):
            try:
                data = http.get(f"{url}/chat/poll", params={"sender": sender, "after": seen[0]},
                                timeout=10).json()  # fmt: skip
            except (requests.RequestException, ValueError):
                continue
            for m in data.get("messages", []):
                seen[0] = max(seen[0], m["id"])
                if m["from"] in ("agent", "system"):
                    click.echo(f"\n{m.get('agent') or m['from']}: {m['text']}")

    send("/start")
    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    click.echo("(type your messages; /agent for a person; Ctrl-D to leave)")
    try:
        for line in sys.stdin:
            if line.strip():
                send(line.strip())
                time.sleep(0.1)
    finally:
        stop.set()


commands = [agent, chat]
