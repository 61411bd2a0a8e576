"""`invoke up` on a running site: its seconds and the requests it failed, under a bounded load.

On a copy of the checkout (the real one is never changed): `up` once, then per run an `up` after
an app-code change (a new image: the new web starts beside the old one behind the proxy), and an
`up` of a release whose wsgi.py raises (the new web never becomes healthy and is removed). Four
connections GET /healthz through the proxy on 127.0.0.1 meanwhile, bounded in count and time;
every answer other than 200, and every connection error, is a failed request.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dockstage.core import config, loopback
from dockstage.core.config import Settings
from dockstage.core.errors import DockstageError
from dockstage.core.report import Reporter
from dockstage.flows import stackops
from dockstage.flows.run import Run
from harness.bench import pipelines
from harness.load import Load

IMAGE = "dockstage-bench/rollout"
PROJECT = "dockstage-bench-rollout"
WSGI = Path("app/project_playground/wsgi.py")


def _up(settings: Settings, load: Load | None) -> dict[str, Any]:
    """One `up` (a fresh Run, as each command is), timed, under `load` (stopped after it)."""
    started = time.monotonic()
    note = "ok"
    try:
        with Run.open(settings) as run:
            stackops.up(run)
    except DockstageError as exc:
        note = exc.one_line()
    seconds = time.monotonic() - started
    counted = load.stop() if load is not None else None
    return {
        "seconds": seconds,
        "requests": counted.requests if counted else 0,
        "failed": counted.failed if counted else 0,
        "errors": counted.errors if counted else {},
        "outcome": note,
    }


def measure(settings: Settings, workdir: Path, runs: int, reporter: Reporter) -> dict[str, Any]:
    """Per run: an `up` of a changed release and of a broken one, each under load."""
    checkout = pipelines.checkout_copy(settings.root, workdir)
    port = loopback.free_port()
    copy = config.load(checkout, settings.shell, image=IMAGE, project=PROJECT, web_port=port, quiet=True)
    wsgi = checkout / WSGI
    good = wsgi.read_text(encoding="utf-8")

    def broken() -> None:
        wsgi.write_text(good + '\nraise RuntimeError("bench: a broken release")\n', encoding="utf-8")

    scenarios: dict[str, Callable[[], None]] = {
        "changed_release": lambda: pipelines.change_app_code(checkout),
        "broken_release": broken,
    }
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in scenarios}
    reporter.step(f"invoke up on a running site: a copy of the checkout, project {PROJECT}, port {port}")
    first = _up(copy, None)
    try:
        for i in range(runs):
            for name, change in scenarios.items():
                change()
                load = Load(port, "/healthz", connections=4, max_requests=20_000, max_seconds=300).start()
                figures = _up(copy, load)
                wsgi.write_text(good, encoding="utf-8")
                results[name].append(figures)
                reporter.info(
                    f"run {i + 1}/{runs} up of a {name.replace('_', ' ')}: {figures['seconds']:.1f}s, "
                    f"{figures['failed']} failed of {figures['requests']} requests ({figures['outcome'][:90]})"
                )
    finally:
        with Run.open(copy) as run:
            stackops.down(run, volumes=True, yes=True)
    return {
        "first": first,
        **{
            name: {
                "seconds": statistics.median(r["seconds"] for r in rs) if rs else None,
                "failed_requests": sum(r["failed"] for r in rs),
                "requests": sum(r["requests"] for r in rs),
                # a changed release must go live; a broken one must be refused with the site kept
                "failed_runs": sum(
                    (r["outcome"] != "ok") if name == "changed_release" else ("site was kept" not in r["outcome"])
                    for r in rs
                ),
                "runs": rs,
            }
            for name, rs in results.items()
        },
    }
