"""Every shipped content file validates; broken copies are reported by file and line, all at once."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from companion.content_cli import validate
from safety.paths import CONTENT_ROOT


def test_the_shipped_content_validates() -> None:
    assert [str(p) for p in validate()] == []


def line_of(path: Path, fragment: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if fragment in line)


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the shipped content with only the thought-record module, passing every check."""
    root = tmp_path / "content"
    shutil.copytree(CONTENT_ROOT, root)
    for path in (root / "cbt_modules").glob("*.md"):
        if path.name != "02-thought-record.md":
            path.unlink()
    return root


def test_a_clean_copy_has_no_problems(content: Path) -> None:
    assert validate(content) == []


def break_everything(root: Path) -> dict[str, tuple[Path, int]]:
    """Break one thing in each kind of file; return message fragment -> (path, line) expected."""
    module = root / "cbt_modules" / "02-thought-record.md"
    twin = root / "cbt_modules" / "03-thought-record-twin.md"
    shutil.copy(module, twin)
    uncopied = root / "cbt_modules" / "04-uncopied.md"
    text = module.read_text(encoding="utf-8").replace("id: thought-record", "id: uncopied", 1)
    start, end = text.index("## evidence_for\n"), text.index("## evidence_against\n")
    uncopied.write_text(text[:start] + text[end:], encoding="utf-8")  # a step without its copy
    replace(module, "prerequisites: []", "prerequisites: [no-such-module]")
    # a section with long words and long sentences
    replace(module, "It takes about 15 minutes.",
            "Consequently, the comprehensive documentation of interpersonal circumstances facilitates "
            "considerably improved understanding of automatically generated cognitive interpretations, "
            "notwithstanding occasional methodological difficulties encountered by inexperienced participants.")
    copy = root / "chat" / "copy.yaml"
    replace(copy, '  went_back: "Okay', '  went_back: ["Okay')
    gad7 = root / "questionnaires" / "gad7.yaml"
    replace(gad7, "{id: mild, min: 5, max: 9", "{id: mild, min: 6, max: 9")
    resources = root / "crisis_resources" / "en-GB.yaml"
    replace(resources, "    source:", "    sauce:")
    stray = root / "notes.txt"
    stray.write_text("draft\n", encoding="utf-8")
    return {
        "module id 'thought-record' is already used by 02-thought-record.md": (twin, 2),
        "unknown prerequisite 'no-such-module'": (module, line_of(module, "prerequisites:")),
        "step 'evidence_for' has no '## evidence_for' section": (uncopied, 2),
        "readability: ## intro reads at grade": (module, line_of(module, "## intro")),
        "invalid YAML": (copy, line_of(copy, "went_back:") + 1),
        "band 'mild' (6-9) leaves a gap or overlap": (gad7, line_of(gad7, "id: mild")),
        "resources.0.source: Field required": (resources, line_of(resources, "sauce:")),
        "no check knows this file": (stray, 0),
    }


def test_broken_copies_are_all_reported_with_file_and_line(content: Path) -> None:
    expected = break_everything(content)
    problems = validate(content)
    found = {fragment: [(p.path, p.line) for p in problems if fragment in p.message] for fragment in expected}
    assert {fragment: places[:1] for fragment, places in found.items()} == {f: [where] for f, where in expected.items()}
    assert len(problems) == len(expected), [str(p) for p in problems]


def run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    env["COMPANION_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "companion.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_command_exits_0_on_clean_content(content: Path, tmp_path: Path) -> None:
    result = run(["content", "validate", "--root", str(content)], tmp_path / "var")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].endswith(", no problems")


def test_the_command_prints_path_line_message_and_exits_1(content: Path, tmp_path: Path) -> None:
    expected = break_everything(content)
    result = run(["content", "validate", "--root", str(content)], tmp_path / "var")
    assert result.returncode == 1, result.stderr
    *lines, summary = result.stdout.splitlines()
    assert summary.endswith(f", {len(expected)} problems")
    assert all(re.match(r"^\S+:\d+: \S", line) for line in lines), lines  # one line per problem
    for fragment, (path, line) in expected.items():
        assert any(out.startswith(f"{path.as_posix()}:{line}: ") and fragment in out for out in lines), fragment
