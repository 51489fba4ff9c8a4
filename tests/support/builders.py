"""Builders for test data."""

from __future__ import annotations

import copy
from typing import Any

BASE_RECORD: dict[str, Any] = {
    "id": "cus_2001",
    "name": "Robin Hale",
    "phones": ["+15550102001"],
    "email": "robin@example.com",
    "plan": {"name": "Silver Health", "status": "active", "started_at": "2025-01-01T00:00:00Z"},
    "cancellations": [],
    "contacts": [],
    "appointments": [],
    "flags": [],
}


def record(**changes: Any) -> dict[str, Any]:
    """Return a valid customer record with `changes` applied (a key set to ... is removed)."""
    out = copy.deepcopy(BASE_RECORD)
    for key, value in changes.items():
        if value is ...:
            out.pop(key, None)
        else:
            out[key] = value
    return out
