"""Standardised questionnaires (PHQ-9, GAD-7) as content: schema, loader, answer parsing, scoring.

A questionnaire is a YAML file in `content/questionnaires/` with its items verbatim, response
options with their scores and LOINC answer codes, the published severity bands, an unscored
difficulty item and our own plain-language intro, retry and closing. This module is pure: it
loads and scores; asking the questions in chat is the flow's job. A positive answer on the
`risk_item` (PHQ-9 item 9) is reported in the score whatever the total, so the flow can route
to the risk screening.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows.content import ContentError, read_yaml
from safety.paths import CONTENT_ROOT

__all__ = [
    "QUESTIONNAIRES_DIR",
    "Band",
    "Difficulty",
    "DifficultyOption",
    "Item",
    "Option",
    "Questionnaire",
    "QuestionnaireScore",
    "line_of",
    "load_questionnaire",
    "load_questionnaires",
    "parse_difficulty",
    "parse_option",
    "read_questionnaire",
    "schema_problems",
    "score",
    "yaml_lines",
]

QUESTIONNAIRES_DIR = CONTENT_ROOT / "questionnaires"
LOINC = r"^\d+-\d$"
LOINC_ANSWER = r"^LA\d+-\d$"


class Option(BaseModel):
    """A scored response option; `synonyms` are everyday answers that mean the same."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=1)
    score: int = Field(ge=0)
    loinc: str = Field(pattern=LOINC_ANSWER)
    synonyms: tuple[str, ...] = ()


class Item(BaseModel):
    """A scored item, its text verbatim from the instrument."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    number: int = Field(ge=1)
    loinc: str = Field(pattern=LOINC)
    text: str = Field(min_length=1)


class Band(BaseModel):
    """A severity band of the total, inclusive at both ends."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z_]*$")
    min: int = Field(ge=0)
    max: int = Field(ge=0)
    label: str = Field(min_length=1)


class DifficultyOption(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=1)
    loinc: str = Field(pattern=LOINC_ANSWER)
    synonyms: tuple[str, ...] = ()


class Difficulty(BaseModel):
    """The unscored "how difficult have these problems made it" item."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    loinc: str | None = Field(None, pattern=LOINC)
    text: str = Field(min_length=1)
    options: tuple[DifficultyOption, ...] = Field(min_length=2)
    retry: str = Field(min_length=1)


class Questionnaire(BaseModel):
    """One instrument: items, options, bands, and the texts we say around it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    title: str
    name: str
    review_date: date
    reviewed_by: str
    copyright: str = Field(min_length=1)
    licence: str = Field(min_length=1)
    source: str = Field(min_length=1)
    panel_loinc: str = Field(pattern=LOINC)
    total_loinc: str = Field(pattern=LOINC)
    stem: str = Field(min_length=1)
    options: tuple[Option, ...] = Field(min_length=2)
    items: tuple[Item, ...] = Field(min_length=1)
    risk_item: int | None = None
    bands: tuple[Band, ...] = Field(min_length=1)
    difficulty: Difficulty | None = None
    intro: str = Field(min_length=1)
    retry: str = Field(min_length=1)
    closing: str = Field(min_length=1)

    @property
    def content_id(self) -> str:
        """Return "id@version" for stored answers and audit records."""
        return f"{self.id}@{self.version}"

    @property
    def max_total(self) -> int:
        return len(self.items) * max(o.score for o in self.options)

    def item(self, number: int) -> Item:
        """Return the item with this number (1-based)."""
        return self.items[number - 1]

    def band_for(self, total: int) -> Band:
        """Return the severity band a total falls in."""
        for band in self.bands:
            if band.min <= total <= band.max:
                return band
        raise ValueError(f"{self.id}: total {total} is outside 0..{self.max_total}")


class QuestionnaireScore(BaseModel):
    """A scored response. `band` is None until every item is answered (no prorating)."""

    model_config = ConfigDict(frozen=True)

    total: int
    band: Band | None
    complete: bool
    risk_item_positive: bool


def yaml_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Map each key path in a YAML document (("items", 2, "text")) to its 1-based line."""
    lines: dict[tuple[str | int, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[str | int, ...]) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, str(key.value))
                walk(value, child)
                lines[child] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                walk(value, (*path, index))

    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    if root is not None:
        walk(root, ())
    return lines


def line_of(lines: Mapping[tuple[str | int, ...], int], loc: tuple[str | int, ...]) -> int:
    """Return the line of the longest prefix of `loc` that the document has (else 1)."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def schema_problems(exc: ValidationError, lines: Mapping[tuple[str | int, ...], int]) -> tuple[int, str]:
    """Return the line of the first error found in the file and up to three errors as text."""
    errors = exc.errors()
    located = [e for e in errors if tuple(e["loc"]) in lines] or errors
    text = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:3])
    return line_of(lines, tuple(located[0]["loc"])), text


def read_questionnaire(path: Path) -> Questionnaire:
    """Load and validate one questionnaire file.

    Raises:
        ContentError: naming the file and line of the first problem found.
    """
    data = read_yaml(path)
    lines = yaml_lines(path.read_text(encoding="utf-8"))
    try:
        questionnaire = Questionnaire.model_validate(data)
    except ValidationError as exc:
        line, problems = schema_problems(exc, lines)
        raise ContentError(path, line, f"does not fit the questionnaire schema: {problems}") from exc
    _check(questionnaire, path, lines)
    return questionnaire


