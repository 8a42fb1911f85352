"""Pytest fixtures for tests that need the local OpenAI-compatible stub server.

Use it from a test module or a conftest with `pytest_plugins = ["tests.support.fixtures"]`,
or import `running_stub` and wrap it in a fixture of your own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.openai_stub import OpenAIStub

__all__ = ["openai_stub", "running_stub"]


@contextmanager
def running_stub(**kwargs: str) -> Iterator[OpenAIStub]:
    """Start an `OpenAIStub` on a free port of 127.0.0.1 and stop it afterwards."""
    stub = OpenAIStub(**kwargs)
    with stub:
        yield stub


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    """A started stub server, fresh for each test (behaviour `ok`, no requests yet)."""
    with running_stub() as stub:
        yield stub
