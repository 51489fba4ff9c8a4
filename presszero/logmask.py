"""Phone numbers, email addresses and keys in URLs never reach the logs in full.

Installed once per process as the log record factory, so every record — ours, Flask's,
gunicorn's access log — is masked when it is made, whatever handler writes it later.
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

# Not inside a word or a path ("CA12…" of a CallSid), nor a port and what follows it
# ("127.0.0.1:8000 (4242)"), but a letter after the digits does not hide a phone
# ("+15550100002x", "5550100002abc"): the number ends where its digits do.
_PHONE = re.compile(r"(?<![\w/])(?:\+|(?<!:))\d[\d\s().-]{6,18}\d(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A chat API key in a URL (`?token=KEY`, what `rasa shell` sends): an access log line is no
# place for a key that reads every chat.
_URL_TOKEN = re.compile(r"([?&]token=)[^&\s\"']+")
_installed = False


def mask(text: str) -> str:
    """Return `text` with phones cut to their last two digits, emails to a first letter and
    keys in URLs (`?token=`) to nothing."""
    text = _URL_TOKEN.sub(r"\1…", text)
    text = _EMAIL.sub(r"\1***@\2", text)
    return _PHONE.sub(_phone, text)


def _phone(match: re.Match[str]) -> str:
    found = match.group()
    if _DATE.match(found) or len(re.sub(r"\D", "", found)) < 7:
        return found  # a date or a short number, not a phone
    return "…" + re.sub(r"\D", "", found)[-2:]


def install() -> None:
    """Mask every log record this process makes from now on."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        with contextlib.suppress(Exception):  # a record we cannot format is logging's to report
            record.msg, record.args = mask(record.getMessage()), ()
        return record

    logging.setLogRecordFactory(masked)
    _installed = True
