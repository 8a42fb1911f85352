"""Portal routes for safety reviewers: the escalation queue, one escalation, its actions, the label export.

Only reviewers reach these handlers (`companion.portal.access`). Handlers are plain `def`s, so
FastAPI runs their database and decryption work in its thread pool. Reading an escalation
decrypts patient text only through the audited readers (`companion.portal.queue`). Every
action redirects (303) back to the escalation page with a fixed notice; a form that cannot be
stored gets a 400 page saying what to change, and nothing is written.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from companion.labels import export_labels_jsonl
from companion.logging import get_logger
from companion.models import utcnow
from companion.portal import escalation_actions as actions
from companion.portal import queue
from companion.portal.queue import EscalationNotFound, InvalidAction, StatusFilter
from companion.portal.targets import response_targets
from companion.portal.web import PREFIX, PortalDep, StaffDep, render
from safety.types import Category

__all__ = ["router"]

log = get_logger("companion.portal.escalations")

router = APIRouter()

FILTERS = [
    (StatusFilter.ACTIVE, "Not resolved"), (StatusFilter.OPEN, "Open"),
    (StatusFilter.ACKNOWLEDGED, "Acknowledged"), (StatusFilter.CONTACTED, "Contacted"),
    (StatusFilter.RESOLVED, "Resolved"), (StatusFilter.ALL, "All"),
]
Note = Annotated[str, Form()]
Action = Callable[[], str]  # runs one reviewer action, returns a `queue.NOTICES` key


def when(value: datetime | None) -> str:
    """A time as reviewers read it: '2026-05-27 14:05 UTC'."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def duration(minutes: int) -> str:
    """A target as reviewers read it: '15 minutes', '1 day'."""
    return queue.in_words(timedelta(minutes=minutes))


def _context() -> dict[str, Any]:
    return {"when": when, "duration": duration, "filters": FILTERS, "outcomes": queue.OUTCOME_WORDS,
            "category_words": queue.CATEGORY_WORDS, "categories": list(Category), "targets": response_targets()}


@router.get("/escalations")
def escalation_queue(request: Request, portal: PortalDep, status: str = StatusFilter.ACTIVE.value) -> Response:
    try:
        chosen, error, code = StatusFilter(status), None, 200
    except ValueError:
        chosen, code = StatusFilter.ACTIVE, 400
        error = "That status filter is not known; showing everything not resolved. Use the links below to filter."
    listing = queue.build_queue(portal.engine, response_targets(), status=chosen)
    return render(request, "reviewer/queue.html", status_code=code, title="Escalations", queue=listing,
                  error=error, **_context())


def _not_found(request: Request) -> Response:
    return render(request, "reviewer/not_found.html", status_code=404, title="Escalation not found")


@router.get("/escalations/{escalation_id}")
def escalation(request: Request, portal: PortalDep, staff: StaffDep, escalation_id: str,
               done: str | None = None) -> Response:
    try:
        page = queue.escalation_page(portal.runtime.store, portal.runtime.modules, response_targets(),
                                     escalation_id, actor=staff.user_id, now=utcnow())
    except EscalationNotFound:
        return _not_found(request)
    return render(request, "reviewer/escalation.html", title=f"Tier {page.item.tier} escalation", page=page,
                  notice=queue.NOTICES.get(done or ""), **_context())


def _seen(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise InvalidAction("The form is damaged (its 'seen' field is not a number). Reload the page and try again.")
    return int(value)


def _after(request: Request, escalation_id: str, act: Action) -> Response:
    """Run an action; redirect to the escalation page, or answer 400 / 404 with nothing stored."""
    try:
        key = act()
    except InvalidAction as problem:
        return render(request, "reviewer/invalid.html", status_code=400, title="This was not saved",
                      message=str(problem), escalation_id=escalation_id)
    except EscalationNotFound:
        return _not_found(request)
    return RedirectResponse(f"{PREFIX}/escalations/{quote(escalation_id, safe='')}?done={key}#main", status_code=303)


@router.post("/escalations/{escalation_id}/acknowledge")
def acknowledge(request: Request, portal: PortalDep, staff: StaffDep, escalation_id: str,
                note: Note = "", seen: Note = "") -> Response:
    return _after(request, escalation_id, lambda: actions.acknowledge(
        portal.runtime.store, escalation_id, actor=staff.user_id, note=note, seen=_seen(seen)))


@router.post("/escalations/{escalation_id}/contact")
def contact(request: Request, portal: PortalDep, staff: StaffDep, escalation_id: str,
            outcome: Note = "", note: Note = "", seen: Note = "") -> Response:
    return _after(request, escalation_id, lambda: actions.record_contact(
        portal.runtime.store, escalation_id, actor=staff.user_id, outcome=outcome, note=note, seen=_seen(seen)))


@router.post("/escalations/{escalation_id}/resolve")
def resolve(request: Request, portal: PortalDep, staff: StaffDep, escalation_id: str,
            note: Note = "", seen: Note = "") -> Response:
    return _after(request, escalation_id, lambda: actions.resolve(
        portal.runtime.store, escalation_id, actor=staff.user_id, note=note, seen=_seen(seen)))


@router.post("/escalations/{escalation_id}/clear-safety-mode")
def clear_safety_mode(request: Request, portal: PortalDep, staff: StaffDep, escalation_id: str,
                      confirm: Note = "", note: Note = "", seen: Note = "") -> Response:
    return _after(request, escalation_id, lambda: actions.clear_safety_mode(
        portal.runtime.store, escalation_id, actor=staff.user_id, confirmed=confirm == "yes", note=note,
        seen=_seen(seen)))


@router.post("/escalations/{escalation_id}/label")
def label(request: Request, portal: PortalDep, staff: StaffDep, escalation_id: str,
          verdict: Note = "", tier: Note = "", categories: Annotated[list[str] | None, Form()] = None,
          note: Note = "", seen: Note = "") -> Response:
    return _after(request, escalation_id, lambda: actions.label(
        portal.runtime.store, escalation_id, actor=staff.user_id, verdict=verdict, tier=tier,
        categories=categories or [], note=note, seen=_seen(seen)))


@router.get("/labels.jsonl")
def labels_export(portal: PortalDep, staff: StaffDep) -> Response:
    """Every reviewer label as `companion safety screen` input lines; each decryption is audited."""
    buffer = io.StringIO()
    written, skipped = export_labels_jsonl(portal.runtime.store, buffer, actor=staff.user_id)
    log.info("labels_exported", user_id=staff.user_id, written=written, skipped=skipped)
    name = f"companion-labels-{utcnow():%Y%m%d-%H%M}.jsonl"
    return Response(buffer.getvalue().encode("utf-8"), media_type="application/jsonl; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })
