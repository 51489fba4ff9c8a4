"""presszero's Twilio REST client, over real HTTP to the stand-in for Twilio's REST API."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from support.twilio_api import ACCOUNT_SID, API_KEY, API_SECRET, PUBLIC_URL, TwilioApi
from support.twilio_client import TOKEN
from twilio.rest import Client

from presszero.config import DEFAULTS, ConfigError
from presszero.voice.rest import (
    TwilioNotConfigured,
    TwilioRejected,
    TwilioRest,
    TwilioUnavailable,
)

AGENT = "+15550100001"
LINE = "+15550009999"
CALLS = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
UNKNOWN_CALL = "CA" + "f" * 32


@pytest.fixture
def rest(twilio_api: TwilioApi) -> Iterator[TwilioRest]:
    with TwilioRest(twilio_api.config) as client:
        yield client


def dial_agent(rest: TwilioRest, **options: Any) -> str:
    return rest.dial(AGENT, LINE, "/voice/whisper/1", "/voice/status", **options)


def test_dial_posts_twilio_the_call_with_absolute_urls_and_every_progress_event(
    rest: TwilioRest, twilio_api: TwilioApi
) -> None:
    assert rest.configured
    call_sid = dial_agent(rest)

    (seen,) = twilio_api.seen
    assert (seen.method, seen.path, seen.user, seen.status) == ("POST", CALLS, ACCOUNT_SID, 201)
    assert seen.form == {
        "To": AGENT,
        "From": LINE,
        "Url": f"{PUBLIC_URL}/voice/whisper/1",
        "Method": "POST",
        "StatusCallback": f"{PUBLIC_URL}/voice/status",
        "StatusCallbackEvent": "completed",
        "StatusCallbackMethod": "POST",
        "Timeout": "25",
    }
    assert seen.getlist("StatusCallbackEvent") == ["initiated", "ringing", "answered", "completed"]
    assert list(twilio_api.calls) == [call_sid]


def test_dial_sends_the_timeout_and_caller_id_it_is_given(
    rest: TwilioRest, twilio_api: TwilioApi
) -> None:
    rest.dial(
        "client:ana",
        LINE,
        "/voice/whisper/1",
        "/voice/status",
        timeout=12,
        caller_id="+15550001111",
    )

    form = twilio_api.seen[0].form
    assert (form["To"], form["Timeout"], form["CallerId"]) == ("client:ana", "12", "+15550001111")


def test_api_key_mode_authenticates_with_the_key_and_addresses_the_account(
    twilio_api: TwilioApi,
) -> None:
    settings = {
        **twilio_api.config,
        "TWILIO_AUTH_TOKEN": "",
        "TWILIO_API_KEY": API_KEY,
        "TWILIO_API_SECRET": API_SECRET,
    }
    with TwilioRest(settings) as rest:
        call_sid = dial_agent(rest)
        assert rest.call_status(call_sid) == "queued"

    assert [(s.user, s.path, s.status) for s in twilio_api.seen] == [
        (API_KEY, CALLS, 201),
        (API_KEY, CALLS.replace(".json", f"/{call_sid}.json"), 200),
    ]


def test_the_api_key_wins_over_the_auth_token_when_both_are_set(twilio_api: TwilioApi) -> None:
    settings = {**twilio_api.config, "TWILIO_API_KEY": API_KEY, "TWILIO_API_SECRET": API_SECRET}
    with TwilioRest(settings) as rest:
        dial_agent(rest)

    assert twilio_api.seen[0].user == API_KEY


def test_redirect_tells_the_live_call_to_post_for_new_twiml_at_an_absolute_url(
    rest: TwilioRest, twilio_api: TwilioApi
) -> None:
    call_sid = dial_agent(rest)
    twilio_api.set_status(call_sid, "in-progress")

    rest.redirect(call_sid, "/voice/queue/take?agent=ana")

    seen = twilio_api.seen[-1]
    assert (seen.path, seen.status) == (CALLS.replace(".json", f"/{call_sid}.json"), 200)
    assert seen.form == {"Url": f"{PUBLIC_URL}/voice/queue/take?agent=ana", "Method": "POST"}
    assert twilio_api.redirects[call_sid][-1] == f"{PUBLIC_URL}/voice/queue/take?agent=ana"


def test_hang_up_completes_the_call(rest: TwilioRest, twilio_api: TwilioApi) -> None:
    call_sid = dial_agent(rest)

    rest.hang_up(call_sid)

    assert twilio_api.seen[-1].form == {"Status": "completed"}
    assert twilio_api.calls[call_sid]["status"] == "completed"
    assert rest.call_status(call_sid) == "completed"


def test_redirecting_a_call_that_has_ended_is_rejected_with_twilios_code(
    rest: TwilioRest, twilio_api: TwilioApi
) -> None:
    call_sid = dial_agent(rest)
    rest.hang_up(call_sid)

    with pytest.raises(TwilioRejected) as caught:
        rest.redirect(call_sid, "/voice/queue/take")

    assert (caught.value.status, caught.value.code) == (400, 21220)
    assert str(caught.value) == (
        "Twilio refused to redirect the call (error 21220): "
        "Call is not in-progress. Cannot redirect."
    )


def test_requests_reach_the_configured_url_whatever_twilio_variables_the_environment_holds(
    twilio_api: TwilioApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # twilio's Client would read these and rewrite the host (127.0.0.1 -> 127.dublin.ie1.0.1)
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "9" * 32)
    with TwilioRest(twilio_api.config) as rest:
        dial_agent(rest)

    assert [(s.path, s.user) for s in twilio_api.seen] == [(CALLS, ACCOUNT_SID)]


def test_a_base_url_with_a_path_prefix_keeps_it(twilio_api: TwilioApi) -> None:
    settings = {**twilio_api.config, "PRESSZERO_TWILIO_API_URL": twilio_api.url + "/twilio/"}
    with TwilioRest(settings) as rest, pytest.raises(TwilioRejected) as caught:
        dial_agent(rest)

    assert caught.value.status == 404  # the stand-in only serves /2010-04-01/...
    assert twilio_api.seen[0].path == "/twilio" + CALLS


def test_the_default_api_url_is_twilios_own() -> None:
    assert DEFAULTS["PRESSZERO_TWILIO_API_URL"] == "https://api.twilio.com"
    rest = TwilioRest({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TOKEN})
    assert rest.api_url == "https://api.twilio.com"
    assert rest._client.api.absolute_url("x") == "https://api.twilio.com/x"
    rest.close()


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("/voice/status", f"{PUBLIC_URL}/voice/status"),
        ("voice/status", f"{PUBLIC_URL}/voice/status"),
        ("/voice/wait?queue=sales", f"{PUBLIC_URL}/voice/wait?queue=sales"),
        ("https://elsewhere.test/x", "https://elsewhere.test/x"),
    ],
)
def test_paths_become_urls_under_the_public_url(path: str, url: str) -> None:
    assert TwilioRest({"PRESSZERO_PUBLIC_URL": PUBLIC_URL + "/"}).absolute(path) == url


def test_dialling_without_a_public_url_sends_nothing_and_names_the_setting(
    twilio_api: TwilioApi,
) -> None:
    settings = {**twilio_api.config, "PRESSZERO_PUBLIC_URL": ""}
    with TwilioRest(settings) as rest, pytest.raises(TwilioNotConfigured, match="PUBLIC_URL"):
        dial_agent(rest)

    assert twilio_api.seen == []


def test_the_public_url_argument_overrides_the_setting(
    twilio_api: TwilioApi,
) -> None:
    with TwilioRest(twilio_api.config, public_url="https://line.example") as rest:
        dial_agent(rest)

    assert twilio_api.seen[0].form["Url"] == "https://line.example/voice/whisper/1"


def test_without_credentials_the_client_is_off_and_says_which_settings_to_set() -> None:
    rest = TwilioRest({"TWILIO_AUTH_TOKEN": TOKEN, "PRESSZERO_PUBLIC_URL": PUBLIC_URL})

    assert rest.configured is False
    with pytest.raises(TwilioNotConfigured, match="TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN"):
        dial_agent(rest)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"TWILIO_ACCOUNT_SID": ACCOUNT_SID}, "TWILIO_AUTH_TOKEN is not set"),
        ({"TWILIO_API_KEY": API_KEY, "TWILIO_API_SECRET": API_SECRET}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_API_KEY": API_KEY}, "TWILIO_API_SECRET"),
        ({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_API_SECRET": "s"}, "TWILIO_API_KEY"),
        ({"TWILIO_ACCOUNT_SID": API_KEY, "TWILIO_AUTH_TOKEN": TOKEN}, "TWILIO_ACCOUNT_SID"),
        (
            {
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_API_KEY": ACCOUNT_SID,
                "TWILIO_API_SECRET": API_SECRET,
            },
            "TWILIO_API_KEY",
        ),
        ({"PRESSZERO_TWILIO_API_URL": "api.twilio.com"}, "PRESSZERO_TWILIO_API_URL"),
        ({"PRESSZERO_PUBLIC_URL": "presszero.test"}, "PRESSZERO_PUBLIC_URL"),
    ],
)
def test_half_set_or_malformed_settings_fail_naming_the_setting(
    settings: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        TwilioRest(settings)


def test_a_call_sid_that_is_not_one_never_reaches_twilio(
    rest: TwilioRest, twilio_api: TwilioApi
) -> None:
    with pytest.raises(TwilioRejected, match="not a Twilio CallSid"):
        rest.hang_up("../../../Accounts")

    assert twilio_api.seen == []


# -- errors: each becomes a typed error with a plain message -------------------------------


def test_a_wrong_auth_token_is_rejected_as_twilio_rejects_it(twilio_api: TwilioApi) -> None:
    settings = {**twilio_api.config, "TWILIO_AUTH_TOKEN": "not-the-token"}
    with TwilioRest(settings) as rest, pytest.raises(TwilioRejected) as caught:
        dial_agent(rest)

    assert (caught.value.status, caught.value.code) == (401, 20003)
    assert str(caught.value) == "Twilio refused to place the call (error 20003): Authenticate"
    assert twilio_api.seen[0].status == 401


def test_an_unknown_call_is_rejected_with_twilios_404(rest: TwilioRest) -> None:
    with pytest.raises(TwilioRejected) as caught:
        rest.redirect(UNKNOWN_CALL, "/voice/queue/take")

    assert (caught.value.status, caught.value.code) == (404, 20404)
    assert "was not found" in str(caught.value)


def test_a_twilio_error_keeps_its_code_and_message(rest: TwilioRest, twilio_api: TwilioApi) -> None:
    twilio_api.fail_next(400, 21215, "Geo Permission configuration is not permitting call")

    with pytest.raises(TwilioRejected) as caught:
        dial_agent(rest)

    assert (caught.value.status, caught.value.code) == (400, 21215)
    assert caught.value.message == (
        "Twilio refused to place the call (error 21215): "
        "Geo Permission configuration is not permitting call"
    )


@pytest.mark.parametrize("status", [500, 503, 429])
def test_twilio_failing_on_its_side_is_unavailable_not_rejected(
    rest: TwilioRest, twilio_api: TwilioApi, status: int
) -> None:
    twilio_api.fail_next(status)

    with pytest.raises(TwilioUnavailable) as caught:
        dial_agent(rest)

    assert caught.value.status == status
    assert str(caught.value) == f"Could not place the call: Twilio failed (error {20000 + status})"
    assert dial_agent(rest).startswith("CA")  # only the next request failed


def test_nothing_listening_at_the_api_url_is_unavailable() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        settings = {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "PRESSZERO_TWILIO_API_URL": f"http://127.0.0.1:{port}",
            "PRESSZERO_PUBLIC_URL": PUBLIC_URL,
        }
        with TwilioRest(settings) as rest, pytest.raises(TwilioUnavailable) as caught:
            dial_agent(rest)

    assert str(caught.value) == "Could not place the call: Twilio could not be reached"
    assert caught.value.status is None


def test_a_twilio_that_does_not_answer_in_time_is_unavailable(twilio_api: TwilioApi) -> None:
    twilio_api.fail_next(503, stall=1.0)
    with (
        TwilioRest(twilio_api.config, timeout=0.2) as rest,
        pytest.raises(TwilioUnavailable) as caught,
    ):
        dial_agent(rest)

    assert str(caught.value) == "Could not place the call: Twilio did not answer in time"


def test_error_messages_carry_no_secret(twilio_api: TwilioApi) -> None:
    settings = {**twilio_api.config, "TWILIO_AUTH_TOKEN": "wrong-secret-token"}
    with TwilioRest(settings) as rest, pytest.raises(TwilioRejected) as caught:
        dial_agent(rest)

    assert "wrong-secret-token" not in str(caught.value)
    assert "\n" not in str(caught.value)


# -- the stand-in itself checks what it is sent ------------------------------------------


def post(
    api: TwilioApi, path: str, auth: tuple[str, str] | None = (ACCOUNT_SID, TOKEN), **form: str
) -> requests.Response:
    return requests.post(api.url + path, data=form, auth=auth, timeout=5)


GOOD_CALL = {"To": AGENT, "From": LINE, "Url": f"{PUBLIC_URL}/voice/whisper/1"}


@pytest.mark.parametrize(
    "auth",
    [None, (ACCOUNT_SID, "wrong"), (API_KEY, TOKEN), ("AC" + "9" * 32, TOKEN)],
    ids=["none", "wrong-token", "key-with-token", "other-account"],
)
def test_the_stand_in_refuses_wrong_auth_with_twilios_401(
    twilio_api: TwilioApi, auth: tuple[str, str] | None
) -> None:
    reply = post(twilio_api, CALLS, auth=auth, **GOOD_CALL)

    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"] == 'Basic realm="Twilio API"'
    assert reply.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert twilio_api.calls == {}


@pytest.mark.parametrize(
    ("missing_or_bad", "code"),
    [
        ({"To": ""}, 21201),
        ({"From": ""}, 21213),
        ({"Url": ""}, 21205),
        ({"Url": "/voice/whisper/1"}, 21205),
        ({"StatusCallback": "voice/status"}, 21609),
        ({"Method": "PUT"}, 21200),
        ({"StatusCallbackEvent": "answerd"}, 21626),
    ],
)
def test_the_stand_in_refuses_a_call_missing_or_misnaming_a_parameter(
    twilio_api: TwilioApi, missing_or_bad: dict[str, str], code: int
) -> None:
    form = {key: value for key, value in {**GOOD_CALL, **missing_or_bad}.items() if value}
    reply = post(twilio_api, CALLS, **form)

    assert (reply.status_code, reply.json()["code"]) == (400, code)
    assert twilio_api.calls == {}


def test_the_stand_in_accepts_twiml_instead_of_a_url(twilio_api: TwilioApi) -> None:
    reply = post(twilio_api, CALLS, To=AGENT, From=LINE, Twiml="<Response/>")

    assert reply.status_code == 201
    assert reply.json()["sid"] in twilio_api.calls


def test_the_stand_in_serves_only_the_account_it_authenticates(twilio_api: TwilioApi) -> None:
    other = CALLS.replace(ACCOUNT_SID, "AC" + "9" * 32)
    reply = post(twilio_api, other, **GOOD_CALL)

    assert (reply.status_code, reply.json()["code"]) == (404, 20404)


def test_the_stand_in_answers_an_unknown_call_with_twilios_404_shape(
    twilio_api: TwilioApi,
) -> None:
    path = CALLS.replace(".json", f"/{UNKNOWN_CALL}.json")
    reply = requests.get(twilio_api.url + path, auth=(ACCOUNT_SID, TOKEN), timeout=5)

    assert reply.status_code == 404
    assert reply.json() == {
        "code": 20404,
        "message": f"The requested resource {path} was not found",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }


def test_twilios_own_client_parses_the_stand_ins_call_resource(twilio_api: TwilioApi) -> None:
    client = Client(ACCOUNT_SID, TOKEN, environment={"TWILIO_REGION": ""})
    client.api.base_url = twilio_api.url
    try:
        created = client.calls.create(to=AGENT, from_=LINE, url=GOOD_CALL["Url"])
        fetched = client.calls(created.sid).fetch()
    finally:
        client.http_client.session.close()

    assert fetched.sid == created.sid
    assert re.fullmatch(r"CA[0-9a-f]{32}", fetched.sid)
    assert (fetched.account_sid, fetched.to, fetched._from) == (ACCOUNT_SID, AGENT, LINE)
    assert (fetched.status, fetched.direction) == ("queued", "outbound-api")
    assert fetched.date_created.tzinfo is not None
    assert fetched.uri == CALLS.replace(".json", f"/{created.sid}.json")


def test_wait_for_returns_a_request_made_later_from_another_thread(
    rest: TwilioRest, twilio_api: TwilioApi
) -> None:
    timer = threading.Timer(0.2, dial_agent, args=(rest,))
    timer.start()
    try:
        seen = twilio_api.wait_for(lambda s: s.form.get("To") == AGENT, timeout=5)
    finally:
        timer.join()

    assert seen.path == CALLS


def test_wait_for_fails_listing_what_it_saw(rest: TwilioRest, twilio_api: TwilioApi) -> None:
    dial_agent(rest)

    with pytest.raises(AssertionError, match=r"no matching request in 0.2s; got:\n  POST .*Calls"):
        twilio_api.wait_for(lambda s: s.method == "GET", timeout=0.2)


def test_the_fixture_config_builds_an_app_whose_settings_reach_the_stand_in(
    make_app: Any, twilio_api: TwilioApi
) -> None:
    app = make_app(**twilio_api.config)

    with TwilioRest(app.config) as rest:
        dial_agent(rest)

    assert twilio_api.seen[0].user == ACCOUNT_SID
    assert app.config["TWILIO_AUTH_TOKEN"] == TOKEN  # webhook signatures and REST share it
