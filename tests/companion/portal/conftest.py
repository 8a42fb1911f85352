"""Fixtures for the portal: a real runtime on a temporary data dir, the portal mounted on a bare app.

Chainlit is not mounted here (it keeps module globals and allows one mount per process); the
portal does not need it. The app has the same security middleware as `create_app`. The
client talks https so the `Secure` session cookie is sent back, as a browser would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from companion.accounts import create_user
from companion.db import session_scope
from companion.models import Role
from companion.portal import mount_portal
from companion.runtime import Runtime, open_runtime
from companion.settings import Settings
from companion.web.csp import build_csp
from companion.web.security import SecurityHeadersMiddleware
from tests.conftest import make_settings

BASE_URL = "https://testserver"
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class People:
    """Accounts for portal tests: two therapists with one patient each, a reviewer, an admin."""

    therapist: str
    other_therapist: str
    patient: str  # on `therapist`'s caseload
    other_patient: str  # on `other_therapist`'s caseload
    reviewer: str
    admin: str
    deactivated: str  # a therapist whose account was switched off


def build_portal_app(settings: Settings, runtime: Runtime) -> FastAPI:
    app = FastAPI()
    mount_portal(app, settings, lambda: runtime)
    app.add_middleware(
        SecurityHeadersMiddleware, csp=build_csp(), allowed_origins=settings.origins,
        protected_prefixes=("/portal",), static_prefixes=("/portal/static/",), https=True,
    )
    return app


@pytest.fixture
def portal_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "var", public_url=BASE_URL)


@pytest.fixture
def runtime(portal_settings: Settings) -> Iterator[Runtime]:
    rt = open_runtime(portal_settings)
    yield rt
    rt.close()


@pytest.fixture
def people(runtime: Runtime) -> People:
    def user(db: Session, name: str, role: Role) -> str:
        return create_user(db, username=name, role=role, password=PASSWORD).id

    with session_scope(runtime.engine) as db:
        ids = People(
            therapist=user(db, "dr.ada", Role.THERAPIST),
            other_therapist=user(db, "dr.bo", Role.THERAPIST),
            patient=user(db, "pat.one", Role.PATIENT),
            other_patient=user(db, "pat.two", Role.PATIENT),
            reviewer=user(db, "rev.cy", Role.REVIEWER),
            admin=user(db, "admin.di", Role.ADMIN),
            deactivated=user(db, "dr.gone", Role.THERAPIST),
        )
    runtime.store.assign_therapist(patient_id=ids.patient, therapist_id=ids.therapist)
    runtime.store.assign_therapist(patient_id=ids.other_patient, therapist_id=ids.other_therapist)
    return ids


@pytest.fixture
def app(portal_settings: Settings, runtime: Runtime) -> FastAPI:
    return build_portal_app(portal_settings, runtime)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as test_client:
        yield test_client


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match[1]


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real form; fails the test if the portal does not accept it."""
    page = client.get("/portal/login")
    response = client.post("/portal/login", data={
        "username": username, "password": password, "csrf_token": csrf_from(page.text),
    })
    assert response.status_code == 303, response.text
    assert "companion_portal" in client.cookies


def post_form(client: TestClient, path: str, data: dict[str, str] | None = None, *, page: str | None = None):  # type: ignore[no-untyped-def]
    """POST a portal form with the CSRF token taken from `page` (default: the portal start page)."""
    html = client.get(page or "/portal/login").text
    return client.post(path, data={**(data or {}), "csrf_token": csrf_from(html)})
