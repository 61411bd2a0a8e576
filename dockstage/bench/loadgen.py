"""A bounded HTTP load generator for the benchmark: keep-alive GETs to 127.0.0.1 only."""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from dockstage.bench import stats as benchstats
from dockstage.report import Reporter


def load(base_url: str, path: str, *, connections: int, requests: int, max_seconds: float) -> dict[str, float | int]:
    """GET base_url+path with keep-alive from `connections` threads, bounded by requests and seconds."""
    parts = urlsplit(base_url)
    if parts.hostname != "127.0.0.1" or parts.port is None:
        raise ValueError(f"load goes to 127.0.0.1 only, not {base_url}")
    port: int = parts.port
    counter = itertools.count()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        failed = 0
        while next(counter) < requests and time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Host": "localhost"})
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    mine.append(time.perf_counter() - started)
                else:
                    failed += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max_seconds + 15)
    return benchstats.summarize_load(latencies, errors[0], time.monotonic() - started)


def http_bench(base_url: str, runs: int, params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    """Warm up, then `runs` load runs per path; medians of rps and latencies, raw runs kept."""
    out: dict[str, Any] = {}
    for name, path in (("healthz", "/healthz"), ("notes", "/api/notes/")):
        load(base_url, path, connections=params["connections"], requests=params["warmup_requests"], max_seconds=10)
        results = [
            load(
                base_url,
                path,
                connections=params["connections"],
                requests=params["requests"],
                max_seconds=params["max_seconds"],
            )
            for _ in range(runs)
        ]
        out[name] = {**benchstats.median_of_runs(results), "runs": results}
        reporter.info(
            f"{base_url}{path}: {out[name]['rps']} req/s, p50 {out[name]['p50_ms']} ms, p99 {out[name]['p99_ms']} ms"
        )
    return out
