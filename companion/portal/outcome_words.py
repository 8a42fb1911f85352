"""Progress said in words: reliable change and recovery per measure, and the pre-session summary.

The rules are NHS Talking Therapies' (`flows.outcomes`); this module only turns a patient's
scores into the sentences and facts the therapist's progress page shows.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from flows.outcomes import (
    CASENESS,
    RELIABLE_CHANGE,
    Change,
    Recovery,
    is_case,
    recovery,
    reliable_change,
    reliable_recovery,
)

if TYPE_CHECKING:
    from companion.portal.progress import Progress, Score

__all__ = ["CHANGE_WORDS", "NAMES", "SUMMARY_WINDOW", "outcome_sentences", "pre_session_summary"]

#: The pre-session summary covers the time since the last session, or this long without one.
SUMMARY_WINDOW = timedelta(days=14)

NAMES = {"phq9": "PHQ-9", "gad7": "GAD-7"}
CHANGE_WORDS = {Change.IMPROVED: "reliable improvement", Change.DETERIORATED: "reliable deterioration",
                Change.NO_RELIABLE_CHANGE: "no reliable change"}


def outcome_sentences(scores: dict[str, list[Score]]) -> list[str]:
    """Reliable change on each measure and recovery on the pair, in words (flows.outcomes rules)."""
    said = []
    for qid, series in scores.items():
        name = NAMES[qid]
        if len(series) < 2:
            said.append(f"{name}: reliable change needs two scores; there {'is one' if series else 'are none'} so far.")
            continue
        first, last = series[0], series[-1]
        change = reliable_change(qid, first.total, last.total)
        said.append(f"{name}: {CHANGE_WORDS[change]} from {first.total} to {last.total} "
                    f"(a change of {RELIABLE_CHANGE[qid]} points or more counts as reliable). The latest score is "
                    f"{'at or above' if is_case(qid, last.total) else 'below'} the case threshold of {CASENESS[qid]}.")
    gad7 = {s.on: s.total for s in scores.get("gad7", [])}
    pairs = [(s.on, (s.total, gad7[s.on])) for s in scores.get("phq9", []) if s.on in gad7]
    if len(pairs) < 2:
        said.append("Recovery: needs PHQ-9 and GAD-7 from the same day on two occasions; "
                    f"there {'is one' if pairs else 'are none'} so far.")
        return said
    (start_on, start), (end_on, end) = pairs[0], pairs[-1]
    outcome = recovery(start, end)
    if outcome is Recovery.NOT_A_CASE_AT_START:
        said.append(f"Recovery: not counted, because the scores on {start_on.isoformat()} were below both case thresholds.")
    else:
        words = "recovered" if outcome is Recovery.RECOVERED else "not recovered"
        reliable = reliable_recovery(start, end) is Recovery.RECOVERED
        said.append(f"Recovery: {words} between {start_on.isoformat()} and {end_on.isoformat()} "
                    f"({'reliable recovery' if reliable else 'not reliable recovery'}).")
    return said


def pre_session_summary(progress: Progress, reviews: list[tuple[str, date]]) -> dict[str, Any]:
    """What happened since the last session (or in the last 14 days): the facts for the summary card."""
    since = progress.last_session_on or (progress.today - SUMMARY_WINDOW)
    moods = [m for d, m in progress.moods if d >= since]
    changes = []
    for qid, series in progress.scores.items():
        recent = [s for s in series if s.on >= since]
        before = [s for s in series if s.on < since]
        if recent:
            start = before[-1] if before else recent[0]
            changes.append((qid, start.total if start is not recent[-1] else None, recent[-1].total))
    return {
        "since": since, "since_session": progress.last_session_on is not None,
        "check_ins": len(moods), "mood_first": moods[0] if moods else None, "mood_last": moods[-1] if moods else None,
        "mood_average": round(sum(moods) / len(moods), 1) if moods else None,
        "modules_done": [m.title for m in progress.modules if m.completed_on and m.completed_on >= since],
        "homework_reviewed": sum(1 for _, d in reviews if d >= since),
        "scores": changes,
        "risks": [r for r in progress.risks if r.raised_at.date() >= since],
    }
