"""Phones and emails are masked in every log record presszero's processes make."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from presszero.logmask import mask

SID = "CA906e5681d7c78a44b34fe470fdbdf2f9"  # digits inside a word are not a phone


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("call from +15550100002x failed", "call from …02x failed"),
        ("caller 5550100002abc hung up", "caller …02abc hung up"),
        ("number +1 555 010 0002ext9", "number …02ext9"),
        (f"call {SID} ended", f"call {SID} ended"),
        ("at 2026-11-23T19:05:37Z turn 3", "at 2026-11-23T19:05:37Z turn 3"),
        ("Listening at: http://127.0.0.1:8123 (19429)",  # gunicorn's port and pid
         "Listening at: http://127.0.0.1:8123 (19429)"),
        ("tel:+15550100002 rang", "tel:…02 rang"),
    ],
)  # fmt: skip
def test_a_phone_followed_by_letters_is_masked_too(line: str, masked: str):
    assert mask(line) == masked


def test_the_apps_log_pipeline_masks_a_phone_glued_to_a_word(
    make_app: Any, caplog: pytest.LogCaptureFixture
):
    make_app()  # installs the masking for every record the process makes from now on
    with caplog.at_level(logging.INFO):
        logging.getLogger("presszero.voice").warning("no answer from %s", "+15550100002x")
        logging.getLogger("gunicorn.access").info('"GET /chat?as=5550100002abc HTTP/1.1" 200')
    logged = caplog.text
    assert "no answer from …02x" in logged
    assert "5550100002" not in logged


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ('"POST /webhooks/rest/webhook?stream=true&token=s3cret-key-0001 HTTP/1.1" 200',
         '"POST /webhooks/rest/webhook?stream=true&token=… HTTP/1.1" 200'),
        ("GET /chat/poll?token=abc&sender=web-1", "GET /chat/poll?token=…&sender=web-1"),
        ("GET /chat/poll?sender=web-1&token=", "GET /chat/poll?sender=web-1&token="),
    ],
)  # fmt: skip
def test_a_chat_api_key_in_a_url_is_cut_from_the_log(line: str, masked: str):
    assert mask(line) == masked
