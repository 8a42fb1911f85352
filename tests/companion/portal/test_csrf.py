"""CSRF: every portal form needs its session's token; other origins are refused before the portal.

For every POST row of `ACCESS`, as a persona the row allows: the form without `csrf_token`
and the form with another session's token are refused with 403, and the same request with
the right token gets past the check (so the refusals are not the access check, a missing
route or a missing cookie). For a few forms the state they would change is compared before
and after, and changes only when the token is right. Signed-out forms (sign-in, joining)
use a double-submit cookie; a cross-origin POST is refused by the Origin check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, func, select

from companion.models import (
    Assignment,
    Escalation,
    EscalationStatus,
    Invite,
    PortalSession,
    Role,
    User,
)
from companion.portal.access import ACCESS
from companion.portal.sessions import COOKIE, PRE_COOKIE, token_id
from companion.runtime import Runtime
from tests.companion.portal.conftest import (
    BASE_URL,
    PASSWORD,
    People,
    World,
    csrf_from,
    new_escalation,
    real_path,
    session_for,
    use_session,
)

CSRF_REFUSAL = "did not come from this site"
POST_ROWS = sorted(path for method, path in ACCESS if method == "POST")




@pytest.fixture
def client(world: World) -> TestClient:
    world.client.cookies.clear()
    return world.client


def actor_for(path: str, people: People) -> str | None:
    """A user the row allows (None: a signed-out visitor, for public rows)."""
    rule = ACCESS[("POST", path)]
    if rule.public:
        return None
    for role, user in ((Role.THERAPIST, people.therapist), (Role.REVIEWER, people.reviewer),
                       (Role.ADMIN, people.admin)):
        if role in rule.roles:
            return user
    raise AssertionError(f"no persona may use POST {path}")


def other_token(world: World, actor: str | None) -> str:
    """The CSRF token of someone else's live session (another visitor's, for signed-out forms)."""
    if actor is None:
        with TestClient(world.client.app, base_url=BASE_URL) as stranger:
            page = stranger.get("/portal/login")
            assert PRE_COOKIE in stranger.cookies
            return csrf_from(page.text)
    other = world.people.admin if actor != world.people.admin else world.people.reviewer
    with Session(world.runtime.engine) as db:
        row = db.get(PortalSession, token_id(session_for(world.runtime, other)))
        assert row is not None
        return row.csrf_token


def prepare(world: World, client: TestClient, path: str) -> tuple[str, str, str | None]:
    """Sign the row's persona in; return (url, the right token, actor)."""
    url = real_path(world.runtime, world.people, path)
    actor = actor_for(path, world.people)
    if actor is not None:
        use_session(client, session_for(world.runtime, actor))
    right = csrf_from(client.get("/portal/login").text)
    cookie = COOKIE if actor is not None else PRE_COOKIE
    assert cookie in client.cookies, "the persona's cookie is not held, so a refusal would prove nothing"
    return url, right, actor


def assert_csrf_refusal(response: Response, what: str) -> None:
    assert response.status_code == 403, f"{what}: {response.status_code}"
    assert CSRF_REFUSAL in response.text, f"{what} was refused, but not by the CSRF check"


@pytest.mark.parametrize("path", POST_ROWS)
def test_a_form_without_its_token_is_refused(world: World, client: TestClient, path: str) -> None:
    url, right, _ = prepare(world, client, path)
    assert_csrf_refusal(client.post(url, data={}), f"POST {url} without csrf_token")
    assert_csrf_refusal(client.post(url, data={"csrf_token": ""}), f"POST {url} with an empty csrf_token")
    allowed = client.post(url, data={"csrf_token": right})
    assert allowed.status_code != 403, f"POST {url} with the right token: {allowed.status_code} {allowed.text[:200]}"


@pytest.mark.parametrize("path", POST_ROWS)
def test_a_form_with_another_sessions_token_is_refused(world: World, client: TestClient, path: str) -> None:
    url, right, actor = prepare(world, client, path)
    stolen = other_token(world, actor)
    assert stolen != right
    assert_csrf_refusal(client.post(url, data={"csrf_token": stolen}), f"POST {url} with another session's token")
    allowed = client.post(url, data={"csrf_token": right})
    assert allowed.status_code != 403, f"POST {url} with the right token: {allowed.status_code} {allowed.text[:200]}"


# Forms whose effect is easy to see: (path, form, state), where state(runtime, people, url) reads
# what the form changes. Each is sent without a token, with a stolen one, then with the right one.
def _invites(rt: Runtime, people: People, url: str) -> Any:
    with Session(rt.engine) as db:
        return db.exec(select(func.count()).select_from(Invite).where(Invite.therapist_id == people.therapist)).one()


def _assigned(rt: Runtime, people: People, url: str) -> Any:
    with Session(rt.engine) as db:
        query = select(Assignment.module_id).where(Assignment.patient_id == people.patient)
        return sorted(db.exec(query).all())


def _escalation(rt: Runtime, people: People, url: str) -> Any:
    with Session(rt.engine) as db:
        row = db.get(Escalation, url.split("/")[3])
        assert row is not None
        return (row.status, row.safety_mode)


