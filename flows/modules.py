"""CBT modules as content: the schema, the loader, and a general runner.

A module is a Markdown file in `content/cbt_modules/`: YAML front matter declares its steps
(id and kind), `## <step-id>` sections hold the copy. The runner knows step kinds, never
particular modules: adding a module is adding a file.
"""

from __future__ import annotations

import re
import string
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows.content import ContentError, read_markdown
from flows.text import quote_patient_text
from safety.paths import CONTENT_ROOT

__all__ = [
    "Module",
    "ModuleLibrary",
    "Option",
    "PersonalisationLimits",
    "Step",
    "StepKind",
    "load_library",
    "load_module",
    "placeholders",
]

MODULES_DIR = CONTENT_ROOT / "cbt_modules"


class StepKind(StrEnum):
    PSYCHOEDUCATION = "psychoeducation"  # read, then go on
    FREE_TEXT = "free_text"
    SCALE = "scale"  # one whole number between min and max
    RATINGS = "ratings"  # named items, each rated between min and max ("sad 80, anxious 60")
    RERATE = "rerate"  # re-rate the items of an earlier ratings step
    SINGLE_CHOICE = "single_choice"  # one of `options` (buttons)
    MULTIPLE_CHOICE = "multiple_choice"  # several of `options`, typed as names or numbers
    LIST = "list"  # several short items, one per line or separated by commas
    SCHEDULE = "schedule"  # something to do, with when (a day or a time)
    SUMMARY = "summary"  # what the patient produced, then homework


ANSWERED_KINDS = {
    StepKind.FREE_TEXT, StepKind.SCALE, StepKind.RATINGS, StepKind.RERATE, StepKind.SINGLE_CHOICE,
    StepKind.MULTIPLE_CHOICE, StepKind.LIST, StepKind.SCHEDULE,
}
CHOICE_KINDS = {StepKind.SINGLE_CHOICE, StepKind.MULTIPLE_CHOICE}


class PersonalisationLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    may: tuple[str, ...] = ()
    must_not: tuple[str, ...] = ()


class Option(BaseModel):
    """One answer of a choice step; the label is shown on its button and is what the patient sends."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    label: str = Field(min_length=1, max_length=60)


class Step(BaseModel):
    """One step; `prompt`, `retry`, `summary_line` and `homework` come from the Markdown copy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    kind: StepKind
    min: int = 0
    max: int = 100
    min_items: int = Field(1, ge=1, le=10)
    max_items: int = Field(5, ge=1, le=10)
    options: tuple[Option, ...] = ()
    remember_as: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$")
    ratings_from: str | None = None
    optional: bool = False
    prompt: str = ""
    retry: str = ""
    summary_line: str = ""
    homework: str = ""

    @property
    def expects_answer(self) -> bool:
        return self.kind in ANSWERED_KINDS


