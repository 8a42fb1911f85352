"""The access table, walked completely: every route has a row, and every row holds for every persona.

For each row of `ACCESS` and each persona the test makes the real request (a GET, or a POST
with the CSRF token the portal gave that persona's session) and compares the outcome with
the row: allowed means the request got past `authorise` (no 403, no redirect to sign-in);
denied means 403, or, for a GET without a working session, a 303 to sign-in.

Personas: anonymous; a patient (the sign-in form never gives patients a session, so theirs is
started directly: if one ever existed the table must still refuse it); a therapist; the same
therapist asking about another therapist's patient or invitation (own-patient and own-invite
rows only); a reviewer; an admin; and a therapist who signed in while active and was then
deactivated (the session must stop working at once, and its row must be gone).

Path parameters are real: the patient on the therapist's caseload, an assigned module, an
open invitation, an escalation, an account. Rows that change state get fresh targets in
every test, so the order tests run in does not matter.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session

from companion.models import PortalSession, Role
from companion.portal import mount_portal, portal_routes
from companion.portal.access import ACCESS, Rule, Scope
from companion.portal.sessions import token_id
from companion.portal.web import authorise
from companion.runtime import Runtime
from tests.companion.portal.conftest import (
    BASE_URL,
    People,
    World,
    csrf_from,
    real_path,
    session_for,
    set_active,
    use_session,
)

PERSONAS = ("anonymous", "patient", "therapist", "reviewer", "admin", "deactivated")
ROLE_OF = {"patient": Role.PATIENT, "therapist": Role.THERAPIST, "other_therapist": Role.THERAPIST,
           "reviewer": Role.REVIEWER, "admin": Role.ADMIN}
#: Public routes whose handler itself refuses a persona (the table lets them through).
HANDLER_REFUSALS = {("GET", "/portal/", "patient"): "This portal is for care teams"}


def _cases() -> list[pytest.ParameterSet]:
    cases = []
    for (method, path), rule in sorted(ACCESS.items()):
        personas = PERSONAS + (("other_therapist",) if rule.scope is not Scope.ANY else ())
        cases += [pytest.param(method, path, persona, id=f"{method} {path} as {persona}") for persona in personas]
    return cases


def expected(method: str, path: str, persona: str) -> str:
    """What the table says should happen: "allowed", "refused" (403) or "sign-in" (303 to sign-in)."""
    rule: Rule = ACCESS[(method, path)]
    if persona == "deactivated":
        if method == "POST":  # its forms carry the CSRF token of a session that no longer exists
            return "refused"
        return "allowed" if rule.public else "sign-in"
    if persona == "anonymous":
        return "allowed" if rule.public else ("sign-in" if method == "GET" else "refused")
    if (method, path, persona) in HANDLER_REFUSALS:
        return "refused"
    if persona == "other_therapist":
        return "refused"  # only asked on own-patient / own-invite rows, about someone else's
    return "allowed" if rule.allows(ROLE_OF[persona]) else "refused"


def outcome(response: Response) -> str:
    if response.status_code == 403:
        return "refused"
    if response.is_redirect and response.headers["location"].startswith("/portal/login?next="):
        return "sign-in"
    return "allowed"




def signed_in_as(world: World, persona: str) -> str | None:
    """Give the client a live session for `persona`; return its token (None for anonymous)."""
    people = world.people
    user = {"patient": people.patient, "therapist": people.therapist, "other_therapist": people.other_therapist,
            "reviewer": people.reviewer, "admin": people.admin, "deactivated": people.deactivated}.get(persona)
    if user is None:
        return None
    if persona == "deactivated":
        set_active(world.runtime, user, active=True)
    token = session_for(world.runtime, user)
    use_session(world.client, token)
    return token


@pytest.mark.parametrize(("method", "path", "persona"), _cases())
def test_the_access_table_holds(world: World, method: str, path: str, persona: str) -> None:
    assert (method, path) in portal_routes(), f"no portal route serves the row {method} {path} yet"
    client = world.client
    client.cookies.clear()
    url = real_path(world.runtime, world.people, path)
    token = signed_in_as(world, persona)
    if persona == "deactivated":  # the session worked while the account was active
        assert client.get("/portal/").headers["location"] == "/portal/patients"
    form: dict[str, str] = {}
    if method == "POST":
        form["csrf_token"] = csrf_from(client.get("/portal/login").text)
    if persona == "deactivated":
        assert token is not None
        set_active(world.runtime, world.people.deactivated, active=False)

    response = client.get(url) if method == "GET" else client.post(url, data=form)

    want, got = expected(method, path, persona), outcome(response)
    assert got == want, f"{method} {url} as {persona}: {response.status_code} {response.headers.get('location', '')}"
    if want == "allowed":
        assert response.status_code not in (404, 405) and response.status_code < 500, (
            f"{method} {url} as {persona} got past the access check but answered {response.status_code}")
    elif want == "sign-in":
        assert response.headers["location"].startswith(f"/portal/login?next={quote(url)}")
    else:
        assert "Companion portal" in response.text  # the portal's 403 page, not a bare refusal
    _check_reason(world, method, path, persona, response, token)


def _check_reason(world: World, method: str, path: str, persona: str, response: Response, token: str | None) -> None:
    """Denials say why; a deactivated account's session is gone after its first request."""
    want = expected(method, path, persona)
    if persona == "deactivated" and path != "/portal/static":  # static files never look at the session
        assert token is not None
        with Session(world.runtime.engine) as db:
            assert db.get(PortalSession, token_id(token)) is None, "the deactivated account's session survived"
        if want == "sign-in":
            assert "ended=inactive" in response.headers["location"]
        return
    if persona == "deactivated":
        return
    if want != "refused":
        return
    if (method, path, persona) in HANDLER_REFUSALS:
        assert HANDLER_REFUSALS[(method, path, persona)] in response.text
    elif persona == "other_therapist":
        assert "not on your caseload" in response.text
    elif persona == "anonymous":
        assert "Please sign in" in response.text
    else:
        assert "You do not have access to this page." in response.text


