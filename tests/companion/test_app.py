"""Tests for companion.app.create_app, in process, with a stand-in chat service.

Chainlit keeps its state in module globals, so one app is built for this whole module and
`create_app` refuses a second mount. The stand-in service only answers sign-in; the real
service is exercised by the end-to-end tests (tests/e2e), which run the real server.
"""

from __future__ import annotations

import os
import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from companion.settings import ForbiddenEnvironmentError, Settings
from companion.web.csp import inline_script_hashes

ORIGIN = "http://127.0.0.1:8000"
CHAINLIT_VARIABLES = ("CHAINLIT_APP_ROOT", "CHAINLIT_AUTH_SECRET", "CHAINLIT_ROOT_PATH")


class _User(BaseModel):
    id: str
    username: str
    role: str


class _SignInOnlyService:
    def authenticate(self, username: str, password: str) -> _User | None:
        if (username, password) == ("pat", "correct horse"):
            return _User(id="u-1", username="pat", role="patient")
        return None


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    from companion.app import create_app

    service = types.ModuleType("companion.service")
    service.get_service = _SignInOnlyService  # type: ignore[attr-defined]
    saved = {name: os.environ.get(name) for name in CHAINLIT_VARIABLES}
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), session_timeout_minutes=30)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "companion.service", service)
        yield create_app(settings, health_check=lambda: True)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url=ORIGIN, follow_redirects=False)


def _sign_in(client: TestClient) -> None:
    response = client.post(
        "/chat/login", data={"username": "pat", "password": "correct horse"}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 200
    assert response.cookies["access_token"]


def test_refuses_to_start_when_chainlit_storage_variables_are_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from companion.app import create_app

    monkeypatch.setenv("DATABASE_URL", "postgresql://somewhere/db")
    with pytest.raises(ForbiddenEnvironmentError, match="DATABASE_URL"):
        create_app(Settings(data_dir=tmp_path))


def test_root_redirects_to_the_chat(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/chat/"


def test_healthz_reports_ok_and_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "content-security-policy" in response.headers


def test_healthz_is_503_when_the_database_does_not_answer(app: FastAPI, client: TestClient) -> None:
    def broken() -> bool:
        raise OSError("disk gone")

    healthy = app.state.health_check
    app.state.health_check = broken
    try:
        response = client.get("/healthz")
    finally:
        app.state.health_check = healthy
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}


def test_default_health_check_queries_the_configured_database(tmp_path: Path) -> None:
    from companion.app import _database_check

    assert _database_check(Settings(data_dir=tmp_path))() is True


def test_chat_page_is_first_party_and_its_scripts_are_hashed(client: TestClient) -> None:
    response = client.get("/chat/")
    assert response.status_code == 200
    page = response.text
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", page)
    assert "katex" not in page.lower() and "googleapis" not in page
    csp = response.headers["content-security-policy"]
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src "))
    hashes = inline_script_hashes(page)
    assert len(hashes) == 2  # the `global` shim and the theme variables
    assert script_src == "script-src 'self' " + " ".join(hashes)
    assert response.headers["cache-control"] == "no-store"
    assert 'href="/chat/public/companion.css"' in page


def test_socket_polling_from_another_origin_is_refused(client: TestClient) -> None:
    path = "/chat/ws/socket.io/?EIO=4&transport=polling"
    assert client.get(path, headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.get(path, headers={"Origin": ORIGIN}).status_code == 200


def test_login_from_another_origin_is_refused(client: TestClient) -> None:
    response = client.post(
        "/chat/login",
        data={"username": "pat", "password": "correct horse"},
        headers={"Origin": "http://evil.example"},
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_bad_password_gets_401(client: TestClient) -> None:
    response = client.post(
        "/chat/login", data={"username": "pat", "password": "wrong"}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 401


def test_sign_in_cookie_is_http_only_and_lives_as_long_as_the_setting(client: TestClient) -> None:
    response = client.post(
        "/chat/login", data={"username": "pat", "password": "correct horse"}, headers={"Origin": ORIGIN}
    )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "Max-Age=1800" in cookie  # session_timeout_minutes=30


def test_chainlit_features_that_store_or_upload_are_off(client: TestClient) -> None:
    _sign_in(client)  # the client keeps the access_token cookie
    settings = client.get("/chat/project/settings").json()
    features = settings["features"]
    assert features["spontaneous_file_upload"]["enabled"] is False
    assert features["audio"]["enabled"] is False
    assert features["mcp"]["enabled"] is False
    assert features["unsafe_allow_html"] is False
    assert features["latex"] is False
    assert settings["dataPersistence"] is False
    assert settings["ui"]["name"] == "Companion"
    links = settings["ui"]["header_links"]
    assert [(link["display_name"], link["url"]) for link in links] == [("Get help now", "/help")]
    assert "not a therapist" in settings["markdown"]


def test_sign_in_field_is_labelled_username(client: TestClient) -> None:
    translation = client.get("/chat/project/translations?language=en-US").json()["translation"]
    assert translation["auth"]["login"]["form"]["email"]["label"] == "Username"


def test_a_second_app_in_the_same_process_is_refused(app: FastAPI, tmp_path: Path) -> None:
    from companion.app import create_app

    with pytest.raises(RuntimeError, match="already mounted"):
        create_app(Settings(data_dir=tmp_path))
