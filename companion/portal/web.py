"""The portal's plumbing: its context object, the access check, CSRF, and page rendering.

Handlers in the portal's route modules take `PortalDep` (the `Portal`: settings, database,
stores, content) and `StaffDep` (the signed-in `ActiveSession`), and answer with `render`.
`authorise` runs before every handler (a router-level dependency): it loads the session,
looks the route up in `companion.portal.access.ACCESS`, checks ownership for therapists,
and checks the CSRF token of every POST. It raises `SignInRequired` or `Forbidden`, which
`install_error_pages` turns into a redirect to sign-in or a 403 page.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session, select
from starlette.exceptions import HTTPException as StarletteHTTPException

from companion.logging import get_logger
from companion.models import CareTeam, Invite, Role
from companion.portal.access import ACCESS, Scope
from companion.portal.sessions import COOKIE, PRE_COOKIE, ActiveSession, load_session
from companion.settings import Settings

if TYPE_CHECKING:
    from companion.runtime import Runtime

__all__ = [
    "Forbidden",
    "Portal",
    "PortalDep",
    "SignInRequired",
    "StaffDep",
    "authorise",
    "clear_session_cookie",
    "csrf_token_for",
    "home_for",
    "install_error_pages",
    "portal_of",
    "render",
    "set_session_cookie",
]

log = get_logger("companion.portal")

TEMPLATES = Path(__file__).parent / "templates"
PREFIX = "/portal"
HOME = {Role.THERAPIST: "/portal/patients", Role.REVIEWER: "/portal/escalations", Role.ADMIN: "/portal/users"}


class SignInRequired(Exception):
    """The route needs a signed-in account and there is none (or its session ended)."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "sign-in required")
        self.reason = reason


class Forbidden(Exception):
    """The signed-in account may not use this route (or this patient's data)."""

    def __init__(self, message: str = "You do not have access to this page.") -> None:
        super().__init__(message)
        self.message = message


class Portal:
    """What portal handlers need: settings, and the runtime (database, stores, content) on first use."""

    def __init__(self, settings: Settings, runtime: Callable[[], Runtime]) -> None:
        self.settings = settings
        self._runtime = runtime
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined,
        )
        self.templates = Jinja2Templates(env=env)
        self.templates.env.globals["prefix"] = PREFIX

    @cached_property
    def runtime(self) -> Runtime:
        return self._runtime()

    @property
    def engine(self) -> Any:
        return self.runtime.engine

    @cached_property
    def secret(self) -> str:
        from companion.keys import session_secret

        return session_secret(self.settings)


def _portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


PortalDep = Annotated[Portal, Depends(_portal)]
portal_of = _portal  #: the `Portal` serving a request, for helpers that are not handlers


def _session(request: Request) -> ActiveSession:
    session: ActiveSession | None = getattr(request.state, "portal_session", None)
    if session is None or session.second_factor_pending:
        raise SignInRequired()
    return session


StaffDep = Annotated[ActiveSession, Depends(_session)]


def home_for(role: Role) -> str:
    return HOME.get(role, f"{PREFIX}/")


async def authorise(request: Request) -> None:
    """Refuse the request unless the access table allows it; check CSRF on every POST."""
    portal = _portal(request)
    route = request.scope.get("route")
    template = PREFIX + str(getattr(route, "path", ""))  # route modules are included without a prefix
    rule = ACCESS.get((request.method, template))
    if rule is None:  # a route nobody decided about is closed
        log.error("portal_route_without_access_rule", path=str(template)[:120], method=request.method)
        raise Forbidden()
    token = request.cookies.get(COOKIE)
    session, ended = await asyncio.to_thread(load_session, portal.engine, token, portal.settings)
    request.state.portal_session = session
    request.state.session_ended = ended
    if ended is not None:
        request.state.clear_cookie = True  # the row is gone; drop the cookie on whatever answers
    if request.method == "POST":
        if ended is not None and not rule.public:
            raise SignInRequired(ended)  # refused either way; say why rather than "form expired"
        await _check_csrf(request, session)
    if rule.public:
        return
    if session is None or session.second_factor_pending:
        raise SignInRequired(ended)
    if not rule.allows(session.role):
        raise Forbidden()
    if rule.scope is not Scope.ANY and session.role is Role.THERAPIST:
        owned = await asyncio.to_thread(_owns, portal, rule.scope, session.user_id, request.path_params)
        if not owned:
            raise Forbidden("This patient is not on your caseload.")


