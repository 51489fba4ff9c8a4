"""Business hours: when a person can take the conversation, said the way a person says it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .phrases import phrase, zone_in
from .schema import Reader
from .yamlsrc import YMap, YStr

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Span = tuple[int, int]  # minutes after local midnight, [start, end)


@dataclass(frozen=True, slots=True)
class Hours:
    """Opening hours in one timezone, closed dates, and the step taken when no one can answer."""

    timezone: str
    week: tuple[tuple[Span, ...], ...]  # Monday first
    closed_dates: frozenset[date]
    after_hours: str  # the callback or voicemail step used out of hours or when no one answers
    line: int = 0  # where after_hours is written

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_open(self, now: datetime) -> bool:
        """Return whether a person can be reached at `now`."""
        local = now.astimezone(self.tz)
        if local.date() in self.closed_dates:
            return False
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.week[local.weekday()])

    def next_open(self, now: datetime, between: Span = (0, 1440)) -> datetime | None:
        """Return the first open moment from `now` on (now itself if open), or None.

        `between` narrows the answer to local minutes of the day, e.g. (0, 720) for a morning.
        """
        local = now.astimezone(self.tz)
        for days in range(15):
            day = local.date() + timedelta(days=days)
            if day in self.closed_dates:
                continue
            midnight = datetime(day.year, day.month, day.day, tzinfo=self.tz)
            for start, end in self.week[day.weekday()]:
                low, high = max(start, between[0]), min(end, between[1])
                if low < high and midnight + timedelta(minutes=high) > now:
                    return max(midnight + timedelta(minutes=low), now)
        return None

    def describe(self, language: str = "en-US") -> str:
        """Return the hours in words: "Monday to Friday, 8 AM to 8 PM, ... New York time"; in
        Spanish "de lunes a viernes, de 8:00 a 20:00, ... hora del Este"."""
        groups: list[tuple[int, int, tuple[Span, ...]]] = []
        for index, spans in enumerate(self.week):
            if groups and groups[-1][2] == spans and groups[-1][1] == index - 1:
                groups[-1] = (groups[-1][0], index, spans)
            else:
                groups.append((index, index, spans))
        spanish = language.lower().startswith("es")
        parts = []
        for first, last, spans in groups:
            if not spans:
                continue
            day, end_day = (phrase(DAY_NAMES[d], language) for d in (first, last))
            if first == last:  # "Saturday", "los sábados"
                days = f"los {day}{'' if day.endswith('s') else 's'}" if spanish else day
            else:
                days = phrase("{first} to {last}", language).format(first=day, last=end_day)
            times = phrase(" and ", language).join(
                phrase("{start} to {end}", language).format(
                    start=_clock(a, spanish), end=_clock(b, spanish)
                )
                for a, b in spans
            )
            parts.append(phrase("{days}, {times}", language).format(days=days, times=times))
        if not parts:
            return phrase("by callback only", language)
        last_join = phrase(", and ", language)
        said = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + last_join + parts[-1]
        return f"{said}, {zone_in(self.timezone, zone_label(self.timezone), language)}"


def zone_label(timezone: str) -> str:
    """Return how a timezone is said: "America/New_York" → "New York time"."""
    if "/" not in timezone:
        return f"{timezone} time"
    return timezone.rsplit("/", 1)[1].replace("_", " ") + " time"


def _clock(minutes: int, spanish: bool = False) -> str:
    if spanish:  # a 24-hour clock, as written in Spanish: "8:00", "20:30", "24:00"
        hour, minute = divmod(minutes, 60)
        return f"{hour}:{minute:02d}"
    if minutes in (0, 1440):
        return "midnight"
    if minutes == 720:
        return "noon"
    hour, minute = divmod(minutes, 60)
    suffix = "AM" if hour < 12 else "PM"
    hour = hour % 12 or 12
    return f"{hour} {suffix}" if minute == 0 else f"{hour}:{minute:02d} {suffix}"


def read_hours(reader: Reader, value: object, line: int) -> Hours | None:
    """Return the `hours:` section read from YAML, recording problems with `reader`."""
    where = "hours"
    allowed = ("timezone", "open", "closed_dates", "after_hours")
    section = reader.mapping(value, where, line, allowed, ("timezone", "open", "after_hours"))
    if section is None:
        return None
    timezone = reader.string(section, "timezone", where) or ""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        reader.problem(
            section.line_of("timezone"), f"unknown timezone {timezone!r} (e.g. America/New_York)"
        )
        return None
    week = _read_week(reader, section)
    closed: set[date] = set()
    for text in reader.strings(section, "closed_dates", where):
        try:
            closed.add(date.fromisoformat(text))
        except ValueError:
            reader.problem(text.line, f"closed date {text!r} is not a date like 2026-12-25")
    after = reader.name(section, "after_hours", where)
    if week is None or not after:
        return None
    return Hours(timezone, week, frozenset(closed), after, section.line_of("after_hours"))


def _read_week(reader: Reader, section: YMap) -> tuple[tuple[Span, ...], ...] | None:
    spec = section.get("open")
    if not isinstance(spec, YMap):
        reader.problem(
            section.line_of("open"),
            'hours.open must map days to times, e.g. mon-fri: "08:00-20:00"',
        )
        return None
    week: list[tuple[Span, ...] | None] = [None] * 7
    ok = True
    for key, value in spec.items():
        line = spec.line_of(key)
        days = _days(key)
        spans = _spans(value) if isinstance(value, YStr) else None
        if days is None:
            reader.problem(
                line, f"hours.open: {key!r} is not a day or range of days (e.g. mon-fri, sat)"
            )
        elif spans is None:
            reader.problem(
                line,
                f'hours.open.{key} must be like "08:00-20:00", several joined by ",", or closed',
            )
        for day in days or ():
            if week[day] is not None:
                reader.problem(line, f"hours.open: {DAY_NAMES[day]} is given twice")
                ok = False
            week[day] = spans or ()
        ok = ok and days is not None and spans is not None
    return tuple(day or () for day in week) if ok else None


def _days(key: str) -> list[int] | None:
    out: list[int] = []
    for part in key.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            return None
        start, end = DAYS.index(first), DAYS.index(last or first)
        out.extend((start + i) % 7 for i in range((end - start) % 7 + 1))
    return out


def _spans(text: str) -> tuple[Span, ...] | None:
    if text.strip().lower() == "closed":
        return ()
    spans: list[Span] = []
    for part in text.split(","):
        match = _RANGE.match(part)
        if not match:
            return None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or start >= end or end > 1440:
            return None
        spans.append((start, end))
    return tuple(sorted(spans))
