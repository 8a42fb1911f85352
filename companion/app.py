"""The ASGI application: Chainlit at `/chat`, the help page, health checks, security headers.

`create_app(settings)` is what `companion serve` hands to uvicorn. Nothing happens at import
time: Chainlit is imported inside `create_app`, after the environment it reads is set.

Routes of the parent app:

* `GET /` redirects to the chat.
* `GET /healthz` answers `{"status": "ok", "database": "ok"}` (503 when the database does
  not answer).
* `GET /help` is a small server-rendered page with the crisis resources for the locale; it
  works without JavaScript and without signing in.
* `/chat/...` is Chainlit, with our handlers in `companion/chat.py`.
* `/portal/...` is the therapist and safety-reviewer portal (`companion.portal`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse

from companion.logging import get_logger
from companion.portal import mount_portal
from companion.portal.web import PREFIX as PORTAL_PATH
from companion.settings import Settings
from companion.web.chainlit_mount import CHAT_PATH, mount_chat, prepare_environment
from companion.web.csp import build_csp, websocket_origins
from companion.web.help_page import help_router
from companion.web.security import SecurityHeadersMiddleware

if TYPE_CHECKING:
    from companion.runtime import Runtime

__all__ = ["create_app"]

log = get_logger("companion.app")

HealthCheck = Callable[[], bool]


def create_app(settings: Settings | None = None, *, health_check: HealthCheck | None = None) -> FastAPI:
    """Build the application.

    Args:
        settings: the settings to serve with; read from the environment when omitted.
        health_check: a blocking callable returning True when storage answers; by default
            a `SELECT 1` on the configured database.

    Raises:
        ForbiddenEnvironmentError: DATABASE_URL or LITERAL_API_KEY is set.
        RuntimeError: Chainlit is already mounted in this process, or is configured to store
            or upload patient text.
    """
    settings = settings or Settings()
    settings.validate_for_start()
    prepare_environment(settings)

    app = FastAPI(title="Companion", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.health_check = health_check or _database_check(settings)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(f"{CHAT_PATH}/", status_code=307)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        try:
            healthy = await asyncio.to_thread(app.state.health_check)
        except Exception as error:  # noqa: BLE001 - reported as unhealthy, type only
            log.error("health_check_failed", error=type(error).__name__)
            healthy = False
        if healthy:
            return JSONResponse({"status": "ok", "database": "ok"})
        return JSONResponse({"status": "error", "database": "unavailable"}, status_code=503)

    app.include_router(help_router(settings))
    mount_portal(app, settings, _service_runtime)
    mounted = mount_chat(app, settings)
    csp = build_csp(mounted.script_hashes, websocket_origins=websocket_origins(settings.origins))
    app.add_middleware(
        SecurityHeadersMiddleware,
        csp=csp,
        allowed_origins=settings.origins,
        protected_prefixes=(CHAT_PATH, PORTAL_PATH),
        static_prefixes=(f"{CHAT_PATH}/assets/", f"{PORTAL_PATH}/static/"),
        https=settings.origin.startswith("https://"),
    )
    return app


def _service_runtime() -> Runtime:
    """The chat service's runtime, shared with the portal (one database engine, one key ring)."""
    from companion.service import get_service

    return get_service().runtime


def _database_check(settings: Settings) -> HealthCheck:
    """Return a check that runs `SELECT 1` on one engine created on first use."""
    from companion.db import check_database, create_db_engine

    engine = None

    def check() -> bool:
        nonlocal engine
        if engine is None:
            engine = create_db_engine(settings)
        return check_database(engine)

    return check
