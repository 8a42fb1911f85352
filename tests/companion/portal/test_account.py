"""The staff account page: changing the password, switching two-step sign-in on and off."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pyotp
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from companion.models import User
from companion.portal import totp
from companion.portal.sessions import count_sessions
from companion.runtime import Runtime
from tests.companion.portal.conftest import BASE_URL, PASSWORD, People, csrf_from, sign_in

NEW_PASSWORD = "a much newer password"
_SECRET = re.compile(r'name="secret" value="([A-Z2-7]+)"')


def post_account(client: TestClient, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    page = client.get("/portal/account")
    assert page.status_code == 200, page.text
    return client.post(path, data={**data, "csrf_token": csrf_from(page.text)})


def totp_blob(runtime: Runtime, user_id: str) -> bytes | None:
    with Session(runtime.engine) as db:
        user = db.get(User, user_id)
        assert user is not None
        return user.totp_secret


def test_the_page_labels_every_field_and_offers_a_qr_code_and_a_key(client: TestClient, people: People) -> None:
    sign_in(client, "dr.ada")
    page = client.get("/portal/account")
    assert page.status_code == 200
    html = page.text
    assert html.count("<h1") == 1
    for field, autocomplete in (("current_password", "current-password"), ("new_password", "new-password"),
                                ("repeat_password", "new-password"), ("enable_code", "one-time-code")):
        assert f'<label for="{field}">' in html
        assert re.search(rf'id="{field}"[^>]*autocomplete="{autocomplete}"', html), field
    assert "At least 10 characters" in html
    assert 'src="data:image/svg+xml' in html and 'alt="QR code that adds Companion' in html
    secret = _SECRET.search(html)
    assert secret is not None and " ".join(re.findall(".{1,4}", secret[1])) in html  # the key as text too


def test_changing_the_password_ends_other_sessions_and_the_old_password_stops_working(
    app: FastAPI, client: TestClient, people: People, runtime: Runtime,
) -> None:
    sign_in(client, "dr.ada")
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as laptop:
        sign_in(laptop, "dr.ada")
        assert count_sessions(runtime.engine, people.therapist) == 2
        response = post_account(client, "/portal/account/password", {
            "current_password": PASSWORD, "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD,
        })
        assert response.status_code == 303
        assert response.headers["location"] == "/portal/account?notice=password_changed"
        assert "Your password has been changed" in client.get(response.headers["location"]).text
        assert count_sessions(runtime.engine, people.therapist) == 1
        assert laptop.get("/portal/patients").headers["location"].startswith("/portal/login")
    client.cookies.clear()
    page = client.get("/portal/login")
    old = client.post("/portal/login", data={"username": "dr.ada", "password": PASSWORD,
                                             "csrf_token": csrf_from(page.text)})
    assert old.status_code == 401
    sign_in(client, "dr.ada", NEW_PASSWORD)


def test_bad_password_forms_are_refused_and_change_nothing(client: TestClient, people: People) -> None:
    sign_in(client, "dr.ada")
    cases = [
        ({"current_password": "", "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD}, "Enter your current"),
        ({"current_password": "wrong-password", "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
         "current password was not right"),
        ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD + "!"},
         "are not the same"),
        ({"current_password": PASSWORD, "new_password": "short", "repeat_password": "short"}, "at least 10 characters"),
        ({"current_password": PASSWORD, "new_password": "x" * 5000, "repeat_password": "x" * 5000}, "at most"),
        ({"current_password": PASSWORD, "new_password": "tab\there-password", "repeat_password": "tab\there-password"},
         "control characters"),
        ({"current_password": PASSWORD, "new_password": PASSWORD, "repeat_password": PASSWORD}, "same as the current"),
    ]
    for data, message in cases:
        response = post_account(client, "/portal/account/password", data)
        assert response.status_code == 400, message
        assert message in response.text
    script = "<script>alert(1)</script>xx"
    response = post_account(client, "/portal/account/password", {
        "current_password": PASSWORD, "new_password": script, "repeat_password": script + "y"})
    assert response.status_code == 400 and "<script>alert" not in response.text
    client.cookies.clear()
    sign_in(client, "dr.ada", PASSWORD)  # still the old password


def test_wrong_current_passwords_count_toward_the_sign_in_limit(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    sign_in(client, "dr.ada")
    wrong = {"current_password": "not-my-password", "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD}
    for _ in range(runtime.settings.login_max_failures):
        assert post_account(client, "/portal/account/password", wrong).status_code == 400
    right = {**wrong, "current_password": PASSWORD}
    paused = post_account(client, "/portal/account/password", right)
    assert paused.status_code == 429 and int(paused.headers["retry-after"]) > 0
    assert "paused" in paused.text
    client.cookies.clear()
    page = client.get("/portal/login")
    signin = client.post("/portal/login", data={"username": "dr.ada", "password": PASSWORD,
                                                "csrf_token": csrf_from(page.text)})
    assert signin.status_code == 429  # the same count as the sign-in form


def test_second_factor_switches_on_only_with_a_right_code(
    app: FastAPI, client: TestClient, people: People, runtime: Runtime,
) -> None:
    sign_in(client, "rev.cy")
    page = client.get("/portal/account")
    match = _SECRET.search(page.text)
    assert match is not None
    secret = match[1]
    wrong_code = f"{(int(pyotp.TOTP(secret).now()) + 500_000) % 1_000_000:06d}"
    for code, message in ((wrong_code, "did not match"), ("", "6-digit code"), ("12ab56", "6-digit code")):
        refused = client.post("/portal/account/second-factor",
                              data={"secret": secret, "code": code, "csrf_token": csrf_from(page.text)})
        assert refused.status_code == 400 and message in refused.text
        assert f'value="{secret}"' in refused.text  # the same key, so the scanned app still fits
    forged = client.post("/portal/account/second-factor", data={
        "secret": '"><script>x</script>', "code": "123456", "csrf_token": csrf_from(page.text)})
    assert forged.status_code == 400 and "<script>x" not in forged.text
    assert totp_blob(runtime, people.reviewer) is None

    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as other:
        sign_in(other, "rev.cy")
        ok = client.post("/portal/account/second-factor", data={
            "secret": secret, "code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(page.text)})
        assert ok.status_code == 303 and ok.headers["location"] == "/portal/account?notice=second_factor_on"
        assert other.get("/portal/escalations").headers["location"].startswith("/portal/login")
    blob = totp_blob(runtime, people.reviewer)
    assert blob is not None and secret.encode() not in blob  # stored encrypted
    assert totp.verify(runtime.engine, runtime.crypto, user_id=people.reviewer, code=pyotp.TOTP(secret).now())
    assert "Two-step sign-in is on" in client.get("/portal/account?notice=second_factor_on").text
    client.cookies.clear()
    login = client.get("/portal/login")
    first = client.post("/portal/login", data={"username": "rev.cy", "password": PASSWORD,
                                               "csrf_token": csrf_from(login.text)})
    assert first.headers["location"].startswith("/portal/login/second-factor")


def test_switching_the_second_factor_off_needs_a_current_code(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    secret = totp.new_secret()
    totp.enable(runtime.engine, runtime.crypto, user_id=people.admin, secret=secret)
    page = client.get("/portal/login")
    client.post("/portal/login", data={"username": "admin.di", "password": PASSWORD,
                                       "csrf_token": csrf_from(page.text)})
    code_page = client.get("/portal/login/second-factor")
    done = client.post("/portal/login/second-factor", data={"code": pyotp.TOTP(secret).now(),
                                                            "csrf_token": csrf_from(code_page.text)})
    assert done.status_code == 303
    account = client.get("/portal/account")
    assert 'action="/portal/account/second-factor/disable"' in account.text and 'name="secret"' not in account.text
    wrong_code = f"{(int(pyotp.TOTP(secret).now()) + 500_000) % 1_000_000:06d}"
    for code in ("", wrong_code):
        refused = post_account(client, "/portal/account/second-factor/disable", {"code": code})
        assert refused.status_code == 400 and "still on" in refused.text
    assert totp_blob(runtime, people.admin) is not None
    # The sign-in just used the current code, which is accepted once only: the next one (allowed
    # for clock drift) switches the factor off.
    next_code = pyotp.TOTP(secret).at(datetime.now(UTC), counter_offset=1)
    ok = post_account(client, "/portal/account/second-factor/disable", {"code": next_code})
    assert ok.status_code == 303 and ok.headers["location"] == "/portal/account?notice=second_factor_off"
    assert totp_blob(runtime, people.admin) is None
    assert 'name="secret"' in client.get("/portal/account").text  # set-up offered again


def test_a_therapist_sets_and_clears_the_alert_address_which_is_stored_encrypted(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    sign_in(client, "dr.ada")
    url = "json://127.0.0.1:9/alerts?token=s3cret-token"
    assert "Alerts to you are <strong>off</strong>" in client.get("/portal/account").text
    saved = post_account(client, "/portal/account/notifications", {"url": url})
    assert saved.status_code == 303 and saved.headers["location"].endswith("notice=notifications_on")
    with Session(runtime.engine) as db:
        stored = db.get(User, people.therapist)
        assert stored is not None and stored.notify_url is not None
        assert "s3cret-token" not in stored.notify_url and "127.0.0.1" not in stored.notify_url
    assert runtime.store.therapist_notify_urls(people.patient) == [url]
    page = client.get("/portal/account").text
    assert "Alerts to you are <strong>on</strong>" in page and "s3cret-token" not in page
    for bad in ("", "not a url", "json://" + "x" * 2000, "json://host/\x00"):
        refused = post_account(client, "/portal/account/notifications", {"url": bad})
        assert refused.status_code == 400 and "Nothing was changed" in refused.text
    assert runtime.store.therapist_notify_urls(people.patient) == [url]
    cleared = post_account(client, "/portal/account/notifications", {"clear": "1"})
    assert cleared.headers["location"].endswith("notice=notifications_off")
    assert runtime.store.therapist_notify_urls(people.patient) == []


def test_only_therapists_have_an_alert_address(client: TestClient, people: People) -> None:
    sign_in(client, "rev.cy")
    assert "Risk alerts about your patients" not in client.get("/portal/account").text
    assert post_account(client, "/portal/account/notifications", {"url": "json://127.0.0.1:9/x"}).status_code == 403
