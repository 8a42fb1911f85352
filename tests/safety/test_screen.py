"""Risk screen: every labelled English case (cases.yaml, cases_<topic>.yaml), fail-closed behaviour,
context, help requests. The multilingual cases (cases_languages.yaml) run in test_languages.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from safety.fakes import FixedScreener, RaisingScreener
from safety.screen import DETECTOR_VERSION, assess, screen_message, wants_crisis_resources
from safety.types import Assessment, Category, Tier
from tests.safety.case_check import check_case

HERE = Path(__file__).parent
CASE_FILES = sorted(p for p in HERE.glob("cases*.yaml") if p.name != "cases_languages.yaml")
CASES: list[dict[str, Any]] = [
    case | {"file": path.stem}
    for path in CASE_FILES
    for case in yaml.safe_load(path.read_text("utf-8"))
]


def _case_id(index: int, case: dict[str, Any]) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", case["text"].lower()).strip("-")[:40] or "blank"
    return f"{case['file']}-{index:03d}-{slug}"


def test_cases_files_are_big_and_well_formed() -> None:
    assert len(CASES) >= 400
    assert len({c["text"] for c in CASES}) == len(CASES), "each case once"
    for case in CASES:
        case = {k: v for k, v in case.items() if k != "file"}
        assert set(case) <= {"text", "min_tier", "max_tier", "categories"}
        assert 0 <= case["min_tier"] <= case["max_tier"] <= 5
        for category in case.get("categories", []):
            Category(category)


def test_cases_cover_every_category_and_tier() -> None:
    covered = {c for case in CASES for c in case.get("categories", [])}
    wanted = {Category.PASSIVE_IDEATION, Category.ACTIVE_IDEATION, Category.SELF_HARM,
              Category.METHOD_PLAN, Category.PREPARATION, Category.INTENT, Category.RECENT_ATTEMPT,
              Category.IMMINENT, Category.HARM_TO_OTHERS, Category.ABUSE_DISCLOSURE,
              Category.DISTRESS, Category.HELP_REQUEST, Category.MEDICAL_EMERGENCY}
    assert wanted <= covered
    assert {case["min_tier"] for case in CASES} == {0, 1, 2, 3, 4, 5}


@pytest.mark.parametrize("case", CASES, ids=[_case_id(i, c) for i, c in enumerate(CASES)])
def test_case(case: dict[str, Any]) -> None:
    check_case(case)


def test_assessment_names_detector_version_and_rules_not_text() -> None:
    text = "I want to kill myself, said Alexandra"
    result = screen_message(text)
    assert result.detector_version == DETECTOR_VERSION
    assert result.signals and all(s.source == "rules" for s in result.signals)
    for signal in result.signals:
        dumped = signal.model_dump_json().lower()
        assert "alexandra" not in dumped and "kill myself" not in dumped


def test_third_party_risk_is_tier_one_with_a_marked_id() -> None:
    result = screen_message("my friend said she wanted to die")
    assert result.tier == Tier.DISTRESS
    assert any(s.id.endswith(".third_party") for s in result.signals)


def test_hypothetical_is_capped_at_unclear() -> None:
    result = screen_message("what if I ever wanted to kill myself, what would happen")
    assert result.tier == Tier.UNCLEAR
    assert any(s.id.endswith(".hypothetical") for s in result.signals)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_blank_text_is_tier_zero(text: str) -> None:
    assert assess(text).tier == Tier.NONE
    assert screen_message(text).tier == Tier.NONE


def test_assess_fails_closed_when_the_screener_raises() -> None:
    screener = RaisingScreener()
    result = assess("anything at all", screener=screener)
    assert screener.calls == 1
    assert result.tier == Tier.UNCLEAR
    assert result.categories == (Category.SCREEN_ERROR,)
    (signal,) = result.signals
    assert (signal.source, signal.id, signal.category) == ("error", "error.rules", Category.SCREEN_ERROR)
    assert result.detector_version == DETECTOR_VERSION


def test_assess_fails_closed_when_normalise_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str) -> str:
        raise UnicodeError("boom")

    monkeypatch.setattr("safety.screen.normalise", broken)
    result = assess("hello there")
    assert result.tier == Tier.UNCLEAR
    assert result.signals[0].id == "error.rules"
    assert wants_crisis_resources("hello there") is True


def test_assess_error_signal_holds_no_patient_text() -> None:
    result = assess("my secret words", screener=RaisingScreener(ValueError("my secret words")))
    assert "secret" not in result.model_dump_json()


def test_assess_uses_the_injected_screener() -> None:
    result = assess("whatever", screener=FixedScreener(Tier.URGENT, Category.METHOD_PLAN))
    assert result.tier == Tier.URGENT


def test_bare_yes_carries_risk_from_recent_messages() -> None:
    assert assess("yes I have").tier == Tier.NONE
    result = assess("yes I have", recent=["I keep thinking about killing myself"])
    assert result.tier == Tier.ACTIVE
    assert any(s.source == "context" for s in result.signals)


def test_time_after_ideation_is_urgent() -> None:
    result = assess("tonight", recent=["I want to end my life"])
    assert result.tier == Tier.URGENT
    assert Category.INTENT in result.categories


def test_mild_recent_context_raises_nothing() -> None:
    assert assess("yes", recent=["I went for a walk"]).tier == Tier.NONE
    assert assess("I made a cup of tea", recent=["I want to die"]).tier == Tier.NONE


def test_context_never_lowers_the_message_tier() -> None:
    assert assess("I've taken an overdose", recent=["hello"]).tier == Tier.EMERGENCY


@pytest.mark.parametrize(
    "text",
    ["help", "Help!", "crisis", "I need help now", "give me the helpline numbers",
     "who can I call", "please send me the crisis line number", "I need to talk to someone now"],
)
def test_wants_crisis_resources(text: str) -> None:
    assert wants_crisis_resources(text) is True


@pytest.mark.parametrize(
    "text",
    ["I need help with my homework", "can you help me plan my week", "hello", "the crisis in the news",
     "my helper at work is nice", ""],
)
def test_does_not_want_crisis_resources(text: str) -> None:
    assert wants_crisis_resources(text) is False


def test_help_request_is_tier_zero_or_one() -> None:
    result = screen_message("give me the helpline numbers")
    assert result.tier <= Tier.DISTRESS
    assert Category.HELP_REQUEST in result.categories


def test_result_is_an_assessment_for_junk() -> None:
    junk = bytes(range(256)).decode("utf-8", errors="replace") * 20
    assert isinstance(assess(junk), Assessment)
