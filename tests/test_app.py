from __future__ import annotations

import pytest

from presszero import create_app
from presszero.config import ConfigError
from presszero.context.embedded import free_port


def test_healthz_is_200_when_redis_answers(make_app):
    reply = make_app().test_client().get("/healthz")
    assert reply.status_code == 200
    assert reply.get_json() == {"status": "ok", "redis": "up"}


def test_healthz_is_503_when_redis_does_not(make_app):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    reply = app.test_client().get("/healthz")
    assert reply.status_code == 503
    assert reply.get_json()["redis"] == "down"


def test_without_redis_url_or_embedded_redis_the_app_says_what_is_missing(tmp_path):
    with pytest.raises(ConfigError, match="REDIS_URL is not set and no embedded Redis runs in"):
        create_app({"REDIS_URL": "", "PRESSZERO_DATA_DIR": str(tmp_path)})
