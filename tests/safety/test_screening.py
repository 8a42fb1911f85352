"""Tier-2 screening: content, skip logic, scoring, and yes/no parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from safety.screening import (
    QUESTION_IDS,
    load_screening,
    low_risk_close,
    next_question,
    parse_yes_no,
    screening_tier,
)
from safety.types import Tier


def _walk(replies: dict[str, bool]) -> list[str]:
    screening = load_screening()
    answers: dict[str, bool] = {}
    asked: list[str] = []
    while (question := next_question(answers, screening)) is not None:
        asked.append(question.id)
        answers[question.id] = replies[question.id]
    return asked


def test_content_loads_with_all_constructs() -> None:
    screening = load_screening()
    assert screening.id and screening.version and screening.review_date and screening.intro.strip()
    assert [q.id for q in screening.questions] == list(QUESTION_IDS)
    assert {q.construct for q in screening.questions} >= {
        "wish_to_be_dead", "suicidal_thoughts", "method", "intent", "plan", "behaviour", "behaviour_recent"
    }
    assert "reask" in screening.texts


def test_questions_are_our_own_wording_not_the_c_ssrs() -> None:
    c_ssrs = [
        "Have you wished you were dead or wished you could go to sleep and not wake up?",
        "Have you actually had any thoughts of killing yourself?",
        "Have you been thinking about how you might do this?",
        "Have you had these thoughts and had some intention of acting on them?",
    ]
    texts = {q.text for q in load_screening().questions}
    assert not texts & set(c_ssrs)


def test_no_to_thoughts_skips_to_behaviour() -> None:
    asked = _walk(dict.fromkeys(QUESTION_IDS, False))
    assert asked == ["wish_dead", "thoughts", "behaviour"]


def test_yes_to_thoughts_asks_method_intent_plan() -> None:
    replies = dict.fromkeys(QUESTION_IDS, False) | {"thoughts": True}
    assert _walk(replies) == ["wish_dead", "thoughts", "method", "intent", "plan", "behaviour"]


def test_yes_to_behaviour_asks_recency() -> None:
    replies = dict.fromkeys(QUESTION_IDS, False) | {"behaviour": True}
    assert _walk(replies) == ["wish_dead", "thoughts", "behaviour", "behaviour_recent"]


@pytest.mark.parametrize(
    ("answers", "tier"),
    [
        ({}, Tier.UNCLEAR),
        ({"wish_dead": False, "thoughts": False, "behaviour": False}, Tier.DISTRESS),
        ({"wish_dead": True, "thoughts": False, "behaviour": False}, Tier.UNCLEAR),
        ({"wish_dead": True, "thoughts": True, "method": False, "intent": False, "plan": False,
          "behaviour": False}, Tier.UNCLEAR),
        ({"thoughts": True, "method": True, "intent": False, "plan": False, "behaviour": False}, Tier.ACTIVE),
        ({"thoughts": False, "behaviour": True, "behaviour_recent": False}, Tier.ACTIVE),
        ({"thoughts": False, "behaviour": True, "behaviour_recent": True}, Tier.URGENT),
        ({"thoughts": False, "behaviour": True}, Tier.URGENT),  # recency unknown: fails closed
        ({"thoughts": True, "intent": True}, Tier.URGENT),
        ({"thoughts": True, "method": False, "intent": False, "plan": True}, Tier.URGENT),
    ],
)
def test_screening_tier(answers: dict[str, bool], tier: Tier) -> None:
    assert screening_tier(answers) == tier


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", True), ("Yeah", True), ("y", True), ("yep.", True), ("sometimes", True),
        ("I have", True), ("I do", True), ("kind of", True), ("no, but sometimes", True),
        ("no", False), ("nope", False), ("never", False), ("not really", False), ("n", False),
        ("No.", False), ("I haven't", False), ("nah", False),
        ("", None), ("I don't know", None), ("not sure", None), ("what do you mean?", None),
        ("banana", None),
    ],
)
def test_parse_yes_no(text: str, expected: bool | None) -> None:
    assert parse_yes_no(text) is expected


def test_low_risk_close_lists_resources_and_tells_the_care_team() -> None:
    text = low_risk_close("en-CA")
    assert "9-8-8" in text and "9-1-1" in text
    assert "care team" in text and "not urgent" in text


def test_bad_content_is_rejected_with_the_path(tmp_path: Path) -> None:
    (tmp_path / "screening_questions.yaml").write_text(
        "id: x\nversion: '1'\nreview_date: 2027-01-01\nintro: hi\n"
        "questions:\n  - {id: wish_dead, text: t, construct: c}\ntexts: {reask: r, low_risk_close: c}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="question ids"):
        load_screening(tmp_path)
