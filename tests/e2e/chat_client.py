"""A small Chainlit socket.io client for end-to-end tests (sign in, connect, send, receive).

It speaks the protocol described in `shared/reference/chainlit-notes.md`: `POST /chat/login`
for the `access_token` cookie, socket.io at `/chat/ws/socket.io` with that cookie and an
`auth` payload, `connection_successful` to start the chat, `client_message` to send, and
`new_message` events for replies. Button presses go through `POST /chat/project/action`.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import socketio

__all__ = ["ChatClient", "content_id", "dumps", "kind", "login"]

SOCKETIO_PATH = "/chat/ws/socket.io"


def login(base_url: str, username: str, password: str) -> httpx.Response:
    """Sign in with a form post; the response carries the `access_token` cookie on success."""
    return httpx.post(
        f"{base_url}/chat/login",
        data={"username": username, "password": password},
        headers={"Origin": base_url},
        timeout=30,
    )


class ChatClient:
    """One signed-in chat session over socket.io."""

    def __init__(self, base_url: str, username: str, token: str, *, origin: str | None = None):
        self.base_url = base_url
        self.username = username
        self.token = token
        self.origin = base_url if origin is None else origin
        self.session_id = str(uuid.uuid4())
        self.sio = socketio.AsyncClient(reconnection=False)
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.actions: dict[str, list[dict[str, Any]]] = {}
        self.sio.on("new_message", self._on_message)
        self.sio.on("action", self._on_action)

    async def _on_message(self, data: dict[str, Any]) -> None:
        if data.get("type") == "assistant_message":
            await self.messages.put(data)

    async def _on_action(self, data: dict[str, Any]) -> None:
        self.actions.setdefault(data.get("forId", ""), []).append(data)

    def _headers(self) -> dict[str, str]:
        headers = {"Cookie": f"access_token={self.token}"}
        if self.origin:
            headers["Origin"] = self.origin
        return headers

    async def connect(self, *, transports: list[str] | None = None) -> None:
        """Open the socket and ask Chainlit to start the chat (`on_chat_start`)."""
        await self.sio.connect(
            self.base_url,
            socketio_path=SOCKETIO_PATH,
            headers=self._headers(),
            auth={
                "clientType": "webapp",
                "sessionId": self.session_id,
                "threadId": "",
                "userEnv": "{}",
                "chatProfile": "",
            },
            transports=transports or ["websocket"],
            wait_timeout=10,
        )
        await self.sio.emit("connection_successful")

    async def send(self, text: str) -> None:
        """Send `text` as a typed patient message."""
        await self.sio.emit(
            "client_message",
            {
                "message": {
                    "id": str(uuid.uuid4()),
                    "threadId": "",
                    "name": self.username,
                    "type": "user_message",
                    "output": text,
                    "createdAt": datetime.now(UTC).isoformat(),
                },
                "fileReferences": [],
            },
        )

    async def receive(self, *, timeout: float = 20) -> dict[str, Any]:
        """Wait for the next assistant message."""
        return await asyncio.wait_for(self.messages.get(), timeout)

    async def receive_until(self, predicate: Any, *, timeout: float = 20) -> list[dict[str, Any]]:
        """Collect assistant messages until one satisfies `predicate`; return all collected."""
        seen: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.receive(timeout=max(0.1, deadline - loop.time()))
            seen.append(message)
            if predicate(message):
                return seen

    async def drain(self, *, quiet: float = 0.5) -> list[dict[str, Any]]:
        """Collect assistant messages until none arrives for `quiet` seconds."""
        seen: list[dict[str, Any]] = []
        while True:
            try:
                seen.append(await self.receive(timeout=quiet))
            except TimeoutError:
                return seen

    async def buttons(self, message: dict[str, Any], *, timeout: float = 5) -> dict[str, dict[str, Any]]:
        """Return the buttons sent with `message`, by label (they follow the message)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.actions.get(message["id"]) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return {a["label"]: a for a in self.actions.get(message["id"], [])}

    def actions_for(self, message: dict[str, Any]) -> set[str]:
        """Labels of the buttons received so far for `message`."""
        return {a["label"] for a in self.actions.get(message["id"], [])}

    async def press(self, action: dict[str, Any]) -> httpx.Response:
        """Press a button the way the browser does (HTTP, same session)."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as http:
            return await http.post(
                "/chat/project/action",
                json={"sessionId": self.session_id, "action": action},
                headers={**self._headers(), "Content-Type": "application/json"},
            )

    async def turn(self, text: str, *, timeout: float = 60, quiet: float = 1.0) -> list[dict[str, Any]]:
        """Send `text` and return every reply of that turn."""
        await self.send(text)
        return await self.replies(timeout=timeout, quiet=quiet)

    async def replies(self, *, timeout: float = 60, quiet: float = 1.0) -> list[dict[str, Any]]:
        """Wait for the first reply (up to `timeout`), then collect until `quiet` seconds pass."""
        first = await self.receive(timeout=timeout)
        return [first, *await self.drain(quiet=quiet)]

    async def press_label(self, messages: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
        """Press the button `label` on the latest of `messages` that has it; return the replies."""
        for message in reversed(messages):
            found = (await self.buttons(message, timeout=1)).get(label)
            if found is not None:
                response = await self.press(found)
                assert response.status_code == 200, response.text
                return await self.replies()
        labels = [list((await self.buttons(m, timeout=0)).keys()) for m in messages]
        raise AssertionError(f"no button {label!r} in the last replies; buttons: {labels}")

    async def close(self) -> None:
        """End the session cleanly (`clear_session`, then disconnect), also after a refusal."""
        if self.sio.connected:
            await self.sio.emit("clear_session")
            await self.sio.disconnect()
        http = getattr(self.sio.eio, "http", None)
        if http is not None and not http.closed:
            await http.close()


def kind(message: dict[str, Any]) -> str:
    """The `Reply.kind` the chat handlers put in the message metadata."""
    return str((message.get("metadata") or {}).get("kind", ""))


def content_id(message: dict[str, Any]) -> str:
    """The content id (e.g. `thought-record@1.0.0#situation`) from the message metadata."""
    return str((message.get("metadata") or {}).get("content_id", ""))


def dumps(messages: list[dict[str, Any]]) -> str:
    """Render messages for an assertion message (kind, content id, start of the text)."""
    return json.dumps([(kind(m), content_id(m), str(m.get("output"))[:160]) for m in messages], indent=1)
