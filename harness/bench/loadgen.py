"""Bounded HTTP load for the benchmark, to 127.0.0.1 only: wrk where present, else Python threads.

wrk (Debian's `wrk`, a C load generator) runs as a subprocess with a list argv, bounded by `-d`
seconds, `-c` connections and `-t` threads; its summary is parsed. The Python generator (keep-alive
GETs from threads, bounded by a request count and seconds) is the fallback. Each measured run reads
the server containers' CPU counters and the load generator's own CPU around the load.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dockstage.core import loopback
from dockstage.core.errors import CheckFailed
from dockstage.core.report import Reporter
from harness.bench import cpu
from harness.bench import stats as benchstats

WRK_TIMEOUT_S = 5  # wrk's per-request timeout; a slower answer counts as a socket timeout
PATHS = (("healthz", "/healthz"), ("notes", "/api/notes/"))

_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_NUMBER_UNIT = r"([0-9.]+)(us|ms|s|m|h)"


def loopback_port(base_url: str) -> int:
    """The port of a http://127.0.0.1:<port> URL; anything else is refused (core.loopback.split)."""
    return loopback.split(base_url)[0]


def load(base_url: str, path: str, *, connections: int, requests: int, max_seconds: float) -> dict[str, float | int]:
    """GET base_url+path with keep-alive from `connections` threads, bounded by requests and seconds."""
    port = loopback_port(base_url)
    counter = itertools.count()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        mine: list[float] = []
        failed = 0
        with loopback.Connection(port) as conn:
            while next(counter) < requests and time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    if conn.request("GET", path).status == 200:
                        mine.append(time.perf_counter() - started)
                    else:
                        failed += 1
                except loopback.NO_ANSWER:
                    failed += 1
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


# --- wrk ---------------------------------------------------------------------------------------


def _ms(number: str, unit: str) -> float:
    return float(number) * _UNITS_MS[unit]


def parse_wrk(text: str) -> dict[str, float | int]:
    """wrk's summary (run with --latency) -> the same keys as `summarize_load`, plus wrk's own rps.

    `requests` counts 2xx/3xx answers only and `rps` is those over the run's seconds; `errors` adds
    wrk's non-2xx/3xx answers and its socket errors (connect, read, write, timeout).
    """
    done = re.search(r"^\s*(\d+) requests in " + _NUMBER_UNIT, text, re.MULTILINE)
    if done is None:
        raise ValueError("no 'N requests in T' line in wrk's output")
    total = int(done.group(1))
    elapsed_s = _ms(done.group(2), done.group(3)) / 1e3
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    bad = int(non2xx.group(1)) if non2xx else 0
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    socket_errors = sum(int(n) for n in socket.groups()) if socket else 0
    reported = re.search(r"^Requests/sec:\s*([0-9.]+)", text, re.MULTILINE)
    percentiles = {
        int(m.group(1)): _ms(m.group(2), m.group(3))
        for m in re.finditer(r"^\s+(50|75|90|99)(?:\.0+)?%\s+" + _NUMBER_UNIT + r"\s*$", text, re.MULTILINE)
    }
    ok = total - bad
    return {
        "requests": ok,
        "errors": bad + socket_errors,
        "elapsed_seconds": round(elapsed_s, 3),
        "rps": round(ok / elapsed_s, 1) if elapsed_s > 0 else 0.0,
        "wrk_rps": float(reported.group(1)) if reported else float("nan"),
        "p50_ms": round(percentiles[50], 3) if 50 in percentiles and ok else float("nan"),
        "p99_ms": round(percentiles[99], 3) if 99 in percentiles and ok else float("nan"),
    }


def wrk_argv(wrk: str, url: str, *, threads: int, connections: int, seconds: int) -> list[str]:
    """wrk's command line: bounded in threads, connections and seconds, with the latency histogram."""
    return [
        wrk,
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        f"{WRK_TIMEOUT_S}s",
        "--latency",
        url,
    ]


@dataclass(frozen=True)
class Generator:
    """The load generator in use: wrk (its path and version) or the Python fallback."""

    name: str
    path: str = ""
    version: str = ""

    def describe(self) -> str:
        return (
            f"wrk {self.version} ({self.path})" if self.name == "wrk" else "Python threads (keep-alive, core.loopback)"
        )


