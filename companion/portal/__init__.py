"""The therapist and safety-reviewer portal, server-rendered under `/portal`.

`mount_portal(app, settings, runtime)` adds the portal's routes, its static files and its
error pages to the application. Every route is listed in `companion.portal.access.ACCESS`
and checked by `companion.portal.web.authorise` before its handler runs.

Route modules: `auth_routes` (sign-in, second factor, sign-out), `account` (password and
TOTP set-up), `caseload` and `invites` (therapists), `escalations` (safety reviewers),
`admin` (accounts and the audit log).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from companion.portal.web import PREFIX, Portal, authorise, install_error_pages
from companion.settings import Settings

if TYPE_CHECKING:
    from companion.runtime import Runtime

__all__ = ["mount_portal", "portal_router", "portal_routes"]

STATIC = Path(__file__).parent / "static"


def _route_modules() -> list[APIRouter]:
    from companion.portal import account, admin, auth_routes, caseload, escalations, invites

    return [m.router for m in (auth_routes, account, caseload, invites, escalations, admin)]


def portal_router() -> APIRouter:
    """All portal routes under `/portal`, each behind `authorise`."""
    router = APIRouter(prefix=PREFIX, dependencies=[Depends(authorise)], include_in_schema=False)
    for module_router in _route_modules():
        if module_router.prefix:
            raise RuntimeError("portal route modules declare full paths below /portal, without a prefix")
        router.include_router(module_router)
    return router


def portal_routes() -> list[tuple[str, str]]:
    """Every (method, path template) the portal serves, as `ACCESS` names them."""
    found = [(f"{PREFIX}/static", "GET")]
    for module_router in _route_modules():
        for route in module_router.routes:
            if isinstance(route, APIRoute):
                found += [(PREFIX + route.path, method) for method in sorted(route.methods or ())]
    return [(method, path) for path, method in found]


def mount_portal(app: FastAPI, settings: Settings, runtime: Callable[[], Runtime]) -> None:
    """Serve the portal from `app`, using `runtime()` (called on first use) for storage and content.

    The reviewers' response-time policy is read and checked here, so a broken file stops the
    start with a message naming the file and line instead of failing the first reviewer.
    """
    from companion.portal.targets import response_targets

    response_targets()
    app.state.portal = Portal(settings, runtime)
    app.include_router(portal_router())
    app.mount(f"{PREFIX}/static", StaticFiles(directory=str(STATIC)), name="portal-static")
    install_error_pages(app)
