"""Therapist routes for invitations, and the two public pages where a patient joins with one.

A therapist creates an invitation (an optional reference such as initials) and is shown the
code once, as a full link to copy; the page is not a redirect target, so the code never sits
in a URL the browser keeps. The patient opens `/portal/join/<code>`, chooses a username and
password, and is sent to the chat to sign in. Every unusable code (unknown, used, expired,
revoked) gets the same page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from companion.accounts import MIN_PASSWORD_LENGTH
from companion.models import utcnow
from companion.portal.invitations import (
    InviteStatus,
    InviteUnusable,
    JoinProblem,
    clean_text,
    create_invite,
    invite_for_code,
    list_invites,
    redeem_invite,
    revoke_invite,
)
from companion.portal.web import PortalDep, StaffDep, render

__all__ = ["router"]

router = APIRouter()

REFERENCE_LIMIT = 80
NOTICES = {
    "revoked": "The invitation was revoked. Its link no longer works.",
    "not_revoked": "That invitation was already used or revoked, so nothing changed.",
}
STATUS_WORDS = {
    InviteStatus.WAITING: ("Waiting", "warn"), InviteStatus.USED: ("Used", "ok"),
    InviteStatus.EXPIRED: ("Expired", "muted"), InviteStatus.REVOKED: ("Revoked", "muted"),
}


def _invites_page(request: Request, portal: PortalDep, staff: StaffDep, *, status_code: int = 200,
                  **extra: object) -> Response:
    invites = list_invites(portal.engine, portal.runtime.crypto, therapist_id=staff.user_id)
    return render(request, "therapist/invites.html", status_code=status_code, title="Invitations",
                  invites=invites, status_words=STATUS_WORDS, valid_days=portal.settings.invite_valid_days,
                  created=None, reference=extra.pop("reference", ""), **extra)


@router.get("/invites")
def invites(request: Request, portal: PortalDep, staff: StaffDep, notice: str = "") -> Response:
    return _invites_page(request, portal, staff, notice=NOTICES.get(notice))


@router.post("/invites")
def invite(request: Request, portal: PortalDep, staff: StaffDep,
           reference: Annotated[str, Form()] = "") -> Response:
    text, problem = clean_text(reference, label="reference", limit=REFERENCE_LIMIT)
    if problem:
        return _invites_page(request, portal, staff, status_code=400, error=problem, reference=text)
    created = create_invite(portal.engine, portal.runtime.crypto, therapist_id=staff.user_id, reference=text,
                            valid_days=portal.settings.invite_valid_days)
    link = f"{portal.settings.origin}/portal/join/{created.code}"
    return render(request, "therapist/invite_created.html", title="Invitation created", link=link,
                  reference=text, expires_at=created.expires_at)


@router.post("/invites/{invite_id}/revoke")
def revoke(portal: PortalDep, staff: StaffDep, invite_id: str) -> Response:
    done = revoke_invite(portal.engine, invite_id=invite_id, therapist_id=staff.user_id)
    return RedirectResponse(f"/portal/invites?notice={'revoked' if done else 'not_revoked'}", status_code=303)


def _unusable(request: Request, code: str) -> Response:
    status = 404 if not code or len(code) > 200 else 410
    return render(request, "therapist/join_invalid.html", status_code=status, title="Invitation not valid")


@router.get("/join/{code}")
def join_page(request: Request, portal: PortalDep, code: str) -> Response:
    try:
        invite_for_code(portal.engine, code)
    except InviteUnusable:
        return _unusable(request, code)
    return render(request, "therapist/join.html", title="Create your account", code=code, username="",
                  min_length=MIN_PASSWORD_LENGTH)


@router.post("/join/{code}")
def join(
    request: Request, portal: PortalDep, code: str,
    username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
    password_again: Annotated[str, Form()] = "",
) -> Response:
    try:
        redeem_invite(portal.engine, portal.runtime.crypto, code=code, username=username[:200],
                      password=password, repeated=password_again, now=utcnow())
    except InviteUnusable:
        return _unusable(request, code)
    except JoinProblem as problem:
        shown, _ = clean_text(username, label="username", limit=64)
        return render(request, "therapist/join.html", status_code=400, title="Create your account", code=code,
                      username=shown[:64], min_length=MIN_PASSWORD_LENGTH, error=str(problem))
    return render(request, "therapist/join_done.html", title="Your account is ready")
