"""A real OpenAI-compatible HTTP server for tests, on 127.0.0.1 in a background thread.

Not a mock of the client: `ChatOpenAI` talks HTTP to it exactly as it would to Ollama or vLLM.
It answers `POST /v1/chat/completions` (structured output by `response_format` json_schema or
json_object, or by a forced tool call) and `GET /v1/models`, and behaves as told:

    with OpenAIStub() as stub:               # or the `openai_stub` fixture
        stub.behaviour = Behaviour.ERROR     # every request from now on gets HTTP 500
        stub.queue(Behaviour.ERROR, Behaviour.OK)  # or: the next requests, in order
        stub.reply_text = "Warmer wording?"  # what `ok` answers
        ...
        assert stub.request_count == 2
        assert "sarah@example.com" not in stub.sent_text()
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["UNSAFE_TEXT", "Behaviour", "OpenAIStub"]

#: What `unsafe` answers: a diagnosis and medication advice, which the output guard must block.
UNSAFE_TEXT = (
    "It sounds like you have clinical depression. You should ask your doctor to double your "
    "sertraline dose, and what went through your mind just before?"
)


class Behaviour(StrEnum):
    OK = "ok"  # a valid structured answer holding `reply_text`
    SLOW = "slow"  # wait `slow_seconds` (longer than the client timeout), then answer ok
    ERROR = "error"  # HTTP 500
    UNSAFE = "unsafe"  # a valid structured answer holding `unsafe_text`
    GARBAGE = "garbage"  # HTTP 200, but the content is not JSON
    WRONG_SCHEMA = "wrong_schema"  # HTTP 200, valid JSON, but not the requested schema


class OpenAIStub:
    """An OpenAI-compatible chat-completions server with switchable behaviour."""

    def __init__(
        self, *, model: str = "stub-model", reply_text: str = "How are you feeling now?"
    ) -> None:
        """Create the server (not yet listening); `start()` or `with` starts it."""
        self.model = model
        self.behaviour = Behaviour.OK
        self.reply_text = reply_text
        self.reply_json: str | None = None  # when set, `ok` answers this JSON document instead
        self.unsafe_text = UNSAFE_TEXT
        self.slow_seconds = 5.0
        self.bodies: list[dict[str, Any]] = []  # every chat-completions request body, in order
        self._queued: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="openai-stub",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        """The URL to give the client as `base_url`, ending in `/v1`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def request_count(self) -> int:
        """How many chat-completions requests arrived."""
        with self._lock:
            return len(self.bodies)

    def queue(self, *behaviours: Behaviour) -> None:
        """Use these behaviours for the next requests, in order, then `behaviour` again."""
        with self._lock:
            self._queued.extend(behaviours)

    def sent_text(self) -> str:
        """Return every message content the server received, joined: for checking masking."""
        with self._lock:
            bodies = list(self.bodies)
        parts = [
            message.get("content")
            if isinstance(message.get("content"), str)
            else json.dumps(message.get("content"))
            for body in bodies
            for message in body.get("messages", [])
        ]
        return "\n".join(str(part) for part in parts)

    def start(self) -> OpenAIStub:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, waking any request still waiting in `slow`."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # Called from the server's threads.
    def _record(self, body: dict[str, Any]) -> Behaviour:
        with self._lock:
            self.bodies.append(body)
            return self._queued.popleft() if self._queued else self.behaviour

    def _answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any] | str]:
        behaviour = self._record(body)
        if behaviour is Behaviour.SLOW:
            self._stopping.wait(self.slow_seconds)
        if behaviour is Behaviour.ERROR:
            return 500, {
                "error": {"message": "stub server error", "type": "server_error", "code": None}
            }
        content = {
            Behaviour.UNSAFE: json.dumps({"text": self.unsafe_text}),
            Behaviour.GARBAGE: "Sure! Here is a warmer version: {text: oops",
            Behaviour.WRONG_SCHEMA: json.dumps({"answer": 42}),
        }.get(behaviour, self.reply_json or json.dumps({"text": self.reply_text}))
        return 200, _completion(body, content, self.model)


def _completion(body: dict[str, Any], content: str, model: str) -> dict[str, Any]:
    """Build a chat.completion answer; a forced tool call gets the content as its arguments."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    finish = "stop"
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("function"):
        name = choice["function"]["name"]
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": "call_stub",
                "type": "function",
                "function": {"name": name, "arguments": content},
            }
        ]
        finish = "tool_calls"
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _handler_for(stub: OpenAIStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.rstrip("/") != "/v1/models":
                return self._send(404, {"error": {"message": f"no route {self.path}"}})
            self._send(
                200,
                {
                    "object": "list",
                    "data": [{"id": stub.model, "object": "model", "owned_by": "stub"}],
                },
            )

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._send(404, {"error": {"message": f"no route {self.path}"}})
            try:
                body = json.loads(raw)
            except ValueError:
                return self._send(400, {"error": {"message": "request body is not JSON"}})
            status, answer = stub._answer(body)
            self._send(status, answer)

        def _send(self, status: int, payload: dict[str, Any] | str) -> None:
            data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (timeout) before the answer was ready
                pass

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler
