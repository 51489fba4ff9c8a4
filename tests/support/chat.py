"""A website visitor on the chat webhook, identity tokens, and an agent with the inbox open."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from presszero.chat.identity import make_token
from presszero.context.agents import AgentStore
from presszero.context.clock import SystemClock

OPEN = "2026-11-23T15:00:00Z"  # Monday 10:00 in New York
LEAKS = re.compile(r"[{}\[\]]|\bNone\b|\bnull\b")


class Visitor:
    """A website visitor talking to the webhook."""

    def __init__(self, app: Any, sender: str = "web-visitor-0001", identity: str = "") -> None:
        self.client = app.test_client()
        self.sender = sender
        self.identity = identity
        self.token = ""  # the conversation token its first answer gave it

    def send(self, message: str) -> list[dict[str, Any]]:
        """Send a message as the widget does (with the conversation's token once it has one);
        return the bot's messages (the token, beside the last one's text, taken off)."""
        metadata = {"identity": self.identity}
        if self.token:
            metadata["conversation_token"] = self.token
        reply = self.client.post(
            "/webhooks/rest/webhook",
            json={"sender": self.sender, "message": message, "metadata": metadata},
        )
        assert reply.status_code == 200, reply.get_data(as_text=True)
        messages = []
        for m in reply.get_json():
            assert m["recipient_id"] == self.sender
            if "custom" in m:
                assert not self.token, "a conversation got a second token"
                m = dict(m)
                self.token = m.pop("custom")["conversation_token"]
            assert not LEAKS.search(m["text"]), f"placeholder leaked: {m['text']!r}"
            messages.append(m)
        return messages

    def texts(self, message: str) -> str:
        return " ".join(m["text"] for m in self.send(message))

    def poll(self, after: int = -1) -> dict[str, Any]:
        reply = self.client.get(
            f"/chat/poll?sender={self.sender}&after={after}",
            headers={"X-Presszero-Conversation": self.token},
        )
        assert reply.status_code == 200, reply.get_data(as_text=True)
        return reply.get_json()


def token_for(app: Any, subject: str, **delta: float) -> str:
    service = app.extensions["presszero.chat"]
    return make_token(
        service.identity_secret, subject, SystemClock().now(), timedelta(**delta or {"hours": 1})
    )


def agent_online(app: Any, name: str = "alex") -> None:
    AgentStore(app.extensions["presszero.store"].redis).seen(name, SystemClock().now())
