"""Bounded HTTP load for the harness: GETs to 127.0.0.1 only, counted, stopped on demand.

Each of a few threads sends keep-alive GETs, paced, until it is stopped, `max_requests` have been
sent in all, or `max_seconds` have passed, whichever comes first.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from python_on_whales.exceptions import DockerException

from dockstage.core import loopback
from dockstage.core.errors import DockstageError


@dataclass(frozen=True)
class LoadResult:
    """What one load window saw."""

    requests: int
    failed: int
    seconds: float
    errors: dict[str, int] = field(default_factory=dict)  # status or exception name -> count


class Load:
    """GET http://127.0.0.1:<port><path> from `connections` threads until stopped or bounded."""

    def __init__(
        self,
        port: int,
        path: str = "/api/notes/",
        *,
        connections: int = 4,
        max_requests: int = 20_000,
        max_seconds: float = 300.0,
        pace: float = 0.02,
    ) -> None:
        self.port, self.path, self.connections = port, path, connections
        self.max_requests, self.max_seconds, self.pace = max_requests, max_seconds, pace
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sent = 0
        self._failed = 0
        self._errors: Counter[str] = Counter()
        self._threads: list[threading.Thread] = []
        self._started = 0.0

    def _claim(self) -> bool:
        with self._lock:
            if self._sent >= self.max_requests:
                return False
            self._sent += 1
            return True

    def _fail(self, reason: str) -> None:
        with self._lock:
            self._failed += 1
            self._errors[reason] += 1

    def _worker(self, deadline: float) -> None:
        with loopback.Connection(self.port) as conn:
            while not self._stop.is_set() and time.monotonic() < deadline and self._claim():
                try:
                    status = conn.request("GET", self.path).status
                    if status != 200:
                        self._fail(str(status))
                except loopback.NO_ANSWER as exc:
                    self._fail(type(exc).__name__)
                self._stop.wait(self.pace)

    def start(self) -> Load:
        """Start the threads; returns self."""
        self._started = time.monotonic()
        deadline = self._started + self.max_seconds
        self._threads = [
            threading.Thread(target=self._worker, args=(deadline,), daemon=True, name=f"load-{i}")
            for i in range(self.connections)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> LoadResult:
        """Stop the threads (each finishes its request in flight) and count."""
        self._stop.set()
        for thread in self._threads:
            thread.join(15)
        with self._lock:
            return LoadResult(self._sent, self._failed, time.monotonic() - self._started, dict(self._errors))


def timed(action: Callable[[], str], running: Load | None) -> tuple[LoadResult | None, float, str]:
    """Run `action` (it returns its note) timed, under the started load `running` if any; a failed
    action's error is its note; the load always stops. (load result, seconds, note)."""
    started = time.monotonic()
    try:
        note = action()
    except (DockstageError, DockerException) as exc:
        note = f"error: {exc}"
    finally:
        seconds = time.monotonic() - started
        result = running.stop() if running is not None else None
    return result, seconds, note
