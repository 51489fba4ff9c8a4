"""How the console pages write times and names before the browser rewrites the times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from presszero.consoles.display import alert_of, local_time, name_of

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def test_a_time_is_an_instant_for_the_browser_and_a_labelled_utc_text_without_it():
    assert local_time("2026-11-23T09:05:00Z", now=NOW) == (
        '<time datetime="2026-11-23T09:05:00Z" data-local="time">09:05 UTC</time>'
    )
    new_york = timezone(timedelta(hours=-5))
    yesterday = datetime(2026, 11, 22, 19, 30, tzinfo=new_york)  # 00:30 UTC on the 23rd
    assert local_time(yesterday, "datetime", NOW) == (
        '<time datetime="2026-11-23T00:30:00Z" data-local="datetime">Nov 23, 00:30 UTC</time>'
    )
    assert local_time("2026-11-20T10:00:00+00:00", "time", NOW).endswith(
        ">Nov 20, 10:00 UTC</time>"
    )
    assert local_time("2026-11-20T10:00:00", "date", NOW).endswith(">Nov 20 (UTC)</time>")


def test_what_is_not_a_time_is_shown_as_escaped_text():
    assert local_time("asap", now=NOW) == "asap"
    assert local_time('<img src=x onerror="alert(1)">', now=NOW) == (
        "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;"
    )
    assert local_time(None, now=NOW) == ""


def test_an_alert_names_the_person_and_why_without_our_ids():
    record = {"who": "Dana Reyes (cus_1002)", "customer_id": "cus_1002", "summary": {
        "why": "They asked for a person.",
        "situation": ["their Silver Health plan was cancelled by us 3 days ago (non-payment)"],
    }}  # fmt: skip
    assert alert_of(record) == {
        "title": "Dana Reyes is waiting to chat",
        "body": "They asked for a person. Their Silver Health plan was cancelled by us 3 days "
        "ago (non-payment).",
    }
    assert name_of({"who": "Someone we don't know"}) == "Someone we don't know"
    assert alert_of({})["title"] == "Someone we don't know is waiting to chat"
