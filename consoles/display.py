"""How the inbox pages show a record: times the browser puts in the agent's time zone, a
person's name without our ids, and the words of an alert.

Every time on a console page is a `<time datetime="…Z" data-local="…">` whose text says the
time in UTC, labelled; `static/inbox.js` rewrites it in the browser's own time zone, labelled
with that zone. Without JavaScript the UTC text stays, never an unlabelled time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape

from presszero.context.words import in_words, spoken_language

__all__ = ["alert_of", "in_words", "local_time", "moment_of", "name_of", "spoken_language"]

STYLES = ("time", "date", "datetime")  # time: a time of day, with the date unless today


def moment_of(value: object) -> datetime | None:
    """Return `value` (a datetime or an ISO 8601 string) as an aware UTC datetime, or None."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def local_time(value: object, style: str = "time", now: datetime | None = None) -> Markup:
    """Return `value` as a `<time>` element: UTC text, and the instant for the browser.

    A value that is not a time is shown as the text it is (escaped).
    """
    moment = moment_of(value)
    if moment is None:
        return escape("" if value is None else str(value))
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}")
    today = now is not None and now.astimezone(UTC).date() == moment.date()
    day = f"{moment:%b} {moment.day}"
    if style == "date":
        text = f"{day} (UTC)"
    elif style == "time" and today:
        text = f"{moment:%H:%M} UTC"
    else:
        text = f"{day}, {moment:%H:%M} UTC"
    stamp = moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    return Markup('<time datetime="{}" data-local="{}">{}</time>').format(stamp, style, text)


def name_of(record: Mapping[str, Any]) -> str:
    """Return who a record is about as a person reads it: "Dana Reyes", never "(cus_1002)"."""
    who = str(record.get("who") or "Someone we don't know")
    customer_id = record.get("customer_id")
    return who.removesuffix(f" ({customer_id})") if customer_id else who


def alert_of(record: Mapping[str, Any]) -> dict[str, str]:
    """Return the title and body of the alert for a chat that starts waiting: who, and why
    the bot stepped aside, in words (no ids)."""
    found = record.get("summary")
    summary: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    why = str(summary.get("why") or record.get("reason") or "They asked for a person.")
    situation = [str(s) for s in summary.get("situation") or [] if s]
    body = " ".join([why, *(f"{s[:1].upper()}{s[1:]}." for s in situation)])
    return {"title": f"{name_of(record)} is waiting to chat", "body": body}
