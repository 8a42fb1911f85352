"""Shipped fakes behave like screeners."""

from __future__ import annotations

import pytest

from safety.fakes import FixedScreener, RaisingScreener
from safety.screen import DETECTOR_VERSION
from safety.types import Category, Tier


def test_raising_screener_raises_and_counts() -> None:
    screener = RaisingScreener(KeyError("x"))
    with pytest.raises(KeyError):
        screener("hi")
    assert screener.calls == 1
    with pytest.raises(RuntimeError):
        RaisingScreener()("hi")


def test_fixed_screener_returns_its_assessment() -> None:
    screener = FixedScreener(Tier.URGENT, Category.METHOD_PLAN)
    result = screener("anything")
    assert result.tier == Tier.URGENT and result.categories == (Category.METHOD_PLAN,)
    assert result.detector_version == DETECTOR_VERSION
    assert screener.seen == ["anything"]


def test_fixed_screener_tier_zero_has_no_signals() -> None:
    result = FixedScreener(Tier.NONE)("x")
    assert result.tier == Tier.NONE and result.signals == ()
