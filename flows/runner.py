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
    "homework_text",
    "summary_lines",
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


def step_prompt(
    module: Module, index: int, answers: dict[str, Any], facts: dict[str, Any] | None = None
) -> str:
    """Return the scripted text of step `index`, filled with the patient's own words."""
    step = module.step(index)
    if step.kind is StepKind.SUMMARY:
        return summary_text(module, answers, facts)
    text = render(step.prompt, answers, step=step, title=module.title, facts=facts, fallbacks=module.uses_facts)
    if step.kind is StepKind.MULTIPLE_CHOICE:
        text += "\n\n" + "\n".join(f"{n}. {o.label}" for n, o in enumerate(step.options, start=1))
    return text


def homework_text(module: Module, answers: dict[str, Any], facts: dict[str, Any] | None = None) -> str:
    """Return the homework set at the end of the module, in the patient's words where it uses them."""
    return render(module.steps[-1].homework, answers, facts=facts, fallbacks=module.uses_facts)


def summary_lines(module: Module, answers: dict[str, Any], facts: dict[str, Any] | None = None) -> list[str]:
    """Return one Markdown bullet per answered step that has a summary line."""
    return [
        "- " + render(step.summary_line, answers, step=step, facts=facts, fallbacks=module.uses_facts)
        for step in module.steps
        if step.summary_line and step.id in answers
    ]


def summary_text(module: Module, answers: dict[str, Any], facts: dict[str, Any] | None = None) -> str:
    """Return the summary: the module's closing copy, one line per answered step, homework."""
    final = module.steps[-1]
    lines = [render(final.prompt, answers, title=module.title, facts=facts, fallbacks=module.uses_facts), ""]
    lines += summary_lines(module, answers, facts)
    lines += ["", "**Homework:** " + homework_text(module, answers, facts)]
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
    if step.kind is StepKind.SINGLE_CHOICE:
        chosen = _choices(value, step, single=True)
        return chosen[0] if chosen else retry
    if step.kind is StepKind.MULTIPLE_CHOICE:
        chosen = _choices(value, step, single=False)
        return chosen if chosen and step.min_items <= len(chosen) <= step.max_items else retry
    if step.kind is StepKind.LIST:
        items = [i for i in (" ".join(p.split()).strip(" -•*.") for p in _LIST_SPLIT.split(value)) if i]
        return items if step.min_items <= len(items) <= step.max_items else retry
    if step.kind is StepKind.SCHEDULE:
        return value if _WHEN.search(value) else retry
    return retry


_LIST_SPLIT = re.compile(r"[\n;,]+|\s+(?:and|&)\s+(?=\S)")
_WHEN = re.compile(
    r"\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?s?\b|\b(?:today|tonight|tomorrow"
    r"|morning|afternoon|evening|night|lunch(?:time)?|weekend|noon|midday|every ?day|daily|week)\b"
    r"|\b\d{1,2}(?::\d{2})?\s*(?:am|pm|h)\b|\b\d{1,2}:\d{2}\b|\bat \d{1,2}\b",
    re.IGNORECASE,
)


def _choices(text: str, step: Step, *, single: bool) -> list[str]:
    """Match option labels, ids or 1-based numbers; return the chosen labels in option order."""
    folded = " ".join(text.casefold().split()).strip(" .!")
    by_name = {o.label.casefold(): o.label for o in step.options} | {o.id: o.label for o in step.options}
    if folded in by_name:
        return [by_name[folded]]
    if single:
        number = _first_number(folded) if folded.isdigit() else None
        return [step.options[number - 1].label] if number and 1 <= number <= len(step.options) else []
    chosen: list[str] = []
    for part in _LIST_SPLIT.split(folded):
        part = part.strip(" .!")
        if not part:
            continue
        if part.isdigit() and 1 <= int(part) <= len(step.options):
            label = step.options[int(part) - 1].label
        elif part in by_name:
            label = by_name[part]
        else:
            return []
        if label not in chosen:
            chosen.append(label)
    return [o.label for o in step.options if o.label in chosen]


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
