"""Sign-in, sign-out, the second factor, rate limiting and the session cookie."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pyotp
from fastapi.testclient import TestClient

from companion.portal import totp
from companion.runtime import Runtime
from tests.companion.portal.conftest import PASSWORD, People, csrf_from, sign_in


def test_sign_in_sets_a_secure_httponly_strict_cookie_and_sends_staff_home(client: TestClient, people: People) -> None:
    page = client.get("/portal/login")
    assert page.status_code == 200
    response = client.post("/portal/login", data={
        "username": "rev.cy", "password": PASSWORD, "csrf_token": csrf_from(page.text),
    })
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/escalations"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("companion_portal="))
    parts = {p.strip().lower() for p in cookie.split(";")}
    assert {"secure", "httponly", "samesite=strict", "path=/portal"} <= parts


def test_wrong_password_is_refused_with_one_message_for_both_cases(client: TestClient, people: People) -> None:
    page = client.get("/portal/login")
    wrong = client.post("/portal/login", data={"username": "rev.cy", "password": "nope-nope-nope",
                                               "csrf_token": csrf_from(page.text)})
    unknown = client.post("/portal/login", data={"username": "nobody", "password": "nope-nope-nope",
                                                 "csrf_token": csrf_from(page.text)})
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match an active account" in wrong.text and "do not match an active account" in unknown.text
    assert "companion_portal" not in client.cookies


def test_login_form_without_its_csrf_token_is_refused(client: TestClient, people: People) -> None:
    client.get("/portal/login")
    response = client.post("/portal/login", data={"username": "rev.cy", "password": PASSWORD})
    assert response.status_code == 403
    assert "companion_portal" not in client.cookies


def test_patients_are_sent_to_their_chat(client: TestClient, people: People) -> None:
    page = client.get("/portal/login")
    response = client.post("/portal/login", data={"username": "pat.one", "password": PASSWORD,
                                                   "csrf_token": csrf_from(page.text)})
    assert response.status_code == 403
    assert "/chat/" in response.text
    assert "companion_portal" not in client.cookies


def test_sign_out_ends_the_session_on_the_server(client: TestClient, people: People) -> None:
    sign_in(client, "rev.cy")
    token = client.cookies["companion_portal"]
    client.cookies.clear()
    with_old_token = {"Cookie": f"companion_portal={token}"}
    assert client.get("/portal/", headers=with_old_token).headers["location"] == "/portal/escalations"
    page = client.get("/portal/login", headers=with_old_token)
    out = client.post("/portal/logout", data={"csrf_token": csrf_from(page.text)}, headers=with_old_token)
    assert out.status_code == 303
    # The same token, replayed after sign-out, no longer opens anything.
    assert client.get("/portal/", headers=with_old_token).headers["location"] == "/portal/login"


def test_repeated_failures_pause_sign_in_even_with_the_right_password(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    page = client.get("/portal/login")
    token = csrf_from(page.text)
    for _ in range(runtime.settings.login_max_failures):
        client.post("/portal/login", data={"username": "dr.ada", "password": "wrong-password", "csrf_token": token})
    paused = client.post("/portal/login", data={"username": "dr.ada", "password": PASSWORD, "csrf_token": token})
    assert paused.status_code == 429
    assert int(paused.headers["retry-after"]) > 0
    assert "companion_portal" not in client.cookies


def test_second_factor_is_required_when_switched_on(client: TestClient, people: People, runtime: Runtime) -> None:
    secret = totp.new_secret()
    totp.enable(runtime.engine, runtime.crypto, user_id=people.reviewer, secret=secret)
    page = client.get("/portal/login")
    first = client.post("/portal/login", data={"username": "rev.cy", "password": PASSWORD,
                                               "csrf_token": csrf_from(page.text)})
    assert first.headers["location"].startswith("/portal/login/second-factor")
    # The password alone opens nothing else.
    assert client.get("/portal/").headers["location"] == "/portal/login"
    code_page = client.get("/portal/login/second-factor")
    wrong = client.post("/portal/login/second-factor", data={"code": "000000", "csrf_token": csrf_from(code_page.text)})
    assert wrong.status_code == 401
    code = pyotp.TOTP(secret).now()
    ok = client.post("/portal/login/second-factor", data={"code": code, "csrf_token": csrf_from(code_page.text)})
    assert ok.status_code == 303 and ok.headers["location"] == "/portal/escalations"
    assert client.get("/portal/").headers["location"] == "/portal/escalations"


def test_next_only_goes_to_portal_pages(client: TestClient, people: People) -> None:
    for target, expected in (("/portal/escalations", "/portal/escalations"),
                             ("https://evil.example/", "/portal/escalations"),
                             ("//evil.example/portal/", "/portal/escalations")):
        client.cookies.clear()
        page = client.get("/portal/login")
        response = client.post("/portal/login", data={"username": "rev.cy", "password": PASSWORD,
                                                       "next": target, "csrf_token": csrf_from(page.text)})
        assert response.headers["location"] == expected


def test_a_second_factor_code_is_accepted_only_once(runtime: Runtime, people: People) -> None:
    secret = totp.new_secret()
    totp.enable(runtime.engine, runtime.crypto, user_id=people.reviewer, secret=secret)
    code = pyotp.TOTP(secret).now()
    assert totp.verify(runtime.engine, runtime.crypto, user_id=people.reviewer, code=code)
    assert not totp.verify(runtime.engine, runtime.crypto, user_id=people.reviewer, code=code), "replayed"
    earlier = pyotp.TOTP(secret).at(datetime.now(UTC), counter_offset=-1)
    assert not totp.verify(runtime.engine, runtime.crypto, user_id=people.reviewer, code=earlier), "older step"


def test_concurrent_uses_of_one_code_let_exactly_one_through(runtime: Runtime, people: People) -> None:
    secret = totp.new_secret()
    totp.enable(runtime.engine, runtime.crypto, user_id=people.admin, secret=secret)
    code = pyotp.TOTP(secret).now()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(
            lambda _: totp.verify(runtime.engine, runtime.crypto, user_id=people.admin, code=code), range(4)))
    assert results.count(True) == 1


def test_matching_step_accepts_neighbouring_steps_for_clock_drift() -> None:
    secret = totp.new_secret()
    now = datetime.now(UTC)
    generator = pyotp.TOTP(secret)
    step = generator.timecode(now)
    for offset in (-1, 0, 1):
        assert totp.matching_step(secret, generator.at(now, counter_offset=offset), at=now) == step + offset
    assert totp.matching_step(secret, generator.at(now, counter_offset=3), at=now) is None
    assert totp.matching_step(secret, "12345", at=now) is None


def test_an_unknown_portal_address_gets_a_page_not_json(client: TestClient, people: People) -> None:
    for path in ("/portal/nope", "/portal/static/nope.css"):
        response = client.get(path)
        assert response.status_code == 404 and "text/html" in response.headers["content-type"]
        assert "There is no page at this address" in response.text
    assert client.post("/portal/patients", data={}).status_code == 405
