"""Safety evaluation: recall and false positives by tier, per category, and latency per message.

Runs, in one process and on the same rows, (a) a naive keyword list, (b) the rules
(`safety.screen.assess`), (c) the rules plus the classifier (`safety.classifier`), and (d) the
full detector without an LLM (`safety.detector.detect`) when that module exists; the classifier
alone is shown too. Data: `../shared/crisis-data/` (silver labels; development use only) and the
project's own labelled cases (`tests/safety/cases*.yaml`). A conversation's tier is the highest
reached when its user turns arrive one by one, each screened with the earlier ones as context.
Prints figures; asserts nothing.

    python benchmarks/safety_eval.py [--data DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CRISIS_DATA = Path(__file__).resolve().parents[2] / "shared" / "crisis-data"
sys.path.insert(0, str(REPO))

from safety.classifier import classifier_signals, load_classifier  # noqa: E402
from safety.screen import DETECTOR_VERSION, _screen_cached, assess  # noqa: E402
from safety.types import Assessment, Tier  # noqa: E402

GOALS = """Goals (issue 3): recall >= 0.98 on explicit and method/plan statements, >= 0.95 on indirect
ones; false positives at tier >= 3 <= 2% on everyday and figurative text, <= 5% on emotionally
heavy non-crisis text; p95 <= 10 ms per message for layers 1-3 on one core.
Published figures to beat: Crisis Text Line's classifier finds 86% of imminent-risk texters;
Llama Guard 3 runs at about 5.7% false positives."""

SHORT = 280  # characters: an ordinary chat message
Screen = Callable[[str, Sequence[str]], int]  # (message, earlier user turns) -> tier

KEYWORDS = ("suicide", "suicidal", "kill myself", "die", "cut", "overdose", "self harm",
            "end my life", "hurt myself")
_KEYWORD_RE = re.compile(r"\b(?:" + "|".join(re.escape(k) for k in KEYWORDS) + r")\b")


def keyword_baseline(text: str, recent: Sequence[str]) -> int:
    """A naive keyword list: any hit escalates (tier 3)."""
    return int(Tier.ACTIVE) if _KEYWORD_RE.search(text.lower()) else 0


def rules_only(text: str, recent: Sequence[str]) -> int:
    return int(assess(text, recent=recent).tier)


def classifier_only(text: str, recent: Sequence[str]) -> int:
    return int(load_classifier().predict(text).tier)


def rules_and_classifier(text: str, recent: Sequence[str]) -> int:
    rules = assess(text, recent=recent)
    extra = classifier_signals(load_classifier().predict(text))
    if not extra:
        return int(rules.tier)
    return int(rules.merged(Assessment.from_signals(extra, version=DETECTOR_VERSION)).tier)


def systems() -> dict[str, Screen]:
    """The systems to compare; the full detector joins when `safety/detector.py` exists."""
    found: dict[str, Screen] = {"keywords": keyword_baseline, "rules": rules_only,
                                "classifier": classifier_only, "rules+clf": rules_and_classifier}
    try:
        detector = importlib.import_module("safety.detector")
    except ModuleNotFoundError as exc:
        if exc.name != "safety.detector":
            raise
        print("(d) full detector: safety/detector.py not found yet; column skipped")
        return found
    detect = detector.detect

    def full_detector(text: str, recent: Sequence[str]) -> int:  # no LLM configured here
        return int(detect(text, recent=recent).tier)

    found["detector"] = full_detector
    return found


@dataclass
class Row:
    group: str  # category label, or "non-crisis: ..." for rows that should stay below tier 2
    crisis: bool
    turns: list[str]


@dataclass
class Tally:
    tiers: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    latency: dict[str, list[tuple[int, float]]] = field(default_factory=lambda: defaultdict(list))  # (chars, ms)


def read_crisis_data(directory: Path, limit: int | None) -> dict[str, list[Row]]:
    """Read crisis-data files; a file that is absent is skipped with a message."""
    out: dict[str, list[Row]] = {}
    specs = {"helpharm_silver.jsonl": {"no_crisis"}, "reddit_suicide_vs_teen.jsonl": {"teenagers_subreddit"}}
    for name, calm in specs.items():
        path = directory / name
        if not path.exists():
            print(f"skipped {name}: not found in {directory} (use --data)")
            continue
        rows: list[Row] = []
        for line in path.read_text(encoding="utf-8").splitlines()[:limit]:
            raw = json.loads(line)
            label = str(raw.get("label"))
            if label == "None":
                continue
            turns = [m["content"] for m in raw.get("messages", []) if m.get("role") == "user"]
            rows.append(Row(group=label, crisis=label not in calm, turns=turns or [raw.get("text", "")]))
        out[name] = rows
    return out


_CASE_GROUPS = {2: "tier 2 passive/unclear", 3: "tier 3 active/self-harm/others/abuse",
                4: "tier 4 method/plan/intent/attempt", 5: "tier 5 imminent"}


def read_cases(limit: int | None) -> dict[str, list[Row]]:
    """Read the project's labelled cases: min_tier >= 2 is crisis, max_tier <= 1 is not."""
    rows: list[Row] = []
    for path in sorted((REPO / "tests" / "safety").glob("cases*.yaml")):
        for case in (yaml.safe_load(path.read_text(encoding="utf-8")) or [])[:limit]:
            if case["min_tier"] >= 2:
                rows.append(Row(group=_CASE_GROUPS[min(case["min_tier"], 5)], crisis=True, turns=[case["text"]]))
            elif case["max_tier"] <= 1:
                rows.append(Row(group="max tier <= 1", crisis=False, turns=[case["text"]]))
    return {"tests/safety/cases*.yaml": rows}


