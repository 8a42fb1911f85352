"""`companion safety screen` as a subprocess: order, tiers, conversations, malformed lines, streaming, exit codes."""

from __future__ import annotations

import io
import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from companion.safety_cli import screen_lines
from companion.settings import FORBIDDEN_VARIABLES
from safety.types import Assessment, Category, Signal, Tier

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "screen_sample.jsonl"


def env_for(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    for name in FORBIDDEN_VARIABLES:
        env.pop(name, None)
    env |= {"COMPANION_DATA_DIR": str(tmp_path / "never-created"), "PYTHONPATH": str(ROOT)}
    return env


def screen(tmp_path: Path, data: bytes) -> tuple[int, list[dict], str]:
    result = subprocess.run(
        [sys.executable, "-m", "companion.cli", "safety", "screen"], input=data, capture_output=True,
        env=env_for(tmp_path), cwd=tmp_path, timeout=120, check=False,
    )
    lines = [json.loads(line) for line in result.stdout.decode("ascii").splitlines()]
    return result.returncode, lines, result.stderr.decode("utf-8", errors="replace")


def test_the_sample_file_keeps_order_tiers_and_reports_malformed_lines(tmp_path: Path) -> None:
    code, out, _ = screen(tmp_path, SAMPLE.read_bytes())
    inputs = [line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert code == 1 and len(out) == len(inputs)
    assert [o["id"] for o in out] == [
        "everyday", 2, "technical", "plan-tonight", "passive", "overdose-taken", None, "conversation",
        None, "wrong-type", "wrong-role", "mild-conversation",
    ]
    for line, result in zip(inputs, out, strict=True):
        try:
            expected = json.loads(line).get("expected_tier")
        except json.JSONDecodeError:
            expected = None
        if expected is None:
            assert set(result) == {"id", "error"} and result["error"].startswith("line ")
            continue
        assert result["tier"] == expected, result["id"]
        assert {"id", "tier", "action", "categories", "signals", "detector_version"} <= set(result)
        assert all(isinstance(s, dict) and {"source", "id", "tier", "category"} <= set(s) for s in result["signals"])
        if "expected_turn_index" in json.loads(line):
            assert result["turn_index"] == json.loads(line)["expected_turn_index"]
    by_id = {o["id"]: o for o in out if o["id"] is not None}
    assert by_id["plan-tonight"]["action"] == "escalate_urgent" and by_id["overdose-taken"]["action"] == "emergency"
    assert by_id["everyday"]["action"] == "continue" and by_id["passive"]["action"] == "screen"
    assert "missing \"id\"" in out[8]["error"] and "\"text\" must be a string" in by_id["wrong-type"]["error"]
    assert not (tmp_path / "never-created").exists(), "no data directory, no database"


def test_clean_input_exits_zero_and_blank_lines_are_not_inputs(tmp_path: Path) -> None:
    code, out, _ = screen(tmp_path, b'{"id": "a", "text": "hello"}\n\n{"id": "b", "messages": []}\r\n')
    assert code == 0
    assert [(o["id"], o["tier"]) for o in out] == [("a", 0), ("b", 0)]
    assert out[1]["turn_index"] is None and out[1]["user_turns"] == 0


def test_binary_junk_and_wrong_shapes_get_an_error_line_in_place(tmp_path: Path) -> None:
    data = b"\n".join([
        b'{"id": "first", "text": "fine"}',
        b"\xff\xfe\x00\x9c junk \x00",
        b"[1, 2, 3]",
        b'{"id": true, "text": "x"}',
        b'{"id": "both", "text": "x", "messages": []}',
        b'{"id": "bad-content", "messages": [{"role": "user", "content": null}]}',
        b'{"id": "last", "text": "I want to kill myself"}',
    ]) + b"\n"
    code, out, _ = screen(tmp_path, data)
    assert code == 1
    assert [o["id"] for o in out] == ["first", None, None, None, "both", "bad-content", "last"]
    assert "not UTF-8" in out[1]["error"] and "JSON object" in out[2]["error"]
    assert "exactly one" in out[4]["error"] and "messages[0].content" in out[5]["error"]
    assert out[6]["tier"] >= 3


def test_errors_never_echo_the_input_text(tmp_path: Path) -> None:
    code, out, stderr = screen(tmp_path, b'{"id": "x", "text": ["secret-marker-991"]}\n{not json secret-marker-992\n')
    assert code == 1 and len(out) == 2
    assert "secret-marker" not in json.dumps(out) + stderr


def test_it_streams_a_line_out_for_each_line_in(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "companion.cli", "safety", "screen"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, env=env_for(tmp_path), cwd=tmp_path,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        try:
            for index in range(3):
                process.stdin.write(json.dumps({"id": index, "text": "I took all my pills an hour ago"}).encode() + b"\n")
                process.stdin.flush()
                ready, _, _ = select.select([process.stdout], [], [], 60)
                assert ready, "no answer before the input ended"
                assert json.loads(process.stdout.readline())["id"] == index
            process.stdin.close()
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()


def test_a_conversation_reports_the_first_turn_that_reached_its_highest_tier() -> None:
    seen: list[tuple[str, tuple[str, ...]]] = []

    def fake(text: str, *, recent: tuple[str, ...] = ()) -> Assessment:
        seen.append((text, recent))
        tier = {"low": Tier.DISTRESS, "high": Tier.URGENT}.get(text, Tier.NONE)
        signals = [Signal(source="fake", id=f"fake.{text}", tier=tier, category=Category.INTENT)] if tier else []
        return Assessment.from_signals(signals, version="fake-1")

    record = {"id": "c", "messages": [
        {"role": "user", "content": "low"}, {"role": "assistant", "content": "high"},
        {"role": "user", "content": "high"}, {"role": "user", "content": "high"}, {"role": "user", "content": "ok"},
    ]}
    out = io.BytesIO()
    assert screen_lines([json.dumps(record).encode()], out, screen=fake) == 0
    result = json.loads(out.getvalue())
    assert (result["tier"], result["turn_index"], result["user_turns"]) == (4, 2, 4)
    assert result["detector_version"] == "fake-1" and result["signals"][0]["id"] == "fake.high"
    assert seen[1] == ("high", ("low",)), "assistant turns are not screened and not context"
    assert seen[3] == ("ok", ("low", "high", "high"))


def test_a_screen_that_raises_is_an_error_line_not_a_crash() -> None:
    def broken(text: str, *, recent: tuple[str, ...] = ()) -> Assessment:
        raise RuntimeError("boom")

    out = io.BytesIO()
    assert screen_lines([b'{"id": 7, "text": "x"}', b'{"id": 8, "text": "y"}'], out, screen=broken) == 1
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [
        {"id": 7, "error": "line 1: screening failed (RuntimeError)"},
        {"id": 8, "error": "line 2: screening failed (RuntimeError)"},
    ]


@pytest.mark.parametrize("argv", [["safety"], ["safety", "labels"]])
def test_safety_needs_a_sub_command(argv: list[str]) -> None:
    from companion.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
