"""Fixtures for end-to-end tests: the real server (`companion serve`) in its own process.

Chainlit keeps its state in module globals, so the server always runs as a separate process,
started by the real command line with a fresh data directory. Its output goes to
`<tmp>/server.log`, which storage tests grep for patient text. Patients are created with the
real `companion users add --password-stdin`; each test that needs a fresh consent gets its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

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
