"""Rebuild `safety/data/classifier.json` and print held-out figures: `python -m safety.training`."""

from __future__ import annotations

import argparse
import time

from safety.training.build import WEIGHTS_FILE, build_model, dumps, write_model
from safety.training.report import print_report


def main() -> None:
    """Train, write (unless --check) and report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the shipped file differs from a fresh build")
    args = parser.parse_args()
    started = time.perf_counter()
    model = build_model()
    print(f"trained in {time.perf_counter() - started:.1f} s")
    if args.check:
        same = WEIGHTS_FILE.read_text(encoding="utf-8") == dumps(model)
        print("shipped weights match a fresh build" if same else "shipped weights DIFFER")
        raise SystemExit(0 if same else 1)
    write_model(model)
    print(f"wrote {WEIGHTS_FILE} ({WEIGHTS_FILE.stat().st_size // 1024} KiB)")
    print_report(model)


if __name__ == "__main__":
    main()
