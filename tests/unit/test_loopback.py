"""The one loopback HTTP client, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dockstage.core import loopback


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn answers

    def _answer(self, status: int, payload: dict[str, object], extra: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        for key, value in {
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            **(extra or {}),
        }.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/moved":
            self._answer(302, {}, {"Location": "http://example.com/"})
            return
        self._answer(200, {"path": self.path, "host": self.headers["Host"]})

    def do_POST(self) -> None:
        data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self._answer(201, {"got": data, "auth": self.headers["Authorization"], "type": self.headers["Content-Type"]})

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_requests_on_one_kept_alive_connection(port: int) -> None:
    with loopback.Connection(port) as conn:
        first = conn.request("GET", "/a?b=1")
        second = conn.request("POST", "/notes/", body={"text": "✓"}, token="t0k")
    assert first.status == 200 and first.json() == {"path": "/a?b=1", "host": "localhost"}
    assert second.status == 201
    assert second.json() == {"got": {"text": "✓"}, "auth": "Bearer t0k", "type": "application/json"}


def test_a_redirect_is_an_answer_not_followed(port: int) -> None:
    moved = loopback.fetch(f"http://127.0.0.1:{port}/moved")
    assert (moved.status, moved.headers["location"]) == (302, "http://example.com/")


def test_status_never_raises(port: int) -> None:
    assert loopback.status(port, "/x")[0] == 200
    free = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    closed = int(free.server_address[1])
    free.server_close()
    assert loopback.status(closed, "/") == (0, b"")


@pytest.mark.parametrize(
    "url", ["http://localhost:80/", "https://127.0.0.1:443/", "http://10.0.0.1:80/", "http://127.0.0.1/"]
)
def test_only_loopback_urls(url: str) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        loopback.split(url)
