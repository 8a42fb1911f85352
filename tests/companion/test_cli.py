"""The `companion` command, run as a separate process the way people use it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


def run(args: list[str], data_dir: Path, stdin: bytes = b"", **extra_env: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    env |= {"COMPANION_DATA_DIR": str(data_dir), **extra_env}
    return subprocess.run(
        [sys.executable, "-m", "companion.cli", *args], input=stdin, env=env,
        capture_output=True, timeout=120, check=False,
    )


def test_users_add_prints_a_generated_password_once(tmp_path: Path) -> None:
    result = run(["users", "add", "--role", "therapist", "--username", "dr.kim"], tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "Created therapist 'dr.kim'" in out
    assert re.search(r"Password \(shown once\): \S{12,}", out)


def test_users_add_refuses_duplicates_and_bad_roles(tmp_path: Path) -> None:
    assert run(["users", "add", "--role", "patient", "--username", "sam"], tmp_path).returncode == 0
    again = run(["users", "add", "--role", "patient", "--username", "sam"], tmp_path)
    assert again.returncode == 2 and b"already taken" in again.stderr
    bad = run(["users", "add", "--role", "boss", "--username", "x"], tmp_path)
    assert bad.returncode == 2 and b"invalid choice" in bad.stderr


@pytest.mark.parametrize("name", ["DATABASE_URL", "LITERAL_API_KEY"])
def test_refuses_to_start_when_chainlit_storage_variables_are_set(tmp_path: Path, name: str) -> None:
    result = run(["init"], tmp_path, **{name: "set"})
    assert result.returncode == 2
    assert name.encode() in result.stderr and b"Refusing to start" in result.stderr
    assert not (tmp_path / "companion.sqlite3").exists()


def test_terminal_chat_runs_the_same_graph_and_survives_invalid_utf8(tmp_path: Path) -> None:
    assert run(["users", "add", "--role", "patient", "--username", "ana", "--password-stdin"], tmp_path,
               stdin=b"a-long-enough-password\n").returncode == 0
    script = b"a-long-enough-password\nI agree\n7\nThought record\nnext\nAt the \xff\xfe market\n\nI want to kill myself\n"
    result = run(["chat", "--username", "ana", "--password-stdin"], tmp_path, stdin=script)
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    assert "not an emergency service" in out and "[I agree]" in out
    assert "At the \ufffd\ufffd market" in out, "invalid bytes become replacement characters"
    assert "didn't get any words" in out
    assert "988" in out, "the crisis reply with the locale's lifeline"
    assert "**" not in out, "Markdown emphasis is stripped for the terminal"


def test_terminal_chat_refuses_a_wrong_password(tmp_path: Path) -> None:
    run(["users", "add", "--role", "patient", "--username", "ana", "--password-stdin"], tmp_path,
        stdin=b"a-long-enough-password\n")
    result = run(["chat", "--username", "ana", "--password-stdin"], tmp_path, stdin=b"wrong-password\nhello\n")
    assert result.returncode == 1 and b"Sign-in failed" in result.stderr


def test_assign_puts_the_module_first_in_the_patients_menu_with_the_brief_kept_secret(tmp_path: Path) -> None:
    run(["users", "add", "--role", "patient", "--username", "ana", "--password-stdin"], tmp_path,
        stdin=b"a-long-enough-password\n")
    run(["users", "add", "--role", "therapist", "--username", "dr.lee"], tmp_path)
    result = run(["assign", "--patient", "ana", "--module", "thought-record", "--due", "2026-12-03",
                  "--therapist", "dr.lee", "--brief-stdin"], tmp_path, stdin=b"Goal: BRIEFMARK fewer work worries\n")
    assert result.returncode == 0, result.stderr
    assert b"Assigned 'Thought record' to ana, due 2026-12-03" in result.stdout
    assert not any(b"BRIEFMARK" in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    chat = run(["chat", "--username", "ana", "--password-stdin"], tmp_path,
               stdin=b"a-long-enough-password\nI agree\n6\n")
    assert "Thought record (about 15 minutes): suggested by your therapist, for 2026-12-03" in chat.stdout.decode()
    bad = run(["assign", "--patient", "ana", "--module", "no-such-module"], tmp_path)
    assert bad.returncode == 2 and b"no module 'no-such-module'" in bad.stderr
