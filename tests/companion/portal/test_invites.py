"""Invitations: create, show once, join, single use (also under concurrency), expiry and revoking."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from companion import audit
from companion.accounts import authenticate
from companion.models import CareTeam, Invite, Role, User, utcnow
from companion.portal.invitations import (
    InviteUnusable,
    JoinProblem,
    code_id,
    create_invite,
    redeem_invite,
)
from companion.runtime import Runtime
from tests.companion.portal.conftest import People, csrf_from, post_form, sign_in

NEW_PASSWORD = "a long new password"
INVALID = "This invitation link is not valid any more. Ask your therapist for a new one."
_LINK = re.compile(r'value="(https://testserver/portal/join/([A-Za-z0-9_-]+))"')


def _create(client: TestClient, reference: str = "") -> tuple[str, str]:
    response = post_form(client, "/portal/invites", {"reference": reference}, page="/portal/invites")
    assert response.status_code == 200, response.text
    match = _LINK.search(response.text)
    assert match, "the invitation page shows the full link"
    return match[1], match[2]


def _join(client: TestClient, code: str, username: str, password: str = NEW_PASSWORD, again: str | None = None):  # type: ignore[no-untyped-def]
    page = client.get(f"/portal/join/{code}")
    token = csrf_from(page.text) if page.status_code == 200 else csrf_from(client.get("/portal/login").text)
    return client.post(f"/portal/join/{code}", data={
        "username": username, "password": password, "password_again": password if again is None else again,
        "csrf_token": token,
    })


def test_invite_is_shown_once_then_joins_signs_in_to_chat_and_appears_on_the_caseload(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    sign_in(client, "dr.ada")
    link, code = _create(client, "J.S.")
    assert len(code) >= 43  # 32 random bytes
    with Session(runtime.engine) as db:
        invite = db.exec(select(Invite).where(Invite.therapist_id == people.therapist)).one()
    assert invite.id == code_id(code) and code not in invite.id
    assert invite.reference is not None and b"J.S." not in invite.reference
    listing = client.get("/portal/invites")
    assert "J.S." in listing.text and "Waiting" in listing.text and code not in listing.text

    client.cookies.clear()
    page = client.get(f"/portal/join/{code}")
    assert page.status_code == 200 and "Create your account" in page.text
    done = _join(client, code, "new.patient")
    assert done.status_code == 200, done.text
    assert 'href="/chat/"' in done.text
    with Session(runtime.engine) as db:
        user = authenticate(db, username="new.patient", password=NEW_PASSWORD)
        assert user is not None and user.role is Role.PATIENT
        team = db.get(CareTeam, (user.id, people.therapist))
        assert team is not None and team.reference is not None and b"J.S." not in team.reference
        assert db.get(Invite, code_id(code)).patient_id == user.id  # type: ignore[union-attr]

    sign_in(client, "dr.ada")
    caseload = client.get("/portal/patients")
    assert "J.S." in caseload.text and "new.patient" in caseload.text
    assert "Used" in client.get("/portal/invites").text


def test_a_used_code_cannot_be_used_again(client: TestClient, people: People, runtime: Runtime) -> None:
    sign_in(client, "dr.ada")
    _, code = _create(client)
    client.cookies.clear()
    assert _join(client, code, "first.one").status_code == 200
    again = _join(client, code, "second.one")
    assert again.status_code == 410 and INVALID in again.text
    assert client.get(f"/portal/join/{code}").status_code == 410
    with Session(runtime.engine) as db:
        assert db.exec(select(User).where(User.username == "second.one")).first() is None


def test_unknown_expired_and_revoked_codes_get_the_same_page(client: TestClient, people: People,
                                                             runtime: Runtime) -> None:
    expired = create_invite(runtime.engine, runtime.crypto, therapist_id=people.therapist, reference="",
                            valid_days=1, now=utcnow() - timedelta(days=2))
    sign_in(client, "dr.ada")
    _, revoked = _create(client)
    with Session(runtime.engine) as db:
        invite_id = code_id(revoked)
    response = post_form(client, f"/portal/invites/{invite_id}/revoke", page="/portal/invites")
    assert response.status_code == 303 and "notice=revoked" in response.headers["location"]
    assert "Revoked" in client.get("/portal/invites").text
    client.cookies.clear()
    for code in (expired.code, revoked, "not-a-real-code-" + "x" * 30):
        page = client.get(f"/portal/join/{code}")
        assert page.status_code in (404, 410) and INVALID in page.text
        posted = _join(client, code, f"user{len(code)}")
        assert posted.status_code in (404, 410) and INVALID in posted.text
    with Session(runtime.engine) as db:
        assert len(db.exec(select(User).where(User.role == Role.PATIENT)).all()) == 2  # the fixture's two


def test_concurrent_redemptions_create_exactly_one_account(people: People, runtime: Runtime) -> None:
    created = create_invite(runtime.engine, runtime.crypto, therapist_id=people.therapist, reference="AB",
                            valid_days=7)
    results: list[str] = []
    start = threading.Barrier(6)

    def attempt(index: int) -> None:
        start.wait()
        try:
            redeem_invite(runtime.engine, runtime.crypto, code=created.code, username=f"racer{index}",
                          password=NEW_PASSWORD, repeated=NEW_PASSWORD)
            results.append("ok")
        except InviteUnusable:
            results.append("unusable")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok"] + ["unusable"] * 5
    with Session(runtime.engine) as db:
        racers = db.exec(select(User).where(User.username.startswith("racer"))).all()  # type: ignore[attr-defined]
        assert len(racers) == 1
        assert len(db.exec(select(CareTeam).where(CareTeam.patient_id == racers[0].id)).all()) == 1


def test_account_rules_are_explained_and_nothing_is_used_up(client: TestClient, people: People,
                                                            runtime: Runtime) -> None:
    created = create_invite(runtime.engine, runtime.crypto, therapist_id=people.therapist, reference="",
                            valid_days=7)
    for username, password, again, message in (
        ("has space", NEW_PASSWORD, None, "Choose another username"),
        ("short.pw", "short", None, "at least 10 characters"),
        ("mismatch", NEW_PASSWORD, NEW_PASSWORD + "x", "not the same"),
        ("pat.one", NEW_PASSWORD, None, "already taken"),
        ("<script>alert(1)</script>", NEW_PASSWORD, None, "Choose another username"),
    ):
        response = _join(client, created.code, username, password, again)
        assert response.status_code == 400 and message in response.text
        assert "<script>alert(1)</script>" not in response.text
    with Session(runtime.engine) as db:
        assert db.get(Invite, created.invite_id).used_at is None  # type: ignore[union-attr]
    assert _join(client, created.code, "finally.ok").status_code == 200


def test_redeem_refuses_bad_account_input_before_touching_the_invite(people: People, runtime: Runtime) -> None:
    created = create_invite(runtime.engine, runtime.crypto, therapist_id=people.therapist, reference="",
                            valid_days=7)
    try:
        redeem_invite(runtime.engine, runtime.crypto, code=created.code, username="x\x00y",
                      password=NEW_PASSWORD, repeated=NEW_PASSWORD)
    except JoinProblem as problem:
        assert "username" in str(problem)
    else:
        raise AssertionError("a username with a control character was accepted")


def test_reference_is_escaped_limited_and_kept_on_error(client: TestClient, people: People,
                                                        runtime: Runtime) -> None:
    sign_in(client, "dr.ada")
    _create(client, '<b onmouseover="x">R&D</b>')
    listing = client.get("/portal/invites").text
    assert "&lt;b onmouseover=&#34;x&#34;&gt;R&amp;D&lt;/b&gt;" in listing and "<b onmouseover" not in listing
    long = post_form(client, "/portal/invites", {"reference": "y" * 81}, page="/portal/invites")
    assert long.status_code == 400 and "limit is 80" in long.text and "y" * 81 in long.text
    control = post_form(client, "/portal/invites", {"reference": "A\x07B"}, page="/portal/invites")
    assert control.status_code == 400 and "control characters" in control.text and 'value="AB"' in control.text
    assert any(e.action == "read.invite_references" and e.actor == people.therapist
               for e in audit.entries(runtime.engine))


def test_another_therapist_cannot_revoke_my_invitation(client: TestClient, people: People, runtime: Runtime) -> None:
    created = create_invite(runtime.engine, runtime.crypto, therapist_id=people.therapist, reference="",
                            valid_days=7)
    sign_in(client, "dr.bo")
    response = post_form(client, f"/portal/invites/{created.invite_id}/revoke", page="/portal/invites")
    assert response.status_code == 403
    with Session(runtime.engine) as db:
        assert db.get(Invite, created.invite_id).revoked_at is None  # type: ignore[union-attr]


def test_a_deactivated_therapists_invitation_no_longer_works(client: TestClient, people: People,
                                                             runtime: Runtime) -> None:
    created = create_invite(runtime.engine, runtime.crypto, therapist_id=people.deactivated, reference="",
                            valid_days=7)
    with Session(runtime.engine) as db:
        user = db.get(User, people.deactivated)
        assert user is not None
        user.is_active = False
        db.add(user)
        db.commit()
    assert client.get(f"/portal/join/{created.code}").status_code == 410
