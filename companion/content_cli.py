"""`companion content validate`: check every content file and the readability of patient-facing text.

Each file goes through the loader the app uses (modules, consent, chat copy, screening
questions, crisis resources and replies, questionnaires, the reviewers' response targets), plus checks across files (unique
module ids, prerequisites that resolve and do not loop). The safety rule files
(`safety/data/rules*.yaml`) are checked for YAML syntax only. A file under `content/` that no
check knows is a problem too, so nothing ships unchecked.

Readability rule: every patient-facing section (each module step and its `###` parts, each
consent section, each chat text, the screening texts, the English crisis replies, and the
questionnaires' intro, retry and closing) must have a Flesch-Kincaid grade of at most
`MAX_GRADE` (8.5, i.e. "about grade 8"), computed by `textstat` on the text with Markdown
stripped, each line ending a sentence, and `{placeholders}` replaced by the short word "this".
Flesch-Kincaid is used alone because it is the most widely used grade formula and the one
that responds to what a writer can change (sentence length, long words). Sections under
`MIN_WORDS` (10) words are not graded: a formula says nothing about "Welcome back." or a
summary label such as "**Situation:** {situation}". Not checked: the
verbatim PHQ-9/GAD-7 items and stem (copyrighted wording we must not change), button labels,
crisis-resource entries (names and numbers) and translations (the formula is for English).

Every problem is printed as `path:line: message`; all of them, not just the first. Exit code 1
if there are any, else 0.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import textstat
import yaml
from pydantic import ValidationError

from flows.content import ContentError, read_yaml
from flows.copy import load_consent, load_copy
from flows.modules import load_library, load_module
from flows.questionnaires import line_of, read_questionnaire, schema_problems, yaml_lines
from safety.paths import CONTENT_ROOT, SAFETY_DATA
from safety.replies import load_replies
from safety.resources import load_resources
from safety.screening import load_screening

__all__ = ["MAX_GRADE", "MIN_WORDS", "Problem", "add_parser", "grade", "main", "plain_text", "validate"]

MAX_GRADE = 8.5
MIN_WORDS = 10  # below this a grade formula is noise: "**Situation:** {situation}" scores 14.7
T = TypeVar("T")
Lines = dict[tuple[str | int, ...], int]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in one content file, at a line (0 when it is about a folder)."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{_shown(self.path)}:{self.line}: {' '.join(self.message.split())}"


def _shown(path: Path) -> str:
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else relative


def add_parser(commands: Any) -> None:
    """Register `content validate` on the `companion` sub-command parser."""
    content = commands.add_parser("content", help="check the clinical content files")
    sub = content.add_subparsers(dest="content_command", required=True)
    check = sub.add_parser("validate", help="check every content file (schema, ids, copy, readability)")
    check.add_argument("--root", type=Path, default=CONTENT_ROOT, help="content folder (default: the shipped content/)")


def main(_settings: Any, args: argparse.Namespace) -> int:
    """Run `companion content validate`; print each problem as path:line: message."""
    checked: set[Path] = set()
    problems = validate(args.root, checked=checked)
    for problem in problems:
        print(problem)
    outcome = f"{len(problems)} problem{'s' * (len(problems) != 1)}" if problems else "no problems"
    print(f"content: {len(checked)} files checked under {_shown(args.root)}, {outcome}")
    return 1 if problems else 0


# ---- readability ----

def plain_text(markdown: str) -> str:
    """Strip Markdown, end each line as a sentence, and replace `{placeholders}` by "this"."""
    text = re.sub(r"\{[^{}]*\}", "this", markdown)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[*_`#>|\\]", "", text)
    lines = []
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:[-+]|\d+[.)])\s+", "", line).strip()
        if line:
            lines.append(line if line[-1] in ".!?:;\"')" else line + ".")
    return "\n".join(lines)


def grade(text: str) -> float:
    """Return the Flesch-Kincaid grade of Markdown copy (see `plain_text`)."""
    return float(textstat.flesch_kincaid_grade(plain_text(text)))


def _readability(path: Path, sections: Iterator[tuple[str, int, str]]) -> list[Problem]:
    problems = []
    try:
        found = list(sections)
    except (OSError, ValueError):  # unreadable or not UTF-8: its loader has reported it already
        return []
    for name, line, text in found:
        plain = plain_text(text)
        if textstat.lexicon_count(plain) >= MIN_WORDS and (level := round(grade(text), 1)) > MAX_GRADE:
            problems.append(Problem(path, line, f"readability: {name} reads at grade {level:.1f} (Flesch-Kincaid); "
                                                f"keep it at {MAX_GRADE} or below with shorter sentences and everyday words"))
    return problems


def _markdown_sections(path: Path) -> Iterator[tuple[str, int, str]]:
    """Yield ("## step / ### retry", line, text) for each section after the front matter."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fences = [i for i, line in enumerate(lines) if line.strip() == "---"][:2]
    start = fences[1] + 1 if len(fences) == 2 and fences[0] == 0 else 0
    name, line = "", 0
    body: list[str] = []
    for number, text in enumerate(lines[start:], start=start + 1):
        if match := re.match(r"^(##|###) +(\S+)", text):
            if name:
                yield name, line, "\n".join(body)
            section = match[2] if match[1] == "##" else name.split(" / ")[0].removeprefix("## ")
            name = f"## {section}" if match[1] == "##" else f"## {section} / ### {match[2]}"
            line, body = number, []
        else:
            body.append(text)
    if name:
        yield name, line, "\n".join(body)


