from __future__ import annotations

import pytest

from flows.outcomes import (
    Change,
    Recovery,
    ScorePair,
    is_case,
    pair_change,
    recovery,
    reliable_change,
    reliable_recovery,
)


@pytest.mark.parametrize(("qid", "first", "last", "expected"), [
    ("phq9", 18, 12, "improved"), ("phq9", 18, 13, "no_reliable_change"),
    ("phq9", 12, 18, "deteriorated"), ("phq9", 12, 17, "no_reliable_change"),
    ("gad7", 12, 8, "improved"), ("gad7", 12, 9, "no_reliable_change"),
    ("gad7", 8, 12, "deteriorated"), ("gad7", 5, 5, "no_reliable_change"),
])
def test_reliable_change_thresholds(qid: str, first: int, last: int, expected: str) -> None:
    assert reliable_change(qid, first, last) == expected


@pytest.mark.parametrize(("qid", "total", "expected"), [
    ("phq9", 9, False), ("phq9", 10, True), ("gad7", 7, False), ("gad7", 8, True),
])
def test_caseness_cut_offs(qid: str, total: int, expected: bool) -> None:
    assert is_case(qid, total) is expected


def test_bad_ids_and_totals_are_refused() -> None:
    with pytest.raises(ValueError, match="known: \\['gad7', 'phq9'\\]"):
        is_case("bdi", 3)
    with pytest.raises(ValueError, match="outside 0..21"):
        reliable_change("gad7", 22, 3)
    with pytest.raises(ValueError, match="outside 0..27"):
        is_case("phq9", -1)


@pytest.mark.parametrize(("first", "last", "expected"), [
    ((12, 5), (8, 5), Recovery.RECOVERED),           # case on PHQ-9 only at start, neither at end
    ((5, 9), (5, 7), Recovery.RECOVERED),            # case on GAD-7 only at start
    ((12, 10), (9, 8), Recovery.NOT_RECOVERED),      # still a case on GAD-7
    ((12, 10), (10, 3), Recovery.NOT_RECOVERED),     # still a case on PHQ-9
    ((9, 7), (2, 1), Recovery.NOT_A_CASE_AT_START),  # below both cut-offs at start: not counted
])
def test_recovery(first: tuple[int, int], last: tuple[int, int], expected: Recovery) -> None:
    assert recovery(first, last) is expected


def test_pair_change_needs_no_reliable_rise_on_the_other_measure() -> None:
    assert pair_change(ScorePair(18, 10), ScorePair(12, 10)) is Change.IMPROVED
    assert pair_change((18, 6), (12, 10)) is Change.NO_RELIABLE_CHANGE  # one down, one up
    assert pair_change((8, 6), (14, 7)) is Change.DETERIORATED
    assert pair_change((8, 6), (10, 7)) is Change.NO_RELIABLE_CHANGE


def test_reliable_recovery_needs_recovery_and_reliable_improvement() -> None:
    assert reliable_recovery((15, 12), (8, 6)) is Recovery.RECOVERED
    assert recovery((11, 5), (9, 5)) is Recovery.RECOVERED
    assert reliable_recovery((11, 5), (9, 5)) is Recovery.NOT_RECOVERED  # recovered by 2 points only
    assert reliable_recovery((4, 3), (0, 0)) is Recovery.NOT_A_CASE_AT_START
