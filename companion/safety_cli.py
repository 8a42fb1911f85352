"""`companion safety ...`: batch re-screening of JSON Lines and the reviewer-label export.

`companion safety screen` reads one JSON object per line on stdin, either
`{"id": ..., "text": "..."}` or `{"id": ..., "messages": [{"role": "user" | "assistant",
"content": "..."}]}`, and writes one JSON line per input in the same order, streaming (a line
in, a line out, flushed). It needs no LLM, no database and no data directory. A conversation's
tier is the highest its user turns reach arriving one by one, each screened with the earlier
user turns as context; `turn_index` is the index in `messages` where that tier was first
reached. A malformed line gets `{"id": <id or null>, "error": "..."}` in its place; the exit
code is 1 if any line errored, else 0. Errors name the line and the field, never the text.

`companion safety labels export` writes reviewer labels as regression cases in the same input
format (see `companion.labels`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from typing import IO, Any

from safety.detector import detect
from safety.policy import action_for
from safety.types import Assessment

__all__ = ["SCREEN", "add_parser", "main", "screen_lines", "screen_record"]

#: The one screening function the command uses: `screen(text, *, recent=()) -> Assessment`.
SCREEN: Callable[..., Assessment] = detect  # layers 1-3: rules and classifier, never an LLM

Screen = Callable[..., Assessment]
ROLES = ("user", "assistant")


class InputError(ValueError):
    """A line that cannot be screened; `record_id` is its id when one could be read."""

    def __init__(self, message: str, record_id: str | int | None = None) -> None:
        super().__init__(message)
        self.record_id = record_id


def add_parser(commands: Any) -> None:
    """Register `safety screen` and `safety labels export` on the `companion` sub-command parser."""
    safety = commands.add_parser("safety", help="batch re-screening and reviewer labels")
    sub = safety.add_subparsers(dest="safety_command", required=True)
    sub.add_parser("screen", help="screen JSON Lines from stdin; one JSON line out per line in (no LLM, no database)")
    labels = sub.add_parser("labels", help="reviewer labels").add_subparsers(dest="labels_command", required=True)
    export = labels.add_parser("export", help="write reviewer labels as JSON Lines regression cases")
    export.add_argument("--output", help="file to write (created with mode 600; default: stdout)")


def main(settings: Any, args: argparse.Namespace) -> int:
    """Run a `companion safety` sub-command."""
    if args.safety_command == "screen":
        return screen_lines(sys.stdin.buffer, sys.stdout.buffer)
    from companion.labels import export_command

    return export_command(settings, output=args.output)


def _parse(raw: bytes, line_no: int) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"line {line_no}: not UTF-8 text") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"line {line_no}: not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise InputError(f"line {line_no}: expected a JSON object with an id, got {type(record).__name__}")
    if "id" not in record:
        raise InputError(f"line {line_no}: missing \"id\" (a string or an integer)")
    record_id = record["id"]
    if isinstance(record_id, bool) or not isinstance(record_id, str | int):
        raise InputError(f"line {line_no}: \"id\" must be a string or an integer")
    has_text, has_messages = "text" in record, "messages" in record
    if has_text == has_messages:
        raise InputError(f"line {line_no}: give exactly one of \"text\" or \"messages\"", record_id)
    if has_text and not isinstance(record["text"], str):
        raise InputError(f"line {line_no}: \"text\" must be a string", record_id)
    if has_messages:
        messages = record["messages"]
        if not isinstance(messages, list):
            raise InputError(f"line {line_no}: \"messages\" must be a list", record_id)
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ROLES:
                raise InputError(f"line {line_no}: messages[{index}].role must be \"user\" or \"assistant\"", record_id)
            if not isinstance(message.get("content"), str):
                raise InputError(f"line {line_no}: messages[{index}].content must be a string", record_id)
    return record


def _result(record_id: str | int, assessment: Assessment) -> dict[str, Any]:
    return {
        "id": record_id,
        "tier": int(assessment.tier),
        "action": str(action_for(assessment.tier)),
        "categories": [str(c) for c in assessment.categories],
        "signals": [s.model_dump(mode="json") for s in assessment.signals],
        "detector_version": assessment.detector_version,
    }


def screen_record(record: dict[str, Any], *, screen: Screen = SCREEN) -> dict[str, Any]:
    """Screen one validated input record and return its output line as a dict."""
    if "text" in record:
        return _result(record["id"], screen(record["text"]))
    earlier: list[str] = []
    worst: Assessment | None = None
    worst_index: int | None = None
    for index, message in enumerate(record["messages"]):
        if message["role"] != "user":
            continue
        assessment = screen(message["content"], recent=tuple(earlier))
        if worst is None or assessment.tier > worst.tier:
            worst, worst_index = assessment, index
        earlier.append(message["content"])
    if worst is None:  # no user turns: nothing to screen
        worst = screen("")
    return _result(record["id"], worst) | {"turn_index": worst_index, "user_turns": len(earlier)}


def screen_lines(lines: Iterable[bytes], out: IO[bytes], *, screen: Screen = SCREEN) -> int:
    """Screen JSON Lines one by one, writing and flushing one line per input; return the exit code."""
    failed = False
    for line_no, raw in enumerate(lines, start=1):
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            continue  # blank lines are not inputs
        record_id: str | int | None = None
        try:
            record = _parse(raw, line_no)
            record_id = record["id"]
            result = screen_record(record, screen=screen)
        except InputError as exc:
            failed = True
            result = {"id": exc.record_id, "error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - one bad line must not stop the stream
            failed = True
            result = {"id": record_id, "error": f"line {line_no}: screening failed ({type(exc).__name__})"}
        try:
            out.write(json.dumps(result, ensure_ascii=True).encode("ascii") + b"\n")
            out.flush()
        except BrokenPipeError:
            return 1
    return 1 if failed else 0
