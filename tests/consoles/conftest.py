"""Fixtures for the browser tests: Debian's chromium, launched once per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from support.live import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    """Launch Debian's chromium (with the test module's BROWSER_ARGS, if any); fail loudly if
    it cannot start."""
    extra = list(getattr(request.module, "BROWSER_ARGS", []))
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: scripts/test installs it"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra]
        )
        yield chromium
        chromium.close()