def _owns(portal: Portal, scope: Scope, therapist_id: str, params: dict[str, Any]) -> bool:
    with Session(portal.engine) as db:
        if scope is Scope.OWN_PATIENT:
            row = db.get(CareTeam, (str(params.get("patient_id", "")), therapist_id))
            return row is not None
        if scope is Scope.OWN_INVITE:
            invite = db.exec(select(Invite).where(Invite.id == str(params.get("invite_id", "")))).first()
            return invite is not None and invite.therapist_id == therapist_id
    return False


def csrf_token_for(request: Request) -> str:
    """The token a form on this page must send back."""
    session: ActiveSession | None = getattr(request.state, "portal_session", None)
    if session is not None:
        return session.csrf_token
    pre = getattr(request.state, "pre_csrf", None) or request.cookies.get(PRE_COOKIE)
    if not pre or len(pre) < 32:
        pre = secrets.token_urlsafe(32)
    request.state.pre_csrf = pre
    return pre


async def _check_csrf(request: Request, session: ActiveSession | None) -> None:
    form = await request.form()
    sent = form.get("csrf_token")
    expected = session.csrf_token if session is not None else request.cookies.get(PRE_COOKIE)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        log.warning("portal_csrf_refused", path=request.url.path[:120])
        raise Forbidden("This form has expired or did not come from this site. Go back, reload the page and try again.")


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a portal page with the signed-in user, the CSRF token and the navigation."""
    session: ActiveSession | None = getattr(request.state, "portal_session", None)
    if session is not None and session.second_factor_pending:
        session = None
    csrf = csrf_token_for(request)
    response = _portal(request).templates.TemplateResponse(
        request, template,
        {"user": session, "csrf_token": csrf, "nav": _nav(session), "notice": None, "error": None, **context},
        status_code=status_code,
    )
    if session is None and request.cookies.get(PRE_COOKIE) != csrf:
        _set_cookie(response, PRE_COOKIE, csrf, max_age=int(timedelta(hours=2).total_seconds()))
    if getattr(request.state, "clear_cookie", False):
        clear_session_cookie(response)
    return response


def _nav(session: ActiveSession | None) -> list[tuple[str, str]]:
    if session is None:
        return []
    items = {
        Role.THERAPIST: [("Patients", "/portal/patients"), ("Invitations", "/portal/invites")],
        Role.REVIEWER: [("Escalations", "/portal/escalations")],
        Role.ADMIN: [("Accounts", "/portal/users"), ("Audit log", "/portal/audit")],
    }.get(session.role, [])
    return [*items, ("Account", "/portal/account")]


def _set_cookie(response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=PREFIX, secure=True, httponly=True, samesite="strict")


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    """Set the session cookie; it lasts no longer than the absolute timeout."""
    _set_cookie(response, COOKIE, token, max_age=settings.portal_absolute_hours * 3600)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PREFIX, secure=True, httponly=True, samesite="strict")


ENDED = {
    "idle": "You were signed out after a period without activity. Please sign in again.",
    "expired": "Your session reached its time limit. Please sign in again.",
    "inactive": "This account is not active. Ask an administrator if you think this is wrong.",
    "signed_out": "You have signed out.",
}


def install_error_pages(app: FastAPI) -> None:
    """Answer `SignInRequired` with a redirect to sign-in (or 403 for forms), `Forbidden` with 403, and
    unknown portal addresses with an HTML 404 page (elsewhere FastAPI's own answers stay)."""

    async def sign_in_required(request: Request, error: Exception) -> Response:
        assert isinstance(error, SignInRequired)
        if request.method != "GET":
            return render(request, "error.html", status_code=403, title="Please sign in",
                          message=ENDED.get(error.reason or "", "Please sign in to continue."))
        target = f"{PREFIX}/login?next={quote(request.url.path)}"
        if error.reason:
            target += f"&ended={error.reason}"
        response = RedirectResponse(target, status_code=303)
        if error.reason or getattr(request.state, "clear_cookie", False):
            clear_session_cookie(response)
        return response

    async def forbidden(request: Request, error: Exception) -> Response:
        assert isinstance(error, Forbidden)
        return render(request, "error.html", status_code=403, title="No access", message=error.message)

    async def not_found(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if not request.url.path.startswith(f"{PREFIX}/") or error.status_code not in (404, 405):
            return await http_exception_handler(request, error)  # the rest of the app keeps FastAPI's answers
        return render(request, "error.html", status_code=error.status_code, title="Page not found",
                      message="There is no page at this address. Check the link, or start again from the portal's start page.")

    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(StarletteHTTPException, not_found)
