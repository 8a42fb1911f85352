"""Therapist routes: the caseload, one patient's progress, assignments, and "session held today".

The caseload lists the therapist's own patients (their `CareTeam` rows) with urgent risk
events first; the progress page shows one of them (`companion.portal.progress`). The access
table has already checked that `{patient_id}` is on the signed-in therapist's caseload.
Forms redirect after POST with `?notice=<code>`; a form with a problem is shown again with
status 400, what was typed kept and nothing stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from companion import audit
from companion.models import CareTeam, Message, User, as_utc, utcnow
from companion.portal.care_team import record_session, remove_assignment
from companion.portal.charts import Point, Threshold, describe_trend, line_chart
from companion.portal.invitations import clean_text
from companion.portal.progress import (
    NAMES,
    Progress,
    RiskEvent,
    Score,
    answer_rows,
    decrypter,
    load_progress,
    module_statuses,
    read_reference,
    risk_events,
    scores_from,
)
from companion.portal.web import PortalDep, StaffDep, render
from flows.outcomes import CASENESS, MAX_TOTAL

__all__ = ["router"]

router = APIRouter()

BRIEF_LIMIT = 2000
NOTICES = {
    "assigned": "The module was assigned. The patient will see it first in their menu.",
    "removed": "The assignment was removed.",
    "not_assigned": "That module was not assigned, so there was nothing to remove.",
    "session": "Today's session was recorded. The summary now starts from today.",
}


@dataclass
class CaseloadEntry:
    patient_id: str
    username: str
    reference: str
    last_active: datetime | None
    last_session_on: date | None
    in_progress: list[str]
    completed: list[str]
    latest: dict[str, Score | None]
    urgent: list[RiskEvent]


def ago(then: datetime, now: datetime) -> str:
    """How long ago, in words ("3 hours ago")."""
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def load_caseload(portal: PortalDep, therapist_id: str) -> list[CaseloadEntry]:
    """The therapist's patients, urgent first, then most recently active; each read is audited first."""
    runtime = portal.runtime
    with Session(runtime.engine) as db:
        teams = list(db.exec(select(CareTeam, User).join(User, col(User.id) == col(CareTeam.patient_id))
                             .where(CareTeam.therapist_id == therapist_id)))
        ids = [team.patient_id for team, _ in teams]
        messages = dict(db.exec(select(Message.patient_id, func.max(Message.created_at))  # type: ignore[call-overload]
                                .where(col(Message.patient_id).in_(ids)).group_by(col(Message.patient_id))).all())
    rows = answer_rows(runtime.engine, ids)
    events = [e for e in risk_events(runtime.engine, ids) if e.urgent]
    entries = []
    for team, user in teams:
        mine = [r for r in rows if r.patient_id == team.patient_id]
        audit.record(runtime.engine, actor=therapist_id, action="read.caseload", patient_id=team.patient_id,
                     target="reference,latest-questionnaires")
        scores = scores_from(mine, decrypter(runtime, team.patient_id))
        modules = module_statuses(runtime, mine)
        times = [t for t in [messages.get(team.patient_id), *(r.updated_at for r in mine)] if t is not None]
        entries.append(CaseloadEntry(
            patient_id=team.patient_id, username=user.username,
            reference=read_reference(runtime, team.patient_id, team.reference),
            last_active=max(as_utc(t) for t in times) if times else None, last_session_on=team.last_session_on,
            in_progress=[m.title for m in modules if m.in_progress],
            completed=[m.title for m in modules if m.completed_runs],
            latest={qid: series[-1] if series else None for qid, series in scores.items()},
            urgent=[e for e in events if e.patient_id == team.patient_id],
        ))
    floor = datetime.min.replace(tzinfo=utcnow().tzinfo)
    entries.sort(key=lambda e: (not e.urgent, -(e.last_active or floor).timestamp(), e.reference or e.username))
    return entries


@router.get("/patients")
def caseload(request: Request, portal: PortalDep, staff: StaffDep) -> Response:
    entries = load_caseload(portal, staff.user_id)
    urgent = sorted(((e, event) for e in entries for event in e.urgent), key=lambda pair: pair[1].raised_at,
                    reverse=True)
    return render(request, "therapist/caseload.html", title="Your patients", entries=entries, urgent=urgent,
                  now=utcnow(), ago=ago, names=NAMES)


