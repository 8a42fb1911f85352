"""Print the classifier's figures: held-out split, the project's labelled cases, crisis-data.

crisis-data (`../shared/crisis-data`, silver labels, not licensed for training) is read only
here, to evaluate; nothing from it reaches the weights.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from safety.classifier import RiskClassifier
from safety.training.build import split
from safety.training.data import load_examples

__all__ = ["CASES_DIR", "CRISIS_DATA", "print_report"]

_REPO = Path(__file__).resolve().parents[2]
CASES_DIR = _REPO / "tests" / "safety"
CRISIS_DATA = _REPO.parent / "shared" / "crisis-data"


def _rate(hits: int, total: int) -> str:
    return f"{hits / total:.3f} ({hits}/{total})" if total else "n/a"


def _heldout(clf: RiskClassifier) -> None:
    _, heldout = split(load_examples())
    by_label: dict[str, list[int]] = defaultdict(list)
    right_category = risky = 0
    for e in heldout:
        result = clf.predict(e.text)
        by_label[e.label].append(int(result.tier))
        if e.is_risk:
            risky += 1
            right_category += result.category.value == e.label
    print(f"held-out split ({len(heldout)} texts)")
    for label, tiers in sorted(by_label.items()):
        t2, t3 = sum(t >= 2 for t in tiers), sum(t >= 3 for t in tiers)
        kind = "false pos." if label == "none" else "recall"
        print(f"  {label:<20} {kind:<10} tier>=2 {_rate(t2, len(tiers)):<18} tier>=3 {_rate(t3, len(tiers))}")
    print(f"  category right on risk texts: {_rate(right_category, risky)}")


def _cases(clf: RiskClassifier) -> None:
    cases: list[dict[str, Any]] = []
    for path in sorted(CASES_DIR.glob("cases*.yaml")):
        cases += yaml.safe_load(path.read_text(encoding="utf-8")) or []
    crisis = [c for c in cases if c["min_tier"] >= 2]
    calm = [c for c in cases if c["max_tier"] <= 1]
    tiers_crisis = [clf.predict(c["text"]).tier for c in crisis]
    tiers_calm = [clf.predict(c["text"]).tier for c in calm]
    print(f"tests/safety/cases*.yaml ({len(cases)} cases; classifier alone)")
    print(f"  min_tier>=2 recall     tier>=2 {_rate(sum(t >= 2 for t in tiers_crisis), len(crisis)):<18} "
          f"tier>=3 {_rate(sum(t >= 3 for t in tiers_crisis), len(crisis))}")
    print(f"  max_tier<=1 false pos. tier>=2 {_rate(sum(t >= 2 for t in tiers_calm), len(calm)):<18} "
          f"tier>=3 {_rate(sum(t >= 3 for t in tiers_calm), len(calm))}")


def _crisis_data(clf: RiskClassifier, directory: Path) -> None:
    print(f"crisis-data dev check, silver labels ({directory})")
    for name in ("helpharm_silver.jsonl", "reddit_suicide_vs_teen.jsonl"):
        path = directory / name
        if not path.exists():
            print(f"  {name}: absent, skipped")
            continue
        by_label: dict[str, list[int]] = defaultdict(list)
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts = [m["content"] for m in row.get("messages", []) if m.get("role") == "user"]
            texts = texts or [row.get("text", "")]
            by_label[str(row.get("label"))].append(max(int(clf.predict(t).tier) for t in texts))
        for label, tiers in sorted(by_label.items()):
            t2, t3 = sum(t >= 2 for t in tiers), sum(t >= 3 for t in tiers)
            print(f"  {name[:12]} {label:<30} tier>=2 {_rate(t2, len(tiers)):<20} tier>=3 {_rate(t3, len(tiers))}")


def print_report(model: dict[str, Any], crisis_data: Path = CRISIS_DATA) -> None:
    """Print the figures for a built model (thresholds included)."""
    clf = RiskClassifier(model)
    print(f"thresholds: tier2 >= {clf.tier2}, tier3 >= {clf.tier3}")
    _heldout(clf)
    _cases(clf)
    _crisis_data(clf, crisis_data)
