"""Waiting on real conditions with a deadline (HTTP to 127.0.0.1 is core.loopback's)."""

from __future__ import annotations

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
