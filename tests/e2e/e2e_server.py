"""The real server for end-to-end tests: start `companion serve`, add patients, read its log.

Kept out of conftest.py so test modules can import the types (`from tests.e2e.e2e_server import ...`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

__all__ = ["COMPANION", "Account", "Patient", "RunningServer", "chat_as", "join", "new_invitation", "portal_sign_in",
           "start_server", "stop_server"]

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPANION = Path(sys.executable).with_name("companion")
START_TIMEOUT = 90.0


@dataclass(frozen=True)
class Patient:
    username: str
    password: str


@dataclass(frozen=True)
class Account:
    """An account made with `companion users add`: a patient, therapist, reviewer or admin."""

    username: str
    password: str
    role: str


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    data_dir: Path
    log_path: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def add_patient(self, prefix: str = "patient") -> Patient:
        """Create a patient account with the real CLI and return its credentials."""
        patient = Patient(f"{prefix}-{secrets.token_hex(3)}", secrets.token_urlsafe(16))
        result = subprocess.run(
            [str(COMPANION), "users", "add", "--role", "patient", "--username", patient.username,
             "--password-stdin"],
            input=(patient.password + "\n").encode(), env=self.env, cwd=self.data_dir.parent,
            capture_output=True, timeout=60, check=False,
        )
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        return patient

    def add_account(self, role: str, prefix: str | None = None) -> Account:
        """Create an account of `role` (patient, therapist, reviewer, admin) with the real CLI."""
        account = Account(f"{prefix or role}-{secrets.token_hex(3)}", secrets.token_urlsafe(16), role)
        result = subprocess.run(
            [str(COMPANION), "users", "add", "--role", role, "--username", account.username, "--password-stdin"],
            input=(account.password + "\n").encode(), env=self.env, cwd=self.data_dir.parent,
            capture_output=True, timeout=60, check=False,
        )
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        return account

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPANION_", "CHAINLIT_"))}
    env.update(
        COMPANION_DATA_DIR=str(data_dir),
        COMPANION_LOCALE="en-US",
        COMPANION_ENVIRONMENT="development",
        PYTHONUNBUFFERED="1",
    )
    return env


def wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"companion serve exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"companion serve did not become healthy in {START_TIMEOUT}s:\n{log_path.read_text()[-4000:]}")


def start_server(root: Path) -> RunningServer:
    """Start `companion serve` on a free port with data in `root/data` and output in `root/server.log`."""
    if not COMPANION.exists():
        pytest.fail(f"{COMPANION} is missing: run `make install` first")
    data_dir = root / "data"
    log_path = root / "server.log"
    env = server_env(data_dir)
    port = free_port()
    with log_path.open("wb") as log:
        # cwd is the temp dir: nothing may be written to the directory the server starts in.
        process = subprocess.Popen(
            [str(COMPANION), "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
        )
    running = RunningServer(f"http://127.0.0.1:{port}", data_dir, log_path, env, process)
    try:
        wait_until_healthy(running.base_url, process, log_path)
    except BaseException:
        stop_server(running)
        raise
    return running


def stop_server(running: RunningServer) -> None:
    """Stop the server: SIGTERM, then SIGKILL after 15 s."""
    running.process.terminate()
    try:
        running.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        running.process.kill()
        running.process.wait(timeout=15)


def chat_as(server: RunningServer, username: str, password: str, messages: list[str]) -> list[list[dict[str, Any]]]:
    """Sign a patient in to the chat, agree to the consent, send `messages` over the real socket.

    Returns the replies to each message. Runs in its own thread (with its own event loop), so
    it can be called while a synchronous Playwright session is open.
    """
    from tests.e2e.chat_client import ChatClient, dumps, kind, login

    async def conversation() -> list[list[dict[str, Any]]]:
        response = login(server.base_url, username, password)
        assert response.status_code == 200, response.text
        chat = ChatClient(server.base_url, username, response.cookies["access_token"])
        try:
            await chat.connect()
            opening = await chat.replies()
            assert any(kind(m) == "consent" for m in opening), dumps(opening)
            await chat.press_label(opening, "I agree")
            return [await chat.turn(text) for text in messages]
        finally:
            await chat.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, conversation()).result(timeout=180)


# portal pages in a Playwright (sync) page ------------------------------------------------------

def portal_sign_in(page: Any, base_url: str, account: Account) -> Any:
    """Sign in through the portal's form; return the response of the page it lands on."""
    page.goto(f"{base_url}/portal/login")
    page.fill("#username", account.username)
    page.fill("#password", account.password)
    with page.expect_navigation() as landed:
        page.get_by_role("button", name="Sign in").click()
    return landed.value


def new_invitation(page: Any, base_url: str, reference: str) -> str:
    """As a signed-in therapist, create an invitation; return its link (shown once)."""
    page.goto(f"{base_url}/portal/invites")
    page.fill("#reference", reference)
    page.get_by_role("button", name="Create invitation link").click()
    link = str(page.locator("#invite-link").input_value())
    assert "/portal/join/" in link, link
    return link


def join(page: Any, link: str, username: str, password: str) -> None:
    """As a patient, open an invitation link and create the account."""
    page.goto(link)
    page.fill("#username", username)
    page.fill("#password", password)
    page.fill("#password_again", password)
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("heading", name="Your account is ready").wait_for()
