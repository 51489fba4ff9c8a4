"""An agent's words back to a visitor who talks to the team's own Rasa.

When a Rasa bot hands over (`action_handoff`, see `actions.py`), the conversation pauses in
Rasa and waits in presszero's inbox. The agent's replies go back through Rasa's HTTP API, the
way Rasa documents for a person stepping in: each reply is appended to the conversation's
tracker as a `bot` event with `execute_side_effects=true&output_channel=latest`, so Rasa sends
it on the channel the visitor last wrote from (socket.io, Slack, Twilio messaging...). Resolving
appends the closing line and a `resume` event: the bot answers the visitor's next message.

Rasa's REST channel has no way to push a message, so a visitor on it sees the agent's words
only when their client asks Rasa for the tracker; presszero's own widget is the way to a live
chat on a website.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from presszero.config import ConfigError

TIMEOUT = 5.0  # seconds: an agent waits on this, and a retry is one click away


class RasaDeliveryError(RuntimeError):
    """Rasa did not take the agent's words; the message says why, in a line."""


@dataclass(frozen=True, slots=True)
class RasaServer:
    """Rasa's HTTP API (`rasa run --enable-api`), reached with its token."""

    url: str  # e.g. http://rasa:5005
    token: str = ""  # Rasa's `--auth-token`

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RasaServer | None:
        """Return the configured server, or None when PRESSZERO_RASA_URL is unset."""
        url = str(config.get("PRESSZERO_RASA_URL") or "").rstrip("/")
        if not url:
            return None
        if not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"PRESSZERO_RASA_URL must start with http:// or https://, got {url!r}"
            )
        return cls(url, str(config.get("PRESSZERO_RASA_TOKEN") or ""))

    def say(self, sender: str, text: str, agent: str) -> None:
        """Send an agent's reply to the visitor, on the channel they last wrote from."""
        self._append(sender, [_bot(text, agent)])

    def hand_back(self, sender: str, text: str, agent: str) -> None:
        """Tell the visitor the person has finished, and let the bot answer again."""
        self._append(sender, [_bot(text, agent), {"event": "resume"}])

    def _append(self, sender: str, events: list[dict[str, Any]]) -> None:
        params = {"execute_side_effects": "true", "output_channel": "latest"}
        if self.token:
            params["token"] = self.token
        target = f"{self.url}/conversations/{quote(sender, safe='')}/tracker/events"
        try:
            reply = requests.post(target, params=params, json=events, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise RasaDeliveryError(f"Rasa at {self.url} could not be reached ({exc})") from exc
        if reply.status_code >= 400:
            raise RasaDeliveryError(f"Rasa answered {reply.status_code}: {_why(reply)}")


def _bot(text: str, agent: str) -> dict[str, Any]:
    return {"event": "bot", "text": text, "metadata": {"presszero_agent": agent}}


def _why(reply: requests.Response) -> str:
    """Return Rasa's own one-line reason (its errors are JSON with a message), or the body."""
    try:
        body = reply.json()
    except ValueError:
        return reply.text.strip().splitlines()[0][:200] if reply.text.strip() else reply.reason
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])[:200]
    return reply.reason
