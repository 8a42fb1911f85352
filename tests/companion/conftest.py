"""Fixtures shared by the app's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from companion.settings import Settings
from tests.support_service import ChatHarness


@pytest.fixture
def chat(settings: Settings) -> Iterator[ChatHarness]:
    """A chat service on a temporary SQLite database, with one patient who has not consented."""
    harness = ChatHarness(settings)
    yield harness
    harness.close()
