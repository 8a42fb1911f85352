"""The one check every labelled screening case gets: its tier range and categories."""

from __future__ import annotations

from typing import Any

from safety.screen import screen_message
from safety.types import Category


def check_case(case: dict[str, Any]) -> None:
    result = screen_message(case["text"])
    assert case["min_tier"] <= result.tier <= case["max_tier"], [s.id for s in result.signals]
    for category in case.get("categories", []):
        assert Category(category) in result.categories
