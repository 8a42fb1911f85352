"""Fixtures for end-to-end tests: the real server (`companion serve`) in its own process.

Chainlit keeps its state in module globals, so the server always runs as a separate process,
started by the real command line with a fresh data directory. Its output goes to
`<tmp>/server.log`, which storage tests grep for patient text. Patients are created with the
real `companion users add --password-stdin`; each test that needs a fresh consent gets its own.

Portal browser tests share one headless Chromium per module (`chromium`): Debian's
`/usr/bin/chromium`, never `playwright install`. Without it they are skipped with a reason,
unless `COMPANION_REQUIRE_BROWSER=1` (CI) makes a missing browser a failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.e2e_server import Patient, RunningServer, start_server, stop_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The real server on a free port of 127.0.0.1, with its own data directory and log."""
    running = start_server(tmp_path_factory.mktemp("e2e"))
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture
def patient(server: RunningServer) -> Patient:
    """A new patient who has not consented yet."""
    return server.add_patient()


@pytest.fixture
def new_patient(server: RunningServer) -> Callable[[str], Patient]:
    """Create further patients on demand."""
    return server.add_patient


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def require_chromium() -> None:
    """Skip (or, with COMPANION_REQUIRE_BROWSER=1, fail) when Debian's Chromium is missing."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is not installed (apt-get install -y chromium; .ci/run does this)"
    if os.environ.get("COMPANION_REQUIRE_BROWSER") == "1":
        pytest.fail(f"COMPANION_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium (a playwright `Browser`) for a test module; tests open their own contexts."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