def run(rows: Sequence[Row], screens: dict[str, Screen], tally: Tally) -> None:
    """Screen every row with each system in turn, turn by turn; record tiers and latency.

    The rules' in-process memo of recent turns is emptied before each system, so no system
    is timed on a cache another one warmed.
    """
    for name, screen in screens.items():
        _screen_cached.cache_clear()
        for row in rows:
            worst = 0
            for i, turn in enumerate(row.turns):
                start = time.perf_counter()
                tier = screen(turn, row.turns[max(0, i - 5):i])
                tally.latency[name].append((len(turn), (time.perf_counter() - start) * 1000))
                worst = max(worst, tier)
            tally.tiers[(row.group, name)].append(worst)


def _cell(tiers: list[int]) -> str:
    n = len(tiers)
    return f"{sum(t >= 2 for t in tiers) / n:.3f}/{sum(t >= 3 for t in tiers) / n:.3f}"


def print_table(title: str, rows: Sequence[Row], screens: Sequence[str], tally: Tally) -> None:
    groups: dict[str, tuple[bool, int]] = {}
    for row in rows:
        crisis, n = groups.get(row.group, (row.crisis, 0))
        groups[row.group] = (crisis, n + 1)
    width = max(len(g) for g in groups) + 2
    print(f"\n{title}   cells: tier>=2 / tier>=3 rate (recall on crisis rows, false positives on others)")
    print(f"  {'group':<{width}}{'kind':<7}{'n':>6}  " + "".join(f"{s:>14}" for s in screens))
    for group, (crisis, n) in sorted(groups.items(), key=lambda g: (not g[1][0], g[0])):
        kind = "recall" if crisis else "FP"
        cells = "".join(f"{_cell(tally.tiers[(group, s)]):>14}" for s in screens)
        print(f"  {group:<{width}}{kind:<7}{n:>6}  {cells}")


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=CRISIS_DATA,
                        help="crisis-data directory (default: ../shared/crisis-data)")
    parser.add_argument("--limit", type=int, default=None, help="read at most N rows per file")
    args = parser.parse_args(argv)
    print(GOALS)
    screens = systems()
    load_classifier()  # load outside the timed calls
    datasets: dict[str, list[Row]] = {**read_cases(args.limit), **read_crisis_data(args.data, args.limit)}
    tallies: dict[str, Tally] = {}
    overall = Tally()
    for name, rows in datasets.items():
        tallies[name] = Tally()
        run(rows, screens, tallies[name])
        print_table(name, rows, list(screens), tallies[name])
        for system, samples in tallies[name].latency.items():
            overall.latency[system].extend(samples)
    print(f"\nlatency per message, ms (all datasets; one core, in process; short = at most {SHORT} characters)")
    print(f"  {'system':<12}{'messages':>10}{'p50':>9}{'p95':>9}{'max':>9}{'short':>9}{'p50':>9}{'p95':>9}")
    for system, timed in overall.latency.items():
        every = [ms for _, ms in timed]
        short = [ms for chars, ms in timed if chars <= SHORT] or [0.0]
        print(f"  {system:<12}{len(every):>10}{statistics.median(every):>9.3f}{_percentile(every, 0.95):>9.3f}"
              f"{max(every):>9.3f}{len(short):>9}{statistics.median(short):>9.3f}{_percentile(short, 0.95):>9.3f}")
    print("\nkeywords: " + ", ".join(KEYWORDS) + " (any hit = tier 3)")


if __name__ == "__main__":
    main()
