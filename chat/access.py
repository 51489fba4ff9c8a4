"""Who may read and continue a chat: its conversation token, or a server-side client's key.

A sender id is a name, not a credential: anyone may send one. So the first answer of a new
conversation carries a conversation token (a `custom` payload on its last message, as Rasa's
REST channel sends one), and the poll must always carry it back, in the
`X-Presszero-Conversation` header (or a message's `metadata.conversation_token`). A message
to an identified customer's conversation must carry it too; an anonymous one may also be
continued as Rasa's REST channel is, by its sender id alone (the bot tells an anonymous
visitor nothing personal, and the transcript and an agent's replies are only read through
the poll). Only its SHA-256 is kept, claimed with SET NX, so of two first messages racing for
one sender, one gets the token.

Server-side Rasa clients (a bot framework's connector, `rasa shell`) cannot carry a token:
they authenticate themselves with a key from `PRESSZERO_CHAT_API_KEYS` (`Authorization:
Bearer KEY`, or `?token=KEY` where only the URL can be set) and may speak for any sender.
A conversation such a client started has no token, so a browser cannot take it over.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from presszero.context.connect import RedisClient

TOKEN_HEADER = "X-Presszero-Conversation"  # noqa: S105 - a name, not a secret
TOKEN_FIELD = "conversation_token"  # noqa: S105
TOKEN_TTL = 30 * 24 * 3600  # a visitor may come back for a reply for weeks; renewed on use
MAX_TOKEN = 256


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a chat request offers: a server-side client's key, a conversation's token."""

    api_key: str = ""
    token: str = ""

    @classmethod
    def read(
        cls, headers: Any, args: Mapping[str, str], metadata: Mapping[str, Any]
    ) -> Credentials:
        """Return the credentials a request carries (header first, then the body or URL)."""
        scheme, _, bearer = headers.get("Authorization", "").partition(" ")
        key = bearer.strip() if scheme.lower() == "bearer" else ""
        token = headers.get(TOKEN_HEADER, "") or metadata.get(TOKEN_FIELD) or ""
        return cls(key or args.get("token", ""), token if isinstance(token, str) else "")


Admission = Callable[[list[Any]], str]  # the pipeline's replies -> a new token, or ''


class Refused(PermissionError):
    """A chat request without the right credential (the edge answers `status` with this)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ConversationAccess:
    """Conversation tokens in Redis, beside each conversation, and the server-side keys."""

    def __init__(
        self, client: RedisClient, api_keys: frozenset[str], key_of: Callable[[str], str]
    ) -> None:
        self.redis = client
        self.api_keys = api_keys
        self.key_of = key_of  # sender -> the conversation's key (the token sits beside it)

    @staticmethod
    def parse_keys(text: str) -> frozenset[str]:
        """Return the keys in "KEY1,KEY2"; a key shorter than 16 characters is refused."""
        keys = frozenset(part.strip() for part in text.split(",") if part.strip())
        if any(len(key) < 16 for key in keys):
            raise ValueError("each key must be at least 16 characters (`openssl rand -hex 24`)")
        return keys

    def queue_message(
        self, pipe: Any, sender: str, given: Credentials, *, identified: bool = False
    ) -> Admission:
        """Queue on `pipe` what admits a message to `sender`'s conversation; return what reads
        the replies: the new conversation token when this message starts it ('' otherwise),
        or Refused, with nothing changed. `identified`: the message signs in a customer, so
        from now on the conversation is theirs and only its token continues it.

        Queued, not sent: the reads ride in the turn's first round trip.
        """
        if self._is_server(given):
            return lambda replies: ""
        key, at = self._token_key(sender), len(pipe)
        if given.token:
            pipe.get(key)
            pipe.expire(key, TOKEN_TTL)  # a visitor who keeps chatting keeps their token

            def checked(replies: list[Any]) -> str:
                kept = self._compare(given.token, replies[at])
                if identified and kept.startswith(OPEN):  # signed in: theirs from now on
                    self.redis.set(key, kept.removeprefix(OPEN), keepttl=True)
                return ""

            return checked
        token = secrets.token_urlsafe(32)
        pipe.exists(self.key_of(sender))
        pipe.set(key, ("" if identified else OPEN) + _digest(token), nx=True, ex=TOKEN_TTL)
        pipe.get(key)

        def verdict(replies: list[Any]) -> str:
            started, claimed, kept = replies[at], replies[at + 1], _text(replies[at + 2])
            if not claimed and kept.startswith(OPEN) and not identified:
                return ""  # an anonymous conversation, continued as Rasa's clients do
            if not claimed:  # an identified conversation has a token (or another first won)
                raise Refused(401, NEEDS_TOKEN)
            if started:  # a server-side client's conversation: it has no token to claim
                self.redis.delete(key)
                raise Refused(403, "this conversation belongs to another client; "
                              "start a new one with a new sender id")  # fmt: skip
            return token

        return verdict

    def queue_reading(self, pipe: Any, sender: str, given: Credentials) -> Callable[[Any], object]:
        """Queue on `pipe` what lets a request read `sender`'s conversation; return what reads
        the replies and raises Refused."""
        if self._is_server(given):
            return lambda replies: None
        if not given.token:  # refused once the pipeline ran: the poll still counts
            return lambda replies: self._compare("", None)
        at = len(pipe)
        pipe.get(self._token_key(sender))
        return lambda replies: self._compare(given.token, replies[at])

    def _is_server(self, given: Credentials) -> bool:
        if not given.api_key:
            return False
        offered = given.api_key.encode()
        if any(hmac.compare_digest(offered, key.encode()) for key in self.api_keys):
            return True
        raise Refused(401, "the API key is not valid (see PRESSZERO_CHAT_API_KEYS)")

    def release(self, sender: str) -> None:
        """Give up the token just claimed for `sender` (its first message was refused)."""
        self.redis.delete(self._token_key(sender))

    @staticmethod
    def _compare(token: str, kept: bytes | str | None) -> str:
        """Return what is kept for the conversation if `token` is its token; else refuse."""
        if not token:
            raise Refused(401, NEEDS_TOKEN)
        if kept is None or len(token) > MAX_TOKEN or not token.isascii():
            raise Refused(403, WRONG_TOKEN)
        kept = _text(kept)
        if not hmac.compare_digest(_digest(token), kept.removeprefix(OPEN)):
            raise Refused(403, WRONG_TOKEN)
        return kept

    def _token_key(self, sender: str) -> str:
        return self.key_of(sender) + ":token"


NEEDS_TOKEN = (
    f"this conversation needs its conversation token (metadata.{TOKEN_FIELD} or the "
    f"{TOKEN_HEADER} header)"
)
WRONG_TOKEN = "this is not the conversation token of this conversation"  # noqa: S105


OPEN = "open:"  # before a kept digest: an anonymous conversation, open to its sender id


def _text(kept: bytes | str | None) -> str:
    return kept.decode() if isinstance(kept, bytes) else kept or ""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
