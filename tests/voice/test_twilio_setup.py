"""`presszero twilio setup` against the REST stand-in: the number pointed here in one update,
and a second run, a dry run or a refusal changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner, Result
from support.twilio_api import TwilioApi

from presszero.cli import main

LINE = "+15550001234"
PUBLIC = "https://support.example.com"
FALLBACK = "https://static.example.net/presszero-fallback.xml"
POINTED_HERE = {
    "VoiceUrl": f"{PUBLIC}/voice/incoming",
    "VoiceMethod": "POST",
    "StatusCallback": f"{PUBLIC}/voice/status",
    "StatusCallbackMethod": "POST",
    "VoiceFallbackUrl": FALLBACK,
    "VoiceFallbackMethod": "GET",
}


def setup(api: TwilioApi, *args: str, **env: str) -> Result:
    settings = {
        **api.config,
        "PRESSZERO_PUBLIC_URL": PUBLIC,
        "PRESSZERO_FALLBACK_URL": FALLBACK,
        **env,
    }
    return CliRunner().invoke(main, ["twilio", "setup", *args], env=settings)


def test_the_number_is_pointed_here_in_one_update_and_a_second_run_changes_nothing(
    twilio_api: TwilioApi,
):
    sid = twilio_api.own_number(LINE)
    twilio_api.own_number("+15550001299")  # another line of the account stays as it was
    first = setup(twilio_api, "--number", LINE)
    assert first.exit_code == 0, first.output
    updates = twilio_api.updates()
    assert [u.path.rsplit("/", 1)[-1] for u in updates] == [f"{sid}.json"]
    # only what differed from a new number's settings is sent; the rest was already right
    assert updates[0].form == {
        "VoiceUrl": f"{PUBLIC}/voice/incoming",
        "StatusCallback": f"{PUBLIC}/voice/status",
        "VoiceFallbackUrl": FALLBACK,
        "VoiceFallbackMethod": "GET",
    }
    number = twilio_api.numbers[sid]
    assert {k: number[v] for k, v in _names().items()} == POINTED_HERE
    assert f"VoiceUrl: https://demo.twilio.com/welcome/voice/ -> {PUBLIC}/voice/incoming" in (
        first.stdout
    )
    assert "VoiceFallbackMethod: POST -> GET" in first.stdout
    assert "Done" in first.stdout

    again = setup(twilio_api, "--number", LINE)
    assert again.exit_code == 0, again.output
    assert "nothing to change" in again.stdout
    assert len(twilio_api.updates()) == 1


def test_a_number_set_up_by_hand_is_put_right_field_by_field(twilio_api: TwilioApi):
    app = "AP" + "a" * 32  # a TwiML app makes Twilio ignore the voice URL: it is cleared
    sid = twilio_api.own_number(
        LINE,
        voice_url=f"{PUBLIC}/voice/incoming",
        voice_method="GET",
        status_callback=f"{PUBLIC}/voice/status",
        voice_fallback_url=FALLBACK,
        voice_fallback_method="GET",
        voice_application_sid=app,
    )
    result = setup(twilio_api, "--number", LINE)
    assert result.exit_code == 0, result.output
    assert [u.form for u in twilio_api.updates()] == [
        {"VoiceMethod": "POST", "VoiceApplicationSid": ""}
    ]
    assert f"VoiceApplicationSid: {app} -> (none)" in result.stdout
    assert twilio_api.numbers[sid]["voice_application_sid"] == ""


def test_the_settings_give_the_number_and_the_url_when_the_options_do_not(twilio_api: TwilioApi):
    sid = twilio_api.own_number(LINE)
    url = "https://help.example.org/presszero"
    result = setup(twilio_api, PRESSZERO_TWILIO_NUMBER=LINE, PRESSZERO_PUBLIC_URL=url)
    assert result.exit_code == 0, result.output
    assert twilio_api.numbers[sid]["voice_url"] == f"{url}/voice/incoming"


def test_a_dry_run_shows_the_changes_and_makes_no_update(twilio_api: TwilioApi):
    sid = twilio_api.own_number(LINE)
    before = dict(twilio_api.numbers[sid])
    result = setup(twilio_api, "--number", LINE, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"StatusCallback: (none) -> {PUBLIC}/voice/status" in result.stdout
    assert "nothing was changed" in result.stdout
    assert twilio_api.updates() == []
    assert twilio_api.numbers[sid] == before


REFUSALS = [  # (arguments, settings, the words of the one line, requests Twilio may see)
    (("--number", LINE, "--url", "http://support.example.com"), {},
     "--url must be an https URL Twilio can reach", 0),
    (("--number", LINE), {"PRESSZERO_PUBLIC_URL": ""}, "PRESSZERO_PUBLIC_URL is not set", 0),
    (("--number", "+15550009876"), {},
     "+15550009876 is not a number of the Twilio account AC", 1),
    (("--number", "555-1234"), {}, "'555-1234' is not a phone number in E.164 form", 0),
    ((), {}, "no number given: pass --number", 0),
    (("--number", LINE), {"PRESSZERO_FALLBACK_URL": ""}, "PRESSZERO_FALLBACK_URL is not set", 0),
    (("--number", LINE), {"PRESSZERO_FALLBACK_URL": f"{PUBLIC}/fallback.xml"},
     "presszero's own host", 0),
    (("--number", LINE), {"TWILIO_ACCOUNT_SID": ""},
     "Cannot look the number up: set TWILIO_ACCOUNT_SID", 0),
    (("--number", LINE), {"TWILIO_AUTH_TOKEN": "wrong-token-0123456789abcdef0123"},
     "Twilio refused to look the number up (error 20003)", 1),
]  # fmt: skip


@pytest.mark.parametrize(("args", "env", "said", "requests"), REFUSALS)
def test_a_setting_that_cannot_work_is_refused_in_one_line_and_nothing_changes(
    twilio_api: TwilioApi, args: tuple[str, ...], env: dict[str, str], said: str, requests: int
):
    sid = twilio_api.own_number(LINE)
    before = dict(twilio_api.numbers[sid])
    result = setup(twilio_api, *args, **env)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert said in result.stderr
    assert "Traceback" not in result.output
    assert len(twilio_api.seen) == requests
    assert twilio_api.numbers[sid] == before


def test_a_number_on_a_sip_trunk_is_refused(twilio_api: TwilioApi):
    twilio_api.own_number(LINE, trunk_sid="TK" + "b" * 32)
    result = setup(twilio_api, "--number", LINE)
    assert result.exit_code == 1
    assert "is on the Elastic SIP trunk TK" in result.stderr
    assert twilio_api.updates() == []


def test_twilio_failing_is_one_line_and_nothing_changes(twilio_api: TwilioApi):
    twilio_api.own_number(LINE)
    twilio_api.fail_next(503)
    result = setup(twilio_api, "--number", LINE)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "Could not look the number up: Twilio failed (error 20503)" in result.stderr
    assert twilio_api.updates() == []


def _names() -> dict[str, Any]:
    return {
        "VoiceUrl": "voice_url",
        "VoiceMethod": "voice_method",
        "StatusCallback": "status_callback",
        "StatusCallbackMethod": "status_callback_method",
        "VoiceFallbackUrl": "voice_fallback_url",
        "VoiceFallbackMethod": "voice_fallback_method",
    }
