"""The one HTTP client: plain HTTP to 127.0.0.1 only, for smoke checks, probes and load.

No proxy, no redirect followed (a redirect is an answer to check), `Host: localhost` (the name
ALLOWED_HOSTS knows). A Connection keeps its socket alive between requests and opens a new one
after a failure; `fetch` is one request; `status` never raises (a probe's 0 means no answer).
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

HOST = "127.0.0.1"
TIMEOUT_S = 10.0
SHOWN_BODY = 300  # characters of a failing answer's body in a message
NO_ANSWER = (OSError, http.client.HTTPException)
"""What a request raises when nothing (or nothing valid) answered: refused, reset, timed out, garbled."""


@dataclass(frozen=True)
class Response:
    """An HTTP response, read whole (header names in lower case)."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body.decode("utf-8"))

    def excerpt(self) -> str:
        return self.body[:SHOWN_BODY].decode("utf-8", errors="replace")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (for a stack published on any free port)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def split(url: str) -> tuple[int, str]:
    """(port, path with query) of an http://127.0.0.1:<port>/... URL; ValueError for any other."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname != HOST or not parts.port:
        raise ValueError(f"traffic goes to http://{HOST}:<port> only, not {url}")
    return parts.port, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class Connection:
    """A keep-alive HTTP connection to 127.0.0.1:<port>."""

    def __init__(self, port: int, *, timeout: float = TIMEOUT_S) -> None:
        self._conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """One request (`body` sent as JSON, `token` as a bearer token); raises OSError or
        http.client.HTTPException when there is no answer (the next request reconnects)."""
        sent = {"Host": "localhost", **(headers or {})}
        data = None if body is None else json.dumps(body).encode("utf-8")
        if data is not None:
            sent["Content-Type"] = "application/json"
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            self._conn.request(method, path, body=data, headers=sent)
            response = self._conn.getresponse()
            return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        except NO_ANSWER:
            self._conn.close()
            raise

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def fetch(
    url: str,
    *,
    method: str = "GET",
    body: object = None,
    token: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT_S,
) -> Response:
    """One request to an http://127.0.0.1:<port>/... URL (see Connection.request)."""
    port, path = split(url)
    with Connection(port, timeout=timeout) as conn:
        return conn.request(method, path, body=body, token=token, headers=headers)


def status(port: int, path: str, *, timeout: float = 3.0) -> tuple[int, bytes]:
    """GET http://127.0.0.1:<port><path>: (status, body), or (0, b"") when nothing answers."""
    try:
        with Connection(port, timeout=timeout) as conn:
            response = conn.request("GET", path)
    except NO_ANSWER:
        return 0, b""
    return response.status, response.body
