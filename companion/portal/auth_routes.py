"""Sign-in, the second factor, sign-out, and the portal's start page.

Sign-in checks the rate limit first, then the argon2id hash (`companion.accounts.
authenticate`, which does the same work for unknown usernames). Patients are told their
chat is elsewhere: the portal is for care teams. Staff with a second factor get a session
that waits for its code; only then a full session (a new token) is issued.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from companion import ratelimit
from companion.accounts import authenticate
from companion.models import Role
from companion.portal import totp
from companion.portal.sessions import COOKIE, end_session, start_session, token_id
from companion.portal.web import (
    ENDED,
    PREFIX,
    PortalDep,
    clear_session_cookie,
    home_for,
    render,
    set_session_cookie,
)

__all__ = ["router"]

router = APIRouter()

MAX_FIELD = 200


def _safe_next(target: str | None) -> str | None:
    """Only local portal paths: never another host, never a scheme-relative URL."""
    if target and target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("/")
async def start(request: Request) -> Response:
    session = request.state.portal_session
    if session is None or session.second_factor_pending:
        return RedirectResponse(f"{PREFIX}/login", status_code=303)
    if session.role is Role.PATIENT:
        return render(request, "patient_elsewhere.html", status_code=403)
    return RedirectResponse(home_for(session.role), status_code=303)


@router.get("/login")
async def login_page(request: Request, next: str | None = None, ended: str | None = None) -> Response:
    return render(request, "login.html", next=_safe_next(next) or "", notice=ENDED.get(ended or ""))


@router.post("/login")
async def login(
    request: Request,
    portal: PortalDep,
    username: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=MAX_FIELD)] = "",
) -> Response:
    address = request.client.host if request.client else None
    keys = ratelimit.attempt_keys(portal.secret, username=username, address=address)
    wait = await asyncio.to_thread(ratelimit.retry_after_seconds, portal.engine, keys, portal.settings)
    if wait:
        minutes = max(1, (wait + 59) // 60)
        response = render(request, "login.html", status_code=429, next=_safe_next(next) or "",
                          error=f"Too many attempts. Sign-in is paused; try again in {minutes} minute"
                                f"{'s' if minutes != 1 else ''}.")
        response.headers["Retry-After"] = str(wait)
        return response
    if not username.strip() or not password:
        return render(request, "login.html", status_code=400, next=_safe_next(next) or "",
                      error="Enter your username and password.")

    def check() -> object:
        with Session(portal.engine) as db:
            return authenticate(db, username=username, password=password)

    user = await asyncio.to_thread(check)
    if user is None:
        await asyncio.to_thread(ratelimit.record_failure, portal.engine, keys)
        return render(request, "login.html", status_code=401, next=_safe_next(next) or "",
                      error="That username and password do not match an active account.")
    from companion.models import UserPublic

    assert isinstance(user, UserPublic)
    await asyncio.to_thread(ratelimit.clear_failures, portal.engine, keys[0])
    if user.role is Role.PATIENT:
        return render(request, "patient_elsewhere.html", status_code=403)
    has_factor = await asyncio.to_thread(_has_second_factor, portal, user.id)
    token = await asyncio.to_thread(start_session, portal.engine, user_id=user.id,
                                    second_factor_pending=has_factor)
    target = f"{PREFIX}/login/second-factor" if has_factor else (_safe_next(next) or home_for(user.role))
    if has_factor and _safe_next(next):
        target += f"?next={_safe_next(next)}"
    redirect = RedirectResponse(target, status_code=303)
    set_session_cookie(redirect, token, portal.settings)
    return redirect


def _has_second_factor(portal: PortalDep, user_id: str) -> bool:
    from companion.models import User

    with Session(portal.engine) as db:
        user = db.get(User, user_id)
        return user is not None and user.totp_secret is not None


@router.get("/login/second-factor")
async def second_factor_page(request: Request, next: str | None = None) -> Response:
    session = request.state.portal_session
    if session is None or not session.second_factor_pending:
        return RedirectResponse(f"{PREFIX}/login", status_code=303)
    return render(request, "second_factor.html", next=_safe_next(next) or "")


@router.post("/login/second-factor")
async def second_factor(
    request: Request,
    portal: PortalDep,
    code: Annotated[str, Form(max_length=20)] = "",
    next: Annotated[str, Form(max_length=MAX_FIELD)] = "",
) -> Response:
    session = request.state.portal_session
    if session is None or not session.second_factor_pending:
        return RedirectResponse(f"{PREFIX}/login", status_code=303)
    address = request.client.host if request.client else None
    keys = ratelimit.attempt_keys(portal.secret, username=session.username, address=address)
    if await asyncio.to_thread(ratelimit.retry_after_seconds, portal.engine, keys, portal.settings):
        await asyncio.to_thread(end_session, portal.engine, session.session_id)
        response = render(request, "login.html", status_code=429, next="",
                          error="Too many attempts. Sign-in is paused; try again later.")
        clear_session_cookie(response)
        return response
    ok = await asyncio.to_thread(totp.verify, portal.engine, portal.runtime.crypto,
                                 user_id=session.user_id, code=code)
    if not ok:
        await asyncio.to_thread(ratelimit.record_failure, portal.engine, keys)
        return render(request, "second_factor.html", status_code=401, next=_safe_next(next) or "",
                      error="That code did not match. Check the time on your phone and try the newest code.")
    await asyncio.to_thread(ratelimit.clear_failures, portal.engine, keys[0])
    await asyncio.to_thread(end_session, portal.engine, session.session_id)
    token = await asyncio.to_thread(start_session, portal.engine, user_id=session.user_id)
    redirect = RedirectResponse(_safe_next(next) or home_for(session.role), status_code=303)
    set_session_cookie(redirect, token, portal.settings)
    return redirect


@router.post("/logout")
async def logout(request: Request, portal: PortalDep) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        await asyncio.to_thread(end_session, portal.engine, token_id(token))
    response = RedirectResponse(f"{PREFIX}/login?ended=signed_out", status_code=303)
    clear_session_cookie(response)
    return response
