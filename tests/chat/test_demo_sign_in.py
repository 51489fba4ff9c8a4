"""`serve --demo`'s `/chat?as=`: signs in the demo customers and nobody else."""

from __future__ import annotations

import re
from typing import Any

import pytest
from freezegun import freeze_time
from support.builders import record
from support.chat import OPEN

from presszero.chat.identity import verify_token
from presszero.context.clock import SystemClock
from presszero.context.demo import load_demo
from presszero.context.models import Customer
from presszero.context.store import ContextStore


@pytest.fixture
def demo(make_app: Any, store: ContextStore) -> Any:
    with freeze_time(OPEN):
        load_demo(store)
    store.upsert([Customer.from_dict(record())])  # a real customer on the same server
    return make_app(PRESSZERO_DEMO=True)


def identity_on(app: Any, subject: str) -> str | None:
    page = app.test_client().get("/chat", query_string={"as": subject})
    assert page.status_code == 200
    found = re.search(rb'widget.js" data-identity="([^"]*)" data-inline', page.data)
    assert found is not None, "no data-identity on the demo page"
    secret = app.extensions["presszero.chat"].identity_secret
    return verify_token(secret, found.group(1).decode(), SystemClock().now())


@pytest.mark.parametrize(
    ("subject", "customer_id"),
    [("+15550100002", "cus_1002"), ("sam@example.com", "cus_1003"), ("cus_1005", "cus_1005")],
)
def test_the_demo_page_signs_in_a_demo_customer(demo: Any, subject: str, customer_id: str):
    assert identity_on(demo, subject) == customer_id


@pytest.mark.parametrize(
    "subject", ["+15550102001", "robin@example.com", "cus_2001", "+15550109999", "nobody"]
)
def test_the_demo_page_signs_in_no_one_but_the_demo_customers(demo: Any, subject: str):
    assert identity_on(demo, subject) is None
