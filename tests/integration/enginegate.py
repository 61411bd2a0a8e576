"""A unix socket in front of the real Docker engine that a test closes mid-way.

Point DOCKER_HOST at `gate.host` and every docker call of the process under test goes through
it to the shared engine, which itself is never stopped. The gate reads the request line of each
HTTP request passing (bodies and upgraded streams are forwarded as they are) and, at the first
request `cut` picks, drops every connection and removes its socket: from then on the engine is
gone for that process, as when dockerd dies: the cut request ends in an EOF, later calls find
no socket. `before` runs ahead of forwarding a request (e.g. to remove a container under it).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from collections.abc import Callable
from pathlib import Path


def engine_socket() -> str:
    """The engine the gate forwards to: DOCKER_HOST's socket when it names one (the engine-wide
    tests' node of their own, harness/enginenode.py), else the default socket."""
    host = os.environ.get("DOCKER_HOST", "")
    return host.removeprefix("unix://") if host.startswith("unix://") else "/var/run/docker.sock"


ENGINE_SOCKET = engine_socket()
_VERSION = re.compile(r"^/v\d+\.\d+")
PREFLIGHT_PATHS = ("/_ping", "/version", "/info", "/grpc")
"""What the preflight checks ask the engine (docker version, buildx inspect: /grpc, system info)."""

Request = tuple[str, str]  # method, path without the API version prefix or query


def after_preflight(method: str, path: str) -> bool:
    """Cut at the first request that is not one of the preflight's."""
    return path not in PREFLIGHT_PATHS


class EngineGate:
    """A proxy socket to the engine, cut when `cut` says so (or by `close()`)."""

    def __init__(
        self,
        path: Path,
        cut: Callable[[str, str], bool] = after_preflight,
        before: Callable[[str, str], None] | None = None,
    ) -> None:
        self.path, self.cut, self.before = path, cut, before
        self.requests: list[Request] = []
        self.cut_at: Request | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

    @property
    def host(self) -> str:
        return f"unix://{self.path}"

    def __enter__(self) -> EngineGate:
        self._listener.bind(str(self.path))
        self._listener.listen(64)
        threading.Thread(target=self._accept, daemon=True, name="engine-gate").start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """The engine is gone: no new connection, every open one dropped."""
        self._closed.set()
        self.path.unlink(missing_ok=True)
        with self._lock:
            sockets, self._open = [self._listener, *self._open], []
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed by its peer
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(ENGINE_SOCKET)
            with self._lock:
                if self._closed.is_set():
                    client.close()
                    upstream.close()
                    return
                self._open += [client, upstream]
            threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        """Forward the client's requests one by one, looking at each request line."""
        reader = _Reader(client)
        try:
            while True:
                head = reader.until(b"\r\n\r\n")
                if head is None:
                    return
                method, target = head.split(b" ", 2)[:2]
                path = _VERSION.sub("", target.decode().split("?", 1)[0])
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.decode().partition(":") for line in head.split(b"\r\n")[1:] if line)
                }
                request = (method.decode(), path)
                self.requests.append(request)
                if self.cut_at is None and self.cut(*request):
                    self.cut_at = request
                    self.close()
                    return
                if self.before is not None:
                    self.before(*request)
                upstream.sendall(head)
                if "upgrade" in headers.get("connection", "").lower():  # a hijacked stream: bytes from now on
                    upstream.sendall(reader.rest())
                    _pump(client, upstream)
                    return
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    reader.forward_chunks(upstream)
                else:
                    reader.forward(int(headers.get("content-length", "0")), upstream)
        except OSError:
            return  # a side closed (or the gate was cut)


class _Reader:
    """Buffered reads of one side of a connection."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buffer = sock, b""

    def _more(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def until(self, marker: bytes) -> bytes | None:
        while marker not in self.buffer:
            if not self._more():
                return None
        found, _, self.buffer = self.buffer.partition(marker)
        return found + marker

    def rest(self) -> bytes:
        data, self.buffer = self.buffer, b""
        return data

    def forward(self, size: int, to: socket.socket) -> None:
        while len(self.buffer) < size:
            if not self._more():
                raise OSError("closed inside a body")
        to.sendall(self.buffer[:size])
        self.buffer = self.buffer[size:]

    def forward_chunks(self, to: socket.socket) -> None:
        while True:
            line = self.until(b"\r\n")
            if line is None:
                raise OSError("closed inside a chunked body")
            to.sendall(line)
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while (trailer := self.until(b"\r\n")) not in (None, b"\r\n"):
                    to.sendall(trailer)
                to.sendall(b"\r\n")
                return
            self.forward(size + 2, to)  # the chunk and its CRLF


def _pump(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes one way until either side closes."""
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass  # a side closed (or the gate was cut)
    with contextlib.suppress(OSError):  # already closed
        target.shutdown(socket.SHUT_WR)
