"""Outcome measures on PHQ-9 and GAD-7 totals, as NHS Talking Therapies reports them.

Pure functions for the therapist's view: reliable change on one measure, caseness, recovery,
reliable improvement and deterioration on the pair, and reliable recovery. The thresholds are
the published NHS Talking Therapies (formerly IAPT) ones, as compiled in
`/work/shared/reference/clinical-facts.md` §1 (NHS Talking Therapies outcome definitions):

- Reliable change: PHQ-9 by 6 points or more, GAD-7 by 4 points or more. Source: cbtwatch.com
  citing the IAPT Manual. SECONDARY; the primary Manual / NHS Digital text was not retrieved
  (the fact sheet marks this PARTIALLY CONFIRMED).
- Caseness ("above the clinical cut-off on anxiety and/or depression"): the definition is
  CONFIRMED (fingertips.phe.org.uk glossary); the numeric cut-offs PHQ-9 >= 10 and GAD-7 >= 8
  are SECONDARY only.
- Recovery counts only patients who were a case at the start, and means a case at the start
  (on either measure) and not a case on both at the end. Counting only starting cases is
  CONFIRMED (HFAnalyticsLab IAPT appendix, 2019); the end cut-offs (below 10 and below 8) are
  SECONDARY (cbtwatch.com citing the IAPT Manual).
- Reliable improvement / deterioration / recovery on the pair follow the IAPT Manual's wording
  ("a reliable decrease on either measure and no reliable increase on the other"; reliable
  recovery = recovered and reliably improved). These pair rules are not in the fact sheet:
  UNCONFIRMED until checked against the NHS Talking Therapies Manual.

Check these against the current NHS Talking Therapies Manual before reporting outcomes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "CASENESS",
    "MAX_TOTAL",
    "RELIABLE_CHANGE",
    "Change",
    "Recovery",
    "ScorePair",
    "is_case",
    "pair_change",
    "recovery",
    "reliable_change",
    "reliable_recovery",
]

#: Smallest change in the total that counts as reliable (SECONDARY, see the module docstring).
RELIABLE_CHANGE = {"phq9": 6, "gad7": 4}
#: Lowest total that counts as a case (SECONDARY, see the module docstring).
CASENESS = {"phq9": 10, "gad7": 8}
MAX_TOTAL = {"phq9": 27, "gad7": 21}


class Change(StrEnum):
    IMPROVED = "improved"
    DETERIORATED = "deteriorated"
    NO_RELIABLE_CHANGE = "no_reliable_change"


class Recovery(StrEnum):
    RECOVERED = "recovered"
    NOT_RECOVERED = "not_recovered"
    NOT_A_CASE_AT_START = "not_a_case_at_start"  # recovery is not counted for them


class ScorePair(NamedTuple):
    """PHQ-9 and GAD-7 totals from the same occasion."""

    phq9: int
    gad7: int


def _check(questionnaire_id: str, total: int) -> None:
    if questionnaire_id not in MAX_TOTAL:
        raise ValueError(f"no outcome thresholds for {questionnaire_id!r}; known: {sorted(MAX_TOTAL)}")
    if isinstance(total, bool) or not 0 <= total <= MAX_TOTAL[questionnaire_id]:
        raise ValueError(f"{questionnaire_id} total {total!r} is outside 0..{MAX_TOTAL[questionnaire_id]}")


def reliable_change(questionnaire_id: str, first: int, last: int) -> Change:
    """Classify the change from the first to the last total on one measure.

    A fall by at least the reliable-change threshold (PHQ-9: 6, GAD-7: 4; SECONDARY) is
    "improved", a rise by at least as much is "deteriorated", anything smaller is
    "no_reliable_change".

    Raises:
        ValueError: An unknown questionnaire id or a total out of range.
    """
    _check(questionnaire_id, first)
    _check(questionnaire_id, last)
    threshold = RELIABLE_CHANGE[questionnaire_id]
    if first - last >= threshold:
        return Change.IMPROVED
    if last - first >= threshold:
        return Change.DETERIORATED
    return Change.NO_RELIABLE_CHANGE


def is_case(questionnaire_id: str, total: int) -> bool:
    """Return whether a total is at or above the caseness cut-off (PHQ-9 10, GAD-7 8; SECONDARY)."""
    _check(questionnaire_id, total)
    return total >= CASENESS[questionnaire_id]


def _is_case_pair(pair: ScorePair | tuple[int, int]) -> bool:
    phq9, gad7 = pair
    return is_case("phq9", phq9) or is_case("gad7", gad7)


def recovery(first_pair: ScorePair | tuple[int, int], last_pair: ScorePair | tuple[int, int]) -> Recovery:
    """Apply the NHS Talking Therapies recovery rule to (PHQ-9, GAD-7) totals.

    A patient who was a case on either measure at the start has recovered when, at the end,
    they are a case on neither (PHQ-9 below 10 and GAD-7 below 8). Patients who were not a
    case at the start are not counted ("not_a_case_at_start"). The thresholds are the
    published NHS Talking Therapies ones (clinical-facts.md §1: cbtwatch.com citing the IAPT
    Manual, SECONDARY; the "cases at start only" rule CONFIRMED by the HFAnalyticsLab IAPT
    appendix, 2019).
    """
    if not _is_case_pair(first_pair):
        return Recovery.NOT_A_CASE_AT_START
    return Recovery.NOT_RECOVERED if _is_case_pair(last_pair) else Recovery.RECOVERED


def pair_change(first_pair: ScorePair | tuple[int, int], last_pair: ScorePair | tuple[int, int]) -> Change:
    """Classify change on the pair as NHS Talking Therapies does (UNCONFIRMED wording).

    Reliable improvement: a reliable fall on at least one measure and no reliable rise on the
    other. Reliable deterioration: a reliable rise on at least one measure and no reliable fall
    on the other. Otherwise (no reliable change, or one up and one down): no reliable change.
    """
    changes = {reliable_change("phq9", first_pair[0], last_pair[0]),
               reliable_change("gad7", first_pair[1], last_pair[1])}
    if Change.IMPROVED in changes and Change.DETERIORATED not in changes:
        return Change.IMPROVED
    if Change.DETERIORATED in changes and Change.IMPROVED not in changes:
        return Change.DETERIORATED
    return Change.NO_RELIABLE_CHANGE


def reliable_recovery(first_pair: ScorePair | tuple[int, int], last_pair: ScorePair | tuple[int, int]) -> Recovery:
    """Return "recovered" only for a patient who both recovered and reliably improved on the pair.

    Reliable recovery = recovery (see `recovery`) and reliable improvement (see `pair_change`),
    per the IAPT Manual's definition (UNCONFIRMED: not in the fact sheet).
    """
    outcome = recovery(first_pair, last_pair)
    if outcome is Recovery.RECOVERED and pair_change(first_pair, last_pair) is not Change.IMPROVED:
        return Recovery.NOT_RECOVERED
    return outcome
