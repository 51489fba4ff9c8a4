"""Phone numbers in E.164, whatever national format they arrive in."""

from __future__ import annotations

import phonenumbers


class PhoneError(ValueError):
    """A string that is not a phone number we can dial."""


def normalise_phone(raw: str, region: str = "US") -> str:
    """Return `raw` in E.164 (+15550100002), reading national formats for `region`."""
    text = raw.strip()
    if not text:
        raise PhoneError("empty phone number")
    if len(text) > 40:
        raise PhoneError("phone number is too long")
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        raise PhoneError(f"not a phone number: {raw!r}") from None
    # Possible, not valid: fictional 555 numbers and freshly allocated ranges must still work.
    if not phonenumbers.is_possible_number(number):
        raise PhoneError(f"not a possible phone number for region {region.upper()}: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_normalise_phone(raw: str, region: str = "US") -> str | None:
    """Return `raw` in E.164, or None when it is not a phone number."""
    try:
        return normalise_phone(raw, region)
    except PhoneError:
        return None
