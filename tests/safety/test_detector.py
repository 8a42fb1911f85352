"""The layered detector: layers only add signals, each fails closed, the judge can only raise."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence

from langchain_openai import ChatOpenAI

from safety.detector import DETECTOR_VERSION, Detector, detect, detect_conversation
from safety.fakes import FixedScreener, RaisingScreener
from safety.judge import JudgeVerdict, LLMJudge
from safety.types import Category, Tier
from tests.support.openai_stub import Behaviour, OpenAIStub


class RecordingJudge:
    version = "fake-judge"

    def __init__(self, tier: int, *, delay: float = 0.0, error: Exception | None = None) -> None:
        self.tier, self.delay, self.error = tier, delay, error
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.release = threading.Event()

    def judge(self, text: str, *, recent: Sequence[str] = ()) -> JudgeVerdict:
        self.calls.append((text, tuple(recent)))
        if self.delay:
            self.release.wait(self.delay)
        if self.error:
            raise self.error
        return JudgeVerdict(tier=self.tier, categories=[Category.PASSIVE_IDEATION] if self.tier else [])


class BrokenClassifier:
    version = "broken"

    def predict(self, text: str) -> object:
        raise RuntimeError("model file corrupt")


def rules_only(tier: Tier, category: Category = Category.DISTRESS):
    fixed = FixedScreener(tier, category)
    return lambda text, recent=(): fixed(text)


def test_clear_statements_are_caught_and_everyday_text_is_not() -> None:
    assert detect("I'm going to kill myself tonight").tier >= Tier.URGENT
    assert detect("this exam is killing me lol").tier <= Tier.DISTRESS
    assert detect("").tier == Tier.NONE
    assert detect("hello").detector_version == DETECTOR_VERSION


def test_the_judge_can_raise_the_tier() -> None:
    judge = RecordingJudge(tier=4)
    result = Detector(judge=judge, rules=rules_only(Tier.NONE)).detect("I'm done with all of it")
    assert result.tier == Tier.URGENT
    assert any(s.source == "judge" for s in result.signals)


def test_the_judge_never_lowers_what_the_rules_found() -> None:
    judge = RecordingJudge(tier=0)
    result = Detector(judge=judge, rules=rules_only(Tier.UNCLEAR, Category.PASSIVE_IDEATION)).detect("x y z")
    assert result.tier == Tier.UNCLEAR and judge.calls


def test_the_judge_is_not_asked_when_the_rules_already_escalate() -> None:
    judge = RecordingJudge(tier=0, delay=5)
    result = Detector(judge=judge).detect("I have a rope and I'm going to hang myself tonight")
    assert result.tier >= Tier.URGENT and judge.calls == [], "crisis handling never waits for an LLM"


def test_a_judge_timeout_fails_closed() -> None:
    judge = RecordingJudge(tier=0, delay=5)
    detector = Detector(judge=judge, judge_timeout_seconds=0.05, rules=rules_only(Tier.NONE))
    result = detector.detect("hello there")
    judge.release.set()
    assert result.tier == Tier.UNCLEAR
    assert [s.id for s in result.signals if s.source == "error"] == ["error.judge.timeout"]


def test_a_judge_error_fails_closed() -> None:
    judge = RecordingJudge(tier=0, error=ConnectionError("down"))
    result = Detector(judge=judge, rules=rules_only(Tier.NONE)).detect("hello there")
    assert result.tier == Tier.UNCLEAR and {s.id for s in result.signals} == {"error.judge"}
    assert all("down" not in s.detail for s in result.signals), "only the exception type is kept"


def test_a_classifier_failure_fails_closed() -> None:
    result = Detector(classifier=BrokenClassifier(), rules=rules_only(Tier.NONE)).detect("hello")  # type: ignore[arg-type]
    assert result.tier == Tier.UNCLEAR and "error.classifier" in {s.id for s in result.signals}


def test_a_rules_failure_fails_closed() -> None:
    raising = RaisingScreener()
    result = Detector(rules=lambda text, recent=(): raising(text)).detect("hello")
    assert result.tier >= Tier.UNCLEAR and "error.rules" in {s.id for s in result.signals}


def test_conversation_tier_is_the_highest_reached_turn_by_turn() -> None:
    messages = ["hi", "I've been saving my pills for this weekend", "anyway, next exercise", "ok"]
    assessment, index = detect_conversation(messages)
    assert assessment.tier >= Tier.URGENT and index == 1
    per_turn = [detect(m, recent=messages[:i]).tier for i, m in enumerate(messages)]
    assert assessment.tier == max(per_turn)


def test_llm_judge_against_a_local_openai_compatible_server() -> None:
    with OpenAIStub() as stub:
        stub.reply_json = json.dumps({"tier": 3, "categories": ["active_ideation"]})
        model = ChatOpenAI(base_url=stub.base_url, api_key="not-needed", model="stub", timeout=2, max_retries=0)
        judge = LLMJudge(model, mask=lambda t: t.replace("Sam", "[name]"), model_name="stub")
        detector = Detector(judge=judge, rules=rules_only(Tier.NONE), judge_timeout_seconds=3, judge_cooldown_seconds=0)
        result = detector.detect("Sam keeps saying I should just disappear", recent=["earlier words"])
        assert result.tier == Tier.ACTIVE
        sent = stub.sent_text()
        assert "[name]" in sent and "Sam" not in sent, "identifiers are masked before they leave"
        stub.behaviour = Behaviour.GARBAGE
        assert detector.detect("hello again").tier == Tier.UNCLEAR
        stub.behaviour = Behaviour.SLOW
        stub.slow_seconds = 2
        detector.judge_timeout_seconds = 0.2
        slow = detector.detect("hello once more")
        assert slow.tier == Tier.UNCLEAR and "error.judge.timeout" in {s.id for s in slow.signals}


def test_after_a_judge_failure_the_judge_rests_instead_of_failing_every_turn() -> None:
    now = [1000.0]
    judge = RecordingJudge(tier=0, error=ConnectionError("down"))
    detector = Detector(judge=judge, rules=rules_only(Tier.NONE), judge_cooldown_seconds=60, clock=lambda: now[0])
    assert detector.detect("first").tier == Tier.UNCLEAR
    rested = detector.detect("second")
    assert rested.tier == Tier.NONE and "judge.resting" in {s.id for s in rested.signals}
    assert len(judge.calls) == 1
    now[0] += 61
    judge.error = None
    assert detector.detect("third").tier == Tier.NONE and len(judge.calls) == 2


def test_the_detector_version_names_the_layers_and_fits_the_escalation_record() -> None:
    from companion.models import Escalation

    assert "rules-" in DETECTOR_VERSION and "lr-" in DETECTOR_VERSION
    column = Escalation.model_fields["detector_version"].metadata
    limit = next(m.max_length for m in column if hasattr(m, "max_length"))
    assert len(DETECTOR_VERSION) <= limit
