"""Settings: read once at start-up, frozen, loud about what is missing or misspelt."""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from presszero.cli import main
from presszero.config import DEFAULTS, ConfigError, Settings

MISSPELT = "PRESSZERO_AGENT_NUMBR is not a presszero setting; did you mean PRESSZERO_AGENT_NUMBER?"


@pytest.mark.parametrize(
    ("variable", "nearest"),
    [
        ("PRESSZERO_AGENT_NUMBR", "PRESSZERO_AGENT_NUMBER"),
        ("PRESSZERO_REDIS_SENTINEL", "PRESSZERO_REDIS_SENTINELS"),
        ("PRESSZERO_CHAT_LIMIT", "PRESSZERO_CHAT_LIMITS"),
        ("PRESSZERO_TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN"),
    ],
)
def test_an_unknown_variable_is_reported_with_the_nearest_setting(variable: str, nearest: str):
    settings = Settings.load({variable: "x"})
    assert settings.warnings == (f"{variable} is not a presszero setting; did you mean {nearest}?",)
    assert variable not in settings


def test_an_unknown_variable_far_from_any_setting_says_where_the_settings_are():
    settings = Settings.load({"PRESSZERO_XYZZY": "1"})
    assert settings.warnings == (
        "PRESSZERO_XYZZY is not a presszero setting; see presszero/config.py",
    )


def test_known_and_foreign_variables_raise_no_warning():
    settings = Settings.load({"PRESSZERO_AGENT_NUMBER": "+15550100000", "HOME": "/root"})
    assert settings.warnings == ()
    assert settings["PRESSZERO_AGENT_NUMBER"] == "+15550100000"


def test_the_warnings_are_logged_at_warning(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, logger="presszero.config"):
        Settings.load({"PRESSZERO_AGENT_NUMBR": "+15550100000"}).log_warnings()
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [(logging.WARNING, MISSPELT)]


def test_the_app_logs_an_unknown_variable_at_start_up(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    monkeypatch.setenv("PRESSZERO_AGENT_NUMBR", "+15550100000")
    with caplog.at_level(logging.WARNING, logger="presszero.config"):
        app = make_app()
    assert [r.getMessage() for r in caplog.records] == [MISSPELT]
    assert app.config["PRESSZERO_AGENT_NUMBER"] == ""


def test_the_command_line_prints_an_unknown_variable_once(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("PRESSZERO_AGENT_NUMBR", "+15550100000")
    result = CliRunner().invoke(main, ["context", "show", "cus_404"])  # reads them twice
    assert result.stderr.count(MISSPELT) == 1, result.stderr
    assert "no customer with phone, email or id" in result.stderr


def test_defaults_then_environment_then_overrides():
    settings = Settings.load(
        {"PRESSZERO_FLOW": "sales", "PRESSZERO_DEMO": "yes", "PRESSZERO_DEFAULT_REGION": "GB"},
        {"PRESSZERO_DEFAULT_REGION": "DE"},
    )
    assert settings["PRESSZERO_FLOW"] == "sales"
    assert settings["PRESSZERO_DEMO"] is True
    assert settings["PRESSZERO_DEFAULT_REGION"] == "DE"
    assert settings["PRESSZERO_DATA_DIR"] == DEFAULTS["PRESSZERO_DATA_DIR"]
    assert set(DEFAULTS) <= set(settings)


def test_settings_are_frozen():
    settings = Settings.load({})
    with pytest.raises(TypeError):
        settings["PRESSZERO_FLOW"] = "sales"
    with pytest.raises(TypeError):
        settings.mapping["PRESSZERO_FLOW"] = "sales"
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.mapping = {}
    assert settings["PRESSZERO_FLOW"] == "support"
    assert dict(settings.items()) == dict(zip(settings.keys(), settings.values(), strict=True))


def test_settings_do_not_change_with_the_dict_they_were_made_from():
    overrides = {"PRESSZERO_FLOW": "sales"}
    settings = Settings.load({}, overrides)
    overrides["PRESSZERO_FLOW"] = "billing"
    assert settings["PRESSZERO_FLOW"] == "sales"
    assert settings.with_overrides({"PRESSZERO_FLOW": "billing"})["PRESSZERO_FLOW"] == "billing"
    assert settings["PRESSZERO_FLOW"] == "sales"


def test_a_missing_required_value_names_itself():
    with pytest.raises(ConfigError, match=r"^TWILIO_AUTH_TOKEN is not set$"):
        Settings.load({}).require("TWILIO_AUTH_TOKEN")
    assert Settings.load({"TWILIO_AUTH_TOKEN": "t0ken"}).require("TWILIO_AUTH_TOKEN") == "t0ken"


def test_a_setting_that_is_not_one_names_itself():
    with pytest.raises(KeyError, match="PRESSZERO_NO_SUCH"):
        Settings.load({})["PRESSZERO_NO_SUCH"]


def test_a_bad_switch_names_the_variable_and_what_it_takes():
    with pytest.raises(ConfigError, match="PRESSZERO_DEMO must be 1 or 0, got 'maybe'"):
        Settings.load({"PRESSZERO_DEMO": "maybe"})


def test_the_app_hangs_its_settings_off_the_app_and_keeps_app_config(make_app: Any):
    app = make_app(PRESSZERO_FLOW="support")
    settings = app.extensions["presszero.settings"]
    assert isinstance(settings, Settings)
    assert app.config["PRESSZERO_FLOW"] == settings["PRESSZERO_FLOW"] == "support"
    # app.config goes on to hold what start-up derives: the data dir's secret, for one.
    assert settings["SECRET_KEY"] == ""
    assert app.config["SECRET_KEY"]
    assert {k: app.config[k] for k in DEFAULTS if k != "SECRET_KEY"} == {
        k: settings[k] for k in DEFAULTS if k != "SECRET_KEY"
    }


ROOT = Path(__file__).resolve().parents[2]


def test_only_the_composition_root_reads_the_environment():
    readers = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("flows", "context", "voice", "chat", "consoles", "guard")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bos\.environ\b|\bgetenv\(", line.split("#")[0])
    ]
    assert readers == []