def _charts(progress: Progress) -> list[dict[str, Any]]:
    charts = []
    for qid, series in progress.scores.items():
        points = [Point(s.on, s.total) for s in series]
        threshold = Threshold(CASENESS[qid], "Case threshold")
        name = f"{NAMES[qid]} total"
        charts.append({"id": f"chart-{qid}", "heading": f"{NAMES[qid]} over time", "points": points,
                       "svg": line_chart(f"chart-{qid}", name, points, maximum=MAX_TOTAL[qid], threshold=threshold),
                       "trend": describe_trend(name, points, threshold=threshold)})
    mood = [Point(on, value) for on, value in progress.moods]
    low = Threshold(3, "Low-mood mark")
    charts.insert(0, {"id": "chart-mood", "heading": "Mood check-ins over time", "points": mood,
                      "svg": line_chart("chart-mood", "Mood (0 to 10)", mood, maximum=10, threshold=low),
                      "trend": describe_trend("Mood (0 to 10)", mood, threshold=low)})
    return charts


def _patient_page(request: Request, portal: PortalDep, staff: StaffDep, patient_id: str, *,
                  status_code: int = 200, **extra: Any) -> Response:
    today = date.today()
    progress = load_progress(portal.runtime, patient_id=patient_id, therapist_id=staff.user_id, today=today)
    library = [(m.id, m.title) for m in portal.runtime.modules.modules.values()]
    form = {"module_id": "", "due_date": "", "brief": ""} | extra.pop("form", {})
    return render(request, "therapist/patient.html", status_code=status_code,
                  title=f"Progress: {progress.reference or progress.username}", p=progress, charts=_charts(progress),
                  library=library, form=form, names=NAMES, ago=ago, now=utcnow(), today=today, **extra)


@router.get("/patients/{patient_id}")
def patient(request: Request, portal: PortalDep, staff: StaffDep, patient_id: str, notice: str = "") -> Response:
    return _patient_page(request, portal, staff, patient_id, notice=NOTICES.get(notice))


@router.post("/patients/{patient_id}/assignments")
def assign(
    request: Request, portal: PortalDep, staff: StaffDep, patient_id: str,
    module_id: Annotated[str, Form()] = "", due_date: Annotated[str, Form()] = "",
    brief: Annotated[str, Form()] = "",
) -> Response:
    brief_text, problem = clean_text(brief, label="brief", limit=BRIEF_LIMIT, multiline=True)
    due: date | None = None
    if due_date.strip():
        try:
            due = date.fromisoformat(due_date.strip()[:10])
        except ValueError:
            problem = "The due date is not a date. Use the date picker, or write it as YYYY-MM-DD."
        else:
            if due < date.today():
                problem = "The due date is in the past. Choose today or a later date, or leave it empty."
    if module_id not in portal.runtime.modules.modules:
        problem = "Choose a module from the list. The module sent is not in the library."
    if problem:
        form = {"module_id": module_id[:64], "due_date": due_date[:10], "brief": brief_text}
        return _patient_page(request, portal, staff, patient_id, status_code=400, error=problem, form=form)
    portal.runtime.store.assign_module(patient_id=patient_id, module_id=module_id, assigned_by=staff.user_id,
                                       due_date=due, brief=brief_text)
    return RedirectResponse(f"/portal/patients/{patient_id}?notice=assigned#assignments", status_code=303)


@router.post("/patients/{patient_id}/assignments/{module_id}/remove")
def unassign(portal: PortalDep, patient_id: str, module_id: str) -> Response:
    removed = remove_assignment(portal.engine, patient_id=patient_id, module_id=module_id)
    notice = "removed" if removed else "not_assigned"
    return RedirectResponse(f"/portal/patients/{patient_id}?notice={notice}#assignments", status_code=303)


@router.post("/patients/{patient_id}/session")
def session_held(portal: PortalDep, staff: StaffDep, patient_id: str) -> Response:
    record_session(portal.engine, patient_id=patient_id, therapist_id=staff.user_id, on=date.today())
    return RedirectResponse(f"/portal/patients/{patient_id}?notice=session#summary", status_code=303)
