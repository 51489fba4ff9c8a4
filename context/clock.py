"""The one source of "now": injected into the store and the engine, frozen by tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Return the current time, aware, in UTC."""
        ...


class SystemClock:
    """The wall clock (which freezegun can freeze)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that says the same time until moved; for scripts and simulations."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment
