"""The rule file compiles, ids are stable and unique, and malformed rules are refused."""

from __future__ import annotations

from typing import Any

import pytest

from safety.rules import load_rules, parse_rules
from safety.types import Tier


def _data(**rule: Any) -> dict[str, Any]:
    base = {"id": "r.one", "tier": 3, "category": "active_ideation", "patterns": "abc\n"}
    return {"id": "t", "version": "1", "macros": {"X": "x+"}, "rules": [base | rule]}


def test_shipped_rules_compile_with_unique_ids() -> None:
    rules = load_rules()
    ids = [r.id for r in rules.rules]
    assert len(ids) == len(set(ids)) >= 15
    assert all(r.tier >= Tier.DISTRESS for r in rules.rules)
    assert rules.escalators


def test_macros_expand() -> None:
    (rule,) = parse_rules(_data(patterns="a%X%b\n")).rules
    assert rule.pattern.search("axxb")


@pytest.mark.parametrize(
    ("override", "message"),
    [({"patterns": "a%NOPE%\n"}, "unknown macro"), ({"patterns": "a(b\n"}, "invalid regex"),
     ({"patterns": "\n# only a comment\n"}, "empty")],
)
def test_bad_rules_are_refused_with_the_rule_id(override: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=f"r.one.*{message}|{message}"):
        parse_rules(_data(**override))


def test_duplicate_ids_are_refused() -> None:
    data = _data()
    data["rules"] = data["rules"] * 2
    with pytest.raises(ValueError, match="duplicate"):
        parse_rules(data)
