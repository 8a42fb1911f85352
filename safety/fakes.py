"""Fake screeners that ship with the package, for tests here and in `flows/` and `companion/`.

`RaisingScreener` proves a caller fails closed; `FixedScreener` returns a canned assessment so a
test can drive any tier through the graph without writing risky text. Both have the same shape
as `safety.screen.screen_message`: a callable taking the message text.
"""

from __future__ import annotations

from safety.screen import DETECTOR_VERSION
from safety.types import Assessment, Category, Signal, Tier

__all__ = ["FixedScreener", "RaisingScreener"]


class RaisingScreener:
    """A screener that always raises, to test that callers fail closed.

    Args:
        exc: The exception to raise (default `RuntimeError("screener failed (test fake)")`).
    """

    def __init__(self, exc: BaseException | None = None) -> None:
        self.exc = exc if exc is not None else RuntimeError("screener failed (test fake)")
        self.calls = 0

    def __call__(self, text: str) -> Assessment:
        """Raise the configured exception."""
        self.calls += 1
        raise self.exc


class FixedScreener:
    """A screener that returns the same assessment for every message.

    Args:
        tier: The tier to return.
        category: The category of its one signal (default DISTRESS; ignored at tier 0).
        signal_id: The signal id (default "fake.fixed").
    """

    def __init__(
        self,
        tier: Tier,
        category: Category = Category.DISTRESS,
        *,
        signal_id: str = "fake.fixed",
    ) -> None:
        self.tier = Tier(tier)
        self.category = category
        self.signal_id = signal_id
        self.seen: list[str] = []

    def __call__(self, text: str) -> Assessment:
        """Return the canned assessment (and remember the text for assertions)."""
        self.seen.append(text)
        if self.tier == Tier.NONE:
            return Assessment(detector_version=DETECTOR_VERSION)
        signal = Signal(source="fake", id=self.signal_id, tier=self.tier, category=self.category)
        return Assessment.from_signals([signal], version=DETECTOR_VERSION)
