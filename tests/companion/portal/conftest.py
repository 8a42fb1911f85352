"""Fixtures for the portal: a real runtime on a temporary data dir, the portal mounted on a bare app.

Chainlit is not mounted here (it keeps module globals and allows one mount per process); the
portal does not need it. The app has the same security middleware as `create_app`. The
client talks https so the `Secure` session cookie is sent back, as a browser would.

`people` is fresh for each test. Modules that make hundreds of requests (the access table
walk) use `shared_runtime` / `shared_people` / `shared_app`, built once per test module, and
start sessions with `session_for` (what a successful sign-in does) instead of paying for an
argon2 check per request.

Passwords are still hashed and checked with argon2id here, but with light parameters
(`light_argon2`): these tests are about the portal, and the production cost (about 0.2 s per
hash, seven accounts per test) would make them take minutes. `tests/companion/test_accounts.py`
checks the real parameters.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from companion.accounts import create_user
from companion.db import session_scope
from companion.models import Invite, Role, User, utcnow
from companion.portal import mount_portal
from companion.portal.sessions import COOKIE, start_session
from companion.runtime import Runtime, open_runtime
from companion.settings import Settings
from companion.web.csp import build_csp
from companion.web.security import SecurityHeadersMiddleware
from safety.types import Assessment, Category, Signal, Tier
from tests.conftest import make_settings

BASE_URL = "https://testserver"
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def light_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash with argon2id at test-sized cost (see the module docstring)."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from companion import accounts

    light = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8 * 1024, parallelism=1),))
    monkeypatch.setattr(accounts, "_hasher", light)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", light.hash("not-a-real-password"))


@dataclass
class People:
    """Accounts for portal tests: two therapists with one patient each, a reviewer, an admin."""

    therapist: str
    other_therapist: str
    patient: str  # on `therapist`'s caseload
    other_patient: str  # on `other_therapist`'s caseload
    reviewer: str
    admin: str
    deactivated: str  # a therapist who signed in while active; then the account was switched off
    deactivated_token: str = ""  # the session cookie they got while active (it must no longer work)


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


def create_people(runtime: Runtime) -> People:
    """Create the accounts of `People`; sign `deactivated` in, then switch the account off."""
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
    ids.deactivated_token = session_for(runtime, ids.deactivated)
    set_active(runtime, ids.deactivated, active=False)
    return ids


def session_for(runtime: Runtime, user_id: str) -> str:
    """Start a portal session for `user_id` (what a successful sign-in does); return its cookie value."""
    return start_session(runtime.engine, user_id=user_id)


def set_active(runtime: Runtime, user_id: str, *, active: bool) -> None:
    """Switch an account on or off directly in the database (leaving its sessions in place)."""
    with session_scope(runtime.engine) as db:
        user = db.get(User, user_id)
        assert user is not None, user_id
        user.is_active = active
        db.add(user)


def use_session(client: TestClient, token: str) -> None:
    """Give `client` the session cookie `token`, as the browser would hold it."""
    client.cookies.set(COOKIE, token, domain="testserver.local", path="/portal")


def new_invite(runtime: Runtime, therapist_id: str) -> tuple[str, str]:
    """Store an open invitation from `therapist_id`; return (invite id, code).

    The row is what `POST /portal/invites` stores: the id is the SHA-256 of the code.
    """
    code = secrets.token_urlsafe(16)
    invite_id = hashlib.sha256(code.encode("utf-8")).hexdigest()
    with session_scope(runtime.engine) as db:
        db.add(Invite(id=invite_id, therapist_id=therapist_id, expires_at=utcnow() + timedelta(days=7)))
    return invite_id, code


def new_escalation(runtime: Runtime, patient_id: str) -> str:
    """Record an open, urgent escalation for `patient_id` (safety mode on); return its id."""
    escalation_id = f"test-{secrets.token_hex(8)}"
    assessment = Assessment(
        tier=Tier.URGENT, categories=(Category.INTENT,),
        signals=(Signal(source="rules", id="si.intent.test", tier=Tier.URGENT, category=Category.INTENT),),
        detector_version="test-fixture",
    )
    runtime.store.record_escalation(
        patient_id=patient_id, escalation_id=escalation_id, assessment=assessment,
        excerpt=["I am going to do it tonight"], before_consent=False, safety_mode=True,
    )
    return escalation_id


MODULE = "thought-record"


def real_path(runtime: Runtime, people: People, template: str) -> str:
    """Fill a portal path template with real ids, fresh for each call so a state change never leaks.

    `{patient_id}` is `people.patient` (on `people.therapist`'s caseload) with `MODULE` assigned;
    `{invite_id}` / `{code}` a new open invitation from `people.therapist`; `{escalation_id}` a
    new open escalation of `people.patient`; `{user_id}` a new therapist account (switched off
    for `.../activate`). `/portal/static` becomes the portal's stylesheet.
    """
    if template == "/portal/static":
        return "/portal/static/portal.css"
    runtime.store.assign_module(patient_id=people.patient, module_id=MODULE, assigned_by=people.therapist)
    values = {"patient_id": people.patient, "module_id": MODULE}
    if "{invite_id}" in template or "{code}" in template:
        values["invite_id"], values["code"] = new_invite(runtime, people.therapist)
    if "{escalation_id}" in template:
        values["escalation_id"] = new_escalation(runtime, people.patient)
    if "{user_id}" in template:
        with session_scope(runtime.engine) as db:
            target = create_user(db, username=f"target-{secrets.token_hex(4)}", role=Role.THERAPIST,
                                 password=PASSWORD).id
        if template.endswith("/activate"):
            set_active(runtime, target, active=False)
        values["user_id"] = target
    return template.format(**values)


@pytest.fixture
def people(runtime: Runtime) -> People:
    return create_people(runtime)


@pytest.fixture
def app(portal_settings: Settings, runtime: Runtime) -> FastAPI:
    return build_portal_app(portal_settings, runtime)


@pytest.fixture(scope="module")
def shared_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("portal") / "var", public_url=BASE_URL)


@pytest.fixture(scope="module")
def shared_runtime(shared_settings: Settings) -> Iterator[Runtime]:
    """One runtime for a whole test module (tests that share it must not depend on order)."""
    rt = open_runtime(shared_settings)
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def shared_people(shared_runtime: Runtime) -> People:
    return create_people(shared_runtime)


@pytest.fixture(scope="module")
def shared_app(shared_settings: Settings, shared_runtime: Runtime) -> FastAPI:
    return build_portal_app(shared_settings, shared_runtime)


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


@dataclass
class World:
    """One module-wide app, its runtime and accounts, and a client (the access and CSRF walks)."""

    runtime: Runtime
    people: People
    client: TestClient


@pytest.fixture(scope="module")
def world(shared_runtime: Runtime, shared_people: People, shared_app: FastAPI) -> Iterator[World]:
    with TestClient(shared_app, base_url=BASE_URL, follow_redirects=False) as client:
        yield World(shared_runtime, shared_people, client)