def test_every_route_the_portal_serves_has_a_row() -> None:
    served = portal_routes()
    assert len(served) == len(set(served)), "a route is declared twice"
    missing = sorted(set(served) - set(ACCESS))
    assert not missing, f"routes without a row in companion.portal.access.ACCESS (add one): {missing}"


def test_every_row_has_a_route() -> None:
    unserved = sorted(set(ACCESS) - set(portal_routes()))
    assert not unserved, f"rows in ACCESS that no portal route serves (add the route or drop the row): {unserved}"


def test_the_cases_cover_every_row_and_persona() -> None:
    covered = {(c.values[0], c.values[1]) for c in _cases()}
    assert covered == set(ACCESS)
    scoped = [key for key, rule in ACCESS.items() if rule.scope is not Scope.ANY]
    assert scoped, "the table has no own-patient / own-invite rows to check ownership on"
    assert len(_cases()) == len(ACCESS) * len(PERSONAS) + len(scoped)


def test_a_route_without_a_row_is_refused_even_to_an_admin(
    shared_settings: object, shared_runtime: Runtime, shared_people: People,
) -> None:
    from companion.settings import Settings

    assert isinstance(shared_settings, Settings)
    app = FastAPI()
    mount_portal(app, shared_settings, lambda: shared_runtime)
    undecided = APIRouter()

    @undecided.get("/undecided")
    async def undecided_page() -> dict[str, str]:
        return {"secret": "yes"}

    app.include_router(undecided, prefix="/portal", dependencies=[Depends(authorise)])
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
        use_session(client, session_for(shared_runtime, shared_people.admin))
        assert client.get("/portal/").headers["location"] == "/portal/users"  # the session works
        response = client.get("/portal/undecided")
    assert response.status_code == 403
    assert "secret" not in response.text
