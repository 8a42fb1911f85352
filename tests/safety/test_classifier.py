"""Risk classifier (layer 3): API, determinism, thresholds, shipped weights, training data hygiene."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from safety.classifier import (
    CLASSIFIER_VERSION,
    ClassifierResult,
    RiskClassifier,
    classifier_signals,
    features,
    load_classifier,
)
from safety.normalise import normalise
from safety.training.build import WEIGHTS_FILE, build_model, choose_thresholds, dumps, split
from safety.training.data import RISK_LABELS, is_heldout, load_examples
from safety.types import Category, Tier

CASES_DIR = Path(__file__).parent

# From the held-out split (never trained on), each clearly on its side of the line.
HELDOUT_POSITIVES = [
    "I've been researching ways to end it",
    "I want to hurt myself so bad",
    "I don't think I want to be alive much longer",
    "I'm going to do it soon, I've made up my mind",
    "I think tonight might be the night I do it",
]
HELDOUT_NEGATIVES = [
    "my therapist said I'm making progress",
    "I'm at the platform waiting for my friend",
    "I'm done with this job, I'm handing in my notice",
    "I'm at the end of my rope with this project",
    "I'm a social worker and had a hard safeguarding case today",
]


@pytest.fixture(scope="module")
def clf() -> RiskClassifier:
    return load_classifier()


def _case_texts() -> set[str]:
    texts: set[str] = set()
    for path in sorted(CASES_DIR.glob("cases*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            texts.add(normalise(str(case["text"])))
    return texts


def test_shipped_weights_load_and_name_their_version(clf: RiskClassifier) -> None:
    assert clf.version == CLASSIFIER_VERSION
    assert load_classifier() is clf  # cached
    assert 0.5 <= clf.tier2 < 1.0 < clf.tier3, "the classifier never escalates on its own"
    assert set(clf.categories) == set(RISK_LABELS)


def test_predict_returns_a_frozen_result(clf: RiskClassifier) -> None:
    result = clf.predict("I want to die")
    assert isinstance(result, ClassifierResult)
    assert 0.0 <= result.score <= 1.0
    assert isinstance(result.tier, Tier) and isinstance(result.category, Category)
    with pytest.raises(ValidationError):
        result.score = 0.0  # type: ignore[misc]


def test_predictions_are_deterministic(clf: RiskClassifier) -> None:
    text = "Everything is a mess. I keep thinking everyone would cope fine if I wasn't around."
    first = clf.predict(text)
    assert all(clf.predict(text) == first for _ in range(5))
    fresh = RiskClassifier(json.loads(WEIGHTS_FILE.read_text(encoding="utf-8")))
    assert fresh.predict(text) == first


@pytest.mark.parametrize("text", HELDOUT_POSITIVES)
def test_clear_heldout_positives_reach_tier_two(clf: RiskClassifier, text: str) -> None:
    assert is_heldout(text)
    assert clf.predict(text).tier >= Tier.UNCLEAR


@pytest.mark.parametrize("text", HELDOUT_NEGATIVES)
def test_clear_heldout_negatives_stay_at_tier_zero(clf: RiskClassifier, text: str) -> None:
    assert is_heldout(text)
    assert clf.predict(text).tier == Tier.NONE


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\u0000\ufffd", "!!! ???"])
def test_blank_or_junk_text_scores_zero(clf: RiskClassifier, text: str) -> None:
    result = clf.predict(text)
    assert result.score == 0.0 and result.tier == Tier.NONE
    assert classifier_signals(result) == []


def test_a_very_long_message_is_scored(clf: RiskClassifier) -> None:
    text = "I went to work and came home. " * 500 + "I've been researching ways to end it."
    assert clf.predict(text).tier >= Tier.UNCLEAR


def test_thresholds_map_scores_to_tiers(clf: RiskClassifier) -> None:
    assert clf.tier_for(0.0) == Tier.NONE
    assert clf.tier_for(clf.tier2 - 0.001) == Tier.NONE
    assert clf.tier_for(clf.tier2) == Tier.UNCLEAR
    assert clf.tier_for(0.9999) == Tier.UNCLEAR
    assert clf.tier_for(1.0) == Tier.UNCLEAR, "a classifier hit routes to screening questions"


def test_threshold_rule() -> None:
    assert choose_thresholds([0.1] * 100) == (0.85, 2.0)
    tier2, tier3 = choose_thresholds([0.1] * 96 + [0.8, 0.85, 0.95, 0.97])
    assert tier2 == 0.96 and tier3 == 2.0


@pytest.mark.parametrize(
    ("tier", "category"),
    [(Tier.UNCLEAR, Category.PASSIVE_IDEATION), (Tier.ACTIVE, Category.METHOD_PLAN)],
)
def test_signals_carry_score_tier_and_category(tier: Tier, category: Category) -> None:
    result = ClassifierResult(score=0.987654, tier=tier, category=category)
    [signal] = classifier_signals(result)
    assert (signal.source, signal.id, signal.tier, signal.category) == ("classifier", "classifier.risk", tier, category)
    assert signal.detail == "score=0.988"


def test_no_signal_below_threshold() -> None:
    assert classifier_signals(ClassifierResult(score=0.3, tier=Tier.NONE, category=Category.SELF_HARM)) == []


def test_signals_carry_no_patient_text(clf: RiskClassifier) -> None:
    text = "Priyanka here, I've been researching ways to end it"
    signals = classifier_signals(clf.predict(text))
    assert signals
    for signal in signals:
        dumped = signal.model_dump_json().lower()
        assert "priyanka" not in dumped and "researching" not in dumped and "end it" not in dumped


def test_features_are_stable_hashes() -> None:
    ids = features(normalise("I want to die"), 1 << 18)
    assert ids == sorted(set(ids)) and all(0 <= i < 1 << 18 for i in ids)
    assert features("i want to die", 1 << 18) == ids
    assert features("", 1 << 18) == []


def test_load_refuses_a_file_that_is_not_a_weights_file(tmp_path: Path) -> None:
    bad = tmp_path / "classifier.json"
    bad.write_text('{"kind": "something else"}', encoding="utf-8")
    with pytest.raises(ValueError, match="python -m safety.training"):
        load_classifier(bad)


def test_training_data_is_well_formed_and_split() -> None:
    examples = load_examples()
    assert len(examples) >= 1000
    labels = {e.label for e in examples}
    assert labels == {"none", *(c.value for c in RISK_LABELS)}
    train, heldout = split(examples)
    assert 0.15 <= len(heldout) / len(examples) <= 0.25
    assert not {normalise(e.text) for e in train} & {normalise(e.text) for e in heldout}


def test_training_texts_never_equal_a_labelled_test_case() -> None:
    cases = _case_texts()
    assert cases
    overlap = [e.text for e in load_examples() if normalise(e.text) in cases]
    assert overlap == []


def test_shipped_weights_equal_a_fresh_training_run() -> None:
    model: dict[str, Any] = build_model()
    assert dumps(model) == WEIGHTS_FILE.read_text(encoding="utf-8"), (
        "safety/data/classifier.json is stale: run `python -m safety.training` and commit it"
    )
