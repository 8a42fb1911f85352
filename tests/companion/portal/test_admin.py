"""Admin pages: the accounts list, new staff accounts, deactivating and activating, the audit log."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, func, select

from companion import audit
from companion.models import AuditEntry, User
from companion.portal.sessions import count_sessions
from companion.runtime import Runtime
from tests.companion.portal.conftest import BASE_URL, PASSWORD, People, csrf_from, sign_in

SQLITE_TRIGGERS = (
    "CREATE TRIGGER auditentry_no_update BEFORE UPDATE ON auditentry "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER auditentry_no_delete BEFORE DELETE ON auditentry "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
)


def post_admin(client: TestClient, path: str, data: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    page = client.get("/portal/users")
    assert page.status_code == 200, page.text
    return client.post(path, data={**(data or {}), "csrf_token": csrf_from(page.text)})


def user_count(runtime: Runtime) -> int:
    with Session(runtime.engine) as db:
        return db.exec(select(func.count()).select_from(User)).one()


def test_the_list_shows_staff_in_full_and_patients_by_username_only(client: TestClient, people: People) -> None:
    sign_in(client, "admin.di")
    page = client.get("/portal/users")
    assert page.status_code == 200 and page.text.count("<h1") == 1
    staff_part, patient_part = page.text.split('id="patients-heading"')
    for name in ("dr.ada", "dr.bo", "rev.cy", "admin.di", "dr.gone"):
        assert f'<th scope="row">{name}</th>' in staff_part
    assert "Safety reviewer" in staff_part and "Your account" in staff_part
    patients = patient_part.split('id="create-heading"')[0]
    assert '<th scope="row">pat.one</th>' in patients and '<th scope="row">pat.two</th>' in patients
    assert "Created" not in patients and "Two-step" not in patients
    for field, autocomplete in (("new_username", "off"), ("new_password", "new-password")):
        assert re.search(rf'id="{field}"[^>]*autocomplete="{autocomplete}"', page.text), field


def test_an_admin_creates_a_staff_account_that_can_sign_in(app: FastAPI, client: TestClient, people: People) -> None:
    sign_in(client, "admin.di")
    typed = post_admin(client, "/portal/users", {"username": "dr.eve", "role": "therapist",
                                                 "password": "a typed initial password"})
    assert typed.status_code == 303 and typed.headers["location"] == "/portal/users?notice=created"
    generated = post_admin(client, "/portal/users", {"username": "rev.fay", "role": "reviewer", "password": ""})
    assert generated.status_code == 200 and "shown once" in generated.text
    assert generated.headers["cache-control"] == "no-store"
    match = re.search(r'<code class="one-time-password">([^<]+)</code>', generated.text)
    assert match is not None
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as other:
        sign_in(other, "dr.eve", "a typed initial password")
        assert other.get("/portal/").headers["location"] == "/portal/patients"
        other.cookies.clear()
        sign_in(other, "rev.fay", match[1])
        assert other.get("/portal/").headers["location"] == "/portal/escalations"
    assert match[1] not in client.get("/portal/users").text  # shown once only


def test_duplicate_and_invalid_accounts_are_refused_and_nothing_is_stored(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    sign_in(client, "admin.di")
    before = user_count(runtime)
    cases = [
        ({"username": "dr.ada", "role": "therapist"}, "already taken"),
        ({"username": "", "role": "therapist"}, "Enter a username"),
        ({"username": "<script>alert(1)</script>", "role": "therapist"}, "a username is 1-64 characters"),
        ({"username": "x" * 500, "role": "therapist"}, "a username is 1-64 characters"),
        ({"username": "bad\x00name", "role": "therapist"}, "a username is 1-64 characters"),
        ({"username": "new.pat", "role": "patient"}, "Choose a role"),
        ({"username": "new.boss", "role": "superuser"}, "Choose a role"),
        ({"username": "dr.short", "role": "therapist", "password": "short"}, "at least 10 characters"),
        ({"username": "dr.ctrl", "role": "therapist", "password": "line\nbreak-password"}, "control characters"),
    ]
    for data, message in cases:
        response = post_admin(client, "/portal/users", data)
        assert response.status_code == 400, data
        assert message in response.text and "Nothing was stored" in response.text
        assert "<script>alert(1)" not in response.text
    assert user_count(runtime) == before


def test_deactivating_ends_sessions_at_once_and_activating_restores_sign_in(
    app: FastAPI, client: TestClient, people: People, runtime: Runtime,
) -> None:
    sign_in(client, "admin.di")
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as therapist:
        sign_in(therapist, "dr.ada")
        assert therapist.get("/portal/account").status_code == 200
        off = post_admin(client, f"/portal/users/{people.therapist}/deactivate")
        assert off.status_code == 303 and off.headers["location"] == "/portal/users?notice=deactivated"
        assert count_sessions(runtime.engine, people.therapist) == 0
        assert therapist.get("/portal/account").headers["location"].startswith("/portal/login")
        therapist.cookies.clear()
        page = therapist.get("/portal/login")
        refused = therapist.post("/portal/login", data={"username": "dr.ada", "password": PASSWORD,
                                                        "csrf_token": csrf_from(page.text)})
        assert refused.status_code == 401
        assert "Deactivated" in client.get("/portal/users?notice=deactivated").text
        on = post_admin(client, f"/portal/users/{people.therapist}/activate")
        assert on.status_code == 303 and on.headers["location"] == "/portal/users?notice=activated"
        sign_in(therapist, "dr.ada")


def test_an_admin_cannot_deactivate_themself_and_unknown_ids_are_404(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    sign_in(client, "admin.di")
    self_off = post_admin(client, f"/portal/users/{people.admin}/deactivate")
    assert self_off.status_code == 400 and "cannot deactivate your own account" in self_off.text
    assert client.get("/portal/users").status_code == 200  # still signed in and active
    for path in ("/portal/users/no-such-id/deactivate", "/portal/users/no-such-id/activate",
                 f"/portal/users/{'x' * 300}/deactivate"):
        assert post_admin(client, path).status_code == 404


def test_non_admins_get_403_on_admin_pages(client: TestClient, people: People) -> None:
    sign_in(client, "dr.ada")
    assert client.get("/portal/users").status_code == 403
    assert client.get("/portal/audit").status_code == 403
    page = client.get("/portal/account")
    response = client.post(f"/portal/users/{people.other_therapist}/deactivate",
                           data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 403


def test_the_audit_page_shows_entries_and_the_check_and_records_the_view(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    audit.record(runtime.engine, actor=people.reviewer, action="read.escalation_excerpt",
                 patient_id=people.patient, target="esc-1")
    audit.record(runtime.engine, actor="cli", action="export.labels")
    sign_in(client, "admin.di")
    page = client.get("/portal/audit")
    assert page.status_code == 200 and page.text.count("<h1") == 1
    assert "Intact" in page.text and "3 entries were checked" in page.text
    assert "rev.cy" in page.text and people.reviewer not in page.text  # the actor by username
    assert people.patient in page.text and "pat.one" not in page.text  # the patient id stays opaque
    assert "read.audit_log" in page.text
    newest = audit.entries(runtime.engine, limit=1)[0]
    assert newest.action == "read.audit_log" and newest.actor == people.admin
    rows = re.findall(r'<th scope="row">(\d+)</th>', page.text)
    assert rows == ["3", "2", "1"]  # newest first


def test_the_audit_page_pages_with_before(client: TestClient, people: People, runtime: Runtime) -> None:
    for i in range(60):
        audit.record(runtime.engine, actor="system", action="read.transcript", target=f"t-{i}")
    sign_in(client, "admin.di")
    first = client.get("/portal/audit")
    seqs = [int(s) for s in re.findall(r'<th scope="row">(\d+)</th>', first.text)]
    assert seqs == list(range(61, 11, -1))
    assert 'href="/portal/audit?before=12"' in first.text
    older = client.get("/portal/audit?before=12")
    assert [int(s) for s in re.findall(r'<th scope="row">(\d+)</th>', older.text)] == list(range(11, 0, -1))
    assert "?before=" not in older.text.split('aria-label="Audit log pages"')[1]
    for bad in ("abc", "-1", "1e9", "<script>"):
        response = client.get(f"/portal/audit?before={bad}")
        assert response.status_code == 400 and "<script>" not in response.text.split("<main")[1]


def test_the_audit_page_reports_tampering_by_sequence_number(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    entry = audit.record(runtime.engine, actor=people.reviewer, action="read.transcript", patient_id=people.patient)
    with runtime.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER auditentry_no_update"))
        conn.execute(text("DROP TRIGGER auditentry_no_delete"))
        conn.execute(text("UPDATE auditentry SET action = 'read.nothing' WHERE seq = :seq"), {"seq": entry.seq})
        for statement in SQLITE_TRIGGERS:
            conn.execute(text(statement))
    with Session(runtime.engine) as db:
        stored = db.get(AuditEntry, entry.seq)
        assert stored is not None and stored.action == "read.nothing"
    sign_in(client, "admin.di")
    page = client.get("/portal/audit")
    assert page.status_code == 200
    assert "Problems found" in page.text and "Intact" not in page.text
    assert f"entry {entry.seq}: hash does not match its content (altered)" in page.text
