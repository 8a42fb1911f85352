from __future__ import annotations

import pytest

from flows.modules import load_library
from flows.runner import (
    AnswerProblem,
    Navigation,
    parse_answer,
    parse_navigation,
    step_prompt,
    summary_text,
)

MODULE = load_library().get("thought-record")
IDX = {s.id: i for i, s in enumerate(MODULE.steps)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("anxious 70, sad 40", [{"name": "anxious", "rating": 70}, {"name": "sad", "rating": 40}]),
        ("Anxious: 70%; sad - 40", [{"name": "anxious", "rating": 70}, {"name": "sad", "rating": 40}]),
        ("I felt ashamed 85", [{"name": "ashamed", "rating": 85}]),
        ("really angry 100", [{"name": "really angry", "rating": 100}]),
    ],
)
def test_ratings_are_read_from_everyday_writing(text: str, expected: list) -> None:
    assert parse_answer(MODULE, IDX["emotions"], text, {}) == expected


@pytest.mark.parametrize("text", ["", "sad", "sad 140", "70", "a 1, b 2, c 3, d 4, e 5"])
def test_ratings_that_do_not_fit_get_the_retry_copy(text: str) -> None:
    problem = parse_answer(MODULE, IDX["emotions"], text, {})
    assert isinstance(problem, AnswerProblem) and "0 to 100" in problem.message


def test_rerate_accepts_bare_numbers_in_order_or_names() -> None:
    earlier = {"emotions": [{"name": "anxious", "rating": 70}, {"name": "sad", "rating": 40}]}
    assert parse_answer(MODULE, IDX["rerate"], "30 20", earlier) == [
        {"name": "anxious", "rating": 30}, {"name": "sad", "rating": 20}
    ]
    assert parse_answer(MODULE, IDX["rerate"], "sad 10", earlier) == [{"name": "sad", "rating": 10}]
    assert isinstance(parse_answer(MODULE, IDX["rerate"], "30", earlier), AnswerProblem)


def test_free_text_is_kept_verbatim_and_empty_is_refused() -> None:
    assert parse_answer(MODULE, IDX["situation"], "  At work <b>today</b> ", {}) == "At work <b>today</b>"
    assert isinstance(parse_answer(MODULE, IDX["situation"], "   ", {}), AnswerProblem)


def test_prompts_reflect_the_patient_words_as_inert_markdown() -> None:
    answers = {"situation": "My boss ![x](http://evil.example/a.png) <script>alert(1)</script>"}
    text = step_prompt(MODULE, IDX["emotions"], answers)
    assert "My boss" in text
    assert "![x](" not in text and "<script>" not in text, "markup in patient words is escaped"


def test_summary_lists_every_answer_and_the_homework() -> None:
    answers = {
        "situation": "meeting", "emotions": [{"name": "anxious", "rating": 70}], "automatic_thought": "I'll fail",
        "evidence_for": "late once", "evidence_against": "praised", "balanced_thought": "I'm learning",
        "rerate": [{"name": "anxious", "rating": 30}],
    }
    text = summary_text(MODULE, answers)
    for fragment in ("meeting", "anxious 70", "I'll fail", "late once", "praised", "learning", "anxious 30", "Homework"):
        assert fragment in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("pause", Navigation.PAUSE), ("Back", Navigation.BACK), ("skip!", Navigation.SKIP),
     ("I want to go back to work", None), ("next week I will stop", None)],
)
def test_navigation_words_only_when_alone(text: str, expected: Navigation | None) -> None:
    assert parse_navigation(text) is expected
