"""Languages other than English: every case in cases_languages.yaml, the coverage each language
must have, and that rules for every language run whatever the patient's locale."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from safety.rules import load_rules
from safety.screen import screen_message
from safety.types import Tier
from tests.safety.case_check import check_case

LANGUAGES = ("es", "fr", "de", "pt")
CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "cases_languages.yaml").read_text("utf-8")
)


def _case_id(index: int, case: dict[str, Any]) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", case["text"].lower()).strip("-")[:40]
    return f"{case['lang']}-{index:03d}-{slug}"


def test_cases_are_well_formed_and_cover_each_language() -> None:
    assert len({c["text"] for c in CASES}) == len(CASES)
    for case in CASES:
        assert set(case) <= {"lang", "text", "min_tier", "max_tier", "categories"}
        assert case["lang"] in LANGUAGES and 0 <= case["min_tier"] <= case["max_tier"] <= 5
    for lang in LANGUAGES:
        own = [c for c in CASES if c["lang"] == lang]
        wanted = {"active_ideation", "intent", "self_harm", "passive_ideation", "imminent", "recent_attempt"}
        assert wanted <= {cat for c in own for cat in c.get("categories", [])}, lang
        assert sum(c["max_tier"] <= 1 for c in own) >= 6, f"{lang}: negations and everyday text"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(i, c) for i, c in enumerate(CASES)])
def test_case(case: dict[str, Any]) -> None:
    check_case(case)


@pytest.mark.parametrize(("text", "prefix"), [("quiero morir", "es."), ("je veux mourir", "fr."),
                                              ("ich will sterben", "de."), ("quero morrer", "pt.")])
def test_signals_name_the_language(text: str, prefix: str) -> None:
    result = screen_message(text)
    assert result.tier == Tier.ACTIVE
    assert all(s.id.startswith(prefix) for s in result.signals)


def test_every_language_is_loaded_in_one_rule_set() -> None:
    assert set(LANGUAGES) <= set(load_rules().languages)


@pytest.mark.parametrize("text", ["quiero morir", "je vais me suicider", "ich ritze mich", "vou me matar"])
def test_accents_are_optional(text: str) -> None:
    accented = {"quiero": "quiéro", "suicider": "suicidér", "ritze": "rítze", "matar": "matár"}
    variant = " ".join(accented.get(w, w) for w in text.split())
    assert screen_message(variant).tier == screen_message(text).tier >= Tier.ACTIVE
