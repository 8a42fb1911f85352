"""One patient's progress as their therapist sees it: modules, assignments, scores, shared results, risk.

`load_progress` gathers what the progress page shows. It reads the answer rows' metadata
(module, step, time) without decrypting; it writes an audit entry ("read.progress") before it
decrypts check-in moods, questionnaire totals, share decisions and the care-team reference,
reads briefs through `companion.audit.read_assignments`, and writes one more entry
("read.shared_result", per module run) before it decrypts a summary the patient agreed to share.
Nothing the patient kept private (unshared summaries, step answers, homework reflections,
transcript) is decrypted here at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from companion import audit
from companion.crypto import DecryptionError
from companion.models import (
    CareTeam,
    Escalation,
    EscalationStatus,
    ExerciseAnswer,
    User,
    as_utc,
)
from companion.portal.invitations import REFERENCE_PURPOSE
from companion.portal.outcome_words import NAMES, outcome_sentences, pre_session_summary
from flows.nodes.share_summary import SHARE_STEP

if TYPE_CHECKING:
    from companion.runtime import Runtime

__all__ = [
    "NAMES",
    "QUESTIONNAIRES",
    "AssignmentView",
    "ModuleStatus",
    "Progress",
    "RiskEvent",
    "Score",
    "SharedResult",
    "load_progress",
    "module_statuses",
    "read_reference",
    "risk_events",
    "scores_from",
]

QUESTIONNAIRES = ("phq9", "gad7")
CHECK_IN = "check-in"
HOMEWORK_STEP = "homework_review"
URGENT_TIER = 3


@dataclass(frozen=True)
class Score:
    questionnaire: str
    on: date
    total: int
    band: str | None


@dataclass(frozen=True)
class ModuleStatus:
    module_id: str
    title: str
    started_on: date
    last_on: date
    completed_runs: int
    completed_on: date | None
    in_progress: bool


@dataclass(frozen=True)
class AssignmentView:
    module_id: str
    title: str
    due: date | None
    overdue: bool
    brief: str


@dataclass(frozen=True)
class RiskEvent:
    escalation_id: str
    patient_id: str
    tier: int
    categories: tuple[str, ...]
    status: str
    raised_at: datetime
    safety_mode: bool

    @property
    def urgent(self) -> bool:
        """Tier 3 or above and not resolved, or the conversation is still in safety mode."""
        return (self.tier >= URGENT_TIER and self.status != EscalationStatus.RESOLVED) or self.safety_mode


@dataclass(frozen=True)
class SharedResult:
    module_id: str
    title: str
    on: date
    text: str


@dataclass
class Progress:
    patient_id: str
    username: str
    reference: str
    today: date
    last_session_on: date | None
    modules: list[ModuleStatus]
    assignments: list[AssignmentView]
    homework: list[tuple[str, date, date | None]]  # (module title, set on, reviewed on)
    moods: list[tuple[date, int]]
    scores: dict[str, list[Score]]
    outcomes: list[str]
    shared: list[SharedResult]
    safety_plan: SharedResult | None
    safety_plan_private: bool
    risks: list[RiskEvent]
    summary: dict[str, Any] = field(default_factory=dict)


def answer_rows(engine: Any, patient_ids: Iterable[str]) -> list[ExerciseAnswer]:
    """Answer rows (ciphertext untouched) of these patients, oldest first."""
    ids = list(patient_ids)
    if not ids:
        return []
    with Session(engine) as db:
        query = select(ExerciseAnswer).where(col(ExerciseAnswer.patient_id).in_(ids))
        return list(db.exec(query.order_by(col(ExerciseAnswer.updated_at), col(ExerciseAnswer.id))))


def decrypter(runtime: Runtime, patient_id: str) -> Callable[[ExerciseAnswer], Any]:
    """A function that decrypts one answer row (None if it cannot be read, e.g. erased)."""

    def value(row: ExerciseAnswer) -> Any:
        try:
            return json.loads(runtime.crypto.decrypt_text(patient_id, row.ciphertext, purpose="answer"))
        except (DecryptionError, ValueError):
            return None

    return value


def read_reference(runtime: Runtime, patient_id: str, blob: bytes | None) -> str:
    """Decrypt a care-team reference (the caller has recorded the read)."""
    if not blob:
        return ""
    try:
        return runtime.crypto.decrypt_text(patient_id, blob, purpose=REFERENCE_PURPOSE)
    except DecryptionError:
        return ""


def _questionnaire_of(value: dict[str, Any], stored_as: str) -> str:
    """Which questionnaire a result is, from its item ids (the stored module id may be stale)."""
    keys = list(value.get("answers", {}))
    for qid in QUESTIONNAIRES:
        if keys and all(str(k).startswith(f"{qid}_") for k in keys):
            return qid
    return stored_as


def scores_from(rows: Iterable[ExerciseAnswer], value: Callable[[ExerciseAnswer], Any]) -> dict[str, list[Score]]:
    """Complete PHQ-9 / GAD-7 totals by questionnaire, oldest first (decrypts the result rows only)."""
    found: dict[str, list[Score]] = {qid: [] for qid in QUESTIONNAIRES}
    for row in rows:
        if row.module_id not in QUESTIONNAIRES or row.step_id != "result" or not row.completed:
            continue
        data = value(row)
        if not isinstance(data, dict) or not isinstance(data.get("total"), int) or data.get("band") is None:
            continue
        qid = _questionnaire_of(data, row.module_id)
        try:
            on = date.fromisoformat(str(data.get("date")))
        except ValueError:
            on = as_utc(row.updated_at).date()
        found[qid].append(Score(qid, on, int(data["total"]), str(data["band"])))
    for series in found.values():
        series.sort(key=lambda s: s.on)
    return found


def module_statuses(runtime: Runtime, rows: Iterable[ExerciseAnswer]) -> list[ModuleStatus]:
    """Modules started and completed, from answer metadata alone (no decryption)."""
    runs: dict[str, list[ExerciseAnswer]] = {}
    for row in rows:
        if row.module_id in runtime.modules.modules and row.step_id != HOMEWORK_STEP:
            runs.setdefault(row.run_id, []).append(row)
    by_module: dict[str, list[tuple[date, date, date | None]]] = {}
    for run in runs.values():
        module = runtime.modules.modules[run[0].module_id]
        done = [as_utc(r.updated_at).date() for r in run if r.step_id == module.steps[-1].id and r.completed]
        days = [as_utc(r.updated_at).date() for r in run]
        by_module.setdefault(module.id, []).append((min(days), max(days), min(done) if done else None))
    statuses = []
    for module_id, found in by_module.items():
        found.sort()
        completed = [c for _, _, c in found if c is not None]
        statuses.append(ModuleStatus(
            module_id=module_id, title=runtime.modules.modules[module_id].title,
            started_on=found[0][0], last_on=max(last for _, last, _ in found), completed_runs=len(completed),
            completed_on=max(completed) if completed else None, in_progress=found[-1][2] is None,
        ))
    return sorted(statuses, key=lambda s: s.last_on, reverse=True)


def risk_events(engine: Any, patient_ids: Iterable[str]) -> list[RiskEvent]:
    """Risk events of these patients, newest first: tier, categories, status (never the excerpt)."""
    ids = list(patient_ids)
    if not ids:
        return []
    with Session(engine) as db:
        rows = list(db.exec(select(Escalation).where(col(Escalation.patient_id).in_(ids))
                            .order_by(col(Escalation.created_at).desc())))
    return [
        RiskEvent(escalation_id=r.id, patient_id=r.patient_id, tier=r.tier,
                  categories=tuple(c.replace("_", " ") for c in r.categories.split(",") if c),
                  status=str(r.status), raised_at=as_utc(r.created_at), safety_mode=r.safety_mode)
        for r in rows
    ]


def _plain(summary: str) -> str:
    """A stored Markdown summary as plain text: no emphasis marks, no escaping backslashes."""
    return re.sub(r"\\(.)", r"\1", summary.replace("**", ""))


def _shared_results(runtime: Runtime, rows: list[ExerciseAnswer], value: Callable[[ExerciseAnswer], Any],
                    *, actor: str, patient_id: str) -> tuple[list[SharedResult], bool]:
    """Summaries of runs the patient said yes to sharing (newest first); and whether a plan is unshared."""
    shared_runs = {r.run_id for r in rows if r.step_id == SHARE_STEP and value(r) is True}
    results, private_plan = [], False
    for row in rows:
        module = runtime.modules.modules.get(row.module_id)
        if module is None or row.step_id != module.steps[-1].id or not row.completed:
            continue
        if row.run_id not in shared_runs:
            private_plan = private_plan or module.show_in_crisis
            continue
        audit.record(runtime.engine, actor=actor, action="read.shared_result", patient_id=patient_id,
                     target=row.run_id[:200])
        text = value(row)
        if isinstance(text, str):
            results.append(SharedResult(module.id, module.title, as_utc(row.updated_at).date(), _plain(text)))
    results.reverse()
    return results, private_plan


def load_progress(runtime: Runtime, *, patient_id: str, therapist_id: str, today: date) -> Progress:
    """Everything the progress page shows for one patient; every decryption is audited first."""
    with Session(runtime.engine) as db:
        team = db.get(CareTeam, (patient_id, therapist_id))
        user = db.get(User, patient_id)
    if team is None or user is None:
        raise LookupError(f"patient {patient_id!r} is not on the caseload of {therapist_id!r}")
    rows = answer_rows(runtime.engine, [patient_id])
    audit.record(runtime.engine, actor=therapist_id, action="read.progress", patient_id=patient_id,
                 target="reference,check-ins,questionnaires,share-decisions")
    value = decrypter(runtime, patient_id)
    moods = [(as_utc(r.updated_at).date(), v) for r in rows
             if r.module_id == CHECK_IN and r.step_id == "mood" and isinstance(v := value(r), int)]
    scores = scores_from(rows, value)
    assignments = []
    for item in audit.read_assignments(runtime.store, patient_id=patient_id, actor=therapist_id):
        due = date.fromisoformat(item["due"]) if item["due"] else None
        module = runtime.modules.modules.get(item["module_id"])
        assignments.append(AssignmentView(item["module_id"], module.title if module else item["module_id"],
                                          due, due is not None and due < today, item["brief"]))
    shared, private_plan = _shared_results(runtime, rows, value, actor=therapist_id, patient_id=patient_id)
    plans = [s for s in shared if runtime.modules.modules[s.module_id].show_in_crisis]
    modules = module_statuses(runtime, rows)
    reviews = [(r.module_id, as_utc(r.updated_at).date()) for r in rows if r.step_id == HOMEWORK_STEP]
    homework = [
        (m.title, m.completed_on, next((d for mid, d in reviews if mid == m.module_id and d >= m.completed_on), None))
        for m in modules if m.completed_on is not None
    ]
    progress = Progress(
        patient_id=patient_id, username=user.username, reference=read_reference(runtime, patient_id, team.reference),
        today=today, last_session_on=team.last_session_on, modules=modules, assignments=assignments,
        homework=homework, moods=moods, scores=scores, outcomes=outcome_sentences(scores),
        shared=[s for s in shared if s not in plans], safety_plan=plans[0] if plans else None,
        safety_plan_private=private_plan and not plans, risks=risk_events(runtime.engine, [patient_id]),
    )
    progress.summary = pre_session_summary(progress, reviews)
    return progress