def find_generator(which: Callable[[str], str | None] = shutil.which) -> Generator:
    """wrk when it is on PATH (and answers), else the Python load generator."""
    path = which("wrk")
    if not path:
        return Generator("python")
    try:
        shown = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return Generator("python")
    found = re.search(r"^wrk (\S+)", shown.stdout + shown.stderr, re.MULTILINE)
    return Generator("wrk", path, found.group(1) if found else "unknown") if found else Generator("python")


def drive(generator: Generator, base_url: str, path: str, params: Mapping[str, Any]) -> tuple[dict[str, Any], float]:
    """One bounded load run: its summary and the load generator's own CPU seconds."""
    seconds = int(params["seconds"])
    if generator.name != "wrk":
        before = cpu.self_seconds()
        summary = load(
            base_url,
            path,
            connections=params["connections"],
            requests=params["max_requests"],
            max_seconds=seconds,
        )
        return dict(summary), cpu.self_seconds() - before
    loopback_port(base_url)
    argv = wrk_argv(
        generator.path,
        base_url + path,
        threads=params["threads"],
        connections=params["connections"],
        seconds=seconds,
    )
    before = cpu.children_seconds()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=False)
    except subprocess.TimeoutExpired:
        raise CheckFailed(
            f"wrk did not finish within {seconds + 30} s", "see whether the server still answers"
        ) from None
    client = cpu.children_seconds() - before
    if done.returncode != 0:
        raise CheckFailed(f"wrk exited {done.returncode}: {done.stderr.strip()[:200]}", "run the same wrk by hand")
    try:
        return dict(parse_wrk(done.stdout)), client
    except ValueError as exc:
        raise CheckFailed(f"wrk's output was not understood ({exc})", "run the same wrk by hand") from None


def measured(
    generator: Generator, base_url: str, path: str, params: Mapping[str, Any], containers: Mapping[str, str]
) -> dict[str, float]:
    """One load run with the CPU the server containers, the load generator and the machine used."""
    cores = int(params["cores"])
    proxies = cpu.proxy_pids(urllib.parse.urlsplit(base_url).port or 80)  # on the path of every request
    server_before = {name: cpu.container_seconds(cid) for name, cid in containers.items()}
    proxy_before = cpu.processes_seconds(proxies)
    ticks_before = cpu.machine_ticks()
    summary, client = drive(generator, base_url, path, params)
    ticks_after = cpu.machine_ticks()
    used: dict[str, float | None] = {}
    for name, cid in containers.items():
        after, before = cpu.container_seconds(cid), server_before[name]
        used[name] = None if after is None or before is None else after - before
    used["client"] = client
    if proxies:  # none when dockerd's userland proxy is off: the kernel forwards, in no process
        proxy_after = cpu.processes_seconds(proxies)
        used["proxy"] = None if proxy_after is None or proxy_before is None else proxy_after - proxy_before
    figures = benchstats.cpu_figures(
        cores,
        requests=int(summary["requests"]),
        elapsed_s=float(summary["elapsed_seconds"]),
        rps=float(summary["rps"]),
        cpu_seconds=used,
        machine_busy_cores=cpu.busy_cores(ticks_before, ticks_after, cores),
    )
    return {**{k: float(v) for k, v in summary.items()}, **figures}


def http_bench(
    generator: Generator,
    base_url: str,
    runs: int,
    params: Mapping[str, Any],
    containers: Mapping[str, str],
    reporter: Reporter,
) -> dict[str, Any]:
    """Warm up, then `runs` measured runs per path; medians of every figure, raw runs kept."""
    out: dict[str, Any] = {}
    for name, path in PATHS:
        drive(generator, base_url, path, {**params, "seconds": params["warmup_seconds"]})
        results = [measured(generator, base_url, path, params, containers) for _ in range(runs)]
        out[name] = {**benchstats.median_of_runs(results), "runs": results}
        figures = out[name]
        reporter.info(
            f"{base_url}{path}: {figures['rps']} req/s, p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
            f"{figures['cpu_ms_per_request']:.2f} CPU ms/request, ceiling {figures['ceiling_rps']:.0f} req/s "
            f"({figures['fraction_of_ceiling']:.0%})"
        )
    return out
