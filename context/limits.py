"""Rate limits shared by every worker: fixed windows counted in Redis."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .connect import RedisClient
from .store import PREFIX


@dataclass(frozen=True, slots=True)
class Limit:
    count: int  # requests allowed per window
    seconds: int  # the window


def parse_limits(text: str) -> tuple[Limit, Limit]:
    """Return (per sender, per address) from "30/60,600/60" (count/seconds each)."""
    try:
        pairs = [part.split("/") for part in text.split(",")]
        sender, address = (Limit(int(c), int(s)) for c, s in pairs)
    except ValueError:
        raise ValueError(f"write limits as COUNT/SECONDS,COUNT/SECONDS, not {text!r}") from None
    if min(sender.count, sender.seconds, address.count, address.seconds) < 1:
        raise ValueError(f"limits must be positive: {text!r}")
    return sender, address


class RateLimiter:
    """Per-sender and per-address limits on chat messages (or, with its own prefix, polls)."""

    def __init__(
        self,
        client: RedisClient,
        *,
        per_sender: Limit = Limit(30, 60),
        per_address: Limit = Limit(300, 60),
        prefix: str = PREFIX,
    ) -> None:
        self.redis = client
        self.per_sender = per_sender
        self.per_address = per_address
        self.prefix = prefix

    def queue(self, pipe: Any, sender: str, address: str) -> Callable[[list[Any]], int]:
        """Queue the count of one request on `pipe`; return what reads its replies.

        The returned function takes the pipeline's replies (all of them: it knows where its
        own are) and returns 0 if the request is allowed, else the seconds until it would be.
        """
        now = int(time.time())
        checks = [("s", sender, self.per_sender), ("a", address, self.per_address)]
        first = len(pipe)
        for kind, who, limit in checks:
            key = f"{self.prefix}:rl:{kind}:{who}:{now // limit.seconds}"
            pipe.incr(key)
            pipe.expire(key, limit.seconds + 1)

        def verdict(replies: list[Any]) -> int:
            counts = replies[first : first + 2 * len(checks) : 2]
            waits = [
                limit.seconds - now % limit.seconds
                for (_, _, limit), count in zip(checks, counts, strict=True)
                if count > limit.count
            ]
            return max(waits, default=0)

        return verdict
