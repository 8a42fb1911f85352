"""A tiny HTTP server on 127.0.0.1 that records the POSTs it receives (a webhook target for tests).

    with HttpReceiver() as receiver:
        url = receiver.apprise_url("/reviewers")   # json://127.0.0.1:<port>/reviewers
        ...
        receiver.wait_for(1)
        [post] = receiver.posts
        assert post.path == "/reviewers" and "marker" not in post.body

`status` sets the answer to every request (e.g. 500 for a failing target); `fail_next(n)`
answers the next `n` requests with 500 and then goes back to `status`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["HttpReceiver", "Post"]


@dataclass(frozen=True)
class Post:
    path: str
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class HttpReceiver:
    """Record every POST; answer with `status`."""

    def __init__(self) -> None:
        self.status = 200
        self.posts: list[Post] = []
        self.attempts = 0  # every request, including those answered with an error
        self._fail_next = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="http-receiver", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def apprise_url(self, path: str = "/hook") -> str:
        """An apprise `json://` URL that posts to this receiver."""
        return f"json://127.0.0.1:{self.port}{path}"

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._fail_next = count

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Post]:
        """Wait until `count` POSTs were recorded (or the timeout passes); return what arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.posts) >= count:
                    return list(self.posts)
            time.sleep(0.02)
        with self._lock:
            return list(self.posts)

    def _record(self, post: Post) -> int:
        with self._lock:
            self.attempts += 1
            if self._fail_next > 0:
                self._fail_next -= 1
                return 500
            if self.status < 300:
                self.posts.append(post)
            return self.status

    def start(self) -> HttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> HttpReceiver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _handler_for(receiver: HttpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            length = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(length).decode("utf-8", errors="replace")
            status = receiver._record(Post(path=self.path, headers=dict(self.headers.items()), body=body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            return None

    return Handler
