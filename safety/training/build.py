"""Build the shipped weights: fit on the training split, choose thresholds on the held-out split.

The thresholds follow a written rule (see `choose_thresholds`) applied to the held-out scores of
the very model that is shipped (weights already rounded), so the figures in the model card are
the figures of the file in `safety/data/`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from safety.classifier import CLASSIFIER_VERSION, RiskClassifier, features, fold
from safety.normalise import normalise
from safety.paths import SAFETY_DATA
from safety.training.data import RISK_LABELS, Example, is_heldout, load_examples
from safety.training.fit import FitSettings, fit_category, fit_risk

__all__ = ["BUCKETS", "WEIGHTS_FILE", "build_model", "choose_thresholds", "dumps", "split"]

BUCKETS = 1 << 18
CATEGORY_BUCKETS = 1 << 12
WEIGHTS_FILE = SAFETY_DATA / "classifier.json"
# Threshold rule, on held-out "none" texts: tier 2 lets through at most 1% of them and is never
# below 0.85. The classifier never escalates on its own (tier 3 is out of reach): a hit routes to
# the screening questions in chat, whose answers decide escalation. At 0.70 it sent 28% of the
# non-crisis crisis-data conversations to screening; see MODEL_CARD.md.
TIER2_MAX_FP = 0.01
TIER3_MAX_FP = 0.0
TIER2_FLOOR = 0.85
TIER3_FLOOR = 0.9
NEVER = 2.0  # a tier-3 threshold no probability reaches


def split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """Split examples into (train, held-out) by the fixed hash rule."""
    train = [e for e in examples if not is_heldout(e.text)]
    heldout = [e for e in examples if is_heldout(e.text)]
    return train, heldout


def choose_thresholds(negative_scores: Sequence[float]) -> tuple[float, float]:
    """Pick the tier-2 and tier-3 thresholds from the held-out scores of "none" texts.

    Each threshold is the smallest value on a 0.01 grid at or above its floor whose false-positive
    rate on those texts is within its limit (TIER2_MAX_FP, TIER3_MAX_FP).
    """
    def smallest(limit: float, floor: float) -> float:
        for step in range(round(floor * 100), 100):
            t = step / 100
            if sum(s >= t for s in negative_scores) <= limit * len(negative_scores):
                return t
        return 0.99

    tier2 = smallest(TIER2_MAX_FP, TIER2_FLOOR)
    return tier2, NEVER


def build_model(
    examples: Sequence[Example] | None = None, settings: FitSettings | None = None
) -> dict[str, Any]:
    """Fit both heads and return the weights file's content (a JSON-ready dict)."""
    settings = settings or FitSettings()
    examples = list(examples if examples is not None else load_examples())
    train, heldout = split(examples)
    rows = [features(normalise(e.text), BUCKETS) for e in train]
    bias, weights = fit_risk(rows, [int(e.is_risk) for e in train], settings)
    index = {c.value: k for k, c in enumerate(RISK_LABELS)}
    risk_rows = [fold(r, CATEGORY_BUCKETS) for r, e in zip(rows, train, strict=True) if e.is_risk]
    risk_labels = [index[e.label] for e in train if e.is_risk]
    cat_bias, cat_weights = fit_category(risk_rows, risk_labels, len(RISK_LABELS), settings)
    model: dict[str, Any] = {
        "kind": "companion-risk-classifier",
        "version": CLASSIFIER_VERSION,
        "buckets": BUCKETS,
        "features": "word 1-3-grams, skip-bigrams, char 4-grams in words; crc32 hashed; 1/sqrt(n) scaled",
        "training": {"file": "classifier_train.yaml", "train": len(train), "heldout": len(heldout),
                     "epochs": settings.epochs, "learning_rate": settings.learning_rate,
                     "l2": settings.l2, "seed": settings.seed},
        "thresholds": {"tier2": 0.5, "tier3": 0.9},
        "risk": {"bias": bias, "weights": {str(k): v for k, v in weights.items()}},
        "category": {"labels": [c.value for c in RISK_LABELS], "buckets": CATEGORY_BUCKETS,
                     "bias": cat_bias,
                     "weights": {str(k): v for k, v in cat_weights.items()}},
    }
    scorer = RiskClassifier(model)
    negatives = [scorer.predict(e.text).score for e in heldout if not e.is_risk]
    tier2, tier3 = choose_thresholds(negatives)
    model["thresholds"] = {"tier2": tier2, "tier3": tier3}
    return model


def dumps(model: dict[str, Any]) -> str:
    """Serialise the model the way it is shipped (compact, one key order, newline at the end)."""
    return json.dumps(model, separators=(",", ":")) + "\n"


def write_model(model: dict[str, Any], path: Path = WEIGHTS_FILE) -> None:
    """Write the weights file."""
    path.write_text(dumps(model), encoding="utf-8")
