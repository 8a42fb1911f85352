"""The layered risk detector: rules (with normalisation), the offline classifier, an optional LLM judge.

Each layer can only add signals, so a later layer can raise the tier and never lower what an
earlier one found. Every layer fails closed: an exception or a timeout adds a tier-2 signal
naming the layer (source "error"), so a broken layer is treated as risk, not silence. After a
judge failure the judge rests for `judge_cooldown_seconds` (layers 1-3 still run, and the
assessment says the judge was skipped), so an LLM outage means one screened turn, not
screening questions on every turn.

`detect` screens one message in the context of the patient's recent messages;
`detect_conversation` gives the tier a whole conversation reaches when its turns arrive one by
one (the highest of the per-turn tiers), with the turn where it was first reached.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from safety.classifier import (
    CLASSIFIER_VERSION,
    RiskClassifier,
    classifier_signals,
    load_classifier,
)
from safety.judge import Judge, judge_signals
from safety.rules import load_rules
from safety.screen import assess
from safety.types import Assessment, Category, Signal, Tier

__all__ = ["DETECTOR_VERSION", "Detector", "default_detector", "detect", "detect_conversation"]

#: Names every layer's version: the detector, each rule file, the classifier weights.
DETECTOR_VERSION = f"detector-1.0.0 rules-{load_rules().version} {CLASSIFIER_VERSION}"

_log = logging.getLogger(__name__)


#: Noted (tier 0) while the judge rests after a failure: that turn counted as risk, and asking a
#: failing model on every turn would send every patient into screening questions until it is back.
_JUDGE_RESTING = Signal(
    source="judge", id="judge.resting", tier=Tier.NONE, category=Category.SCREEN_ERROR,
    detail="skipped after a recent failure",
)


def _failure(layer: str, exc: BaseException) -> Signal:
    return Signal(
        source="error", id=f"error.{layer}", tier=Tier.UNCLEAR, category=Category.SCREEN_ERROR,
        detail=type(exc).__name__,
    )


@dataclass
class Detector:
    """Layers 1-4. `judge` is None unless an LLM is configured and the patient agreed to it."""

    classifier: RiskClassifier | None = None
    judge: Judge | None = None
    judge_timeout_seconds: float = 3.0
    judge_cooldown_seconds: float = 300.0
    rules: Callable[..., Assessment] = assess
    clock: Callable[[], float] = time.monotonic
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)
    _judge_down_until: float = field(default=0.0, repr=False)

    def detect(self, text: str, *, recent: Sequence[str] = ()) -> Assessment:
        """Screen one message; never raises."""
        if not text or not text.strip():
            return Assessment(detector_version=DETECTOR_VERSION)
        signals: list[Signal] = list(self._rules(text, recent))
        signals += self._classify(text)
        current = max((s.tier for s in signals), default=Tier.NONE)
        if self.judge is not None and current < Tier.ACTIVE:
            if self.clock() < self._judge_down_until:
                signals.append(_JUDGE_RESTING)
            else:
                signals += self._ask_judge(text, recent)
        return Assessment.from_signals(signals, version=DETECTOR_VERSION)

    def _rules(self, text: str, recent: Sequence[str]) -> tuple[Signal, ...]:
        try:
            return self.rules(text, recent=recent).signals
        except Exception as exc:  # noqa: BLE001 - fail closed: the layer's failure is a signal
            _log.error("rules layer failed: %s", type(exc).__name__)
            return (_failure("rules", exc),)

    def _classify(self, text: str) -> list[Signal]:
        try:
            classifier = self.classifier or load_classifier()
            return classifier_signals(classifier.predict(text))
        except Exception as exc:  # noqa: BLE001 - fail closed
            _log.error("classifier layer failed: %s", type(exc).__name__)
            return [_failure("classifier", exc)]

    def _ask_judge(self, text: str, recent: Sequence[str]) -> list[Signal]:
        judge = self.judge
        assert judge is not None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="risk-judge")
        future = self._pool.submit(judge.judge, text, recent=recent)
        try:
            verdict = future.result(timeout=self.judge_timeout_seconds)
        except FutureTimeout as exc:
            future.cancel()
            _log.error("judge layer timed out")
            self._judge_down_until = self.clock() + self.judge_cooldown_seconds
            return [_failure("judge.timeout", exc)]
        except Exception as exc:  # noqa: BLE001 - fail closed
            _log.error("judge layer failed: %s", type(exc).__name__)
            self._judge_down_until = self.clock() + self.judge_cooldown_seconds
            return [_failure("judge", exc)]
        return judge_signals(verdict, version=judge.version)

    def detect_conversation(self, messages: Sequence[str]) -> tuple[Assessment, int]:
        """Return the highest assessment reached turn by turn, and the index of that turn (-1 if none)."""
        worst = Assessment(detector_version=DETECTOR_VERSION)
        worst_index = -1
        for index, message in enumerate(messages):
            assessment = self.detect(message, recent=messages[max(0, index - 5) : index])
            if assessment.tier > worst.tier:
                worst, worst_index = assessment, index
        return worst, worst_index


_default = Detector()


def default_detector() -> Detector:
    """The process-wide detector without an LLM judge (layers 1-3)."""
    return _default


def detect(text: str, *, recent: Sequence[str] = ()) -> Assessment:
    """Screen one message with layers 1-3 (no LLM); never raises."""
    return _default.detect(text, recent=recent)


def detect_conversation(messages: Sequence[str]) -> tuple[Assessment, int]:
    return _default.detect_conversation(messages)
