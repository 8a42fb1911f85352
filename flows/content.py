"""Read content files: Markdown with YAML front matter, and plain YAML documents.

A content file's `## <id>` sections hold its copy; the front matter holds its structure.
Errors name the file and line so a clinician editing copy can find the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ContentError", "MarkdownDocument", "read_markdown", "read_yaml"]

_SECTION = re.compile(r"^## +(?P<id>[a-z0-9][a-z0-9_-]*) *$")
_SUBSECTION = re.compile(r"^### +(?P<id>[a-z0-9][a-z0-9_-]*) *$")


class ContentError(ValueError):
    """A content file is malformed; the message names the file and line."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class MarkdownDocument:
    """Front matter plus sections: `sections[id]` is the body, `subsections[id][sub]` its parts."""

    path: Path
    meta: dict[str, Any]
    sections: dict[str, str]
    subsections: dict[str, dict[str, str]]
    section_lines: dict[str, int]


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ContentError(path, (mark.line + 1) if mark else 1, f"invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ContentError(path, 1, "expected a YAML mapping at the top level")
    return data


def read_markdown(path: Path) -> MarkdownDocument:
    """Parse a `---` front-matter Markdown file into structure and copy."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].strip() != "---":
        raise ContentError(path, 1, "expected YAML front matter starting with ---")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ContentError(path, 1, "front matter is not closed with ---") from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ContentError(path, (mark.line + 2) if mark else 1, f"invalid front matter: {exc}") from exc
    if not isinstance(meta, dict):
        raise ContentError(path, 2, "front matter must be a mapping")
    sections: dict[str, list[str]] = {}
    subsections: dict[str, dict[str, list[str]]] = {}
    section_lines: dict[str, int] = {}
    current: list[str] | None = None
    section_id = ""
    for number, line in enumerate(lines[end + 1 :], start=end + 2):
        if match := _SECTION.match(line):
            section_id = match["id"]
            if section_id in sections:
                raise ContentError(path, number, f"section '## {section_id}' appears twice")
            current = sections[section_id] = []
            subsections[section_id] = {}
            section_lines[section_id] = number
        elif (match := _SUBSECTION.match(line)) and section_id:
            current = subsections[section_id][match["id"]] = []
        elif line.startswith("## "):
            raise ContentError(path, number, "section ids are lower-case letters, digits, - and _")
        elif current is not None:
            current.append(line)
        elif line.strip():
            raise ContentError(path, number, "text before the first '## <step-id>' section")
    return MarkdownDocument(
        path=path,
        meta=meta,
        sections={k: "\n".join(v).strip() for k, v in sections.items()},
        subsections={k: {s: "\n".join(t).strip() for s, t in v.items()} for k, v in subsections.items()},
        section_lines=section_lines,
    )