class Module(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    title: str
    description: str
    review_date: date
    reviewed_by: str
    estimated_minutes: int = Field(ge=1, le=120)
    prerequisites: tuple[str, ...] = ()
    personalisation: PersonalisationLimits = PersonalisationLimits()
    show_in_crisis: bool = Field(
        False, description="the patient's summary of this module is shown with every crisis reply (a safety plan)"
    )
    uses_facts: dict[str, str] = Field(
        default_factory=dict, description="facts remembered from earlier modules, with fallback wording"
    )
    steps: tuple[Step, ...]

    @property
    def content_id(self) -> str:
        return f"{self.id}@{self.version}"

    def step(self, index: int) -> Step:
        return self.steps[index]

    def index_of(self, step_id: str) -> int:
        return next(i for i, s in enumerate(self.steps) if s.id == step_id)


def placeholders(template: str) -> set[str]:
    """Return the `{names}` a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def load_module(path: Path) -> Module:
    """Load and validate one module file.

    Raises:
        ContentError: naming the file and line of the first problem found.
    """
    doc = read_markdown(path)
    raw_steps = doc.meta.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ContentError(path, 2, "front matter needs a non-empty 'steps' list")
    steps: list[dict[str, Any]] = []
    for raw in raw_steps:
        if not isinstance(raw, dict) or "id" not in raw:
            raise ContentError(path, 2, f"each step needs an id: {raw!r}")
        sid = str(raw["id"])
        if sid not in doc.sections:
            raise ContentError(path, 2, f"step {sid!r} has no '## {sid}' section with its copy")
        sub = doc.subsections.get(sid, {})
        steps.append(
            {
                **raw,
                "prompt": doc.sections[sid],
                "retry": sub.get("retry", ""),
                "summary_line": sub.get("summary", ""),
                "homework": sub.get("homework", ""),
            }
        )
    for section, line in doc.section_lines.items():
        if section not in {s["id"] for s in steps}:
            raise ContentError(path, line, f"section '## {section}' is not a step in the front matter")
    try:
        module = Module.model_validate({**doc.meta, "steps": steps})
    except ValidationError as exc:
        raise ContentError(path, 2, f"front matter does not fit the module schema: {exc}") from exc
    _check_structure(module, path, doc.section_lines)
    return module


def _check_structure(module: Module, path: Path, lines: dict[str, int]) -> None:
    seen: list[str] = []
    kinds: dict[str, StepKind] = {}
    for step in module.steps:
        line = lines.get(step.id, 2)
        if step.id in seen:
            raise ContentError(path, line, f"step id {step.id!r} is used twice")
        if not step.prompt:
            raise ContentError(path, line, f"step {step.id!r} has an empty prompt")
        if step.expects_answer and not step.retry:
            raise ContentError(path, line, f"step {step.id!r} needs a '### retry' subsection")
        if step.min >= step.max:
            raise ContentError(path, line, f"step {step.id!r}: min must be below max")
        used = placeholders(step.prompt) | placeholders(step.summary_line) | placeholders(step.retry)
        unknown = used - set(seen) - set(module.uses_facts) - {step.id, "min", "max", "title"}
        if unknown:
            raise ContentError(path, line, f"step {step.id!r} uses {sorted(unknown)} before they are asked")
        if step.kind is StepKind.RERATE and kinds.get(step.ratings_from or "") is not StepKind.RATINGS:
            raise ContentError(path, line, f"step {step.id!r}: ratings_from must name an earlier ratings step")
        if (step.kind in CHOICE_KINDS) != bool(step.options):
            raise ContentError(path, line, f"step {step.id!r}: options go with (and only with) choice steps")
        if len({o.id for o in step.options}) != len(step.options):
            raise ContentError(path, line, f"step {step.id!r}: option ids must be unique")
        if step.min_items > step.max_items:
            raise ContentError(path, line, f"step {step.id!r}: min_items is above max_items")
        seen.append(step.id)
        kinds[step.id] = step.kind
    if module.steps[-1].kind is not StepKind.SUMMARY:
        raise ContentError(path, 2, "the last step must be a summary")
    if not module.steps[-1].homework:
        raise ContentError(path, lines.get(module.steps[-1].id, 2), "the summary needs a '### homework' subsection")


class ModuleLibrary(BaseModel):
    """All modules by id, in file order."""

    model_config = ConfigDict(frozen=True)

    modules: dict[str, Module]

    def get(self, module_id: str) -> Module:
        try:
            return self.modules[module_id]
        except KeyError:
            raise KeyError(f"no module with id {module_id!r}; known: {sorted(self.modules)}") from None

    def find(self, text: str) -> Module | None:
        """Find a module named in the patient's words (id or title)."""
        wanted = re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()
        for module in self.modules.values():
            names = {module.id.replace("-", " "), re.sub(r"[^a-z0-9]+", " ", module.title.casefold()).strip()}
            if wanted in names:
                return module
        return None


def load_library(directory: Path = MODULES_DIR) -> ModuleLibrary:
    """Load every `NN-<id>.md` module; refuse duplicates and unknown prerequisites."""
    modules: dict[str, Module] = {}
    for path in sorted(directory.glob("*.md")):
        module = load_module(path)
        if module.id in modules:
            raise ContentError(path, 2, f"module id {module.id!r} is used by another file too")
        modules[module.id] = module
    for module in modules.values():
        for prerequisite in module.prerequisites:
            if prerequisite not in modules:
                raise ContentError(MODULES_DIR / f"?-{module.id}.md", 2, f"unknown prerequisite {prerequisite!r}")
    if not modules:
        raise ContentError(directory, 0, "no module files found")
    return ModuleLibrary(modules=modules)


def render(
    template: str,
    answers: dict[str, Any],
    *,
    step: Step | None = None,
    title: str = "",
    facts: dict[str, Any] | None = None,
    fallbacks: dict[str, str] | None = None,
) -> str:
    """Fill `{name}` placeholders with the patient's own words, quoted safely for Markdown.

    Names are this module's earlier step ids, then facts remembered from earlier modules (with
    the module's fallback wording when a fact is not known yet).
    """
    values: dict[str, str] = {"title": title, **(fallbacks or {})}
    if step is not None:
        values |= {"min": str(step.min), "max": str(step.max)}
    for key, value in (facts or {}).items():
        values[key] = format_answer(value)
    for key, value in answers.items():
        values[key] = format_answer(value)
    return template.format_map(_Missing(values))


def format_answer(value: Any) -> str:
    """Show a stored answer: ratings as "name 70", lists joined, text quoted safely."""
    if isinstance(value, list):
        return ", ".join(
            f"{quote_patient_text(str(item['name']))} {item['rating']}" if isinstance(item, dict)
            else quote_patient_text(str(item))
            for item in value
        )
    if isinstance(value, int):
        return str(value)
    return quote_patient_text(str(value))


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"
