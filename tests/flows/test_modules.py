from __future__ import annotations

from pathlib import Path

import pytest

from flows.content import ContentError
from flows.modules import StepKind, load_library, load_module

GOOD = """---
id: tiny
version: 1.0.0
title: Tiny
description: A tiny module.
review_date: 2027-01-01
reviewed_by: Test
estimated_minutes: 2
steps:
  - id: feeling
    kind: free_text
  - id: summary
    kind: summary
---

## feeling
How do you feel?

### retry
Please say how you feel.

### summary
**Feeling:** {feeling}

## summary
Here it is:

### homework
Notice one feeling tomorrow.
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "01-tiny.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_library_loads_and_has_the_thought_record() -> None:
    module = load_library().get("thought-record")
    kinds = [s.kind for s in module.steps]
    assert kinds[0] is StepKind.PSYCHOEDUCATION and kinds[-1] is StepKind.SUMMARY
    assert [s.id for s in module.steps] == [
        "intro", "situation", "emotions", "automatic_thought", "evidence_for",
        "evidence_against", "balanced_thought", "rerate", "summary",
    ]
    assert module.personalisation.must_not, "the module declares what personalisation must not do"


def test_a_small_module_loads(tmp_path: Path) -> None:
    module = load_module(write(tmp_path, GOOD))
    assert module.content_id == "tiny@1.0.0" and module.step(0).retry == "Please say how you feel."


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (GOOD.replace("## feeling\n", "## feelings\n"), "no '## feeling' section"),
        (GOOD.replace("### retry\nPlease say how you feel.\n", ""), "retry"),
        (GOOD.replace("{feeling}", "{later}"), "before they are asked"),
        (GOOD.replace("version: 1.0.0", "version: one"), "module schema"),
        (GOOD.replace("kind: summary", "kind: free_text"), "summary"),
        (GOOD.replace("---\nid", "id", 1), "front matter"),
        (GOOD.replace("### homework\nNotice one feeling tomorrow.\n", ""), "homework"),
        (GOOD + "\n## stray\nText\n", "not a step"),
    ],
)
def test_broken_modules_name_file_and_problem(tmp_path: Path, broken: str, message: str) -> None:
    path = write(tmp_path, broken)
    with pytest.raises(ContentError, match=message) as info:
        load_module(path)
    assert str(path) in str(info.value) and info.value.line >= 1


def test_duplicate_ids_and_unknown_prerequisites_are_refused(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    (tmp_path / "02-copy.md").write_text(GOOD, encoding="utf-8")
    with pytest.raises(ContentError, match="used by another file"):
        load_library(tmp_path)
    (tmp_path / "02-copy.md").write_text(GOOD.replace("id: tiny", "id: other\nprerequisites: [nope]"), encoding="utf-8")
    with pytest.raises(ContentError, match="unknown prerequisite"):
        load_library(tmp_path)


def test_find_accepts_title_or_id() -> None:
    library = load_library()
    assert library.find("Thought record").id == "thought-record"
    assert library.find("thought-record").id == "thought-record"
    assert library.find("something else") is None
