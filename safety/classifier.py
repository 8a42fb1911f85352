"""Layer 3 of the risk screen: a small linear classifier for risk the rules do not spell out.

The rules (`safety.screen`) catch what they were written for; this model is the safety net for
oblique wording ("I've been looking up how high the bridge is", "everyone would be fine if I
disappeared"). It is a logistic regression over hashed word n-grams and character 4-grams
of the normalised text, with a second softmax head that names the most likely risk category.
The weights ship as JSON in `safety/data/classifier.json` (written by `python -m
safety.training`; see `safety/MODEL_CARD.md`), inference is pure Python, deterministic and
linear in the length of the text, and nothing is downloaded at run time.

Long messages are scored sentence by sentence as well as whole, and the highest score counts, so
one risky sentence in a long post is not averaged away. A score at or above the tier-2 threshold
asks the screening questions; only a very confident score (tier-3 threshold) escalates. Signals
carry the score, never the patient's words.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from safety.normalise import normalise, split_run_together
from safety.paths import SAFETY_DATA
from safety.types import Category, Signal, Tier

__all__ = [
    "CLASSIFIER_VERSION",
    "ClassifierResult",
    "RiskClassifier",
    "classifier_signals",
    "features",
    "fold",
    "load_classifier",
]

CLASSIFIER_VERSION = "companion-risk-lr-0.2.0"

_WORD = re.compile(r"[a-z0-9']+")
_SENTENCE = re.compile(r"[.!?;\n]+")
_MIN_WORDS_TO_SPLIT = 12  # shorter messages are scored whole only
_MAX_SEGMENTS = 64  # a very long message: whole text plus its first 64 sentences


def features(text: str, buckets: int) -> list[int]:
    """Hash the features of an already normalised text into sorted, distinct bucket ids.

    Features: word unigrams; word bigrams, trigrams and skip-bigrams ("want _ die") with start
    and end markers; and character 4-grams inside each word padded with spaces (so "k1ll" or a
    misspelling still shares most grams with the word it stands for). CRC-32 keeps the hashing
    stable across processes and platforms (Python's own `hash` is salted per process).

    Args:
        text: Text that has been through `safety.normalise.normalise`.
        buckets: The size of the hash space (from the weights file).

    Returns:
        The distinct bucket ids, ascending. Linear in the length of the text.
    """
    words = _WORD.findall(text)
    if not words:
        return []
    ids: set[int] = set()
    for word in set(words):
        ids |= _word_ids(word, buckets)
    grams: set[str] = set()
    padded = ["<s>", *words, "</s>"]
    for i in range(len(padded) - 1):
        grams.add(f"b:{padded[i]} {padded[i + 1]}")
    for i in range(len(padded) - 2):
        grams.add(f"t:{padded[i]} {padded[i + 1]} {padded[i + 2]}")
        grams.add(f"s:{padded[i]} _ {padded[i + 2]}")
    ids.update(zlib.crc32(g.encode("utf-8")) % buckets for g in grams)
    return sorted(ids)


@lru_cache(maxsize=65536)
def _word_ids(word: str, buckets: int) -> frozenset[int]:
    """The hashed unigram and character 4-gram features of one word (words repeat: cached)."""
    grams = {"w:" + word}
    token = f" {word} "
    for j in range(len(token) - 3):
        grams.add("c:" + token[j : j + 4])
    return frozenset(zlib.crc32(g.encode("utf-8")) % buckets for g in grams)


def fold(ids: list[int], buckets: int) -> list[int]:
    """Fold hashed feature ids into a smaller hash space (sorted, distinct)."""
    return sorted({i % buckets for i in ids})


def segments(text: str) -> list[str]:
    """Split a normalised text into the pieces that are scored: the whole, then its sentences."""
    if len(_WORD.findall(text)) < _MIN_WORDS_TO_SPLIT:
        return [text]
    parts = [p.strip() for p in _SENTENCE.split(text) if p.strip()]
    return [text, *parts[:_MAX_SEGMENTS]] if len(parts) > 1 else [text]


class ClassifierResult(BaseModel):
    """The classifier's verdict on one message. Holds no patient text."""

    model_config = ConfigDict(frozen=True)

    score: float = Field(ge=0.0, le=1.0, description="probability-like risk score")
    tier: Tier = Field(description="NONE below the tier-2 threshold, else UNCLEAR or ACTIVE")
    category: Category = Field(description="most likely risk category (even below threshold)")


class RiskClassifier:
    """A loaded risk model: hashed n-gram features, a risk head and a category head."""

    def __init__(self, model: dict[str, Any]) -> None:
        """Build the classifier from the parsed weights file (see `load_classifier`)."""
        self.version: str = model["version"]
        self.buckets: int = int(model["buckets"])
        self.tier2: float = float(model["thresholds"]["tier2"])
        self.tier3: float = float(model["thresholds"]["tier3"])
        risk = model["risk"]
        self._bias: float = float(risk["bias"])
        self._weights: dict[int, float] = {int(k): float(v) for k, v in risk["weights"].items()}
        # The same weights as a dense list (0.0 where absent): summed by `map` in C, not a loop.
        self._dense: list[float] = [0.0] * self.buckets
        for k, v in self._weights.items():
            self._dense[k] = v
        head = model["category"]
        self.categories: tuple[Category, ...] = tuple(Category(c) for c in head["labels"])
        self.category_buckets: int = int(head["buckets"])
        self._cat_bias: list[float] = [float(b) for b in head["bias"]]
        self._cat_weights: dict[int, list[float]] = {
            int(k): [float(x) for x in v] for k, v in head["weights"].items()
        }

    def risk_score(self, ids: list[int]) -> float:
        """Score one segment's hashed features (see `features`): the risk probability, 0..1."""
        total = sum(map(self._dense.__getitem__, ids)) / math.sqrt(len(ids)) if ids else 0.0
        z = self._bias + total
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def category_of(self, ids: list[int]) -> Category:
        """Name the most likely risk category of one segment's hashed features.

        The category head uses a smaller hash space (ids folded modulo its own bucket count),
        which keeps the weights file small; it only ever ranks categories of risky text.
        """
        folded = fold(ids, self.category_buckets)
        scale = 1.0 / math.sqrt(len(folded)) if folded else 0.0
        logits = list(self._cat_bias)
        for i in folded:
            row = self._cat_weights.get(i)
            if row is not None:
                for k, w in enumerate(row):
                    logits[k] += w * scale
        best = max(range(len(logits)), key=lambda k: (logits[k], -k))
        return self.categories[best]

    def tier_for(self, score: float) -> Tier:
        """Map a score to a tier: ACTIVE at or above tier3, UNCLEAR at or above tier2, else NONE."""
        if score >= self.tier3:
            return Tier.ACTIVE
        if score >= self.tier2:
            return Tier.UNCLEAR
        return Tier.NONE

    def predict(self, text: str) -> ClassifierResult:
        """Score a patient message (normalised first) and map the score to a tier and category.

        Args:
            text: The patient's message, raw.

        Returns:
            The highest score over the whole message and its sentences, its tier, and the
            category of the highest-scoring piece. Blank text scores 0.
        """
        norm = normalise(split_run_together(text))
        if not _WORD.search(norm):
            return ClassifierResult(score=0.0, tier=Tier.NONE, category=Category.PASSIVE_IDEATION)
        best_score, best_ids = -1.0, []
        for segment in segments(norm):
            ids = features(segment, self.buckets)
            score = self.risk_score(ids)
            if score > best_score:
                best_score, best_ids = score, ids
        score = round(best_score, 6)
        return ClassifierResult(score=score, tier=self.tier_for(score),
                                category=self.category_of(best_ids))


def classifier_signals(result: ClassifierResult) -> list[Signal]:
    """Turn a classifier verdict into signals: none below threshold, else one `classifier.risk`.

    Args:
        result: What `RiskClassifier.predict` returned.

    Returns:
        `[]` at tier NONE, else one signal (source "classifier", id "classifier.risk") with the
        result's tier and category and the score as detail; never any patient text.
    """
    if result.tier <= Tier.NONE:
        return []
    return [Signal(source="classifier", id="classifier.risk", tier=result.tier,
                   category=result.category, detail=f"score={result.score:.3f}")]


@lru_cache(maxsize=4)
def load_classifier(path: Path = SAFETY_DATA / "classifier.json") -> RiskClassifier:
    """Load (once per path) the shipped risk model.

    Args:
        path: The weights file written by `python -m safety.training`.

    Returns:
        The classifier.

    Raises:
        FileNotFoundError: When the weights file is missing; retrain with
            `python -m safety.training` or reinstall the package.
        ValueError: When the file is not a weights file of this classifier.
    """
    model = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(model, dict) or model.get("kind") != "companion-risk-classifier":
        raise ValueError(f"{path} is not a Companion risk classifier weights file; "
                         "rebuild it with `python -m safety.training`")
    return RiskClassifier(model)
