from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from companion import content_cli
from companion.content_cli import MAX_GRADE, Problem, grade, plain_text

HARD = ("Consequently, the comprehensive documentation of interpersonal circumstances facilitates "
        "considerably improved understanding of automatically generated cognitive interpretations.")
EASY = "Think of a time this week when your mood dropped. What was going on? Who was there with you?"


def test_plain_text_strips_markdown_and_fills_placeholders() -> None:
    markdown = "**What was the situation?** You wrote: \"{situation}\".\n\n- *anxious* 70\n- [a link](https://x.y)\n### retry"
    assert plain_text(markdown) == 'What was the situation? You wrote: "this".\nanxious 70.\na link.\nretry.'


def test_grade_separates_plain_from_dense_copy() -> None:
    assert grade(EASY) < 4 < MAX_GRADE < 15 < grade(HARD)


def test_problem_prints_as_path_line_message(tmp_path: Path) -> None:
    assert str(Problem(tmp_path / "a.yaml", 3, "bad")) == f"{(tmp_path / 'a.yaml').as_posix()}:3: bad"
    assert str(Problem(Path.cwd() / "content" / "x.md", 2, "bad")) == "content/x.md:2: bad"


def test_short_sections_are_not_graded(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    sections = iter([("## a", 1, "**Situation:** {situation}"), ("## b", 4, HARD), ("## c", 7, EASY)])
    problems = content_cli._readability(path, sections)
    assert [(p.line, p.message.split(" reads")[0]) for p in problems] == [(4, "readability: ## b")]


def test_markdown_sections_name_subsections_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.md"
    path.write_text("---\nid: m\n---\n\n## intro\nHello there.\n\n## ask\nWhat?\n\n### retry\nAgain?\n", encoding="utf-8")
    assert list(content_cli._markdown_sections(path)) == [
        ("## intro", 5, "Hello there.\n"), ("## ask", 8, "What?\n"), ("## ask / ### retry", 11, "Again?")]


def test_the_subcommand_is_registered(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    content_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["content", "validate", "--root", str(tmp_path)])
    assert args.root == tmp_path
    assert content_cli.main(None, args) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(":0: no module files found")
    assert out[-1].startswith("content: ") and out[-1].endswith(" problems")
