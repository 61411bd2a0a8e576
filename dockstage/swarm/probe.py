"""Waiting on real conditions with a deadline, and plain HTTP to 127.0.0.1 only."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def until(condition: Callable[[], T | None], timeout: float, interval: float = 0.5) -> T | None:
    """Call `condition` until it returns something other than None/False, or `timeout` passes.

    Returns that value, or None at the deadline. `interval` only spaces the checks out."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value is not None and value is not False:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def get(port: int, path: str, *, timeout: float = 3.0, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET http://127.0.0.1:<port><path> (no proxy); (status, body), or (0, b"") when it fails."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "localhost", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        conn.close()
