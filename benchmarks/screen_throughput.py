"""Throughput of `companion safety screen`: lines per minute, in process and as a subprocess.

Builds N input lines by cycling the texts and conversations of tests/data/screen_sample.jsonl
(the well-formed ones, with unique ids and texts, so the screen's small cache does not flatter the figure), then prints the
rate. Run: `.venv/bin/python benchmarks/screen_throughput.py [N]`.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from companion.safety_cli import screen_lines  # noqa: E402
from companion.settings import FORBIDDEN_VARIABLES  # noqa: E402

SAMPLE = ROOT / "tests" / "data" / "screen_sample.jsonl"


def inputs(count: int) -> bytes:
    valid = []
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "expected_tier" in record:  # the well-formed cases
            valid.append(record)
    lines = []
    for index in range(count):
        record = dict(valid[index % len(valid)], id=index)
        if "text" in record:
            record["text"] = f"{record['text']} ({index})"  # defeat the screen's cache
        lines.append(json.dumps(record))
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    data = inputs(count)
    start = time.perf_counter()
    screen_lines(io.BytesIO(data), io.BytesIO())
    in_process = time.perf_counter() - start
    env = {k: v for k, v in os.environ.items() if k not in FORBIDDEN_VARIABLES}  # never pass on what Chainlit would store or upload
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "companion.cli", "safety", "screen"], input=data, env=env,
                   cwd=ROOT, capture_output=True, check=False)
    as_command = time.perf_counter() - start
    print(f"lines: {count}")
    print(f"in process: {in_process:.2f} s  ({count / in_process * 60:,.0f} lines/minute)")
    print(f"as command: {as_command:.2f} s  ({count / as_command * 60:,.0f} lines/minute, start-up included)")


if __name__ == "__main__":
    main()
