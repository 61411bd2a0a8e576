"""The dev loop: seconds from a requirement change to a healthy dev web on the new image.

On a copy of the checkout (the real one is never changed): the dev stack started detached, the
watcher of `invoke dev` running (dockstage.flows.watch), then per run a requirement added (a
unique comment each time, so every run is a change). Timed from the write until web runs in a new
container, healthy: what a user waits for between saving the file and using the package.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path
from typing import Any

from python_on_whales.exceptions import DockerException

from dockstage.core import config, loopback
from dockstage.core.report import Reporter
from dockstage.flows import stackops, watch
from dockstage.flows.run import Run
from dockstage.stack.compose import Stack
from harness.bench import pipelines

IMAGE = "dockstage-bench/devloop"
PROJECT = "dockstage-bench-devloop"
LIMIT_S = 600.0


def _healthy_web(stack: Stack) -> str:
    """The running web container's id when it is healthy, else '' (also while compose replaces it)."""
    try:
        for container in stack.compose.ps(services=["web"]):
            health = container.state.health.status if container.state.health else None
            if container.state.running and health == "healthy":
                return str(container.id)
    except DockerException:  # a container removed between compose's listing and its inspect
        return ""
    return ""


def measure(settings: config.Settings, workdir: Path, runs: int, reporter: Reporter) -> dict[str, Any]:
    """Per run: a requirement added, seconds until the dev web is healthy on the rebuilt image."""
    checkout = pipelines.checkout_copy(settings.root, workdir)
    copy = config.load(
        checkout, settings.shell, image=IMAGE, project=PROJECT, web_port=loopback.free_port(), quiet=True
    )
    original = (checkout / pipelines.REQUIREMENTS).read_text(encoding="utf-8")
    seconds: list[float] = []
    reporter.step(f"invoke dev's watcher: a requirement added, on a copy of the checkout (project {PROJECT})")
    with Run.open(copy) as run:
        stop = threading.Event()
        try:
            stackops.dev(run, detach=True)
            stack = run.stack("dev")
            watcher = threading.Thread(target=watch.watch, args=(run, stop), daemon=True, name="bench-watch")
            watcher.start()
            time.sleep(2.0)  # the watcher is set up (inotify) before the first write
            for i in range(runs):
                before = _healthy_web(stack)
                pipelines.change_dependency(checkout, original)
                started = time.monotonic()
                while time.monotonic() - started < LIMIT_S:
                    now = _healthy_web(stack)
                    if now and now != before:
                        break
                    time.sleep(0.25)
                else:
                    reporter.warn(f"run {i + 1}/{runs}: no new healthy web within {LIMIT_S:.0f} s")
                    continue
                seconds.append(time.monotonic() - started)
                reporter.info(f"run {i + 1}/{runs}: dependency change seen by invoke dev in {seconds[-1]:.1f} s")
        finally:
            stop.set()
            stackops.down(run, volumes=True, yes=True)
    return {
        "dependency_change_seconds": statistics.median(seconds) if seconds else None,
        "runs": seconds,
        "failed_runs": runs - len(seconds),
    }