def _user_active(rt: Runtime, people: People, url: str) -> Any:
    with Session(rt.engine) as db:
        user = db.get(User, url.split("/")[3])
        assert user is not None
        return user.is_active


def _staff(rt: Runtime, people: People, url: str) -> Any:
    with Session(rt.engine) as db:
        return sorted(db.exec(select(User.username).where(col(User.username).startswith("new."))).all())


STATEFUL: list[tuple[str, dict[str, str], Callable[[Runtime, People, str], Any]]] = [
    ("/portal/invites", {"reference": "Initials A.B."}, _invites),
    ("/portal/patients/{patient_id}/assignments", {"module_id": "worry-time"}, _assigned),
    ("/portal/patients/{patient_id}/assignments/{module_id}/remove", {}, _assigned),
    ("/portal/escalations/{escalation_id}/acknowledge", {}, _escalation),
    ("/portal/escalations/{escalation_id}/resolve", {"note": "Spoke to them; safe tonight."}, _escalation),
    ("/portal/escalations/{escalation_id}/clear-safety-mode", {"confirm": "yes"}, _escalation),
    ("/portal/users/{user_id}/deactivate", {}, _user_active),
    ("/portal/users", {"username": "new.staff", "role": "reviewer"}, _staff),
]


@pytest.mark.parametrize(("path", "form", "state"), STATEFUL, ids=[row[0] for row in STATEFUL])
def test_a_refused_form_changes_nothing(
    world: World, client: TestClient, path: str, form: dict[str, str], state: Callable[[Runtime, People, str], Any],
) -> None:
    url, right, actor = prepare(world, client, path)
    rt, people = world.runtime, world.people
    before = state(rt, people, url)
    assert_csrf_refusal(client.post(url, data=form), f"POST {url} without csrf_token")
    assert_csrf_refusal(client.post(url, data={**form, "csrf_token": other_token(world, actor)}),
                        f"POST {url} with another session's token")
    assert state(rt, people, url) == before, f"a refused POST {url} changed something"
    done = client.post(url, data={**form, "csrf_token": right})
    assert done.status_code in (200, 303), f"POST {url} with the right token: {done.status_code} {done.text[:300]}"
    assert state(rt, people, url) != before, f"POST {url} with the right token changed nothing: the check is vacuous"


def test_sign_out_without_the_token_keeps_the_session(world: World, client: TestClient) -> None:
    token = session_for(world.runtime, world.people.reviewer)
    use_session(client, token)
    right = csrf_from(client.get("/portal/login").text)
    assert_csrf_refusal(client.post("/portal/logout", data={}), "sign-out without a token")
    assert client.get("/portal/").headers["location"] == "/portal/escalations"
    assert client.post("/portal/logout", data={"csrf_token": right}).status_code == 303
    with Session(world.runtime.engine) as db:
        assert db.get(PortalSession, token_id(token)) is None


def test_the_sign_in_form_needs_its_double_submit_cookie(world: World, client: TestClient) -> None:
    page = client.get("/portal/login")
    token = csrf_from(page.text)
    assert client.cookies.get(PRE_COOKIE) == token, "the sign-in page did not set its CSRF cookie"
    form = {"username": "rev.cy", "password": PASSWORD, "csrf_token": token}
    client.cookies.clear()
    refused = client.post("/portal/login", data=form)
    assert_csrf_refusal(refused, "sign-in without the CSRF cookie")
    assert COOKIE not in client.cookies
    # A cookie that does not match the form is no better.
    client.cookies.set(PRE_COOKIE, "x" * 43, domain="testserver.local", path="/portal")
    assert_csrf_refusal(client.post("/portal/login", data=form), "sign-in with a mismatched CSRF cookie")
    client.cookies.set(PRE_COOKIE, token, domain="testserver.local", path="/portal")
    signed_in = client.post("/portal/login", data=form)
    assert signed_in.status_code == 303 and COOKIE in client.cookies


def test_a_cross_origin_post_is_refused_by_the_origin_check(world: World, client: TestClient) -> None:
    escalation = new_escalation(world.runtime, world.people.patient)
    use_session(client, session_for(world.runtime, world.people.reviewer))
    token = csrf_from(client.get("/portal/login").text)
    url = f"/portal/escalations/{escalation}/acknowledge"
    for headers in ({"Origin": "https://evil.example"},
                    {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
                    {"Sec-Fetch-Site": "cross-site"}):
        refused = client.post(url, data={"csrf_token": token}, headers=headers)
        assert refused.status_code == 403, headers
        assert refused.json() == {"detail": "Origin not allowed"}, "refused, but not by the Origin check"
    with Session(world.runtime.engine) as db:
        row = db.get(Escalation, escalation)
        assert row is not None and row.status is EscalationStatus.OPEN
    # The same form from the portal's own origin goes through.
    same = client.post(url, data={"csrf_token": token}, headers={"Origin": BASE_URL, "Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 303, same.text[:300]


def test_a_cross_origin_sign_in_is_refused(world: World, client: TestClient) -> None:
    token = csrf_from(client.get("/portal/login").text)
    refused = client.post("/portal/login", data={"username": "rev.cy", "password": PASSWORD, "csrf_token": token},
                          headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and refused.json() == {"detail": "Origin not allowed"}
    assert COOKIE not in client.cookies
