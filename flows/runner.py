"""The general module runner: what a step says, how an answer is read, what the summary shows.

Nothing here knows a particular module; behaviour hangs off `StepKind` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flows.modules import Module, Step, StepKind, render

__all__ = [
    "AnswerProblem",
    "Navigation",
    "parse_answer",
    "parse_navigation",
    "step_prompt",
    "summary_text",
]

_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
_PAIR = re.compile(r"(?P<name>[^\W\d_][^\d,;:=\n]*?)\s*[:=\-–]?\s*(?P<value>-?\d+(?:[.,]\d+)?)\s*%?")


class Navigation(StrEnum):
    PAUSE = "pause"
    BACK = "back"
    SKIP = "skip"


_NAVIGATION_WORDS = {
    Navigation.PAUSE: {"pause", "stop", "later", "take a break", "save for later"},
    Navigation.BACK: {"back", "go back", "previous"},
    Navigation.SKIP: {"skip", "next"},
}


def parse_navigation(text: str) -> Navigation | None:
    """Recognise a bare navigation word ('pause', 'back', 'skip'); anything longer is an answer."""
    words = " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())
    for command, names in _NAVIGATION_WORDS.items():
        if words in names:
            return command
    return None


@dataclass(frozen=True)
class AnswerProblem:
    """The answer did not fit the step; `message` is the step's retry copy."""

    message: str


def step_prompt(module: Module, index: int, answers: dict[str, Any]) -> str:
    """Return the scripted text of step `index`, filled with the patient's earlier answers."""
    step = module.step(index)
    if step.kind is StepKind.SUMMARY:
        return summary_text(module, answers)
    return render(step.prompt, answers, step=step, title=module.title)


def summary_text(module: Module, answers: dict[str, Any]) -> str:
    """Return the summary: the module's closing copy, one line per answered step, homework."""
    final = module.steps[-1]
    lines = [render(final.prompt, answers, title=module.title), ""]
    for step in module.steps:
        if step.summary_line and step.id in answers:
            lines.append("- " + render(step.summary_line, answers, step=step))
    lines += ["", "**Homework:** " + render(final.homework, answers)]
    return "\n".join(lines)


def parse_answer(module: Module, index: int, text: str, answers: dict[str, Any]) -> Any | AnswerProblem:
    """Read the patient's answer to step `index`; return the value to store or an AnswerProblem."""
    step = module.step(index)
    retry = AnswerProblem(render(step.retry, answers, step=step) if step.retry else "")
    value = text.strip()
    if step.kind is StepKind.PSYCHOEDUCATION:
        return ""
    if not value:
        return retry
    if step.kind is StepKind.FREE_TEXT:
        return value
    if step.kind is StepKind.SCALE:
        number = _first_number(value)
        return number if number is not None and step.min <= number <= step.max else retry
    if step.kind is StepKind.RATINGS:
        return _ratings(value, step) or retry
    if step.kind is StepKind.RERATE:
        earlier = answers.get(step.ratings_from or "", [])
        return _rerate(value, step, earlier) or retry
    return retry


def _first_number(text: str) -> int | None:
    match = _NUMBER.search(text)
    if match is None:
        return None
    return round(float(match.group().replace(",", ".")))


def _ratings(text: str, step: Step) -> list[dict[str, Any]] | None:
    items: list[dict[str, Any]] = []
    for match in _PAIR.finditer(text):
        name = " ".join(match["name"].split()).strip(" -–:=").casefold()
        name = re.sub(r"^(and|&|i felt|i feel|felt|feeling)\s+", "", name)
        value = round(float(match["value"].replace(",", ".")))
        if not name or not step.min <= value <= step.max:
            return None
        items.append({"name": name[:40], "rating": value})
    if not items or len(items) > step.max_items:
        return None
    return items


def _rerate(text: str, step: Step, earlier: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    named = _ratings(text, step)
    if named:
        known = {item["name"] for item in earlier}
        if known and all(item["name"] in known for item in named):
            return named
    numbers = [round(float(n.replace(",", "."))) for n in _NUMBER.findall(text)]
    if earlier and len(numbers) == len(earlier) and all(step.min <= n <= step.max for n in numbers):
        return [{"name": item["name"], "rating": n} for item, n in zip(earlier, numbers, strict=True)]
    return named if named and not earlier else None
