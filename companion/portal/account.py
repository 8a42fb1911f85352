"""Staff account pages: change the password, switch the TOTP second factor on or off, and (therapists) set
where risk alerts about their patients are sent.

`GET /portal/account` shows both forms. Changing the password needs the current one (a wrong
one counts toward the sign-in rate limit, so a borrowed session cannot guess it) and signs out
every other session of the account. Switching the second factor on needs a code from the
set-up key shown on the page; switching it off needs a code from the key in use. Both also
sign out the account's other sessions. A refused form changes nothing and says why (400).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from companion import ratelimit
from companion.accounts import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    authenticate,
    set_password,
    validate_password,
)
from companion.db import session_scope
from companion.logging import get_logger
from companion.models import Role
from companion.portal import totp
from companion.portal.sessions import ActiveSession, end_user_sessions
from companion.portal.web import PREFIX, Portal, PortalDep, StaffDep, portal_of, render
from companion.store import MAX_NOTIFY_URL

__all__ = ["NOTICES", "router"]

log = get_logger("companion.portal.account")

router = APIRouter()

#: `?notice=<code>` after a change, mapped to fixed text (anything else shows nothing).
NOTICES = {
    "password_changed": "Your password has been changed. Your other sessions have been signed out.",
    "second_factor_on": "Two-step sign-in is on. Your other sessions have been signed out.",
    "second_factor_off": "Two-step sign-in is off. You now sign in with your password alone.",
    "notifications_on": "Risk alerts about your patients will be sent to the address you gave.",
    "notifications_off": "Risk alerts about your patients will not be sent to you. Reviewers are still alerted.",
}
#: A set-up key as `totp.new_secret` makes it (base32); the form sends it back.
SECRET = re.compile(r"[A-Z2-7]{16,64}")
MAX_CODE = 20

FormText = Annotated[str, Form()]


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _page(request: Request, staff: ActiveSession, *, status_code: int = 200, error: str | None = None,
          notice: str | None = None, secret: str | None = None) -> Response:
    """The account page; without a second factor it offers `secret` (or a fresh key) to set one up."""
    setup = None
    if not staff.has_second_factor:
        key = secret or totp.new_secret()
        setup = {"secret": key, "grouped": _grouped(key), "qr": totp.provisioning_svg(key, staff.username)}
    notify_set = None
    if staff.role is Role.THERAPIST:
        notify_set = portal_of(request).runtime.store.has_notify_url(staff.user_id)
    return render(request, "account/index.html", status_code=status_code, title="Your account",
                  error=error, notice=notice, setup=setup, min_length=MIN_PASSWORD_LENGTH,
                  max_length=MAX_PASSWORD_LENGTH, notify_set=notify_set, max_url=MAX_NOTIFY_URL)


def _paused(request: Request, staff: ActiveSession, wait: int, what: str) -> Response:
    minutes = max(1, (wait + 59) // 60)
    response = _page(request, staff, status_code=429,
                     error=f"Too many wrong attempts. {what} is paused; try again in {minutes} minute"
                           f"{'s' if minutes != 1 else ''}. Nothing was changed.")
    response.headers["Retry-After"] = str(wait)
    return response


@router.get("/account")
def account_page(request: Request, staff: StaffDep, notice: str | None = None) -> Response:
    """Show the password form and the second-factor set-up (or the form to switch it off)."""
    return _page(request, staff, notice=NOTICES.get(notice or ""))


def _password_matches(portal: Portal, staff: ActiveSession, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    with Session(portal.engine) as db:
        user = authenticate(db, username=staff.username, password=password)
    return user is not None and user.id == staff.user_id


@router.post("/account/password")
def change_password(request: Request, portal: PortalDep, staff: StaffDep, current_password: FormText = "",
                    new_password: FormText = "", repeat_password: FormText = "") -> Response:
    """Check the current password, store the new one, and sign out the account's other sessions."""
    if not current_password or not new_password or not repeat_password:
        return _page(request, staff, status_code=400,
                     error="Enter your current password, then your new password twice. Nothing was changed.")
    keys = ratelimit.attempt_keys(portal.secret, username=staff.username, address=_address(request))
    wait = ratelimit.retry_after_seconds(portal.engine, keys, portal.settings)
    if wait:
        return _paused(request, staff, wait, "Changing the password")
    if not _password_matches(portal, staff, current_password):
        ratelimit.record_failure(portal.engine, keys)
        return _page(request, staff, status_code=400,
                     error="Your current password was not right. Nothing was changed.")
    ratelimit.clear_failures(portal.engine, keys[0])
    if new_password != repeat_password:
        return _page(request, staff, status_code=400,
                     error="The new password and its repeat are not the same. Nothing was changed.")
    if new_password == current_password:
        return _page(request, staff, status_code=400,
                     error="The new password is the same as the current one. Choose a different one.")
    try:
        validate_password(new_password)
        with session_scope(portal.engine) as db:
            set_password(db, user_id=staff.user_id, password=new_password)
    except ValueError as error:
        return _page(request, staff, status_code=400,
                     error=f"The new password was not accepted: {error}. Nothing was changed.")
    ended = end_user_sessions(portal.engine, staff.user_id, keep=staff.session_id)
    log.info("portal_password_changed", user_id=staff.user_id, sessions_ended=ended)
    return RedirectResponse(f"{PREFIX}/account?notice=password_changed", status_code=303)


