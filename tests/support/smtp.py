"""A real SMTP server on loopback (aiosmtpd) that keeps what it is sent, for delivery tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from presszero.context.embedded import free_port


@dataclass
class Received:
    """One mail the server accepted: the envelope and the message as parsed."""

    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, "no plain-text part"
        return str(part.get_content()).replace("\r\n", "\n")


@dataclass
class MailServer:
    """An SMTP server on 127.0.0.1 and a free port; use it as a context manager."""

    refuse: set[str] = field(default_factory=set)  # recipients answered 550
    received: list[Received] = field(default_factory=list, init=False)
    port: int = field(default_factory=free_port, init=False)
    _changed: threading.Condition = field(default_factory=threading.Condition, init=False)
    _controller: Controller | None = field(default=None, init=False)

    @property
    def config(self) -> dict[str, Any]:
        """Return the settings that point presszero at this server (no TLS, no sign-in)."""
        return {
            "PRESSZERO_SMTP_HOST": "127.0.0.1",
            "PRESSZERO_SMTP_PORT": str(self.port),
            "PRESSZERO_SMTP_FROM": "Example Health Support <support@example.com>",
            "PRESSZERO_SMTP_STARTTLS": False,
        }

    async def handle_RCPT(  # aiosmtpd's hook names
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._changed:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
            self._changed.notify_all()
        return "250 Message accepted"

    def wait_for_one(self, timeout: float = 5.0) -> Received:
        """Return the first mail received, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self.received:
                left = deadline - time.monotonic()
                assert left > 0, f"no mail reached the server in {timeout}s"
                self._changed.wait(left)
            return self.received[0]

    def __enter__(self) -> MailServer:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._controller is not None:
            self._controller.stop()
