"""Admin pages: the list of accounts, new staff accounts, switching accounts off and on, the audit log.

Admins manage accounts; they do not read patient data, so patients appear by username and
status only. New accounts are staff (patients join through a therapist's invitation); a
generated initial password is shown once, on the response to the form, and never stored in
the clear. Deactivating an account ends all its portal sessions at once; an admin cannot
deactivate their own account. The audit page shows the newest entries first, fifty at a time
(`?before=<seq>` for older ones), under the result of `companion.audit.verify`; each view is
itself recorded in the log as "read.audit_log".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from companion import audit
from companion.accounts import create_user, generate_password
from companion.db import session_scope
from companion.logging import get_logger
from companion.models import Role, User
from companion.portal.sessions import end_user_sessions
from companion.portal.web import PREFIX, PortalDep, StaffDep, render

__all__ = ["NOTICES", "PAGE_SIZE", "ROLE_LABELS", "router"]

log = get_logger("companion.portal.admin")

router = APIRouter()

#: `?notice=<code>` after a change, mapped to fixed text (anything else shows nothing).
NOTICES = {
    "created": "The account has been created. Give its password to the person by a channel you trust.",
    "deactivated": "The account has been deactivated. Its portal sessions have ended and it cannot sign in.",
    "activated": "The account is active again and can sign in.",
}
ROLE_LABELS = {Role.THERAPIST: "Therapist", Role.REVIEWER: "Safety reviewer", Role.ADMIN: "Administrator",
               Role.PATIENT: "Patient"}
STAFF_ROLES = (Role.THERAPIST, Role.REVIEWER, Role.ADMIN)
PAGE_SIZE = 50
MAX_ID = 64

FormText = Annotated[str, Form()]


@dataclass(frozen=True)
class AccountRow:
    """One line of the accounts list (for patients only username and status are shown)."""

    id: str
    username: str
    role: Role
    is_active: bool
    second_factor: bool
    created: datetime


def _accounts(engine: Engine) -> list[AccountRow]:
    with Session(engine) as db:
        users = db.exec(select(User).order_by(col(User.username))).all()
        return [AccountRow(id=u.id, username=u.username, role=u.role, is_active=u.is_active,
                           second_factor=u.totp_secret is not None, created=u.created_at) for u in users]


def _users_page(request: Request, portal: PortalDep, *, status_code: int = 200, error: str | None = None,
                notice: str | None = None, username: str = "", role: str = "") -> Response:
    rows = _accounts(portal.engine)
    return render(request, "admin/users.html", status_code=status_code, title="Accounts", error=error,
                  notice=notice, staff_rows=[r for r in rows if r.role is not Role.PATIENT],
                  patient_rows=[r for r in rows if r.role is Role.PATIENT], role_labels=ROLE_LABELS,
                  staff_roles=STAFF_ROLES, form_username=username, form_role=role)


def _not_found(request: Request) -> Response:
    return render(request, "error.html", status_code=404, title="Account not found",
                  message="There is no account with that id. Go back to the list of accounts and choose one there.")


@router.get("/users")
def users_page(request: Request, portal: PortalDep, staff: StaffDep, notice: str | None = None) -> Response:
    """List every account and offer the form for a new staff account."""
    return _users_page(request, portal, notice=NOTICES.get(notice or ""))


@router.post("/users")
def create_account(request: Request, portal: PortalDep, staff: StaffDep, username: FormText = "",
                   role: FormText = "", password: FormText = "") -> Response:
    """Create a staff account; show a generated password once, or redirect when one was typed."""
    shown_name = username if len(username) <= 64 and username.isprintable() else ""
    if role not in {r.value for r in STAFF_ROLES}:
        return _users_page(request, portal, status_code=400, username=shown_name,
                           error="Choose a role: therapist, safety reviewer or administrator. Patients join "
                                 "through a therapist's invitation. Nothing was stored.")
    if not username.strip():
        return _users_page(request, portal, status_code=400, role=role,
                           error="Enter a username for the new account. Nothing was stored.")
    generated = not password
    initial = generate_password() if generated else password
    try:
        with session_scope(portal.engine) as db:
            user = create_user(db, username=username, role=Role(role), password=initial)
    except ValueError as error:  # DuplicateUsernameError included
        return _users_page(request, portal, status_code=400, username=shown_name, role=role,
                           error=f"The account was not created: {error}. Nothing was stored.")
    log.info("portal_account_created", user_id=staff.user_id, created_id=user.id, role=str(user.role))
    if not generated:
        return RedirectResponse(f"{PREFIX}/users?notice=created", status_code=303)
    response = render(request, "admin/created.html", title="Account created", account=user,
                      role_label=ROLE_LABELS[user.role], password=initial)
    response.headers["Cache-Control"] = "no-store"
    return response


def _set_active(engine: Engine, user_id: str, active: bool) -> bool:
    """Set the account's active flag; False when there is no such account."""
    with session_scope(engine) as db:
        user = db.get(User, user_id)
        if user is None:
            return False
        user.is_active = active
        db.add(user)
        return True


@router.post("/users/{user_id}/deactivate")
def deactivate_account(request: Request, portal: PortalDep, staff: StaffDep, user_id: str) -> Response:
    """Switch an account off and end all its portal sessions at once."""
    if user_id == staff.user_id:
        return _users_page(request, portal, status_code=400,
                           error="You cannot deactivate your own account. Ask another administrator to do it.")
    if len(user_id) > MAX_ID or not _set_active(portal.engine, user_id, False):
        return _not_found(request)
    ended = end_user_sessions(portal.engine, user_id)
    log.info("portal_account_deactivated", user_id=staff.user_id, target_id=user_id, sessions_ended=ended)
    return RedirectResponse(f"{PREFIX}/users?notice=deactivated", status_code=303)


@router.post("/users/{user_id}/activate")
def activate_account(request: Request, portal: PortalDep, staff: StaffDep, user_id: str) -> Response:
    """Let a deactivated account sign in again."""
    if len(user_id) > MAX_ID or not _set_active(portal.engine, user_id, True):
        return _not_found(request)
    log.info("portal_account_activated", user_id=staff.user_id, target_id=user_id)
    return RedirectResponse(f"{PREFIX}/users?notice=activated", status_code=303)


def _usernames(engine: Engine, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    with Session(engine) as db:
        return dict(db.exec(select(User.id, User.username).where(col(User.id).in_(ids))).all())


@router.get("/audit")
def audit_page(request: Request, portal: PortalDep, staff: StaffDep, before: str | None = None) -> Response:
    """Record the view, check the hash chain, and show a page of entries, newest first."""
    cursor = None
    if before is not None:
        if not before.isdigit() or len(before) > 18:
            return render(request, "error.html", status_code=400, title="Not a page of the audit log",
                          message="The address asks for entries before something that is not an entry number. "
                                  "Open the audit log from the menu and use its links to page.")
        cursor = int(before)
    audit.record(portal.engine, actor=staff.user_id, action="read.audit_log",
                 target=None if cursor is None else f"before:{cursor}")
    result = audit.verify(portal.engine)
    rows = audit.entries(portal.engine, before=cursor, limit=PAGE_SIZE + 1)
    older = rows[PAGE_SIZE - 1].seq if len(rows) > PAGE_SIZE else None
    rows = rows[:PAGE_SIZE]
    names = _usernames(portal.engine, {r.actor for r in rows})
    return render(request, "admin/audit.html", title="Audit log", result=result, rows=rows, names=names,
                  older=older, paged=cursor is not None)
