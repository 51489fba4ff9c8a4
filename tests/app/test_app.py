from __future__ import annotations

from urllib.parse import urlencode

import pytest
from flask import Request
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import EnvironBuilder

from presszero import create_app
from presszero.app import FormRequest
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


FORM = "application/x-www-form-urlencoded"


def _forms(body: bytes) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Return the form as presszero's request reads it, and as werkzeug's own does."""
    environ = EnvironBuilder(method="POST", data=body, content_type=FORM).get_environ()
    ours = FormRequest(environ)
    environ = EnvironBuilder(method="POST", data=body, content_type=FORM).get_environ()
    theirs = Request(environ)
    assert not ours.files
    return list(ours.form.items(multi=True)), list(theirs.form.items(multi=True))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=12), st.text(max_size=24)), max_size=30))
def test_a_form_body_reads_as_werkzeug_reads_it(pairs: list[tuple[str, str]]):
    encodable = [(k, v) for k, v in pairs if _utf8(k) and _utf8(v)]
    ours, theirs = _forms(urlencode(encodable).encode())
    assert ours == theirs
    assert ours == list(MultiDict(encodable).items(multi=True))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_form_body_reads_as_werkzeug_reads_it(body: bytes):
    ours, theirs = _forms(body)
    assert ours == theirs


def test_a_twilio_webhook_body_reads_with_repeated_names_and_escapes():
    body = b"From=%2B15550100001&SpeechResult=agent+please&Digits=&A=1&A=2&Bad=%FF%FE"
    ours, theirs = _forms(body)
    assert ours == theirs
    assert ("From", "+15550100001") in ours
    assert ("SpeechResult", "agent please") in ours
    assert [v for k, v in ours if k == "A"] == ["1", "2"]


def test_a_form_body_larger_than_the_limit_is_refused(make_app):
    app = make_app()
    with app.test_request_context(
        "/voice/turn", method="POST", data=b"a=" + b"x" * (1024 * 1024), content_type=FORM
    ):
        from flask import request

        with pytest.raises(RequestEntityTooLarge):
            request.form  # noqa: B018 - reading it is the test


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
