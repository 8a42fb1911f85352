"""Tier-2 risk screening in chat: questions from content, skip logic, scoring and yes/no parsing.

The questions (`content/safety/screening_questions.yaml`) cover the constructs of validated
screeners in our own words. Skip logic is data (`ask_if` on each question): method, intent and
plan are asked only after "yes" to suicidal thoughts; otherwise the screen goes straight to
behaviour, and recency is asked only after "yes" to behaviour.

Scoring (`screening_tier`): the most serious answer sets the tier; answers are not added up.
- "yes" to intent, plan, or behaviour in the past 3 months -> tier 4 (urgent). A "yes" to
  behaviour whose recency is not yet known counts as recent (fails closed).
- "yes" to method, or to behaviour longer ago than 3 months -> tier 3 (escalate).
- "yes" only to wish to be dead and/or suicidal thoughts -> tier 2 (non-urgent flag).
- all "no" -> tier 1: distress was mentioned, so the patient still gets an acknowledgement.
- nothing answered yet -> tier 2 (unclear).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from safety.normalise import normalise
from safety.paths import CONTENT_ROOT
from safety.resources import format_resources, load_resources
from safety.types import Tier

__all__ = [
    "QUESTION_IDS",
    "SCREENING_FILE",
    "Question",
    "ScreeningSet",
    "load_screening",
    "low_risk_close",
    "next_question",
    "parse_yes_no",
    "screening_tier",
]

SCREENING_FILE = CONTENT_ROOT / "safety" / "screening_questions.yaml"
QUESTION_IDS = ("wish_dead", "thoughts", "method", "intent", "plan", "behaviour", "behaviour_recent")


@dataclass(frozen=True)
class Question:
    """One screening question (a dataclass: pydantic's BaseModel reserves `construct`)."""

    id: str
    text: str
    construct: str
    ask_if: Mapping[str, bool] = field(default_factory=dict)


class ScreeningSet(BaseModel):
    """The screening content file: intro, ordered questions and the texts said around them."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: str
    review_date: date
    language: str = "en"
    intro: str
    questions: tuple[Question, ...]
    texts: Mapping[str, str]

    @property
    def content_id(self) -> str:
        """Return "id@version"."""
        return f"{self.id}@{self.version}"


@cache
def _load(path: Path) -> ScreeningSet:
    with path.open(encoding="utf-8") as fh:
        screening = ScreeningSet.model_validate(yaml.safe_load(fh))
    ids = [q.id for q in screening.questions]
    if sorted(ids) != sorted(QUESTION_IDS):
        raise ValueError(f"{path}: question ids must be exactly {list(QUESTION_IDS)}, got {ids}")
    for q in screening.questions:
        later = ids[ids.index(q.id):]
        bad = [k for k in q.ask_if if k not in ids or k in later]
        if bad:
            raise ValueError(f"{path}: question {q.id} has ask_if on {bad}, which is not an earlier question")
    for key in ("reask", "low_risk_close"):
        if key not in screening.texts:
            raise ValueError(f"{path}: texts needs '{key}'")
    return screening


def load_screening(root: Path = CONTENT_ROOT / "safety") -> ScreeningSet:
    """Load and validate the screening questions.

    Args:
        root: The folder holding `screening_questions.yaml`.

    Returns:
        The screening set.

    Raises:
        ValueError: The file is missing a required question id, text or has bad skip logic.
    """
    return _load(root / "screening_questions.yaml")


def next_question(answers: Mapping[str, bool], screening: ScreeningSet) -> Question | None:
    """Return the next question to ask, following the skip logic, or None when done.

    Args:
        answers: Answers so far, by question id.
        screening: The loaded screening set.

    Returns:
        The first unanswered question whose `ask_if` conditions hold, or None.
    """
    for question in screening.questions:
        if question.id in answers:
            continue
        if all(answers.get(k) is v for k, v in question.ask_if.items()):
            return question
    return None


def screening_tier(answers: Mapping[str, bool]) -> Tier:
    """Score screening answers; the most serious answer sets the tier (see module docstring).

    Args:
        answers: Answers by question id.

    Returns:
        The tier the answers point to.
    """
    if not answers:
        return Tier.UNCLEAR
    yes = {k for k, v in answers.items() if v}
    behaviour_recent = "behaviour" in yes and answers.get("behaviour_recent") is not False
    if yes & {"intent", "plan"} or behaviour_recent:
        return Tier.URGENT
    if "method" in yes or "behaviour" in yes:
        return Tier.ACTIVE
    if yes & {"wish_dead", "thoughts"}:
        return Tier.UNCLEAR
    return Tier.DISTRESS


_UNSURE = re.compile(r"\b(?:not sure|unsure|don'?t know|dont know|idk|no idea|can'?t say|dunno)\b")
_NEGATIVE_PHRASES = re.compile(
    r"\b(?:i have not|i haven'?t|i havent|i do not|i don'?t|i dont|i did not|i didn'?t|i didnt|"
    r"have not|haven'?t|not really|not at all|never|no way|nope|nah|no|not|n)\b"
)
_YES = re.compile(
    r"\b(?:yes|yeah|yea|yep|yup|ya|y|aye|sometimes|i have|i do|i did|i am|often|occasionally|"
    r"kind of|kinda|sort of|a bit|a little|maybe|probably|definitely|of course|all the time|"
    r"every day|a lot|true|correct|right|i guess|i think so|once|twice|few times|lately)\b"
)


def parse_yes_no(text: str) -> bool | None:
    """Read a yes/no answer to a screening question.

    Leaning to "yes" on mixed answers is deliberate: a "no, but sometimes" is a yes.

    Args:
        text: The patient's reply.

    Returns:
        True for yes-like answers ("yes", "yeah", "y", "sometimes", "I have"), False for
        no-like ones ("no", "nope", "never", "not really"), None when unclear (ask again).
    """
    norm = normalise(text)
    if not norm or _UNSURE.search(norm):
        return None
    without_negatives = _NEGATIVE_PHRASES.sub(" ", norm)
    if _YES.search(without_negatives):
        return True
    if _NEGATIVE_PHRASES.search(norm):
        return False
    return None


def low_risk_close(locale: str, *, screening: ScreeningSet | None = None) -> str:
    """Return the text said after a screening that ends at tier 1 or 2, with the resources.

    Args:
        locale: The patient's locale.
        screening: The screening set; loaded from content when not given.

    Returns:
        Markdown: support, the locale's resources, and that the care team was told (not urgent).
    """
    screening = screening or load_screening()
    listed = format_resources(load_resources(locale))
    return screening.texts["low_risk_close"].format(resources=listed).strip()
