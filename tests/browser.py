"""Debian's headless Chromium driven by Playwright, as every browser test (and the web
benchmark) launches it: no browser download, no name resolution beyond loopback, and a
missing browser a skip with its reason, or a failure where ENGLOG_REQUIRE_BROWSER says the
machine must have one (CI, .ci/run)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = "/usr/bin/chromium"  # Debian's; .ci/run installs it
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # No name resolves: whatever the page routes miss (a websocket, a worker) cannot leave.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
REQUIRE_BROWSER = "ENGLOG_REQUIRE_BROWSER"


def missing_browser() -> str | None:
    """Why no browser test can run here, or None when Chromium is installed."""
    if os.access(CHROMIUM, os.X_OK):
        return None
    return f"{CHROMIUM} is missing: apt-get install chromium"


@asynccontextmanager
async def launched() -> AsyncIterator[Browser]:
    """Chromium, whoever asks (a test or a benchmark); it must be installed."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Chromium for a test: skipped when it is missing, failed instead where it is required."""
    reason = missing_browser()
    if reason is not None:
        # CI installs it and sets ENGLOG_REQUIRE_BROWSER (.ci/run): there, a missing browser
        # fails. A newcomer's `just test` with only Python and uv skips this, saying why.
        if os.environ.get(REQUIRE_BROWSER):
            pytest.fail(reason)
        pytest.skip(reason)
    async with launched() as browser:
        yield browser
