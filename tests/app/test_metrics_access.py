"""Who may read `/metrics`: a bearer of PRESSZERO_METRICS_TOKEN, or, without one, this machine."""

from __future__ import annotations

from typing import Any

import pytest

TOKEN = "m" * 40
LOCAL = {"REMOTE_ADDR": "127.0.0.1"}
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.5"}


def scrape(app: Any, environ: dict[str, str], **headers: str) -> Any:
    return app.test_client().get("/metrics", environ_base=environ, headers=headers)


def test_without_a_token_a_scrape_from_elsewhere_is_refused(make_app: Any):
    app = make_app()
    assert scrape(app, ELSEWHERE).status_code == 403
    assert scrape(app, {"REMOTE_ADDR": "::1"}).status_code == 200
    local = scrape(app, LOCAL)
    assert local.status_code == 200
    assert "presszero_request_seconds" in local.get_data(as_text=True)


def test_without_a_token_a_scrape_through_a_local_proxy_is_refused(make_app: Any):
    app = make_app(PRESSZERO_TRUST_PROXY=True)
    assert scrape(app, LOCAL, **{"X-Forwarded-For": "203.0.113.5"}).status_code == 403


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (f"Bearer {TOKEN}", 200),
        (f"bearer {TOKEN}", 200),
        ("", 401),
        (f"Bearer {TOKEN[:-1]}", 401),
        (f"Basic {TOKEN}", 401),
        ("Bearer", 401),
    ],
)
def test_with_a_token_only_its_bearer_reads_the_metrics(
    make_app: Any, authorization: str, status: int
):
    app = make_app(PRESSZERO_METRICS_TOKEN=TOKEN)
    headers = {"Authorization": authorization} if authorization else {}
    assert scrape(app, ELSEWHERE, **headers).status_code == status
    assert scrape(app, LOCAL, **headers).status_code == status  # the token decides, not where
