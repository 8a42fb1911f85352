"""The project-written training set and its fixed held-out split.

Each text's split is decided by a CRC-32 of its lower-cased, stripped form (not of
`normalise`, so a change to normalisation never moves texts between splits), and adding or
removing a text never moves any other. About one text in five is held out.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from safety.paths import SAFETY_DATA
from safety.types import Category

__all__ = ["NONE", "RISK_LABELS", "TRAIN_FILE", "Example", "is_heldout", "load_examples"]

TRAIN_FILE = SAFETY_DATA / "classifier_train.yaml"
NONE = "none"
# The categories the classifier names, in the order of its category head.
RISK_LABELS: tuple[Category, ...] = (
    Category.PASSIVE_IDEATION,
    Category.ACTIVE_IDEATION,
    Category.METHOD_PLAN,
    Category.SELF_HARM,
    Category.HARM_TO_OTHERS,
    Category.ABUSE_DISCLOSURE,
    Category.MEDICAL_EMERGENCY,
)
_HELDOUT_MODULUS = 5


@dataclass(frozen=True)
class Example:
    """One labelled training text."""

    text: str
    label: str  # "none" or a `Category` value from RISK_LABELS

    @property
    def is_risk(self) -> bool:
        """Tell whether the text is a risk example (any label but "none")."""
        return self.label != NONE


def is_heldout(text: str) -> bool:
    """Tell whether a text belongs to the held-out split (fixed by a hash of the text)."""
    return zlib.crc32(_key(text).encode("utf-8")) % _HELDOUT_MODULUS == 0


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def load_examples(path: Path = TRAIN_FILE) -> list[Example]:
    """Read the training file: a mapping of label -> list of texts, in file order.

    Raises:
        ValueError: When a label is neither "none" nor a classifier category, or a text repeats.
    """
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    allowed = {NONE, *(c.value for c in RISK_LABELS)}
    examples: list[Example] = []
    seen: set[str] = set()
    for label, texts in raw.items():
        if label not in allowed:
            raise ValueError(f"{path.name}: unknown label {label!r}; use one of {sorted(allowed)}")
        for text in texts:
            key = _key(text)
            if key in seen:
                raise ValueError(f"{path.name}: duplicate text under {label!r}: {text!r}")
            seen.add(key)
            examples.append(Example(text=str(text), label=label))
    return examples
