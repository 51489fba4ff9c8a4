"""`presszero chat`: a visitor's side of a running server, in the terminal."""

from __future__ import annotations

import secrets
import sys
import threading
import time

import click
import requests

from presszero.context.clock import SystemClock
from presszero.runtime import one_line_answer, server_url, settings
from presszero.secrets_file import setting_or_data_secret

from .access import TOKEN_FIELD, TOKEN_HEADER
from .identity import make_token


@click.command("chat")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="The server.")
@click.option("--as", "who", default="", help="Chat as this customer (phone, email or id).")
def chat(url: str, who: str) -> None:
    """Chat with a running server in the terminal, as a website visitor would."""
    url = server_url(url)
    metadata: dict[str, str] = {}
    if who:
        secret = setting_or_data_secret(settings(), "PRESSZERO_CHAT_SECRET", "chat-identity-secret")
        metadata["identity"] = make_token(secret, who, SystemClock().now())
    sender = "cli-" + secrets.token_hex(12)
    http = requests.Session()
    seen: list[int] = [-1]
    stop = threading.Event()

    def send(message: str) -> None:
        try:
            body = {"sender": sender, "message": message, "metadata": metadata}
            reply = http.post(f"{url}/webhooks/rest/webhook", json=body, timeout=15)
        except requests.RequestException:
            raise click.ClickException(
                f"cannot reach {url}: is `presszero serve` running?"
            ) from None
        if reply.status_code != 200:
            said = one_line_answer(reply.status_code, reply.text)
            raise click.ClickException(f"{url}/webhooks/rest/webhook answered {said}")
        try:
            messages = reply.json()
        except ValueError:
            raise click.ClickException(f"{url}/webhooks/rest/webhook did not answer JSON") from None
        for m in messages:
            if "custom" in m:  # the conversation's token: carried from now on
                token = m["custom"].get(TOKEN_FIELD) or ""
                metadata[TOKEN_FIELD] = token
                http.headers[TOKEN_HEADER] = token
            if m.get("text"):
                click.echo(f"bot: {m['text']}")
            if m.get("buttons"):
                click.echo(
                    "     " + "  ".join(f"[{b['payload']}] {b['title']}" for b in m["buttons"])
                )

    def poll() -> None:
        while not stop.wait(2):
            try:
                query: dict[str, str | int] = {"sender": sender, "after": seen[0]}
                data = http.get(f"{url}/chat/poll", params=query, timeout=10).json()
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


commands = [chat]
