"""Which websites may call the chat from a browser: PRESSZERO_CHAT_ORIGINS, exact origins."""

from __future__ import annotations

from typing import Any

import pytest
from freezegun import freeze_time
from support.chat import OPEN

from presszero.chat.cors import OriginError, Origins
from presszero.config import ConfigError

SITE = "https://www.example.com"
WEBHOOK = "/webhooks/rest/webhook"
PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "content-type"}  # fmt: skip
CHAT_PATHS = [WEBHOOK, "/chat/poll", "/chat/widget.js", "/chat/static/widget.js", "/webhooks/rest/"]


@pytest.fixture
def app(make_app: Any) -> Any:
    return make_app(PRESSZERO_CHAT_ORIGINS=f"{SITE}, https://shop.example.com:8443")


def cors_headers(reply: Any) -> dict[str, str]:
    return {k: v for k, v in reply.headers.items() if k.lower().startswith("access-control-")}


@pytest.mark.parametrize("path", CHAT_PATHS)
def test_a_preflight_from_a_listed_origin_is_allowed_without_credentials(app: Any, path: str):
    reply = app.test_client().options(path, headers={"Origin": SITE, **PREFLIGHT})
    assert reply.status_code == 204
    headers = cors_headers(reply)
    assert headers["Access-Control-Allow-Origin"] == SITE
    assert "POST" in headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "x-presszero-conversation", "authorization"} <= allowed
    assert "Access-Control-Allow-Credentials" not in reply.headers
    assert "Origin" in reply.headers["Vary"]


@freeze_time(OPEN)
def test_a_listed_origin_may_post_and_read_the_answer(app: Any):
    reply = app.test_client().post(
        WEBHOOK, json={"sender": "web-cors-1", "message": "hi"}, headers={"Origin": SITE}
    )
    assert reply.status_code == 200
    assert reply.headers["Access-Control-Allow-Origin"] == SITE
    assert "Retry-After" in reply.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in reply.headers
    # an origin is exact: another port of a listed host is another origin
    other_port = app.test_client().options(
        WEBHOOK, headers={"Origin": "https://shop.example.com", **PREFLIGHT}
    )
    assert other_port.status_code == 403
    listed_port = app.test_client().options(
        WEBHOOK, headers={"Origin": "https://shop.example.com:8443", **PREFLIGHT}
    )
    assert listed_port.headers["Access-Control-Allow-Origin"] == "https://shop.example.com:8443"


@freeze_time(OPEN)
@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "http://www.example.com", "https://www.example.com.evil.example",
     "null", "https://WWW.example.com:444"],
)  # fmt: skip
@pytest.mark.parametrize("method", ["OPTIONS", "POST", "GET"])
def test_an_unlisted_origin_gets_a_403_json_and_no_cors_headers_and_nothing_is_done(
    app: Any, redis_client: Any, origin: str, method: str
):
    client = app.test_client()
    headers = {"Origin": origin, **(PREFLIGHT if method == "OPTIONS" else {})}
    if method == "POST":
        reply = client.post(
            WEBHOOK, json={"sender": "web-cors-2", "message": "hi"}, headers=headers
        )
    elif method == "GET":
        reply = client.get("/chat/poll?sender=web-cors-2", headers=headers)
    else:
        reply = client.options(WEBHOOK, headers=headers)
    assert reply.status_code == 403
    assert reply.get_json()["error"] == "forbidden_origin"
    assert "PRESSZERO_CHAT_ORIGINS" in reply.get_json()["message"]
    assert cors_headers(reply) == {}
    assert redis_client.keys("pz:conv:*") == []  # no conversation was started


@freeze_time(OPEN)
def test_the_same_origin_and_clients_without_an_origin_need_no_setting(make_app: Any):
    client = make_app().test_client()  # PRESSZERO_CHAT_ORIGINS unset
    body = {"sender": "web-cors-3", "message": "hi"}
    same = client.post(WEBHOOK, json=body, headers={"Origin": "http://localhost"})
    assert same.status_code == 200
    assert "Access-Control-Allow-Origin" not in same.headers
    server_side = client.post(WEBHOOK, json={**body, "sender": "web-cors-4"})
    assert server_side.status_code == 200
    with client.get("/chat/widget.js") as widget:  # a <script> tag sends no Origin
        assert widget.status_code == 200
    other = client.post(WEBHOOK, json=body, headers={"Origin": SITE})
    assert other.status_code == 403


@freeze_time(OPEN)
def test_any_origin_with_a_star_is_answered_with_a_star_and_never_credentials(make_app: Any):
    client = make_app(PRESSZERO_CHAT_ORIGINS="*").test_client()
    for origin in (SITE, "https://anyone.example"):
        preflight = client.options(WEBHOOK, headers={"Origin": origin, **PREFLIGHT})
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in preflight.headers
        reply = client.post(
            WEBHOOK, json={"sender": f"web-star-{origin[-3:]}", "message": "hi"},
            headers={"Origin": origin},
        )  # fmt: skip
        assert reply.status_code == 200
        assert reply.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in reply.headers


@pytest.mark.parametrize(
    ("text", "listed"),
    [
        ("https://www.example.com", {"https://www.example.com"}),
        (
            " https://A.example.com/ ,http://b.example:80",
            {"https://a.example.com", "http://b.example"},
        ),
        ("https://c.example:8443", {"https://c.example:8443"}),
        ("", set()),
    ],
)
def test_origins_are_read_as_the_browser_writes_them(text: str, listed: set[str]):
    assert Origins.parse(text).listed == listed


@pytest.mark.parametrize(
    "text",
    ["www.example.com", "https://www.example.com/chat", "https://*.example.com", "ftp://x.example",
     "https://x.example:port"],
)  # fmt: skip
def test_what_is_no_origin_stops_the_server_naming_the_setting(make_app: Any, text: str):
    with pytest.raises(OriginError):
        Origins.parse(text)
    with pytest.raises(ConfigError, match="PRESSZERO_CHAT_ORIGINS"):
        make_app(PRESSZERO_CHAT_ORIGINS=text)


def test_the_settings_are_known_and_short_api_keys_are_refused(make_app: Any):
    from presszero.config import Settings

    settings = Settings.load({"PRESSZERO_CHAT_ORIGINS": SITE, "PRESSZERO_CHAT_API_KEYS": "k" * 16,
                              "PRESSZERO_CHAT_POLL_LIMITS": "10/60,100/60"})  # fmt: skip
    assert settings.warnings == ()
    assert settings["PRESSZERO_CHAT_ORIGINS"] == SITE
    with pytest.raises(ConfigError, match="PRESSZERO_CHAT_API_KEYS"):
        make_app(PRESSZERO_CHAT_API_KEYS="short")
    with pytest.raises(ConfigError, match="PRESSZERO_CHAT_POLL_LIMITS"):
        make_app(PRESSZERO_CHAT_POLL_LIMITS="lots")
