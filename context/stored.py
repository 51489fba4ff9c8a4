"""Customers as the store keeps them: JSON written after validation, read back without it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .models import (
    NO_PLAN,
    Appointment,
    Cancellation,
    Contact,
    Customer,
    Plan,
    RecordError,
    usual_party,
)


def customer_from_stored(profile: dict[str, Any], log: list[dict[str, Any]]) -> Customer:
    """Rebuild a customer from what the store wrote (already validated; no re-parsing)."""
    try:
        plan = profile.get("plan") or {}
        return Customer(
            id=profile["id"],
            name=profile["name"],
            phones=tuple(profile.get("phones") or ()),
            email=profile.get("email") or "",
            plan=Plan(
                name=plan.get("name", ""),
                status=plan.get("status", "none"),
                started_at=_time(plan.get("started_at")),
            )
            if plan
            else NO_PLAN,
            cancellations=tuple(
                sorted(
                    (
                        Cancellation(c["plan"], _at(c), c.get("reason", ""), c["by"])
                        for c in profile.get("cancellations") or ()
                    ),
                    key=lambda c: c.at,
                )
            ),
            contacts=tuple(
                sorted(
                    (
                        Contact(
                            _at(c),
                            c["channel"],
                            c.get("reason", ""),
                            c["outcome"],
                            c.get("ref", ""),
                            c.get("by") or usual_party(c["channel"], c["outcome"]),
                        )
                        for c in log
                    ),
                    key=lambda c: c.at,
                )
            ),
            appointments=tuple(
                sorted(
                    (
                        Appointment(_at(a), a.get("kind", "call"), a["status"])
                        for a in profile.get("appointments") or ()
                    ),
                    key=lambda a: a.at,
                )
            ),
            flags=frozenset(profile.get("flags") or ()),
            language=profile.get("language") or "",
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError("", f"stored record is damaged: {exc}") from exc


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _at(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["at"].replace("Z", "+00:00"))
