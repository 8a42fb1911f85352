"""The runner's step kinds beyond free text and ratings: choices, lists, schedules, remembered facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.content import ContentError
from flows.modules import StepKind, load_module
from flows.runner import AnswerProblem, homework_text, parse_answer, step_prompt

MODULE = """---
id: kinds
version: 1.0.0
title: Kinds
description: Every step kind.
review_date: 2027-01-01
reviewed_by: Test
estimated_minutes: 5
uses_facts:
  value: something that matters to you
steps:
  - id: area
    kind: single_choice
    options:
      - {id: work, label: Work}
      - {id: family, label: Family and friends}
      - {id: health, label: Health}
  - id: helps
    kind: multiple_choice
    max_items: 2
    options:
      - {id: walk, label: A walk}
      - {id: music, label: Music}
      - {id: call, label: Calling someone}
  - id: ideas
    kind: list
    min_items: 2
    max_items: 4
    remember_as: value
  - id: plan
    kind: schedule
  - id: mood
    kind: scale
    min: 0
    max: 10
  - id: summary
    kind: summary
---

## area
Which part of life matters most to you right now? Something close to {value}?

### retry
Please pick one of the buttons.

## helps
Which of these help you? Type the numbers.

### retry
Please type one or two numbers from the list.

## ideas
List two to four small things you could do.

### retry
Please write two to four things, one per line or separated by commas.

## plan
When will you do {ideas}?

### retry
Please add a day or a time, like "Saturday morning".

## mood
How is your mood from {min} to {max}?

### retry
Please send a number from {min} to {max}.

## summary
Done.

### homework
Try one of these: {ideas}.
"""


@pytest.fixture
def module(tmp_path: Path):
    path = tmp_path / "01-kinds.md"
    path.write_text(MODULE, encoding="utf-8")
    return load_module(path)


def test_single_choice_takes_a_label_an_id_or_a_number(module) -> None:
    assert parse_answer(module, 0, "family and friends", {}) == "Family and friends"
    assert parse_answer(module, 0, "health", {}) == "Health"
    assert parse_answer(module, 0, "1", {}) == "Work"
    assert isinstance(parse_answer(module, 0, "4", {}), AnswerProblem)
    assert isinstance(parse_answer(module, 0, "money", {}), AnswerProblem)


def test_multiple_choice_takes_numbers_or_labels_within_limits(module) -> None:
    assert parse_answer(module, 1, "3, 1", {}) == ["A walk", "Calling someone"]
    assert parse_answer(module, 1, "music and a walk", {}) == ["A walk", "Music"]
    assert isinstance(parse_answer(module, 1, "1, 2, 3", {}), AnswerProblem)
    assert isinstance(parse_answer(module, 1, "1, dancing", {}), AnswerProblem)
    assert "1. A walk" in step_prompt(module, 1, {})


def test_list_items_split_on_lines_commas_and_and(module) -> None:
    assert parse_answer(module, 2, "- call Sam\n- tidy the desk", {}) == ["call Sam", "tidy the desk"]
    assert parse_answer(module, 2, "walk, read and cook", {}) == ["walk", "read", "cook"]
    assert isinstance(parse_answer(module, 2, "just one thing", {}), AnswerProblem)


def test_schedule_needs_a_day_or_time(module) -> None:
    assert parse_answer(module, 3, "Walk on Saturday morning", {}) == "Walk on Saturday morning"
    assert parse_answer(module, 3, "at 7pm after dinner", {}) == "at 7pm after dinner"
    assert isinstance(parse_answer(module, 3, "go for a walk", {}), AnswerProblem)


def test_scale_zero_to_ten(module) -> None:
    assert parse_answer(module, 4, "about 7", {}) == 7
    assert isinstance(parse_answer(module, 4, "11", {}), AnswerProblem)
    assert "from 0 to 10" in step_prompt(module, 4, {})


def test_remembered_facts_fill_later_wording_with_a_fallback(module) -> None:
    assert "something that matters to you" in step_prompt(module, 0, {})
    assert "walk, read" in step_prompt(module, 0, {}, facts={"value": ["walk", "read"]})
    assert module.step(2).remember_as == "value"
    assert "walk, read" in homework_text(module, {"ideas": ["walk", "read"]})


def test_choice_steps_need_options_and_only_they_have_them(tmp_path: Path) -> None:
    path = tmp_path / "01-kinds.md"
    path.write_text(MODULE.replace("    kind: list\n", "    kind: list\n    options: [{id: a, label: A}]\n"), encoding="utf-8")
    with pytest.raises(ContentError, match="options go with"):
        load_module(path)
    assert StepKind.SCHEDULE.value == "schedule"


def test_a_single_press_answers_a_multiple_choice_step(module) -> None:
    assert parse_answer(module, 1, "Music", {}) == ["Music"]
