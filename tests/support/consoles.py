"""An agent signed in to the inbox, with the page's CSRF token."""

from __future__ import annotations

import re
from typing import Any

PASSWORD = "correct horse battery"


def csrf_of(page: bytes) -> str:
    found = re.search(rb'name="csrf" value="([^"]+)"', page)
    assert found is not None, "no CSRF field on the page"
    return found.group(1).decode()


def signed_in(app: Any, name: str = "alex", password: str = PASSWORD) -> tuple[Any, str]:
    client = app.test_client()
    token = csrf_of(client.get("/agent/login").data)
    reply = client.post("/agent/login", data={"name": name, "password": password, "csrf": token})
    assert reply.status_code == 302, reply.data
    return client, csrf_of(client.get("/agent").data)