def _code_problem(code: str) -> str | None:
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(code) > MAX_CODE or len(digits) != 6 or any(not (ch.isdigit() or ch == " ") for ch in code.strip()):
        return "Enter the 6-digit code your authenticator app shows for Companion."
    return None


@router.post("/account/second-factor")
def enable_second_factor(request: Request, portal: PortalDep, staff: StaffDep, secret: FormText = "",
                         code: FormText = "") -> Response:
    """Switch the second factor on once a code made from the posted set-up key matches."""
    if staff.has_second_factor:
        return _page(request, staff, status_code=400, error="Two-step sign-in is already on for this account.")
    key = secret.replace(" ", "").upper()
    if not SECRET.fullmatch(key):
        return _page(request, staff, status_code=400,
                     error="The set-up key sent with the form was not valid. Scan the new QR code below "
                           "and enter the code it gives you. Nothing was changed.")
    problem = _code_problem(code)
    if problem is not None:
        return _page(request, staff, status_code=400, secret=key, error=f"{problem} Nothing was changed.")
    if not totp.code_matches(key, code):
        return _page(request, staff, status_code=400, secret=key,
                     error="That code did not match. Check the time on your phone and enter the newest "
                           "code. Two-step sign-in is still off.")
    totp.enable(portal.engine, portal.runtime.crypto, user_id=staff.user_id, secret=key)
    ended = end_user_sessions(portal.engine, staff.user_id, keep=staff.session_id)
    log.info("portal_second_factor_on", user_id=staff.user_id, sessions_ended=ended)
    return RedirectResponse(f"{PREFIX}/account?notice=second_factor_on", status_code=303)


@router.post("/account/second-factor/disable")
def disable_second_factor(request: Request, portal: PortalDep, staff: StaffDep, code: FormText = "") -> Response:
    """Switch the second factor off, given a current code (wrong codes count toward the rate limit)."""
    if not staff.has_second_factor:
        return _page(request, staff, status_code=400, error="Two-step sign-in is already off for this account.")
    problem = _code_problem(code)
    if problem is not None:
        return _page(request, staff, status_code=400, error=f"{problem} Two-step sign-in is still on.")
    keys = ratelimit.attempt_keys(portal.secret, username=staff.username, address=_address(request))
    wait = ratelimit.retry_after_seconds(portal.engine, keys, portal.settings)
    if wait:
        return _paused(request, staff, wait, "Switching two-step sign-in off")
    if not totp.verify(portal.engine, portal.runtime.crypto, user_id=staff.user_id, code=code):
        ratelimit.record_failure(portal.engine, keys)
        return _page(request, staff, status_code=400,
                     error="That code did not match. Check the time on your phone and enter the newest "
                           "code. Two-step sign-in is still on.")
    ratelimit.clear_failures(portal.engine, keys[0])
    totp.disable(portal.engine, user_id=staff.user_id)
    ended = end_user_sessions(portal.engine, staff.user_id, keep=staff.session_id)
    log.info("portal_second_factor_off", user_id=staff.user_id, sessions_ended=ended)
    return RedirectResponse(f"{PREFIX}/account?notice=second_factor_off", status_code=303)


@router.post("/account/notifications")
def set_notifications(request: Request, portal: PortalDep, staff: StaffDep, url: FormText = "",
                      clear: FormText = "") -> Response:
    """Set or clear the apprise URL that risk alerts about the therapist's patients go to (stored encrypted)."""
    if clear:
        portal.runtime.store.set_notify_url(user_id=staff.user_id, url=None)
        log.info("portal_notify_url_cleared", user_id=staff.user_id)
        return RedirectResponse(f"{PREFIX}/account?notice=notifications_off", status_code=303)
    url = url.strip()
    if not url or "://" not in url or len(url) > MAX_NOTIFY_URL or any(ord(ch) < 32 for ch in url):
        return _page(request, staff, status_code=400,
                     error="Give an alert address as an apprise URL, such as mailtos://user:password@mail.example.org"
                           f"?to=you@example.org (at most {MAX_NOTIFY_URL} characters). Nothing was changed.")
    portal.runtime.store.set_notify_url(user_id=staff.user_id, url=url)
    log.info("portal_notify_url_set", user_id=staff.user_id, scheme=url.split("://", 1)[0][:20])
    return RedirectResponse(f"{PREFIX}/account?notice=notifications_on", status_code=303)