def _yaml_sections(path: Path, data: dict[str, Any], keys: list[str]) -> Iterator[tuple[str, int, str]]:
    """Yield the string values at `keys` ("texts.*", "questions.*.text", "intro") with their lines."""
    lines = yaml_lines(path.read_text(encoding="utf-8"))
    for key in keys:
        for loc, value in _select(data, tuple(key.split("."))):
            if isinstance(value, str):
                yield ".".join(str(p) for p in loc), line_of(lines, loc), value


def _select(node: Any, parts: tuple[str, ...], loc: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if not parts:
        yield loc, node
        return
    head, rest = parts[0], parts[1:]
    if isinstance(node, dict):
        for key, value in node.items():
            if head in ("*", str(key)):
                yield from _select(value, rest, (*loc, str(key)))
    elif isinstance(node, list) and head == "*":
        for index, value in enumerate(node):
            yield from _select(value, rest, (*loc, index))


# ---- loading through the app's own loaders ----

def _attempt(path: Path, load: Callable[[], T]) -> tuple[T | None, list[Problem]]:
    """Run a loader; turn what it raises into a problem at the best line we can find."""
    try:
        return load(), []
    except ContentError as exc:
        return None, [Problem(exc.path, exc.line, exc.problem)]
    except OSError as exc:
        return None, [Problem(Path(exc.filename or path), 0, f"cannot read: {exc.strerror or exc}")]
    except (ValueError, KeyError, TypeError, yaml.YAMLError) as exc:
        cause = exc if isinstance(exc, ValidationError) else exc.__cause__
        if isinstance(cause, ValidationError) and path.is_file():
            line, problems = schema_problems(cause, yaml_lines(path.read_text(encoding="utf-8")))
            return None, [Problem(path, line, f"does not fit the schema: {problems}")]
        message = str(exc).removeprefix(f"{path}: ").replace(f" {path} ", " ")
        return None, [Problem(path, 1, message)]


def _yaml_file(path: Path, load: Callable[[], T], checked: set[Path]) -> tuple[T | None, list[Problem]]:
    checked.add(path)
    _, problems = _attempt(path, partial(read_yaml, path))
    return (None, problems) if problems else _attempt(path, load)


def _front_matter_line(path: Path, key: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next((n for n, line in enumerate(lines, 1) if line.startswith(f"{key}:")), 2)


def _modules(root: Path, checked: set[Path]) -> list[Problem]:
    directory = root / "cbt_modules"
    files = sorted(directory.glob("*.md"))
    if not files:
        return [Problem(directory, 0, "no module files found")]
    problems: list[Problem] = []
    found: dict[str, Path] = {}
    prerequisites: dict[str, tuple[str, ...]] = {}
    for path in files:
        checked.add(path)
        module, failed = _attempt(path, partial(load_module, path))
        problems += failed + _readability(path, _markdown_sections(path))
        if module is None:
            continue
        if module.id in found:
            problems.append(Problem(path, _front_matter_line(path, "id"),
                                    f"module id {module.id!r} is already used by {found[module.id].name}"))
            continue
        found[module.id], prerequisites[module.id] = path, module.prerequisites
    for module_id, needs in prerequisites.items():
        line = _front_matter_line(found[module_id], "prerequisites")
        for need in needs:
            if need not in found:
                problems.append(Problem(found[module_id], line, f"unknown prerequisite {need!r}; known: {sorted(found)}"))
            elif _reaches(prerequisites, need, module_id):
                problems.append(Problem(found[module_id], line, f"prerequisite {need!r} leads back to {module_id!r}"))
    if not problems:
        _, failed = _attempt(directory, lambda: load_library(directory))
        problems += failed
    return problems


def _reaches(graph: dict[str, tuple[str, ...]], start: str, target: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == target:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return False


def _consent(root: Path, checked: set[Path]) -> list[Problem]:
    directory = root / "consent"
    consent, problems = _attempt(directory, lambda: load_consent(directory))
    checked.update(directory.glob("consent-v*.md"))
    if consent is not None:
        newest = next(p for p in directory.glob("consent-v*.md") if f"v{consent.version}" in p.name)
        problems += _readability(newest, _markdown_sections(newest))
    return problems


def _yaml_content(root: Path, checked: set[Path]) -> list[Problem]:
    problems: list[Problem] = []

    def check(path: Path, load: Callable[[], object], readable: list[str]) -> None:
        loaded, failed = _yaml_file(path, load, checked)
        problems.extend(failed)
        if loaded is not None and readable:
            problems.extend(_readability(path, _yaml_sections(path, read_yaml(path), readable)))

    copy = root / "chat" / "copy.yaml"
    check(copy, lambda: load_copy(copy), ["texts.*"])
    safety = root / "safety"
    check(safety / "screening_questions.yaml", lambda: load_screening(safety), ["intro", "questions.*.text", "texts.*"])
    targets = safety / "response_targets.yaml"
    check(targets, partial(_response_targets, targets), [])
    for path in sorted(safety.glob("crisis_replies*.yaml")):
        english = path.name == "crisis_replies.yaml"
        check(path, partial(load_replies, path), ["fallback_note", "replies.*", "acknowledgements.*"] if english else [])
    resources = root / "crisis_resources"
    for path in sorted(resources.glob("*.yaml")):
        check(path, partial(_resources, path), [])
    questionnaires = root / "questionnaires"
    for path in sorted(questionnaires.glob("*.yaml")):
        check(path, partial(read_questionnaire, path), ["intro", "retry", "closing", "difficulty.retry"])
    return problems


def _response_targets(path: Path) -> object:
    from companion.portal.targets import (
        load_response_targets,  # the portal's loader, used at start too
    )

    return load_response_targets(path)


def _resources(path: Path) -> object:
    resources = load_resources(path.stem, root=path.parent)
    if resources.locale != path.stem or resources.fallback:
        raise ContentError(path, yaml_lines(path.read_text(encoding="utf-8")).get(("locale",), 1),
                           f"locale {resources.locale!r} does not match the file name (expected {path.stem!r})")
    return resources


def validate(root: Path = CONTENT_ROOT, *, rules: Path = SAFETY_DATA, checked: set[Path] | None = None) -> list[Problem]:
    """Check every content file under `root` and the rule files in `rules`; return all problems, sorted."""
    checked = set() if checked is None else checked
    root = root.resolve()
    problems = _modules(root, checked) + _consent(root, checked) + _yaml_content(root, checked)
    for path in sorted(rules.glob("rules*.yaml")):
        problems += _yaml_file(path, partial(read_yaml, path), checked)[1]
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path not in checked and not path.name.startswith((".", "README")):
            problems.append(Problem(path, 0, "no check knows this file; add one to companion/content_cli.py or move it"))
    return sorted(set(problems))