def _check(q: Questionnaire, path: Path, lines: Mapping[tuple[str | int, ...], int]) -> None:
    def fail(loc: tuple[str | int, ...], problem: str) -> ContentError:
        return ContentError(path, line_of(lines, loc), problem)

    if q.id != path.stem:
        raise fail(("id",), f"id {q.id!r} does not match the file name {path.name!r}")
    for index, item in enumerate(q.items):
        if item.number != index + 1:
            raise fail(("items", index, "number"), f"item {item.id!r} is number {item.number}; items are numbered 1..{len(q.items)} in order")
    ids = [i.id for i in q.items] + ([q.difficulty.id] if q.difficulty else [])
    if len(set(ids)) != len(ids):
        raise fail(("items",), f"item ids must be unique: {ids}")
    scores = [o.score for o in q.options]
    for index, value in enumerate(scores):
        if value != index:
            raise fail(("options", index, "score"), f"option scores must run 0, 1, 2, ... in order; got {scores}")
    expected = 0
    for index, band in enumerate(q.bands):
        if band.min != expected or band.max < band.min:
            raise fail(("bands", index), f"band {band.id!r} ({band.min}-{band.max}) leaves a gap or overlap; it should start at {expected}")
        expected = band.max + 1
    if expected != q.max_total + 1:
        raise fail(("bands",), f"bands end at {expected - 1}; they must cover 0..{q.max_total}")
    if q.risk_item is not None and not 1 <= q.risk_item <= len(q.items):
        raise fail(("risk_item",), f"risk_item {q.risk_item} is not an item number (1..{len(q.items)})")
    answers: dict[str, int] = {}
    for index, option in enumerate(q.options):
        for word in (option.label, *option.synonyms):
            if answers.setdefault(_normal(word), option.score) != option.score:
                raise fail(("options", index), f"{word!r} is used by two options")


def load_questionnaire(questionnaire_id: str, *, directory: Path = QUESTIONNAIRES_DIR) -> Questionnaire:
    """Load one questionnaire by id ("phq9", "gad7").

    Raises:
        KeyError: No file for that id; the message lists the known ids.
        ContentError: The file does not validate.
    """
    path = directory / f"{questionnaire_id}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in directory.glob("*.yaml"))
        raise KeyError(f"no questionnaire {questionnaire_id!r} in {directory}; known: {known}")
    return read_questionnaire(path)


def load_questionnaires(directory: Path = QUESTIONNAIRES_DIR) -> dict[str, Questionnaire]:
    """Load every questionnaire in the folder, by id."""
    found = {q.id: q for q in (read_questionnaire(p) for p in sorted(directory.glob("*.yaml")))}
    if not found:
        raise ContentError(directory, 0, "no questionnaire files found")
    return found


def _normal(text: str) -> str:
    text = text.casefold().replace("’", "'")
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text).split())


def parse_option(q: Questionnaire, text: str) -> int | None:
    """Read a patient's answer as an option score, or None if it is not clearly one option.

    Accepts the option label in any case, its score as a digit ("0".."3"), or one of the
    option's synonyms ("never" -> Not at all). The whole answer must match: "not at all sure"
    is None, so the flow asks again rather than guess.
    """
    wanted = _normal(text)
    for option in q.options:
        if wanted == str(option.score) or wanted in {_normal(w) for w in (option.label, *option.synonyms)}:
            return option.score
    return None


def parse_difficulty(q: Questionnaire, text: str) -> int | None:
    """Read an answer to the difficulty item as the index of its option, or None."""
    if q.difficulty is None:
        return None
    wanted = _normal(text)
    for index, option in enumerate(q.difficulty.options):
        if wanted in {_normal(w) for w in (option.label, *option.synonyms)}:
            return index
    return None


def score(q: Questionnaire, answers: Mapping[str, int]) -> QuestionnaireScore:
    """Score answers (item id -> option score) as published: the sum of the item scores.

    The difficulty item's id may be present and is ignored. `risk_item_positive` is True when
    the risk item (PHQ-9 item 9) was answered above 0, whatever the total and even before the
    questionnaire is complete.

    Raises:
        ValueError: An unknown item id or a score that is not one of the options.
    """
    scored = {item.id for item in q.items}
    allowed = {o.score for o in q.options}
    ignored = {q.difficulty.id} if q.difficulty else set()
    for key, value in answers.items():
        if key in ignored:
            continue
        if key not in scored:
            raise ValueError(f"{q.id}: unknown item {key!r}; items are {sorted(scored)}")
        if isinstance(value, bool) or value not in allowed:
            raise ValueError(f"{q.id}: item {key!r} has score {value!r}; allowed {sorted(allowed)}")
    total = sum(answers[i] for i in scored if i in answers)
    complete = scored <= answers.keys()
    risk = q.risk_item is not None and answers.get(q.item(q.risk_item).id, 0) > 0
    return QuestionnaireScore(total=total, band=q.band_for(total) if complete else None, complete=complete,
                              risk_item_positive=risk)

