"""The bench's swarm section (`--swarm`, alone: `--only swarm`): rollout and rollback on one node.

The path a user takes (registry.up, release.release, deploy.deploy, deploy.rollback: what
`invoke registry / release / deploy / rollback` call) on this engine made a one-node swarm for the
section and left again. Timed, each until swarm converged: the first deploy (migrate job, then
every web replica healthy), a rolling update to a new version (a new digest), `invoke rollback`
to the previous release, and a version whose healthcheck fails (swarm rolls it back by itself).
During each but the first, a small bounded load (keep-alive GETs of /api/notes/ from 127.0.0.1
through the proxy's port) counts failed requests. The three-node harness's table is read from
benchmarks/results/swarm.json when a `nox -s swarm` left one. Everything it starts is removed:
stack, secrets, volumes, registry and its volume, pushed and variant tags.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage.core import loopback
from dockstage.core.config import Settings
from dockstage.core.errors import DockstageError, StackError
from dockstage.core.report import Reporter
from dockstage.flows.run import Run
from dockstage.swarm import deploy, probe, registry, release
from dockstage.swarm.options import SwarmOptions
from harness import swarm as harness
from harness.bench import stats as benchstats
from harness.load import Load, timed

PROJECT = "dockstage-bench-swarm"
REPLICAS = 2
LOAD = {"connections": 2, "pace_seconds": 0.02, "max_requests": 20_000, "max_seconds": 300.0}
HARNESS_JSON = "benchmarks/results/swarm.json"


def _remove_tags(docker: DockerClient, prefixes: tuple[str, ...]) -> None:
    for image in docker.image.list():
        for tag in image.repo_tags or []:
            if tag.startswith(prefixes):
                with contextlib.suppress(DockerException):
                    docker.image.remove(tag)


def _phase(action: Callable[[], str], port: int | None, reporter: Reporter, name: str) -> dict[str, Any]:
    """Run `action` (its outcome) timed, under load when `port` is given; the load always stops."""
    running = (
        Load(
            port,
            connections=int(LOAD["connections"]),
            max_requests=int(LOAD["max_requests"]),
            max_seconds=float(LOAD["max_seconds"]),
            pace=float(LOAD["pace_seconds"]),
        ).start()
        if port is not None
        else None
    )
    load, seconds, outcome = timed(action, running)
    row: dict[str, Any] = {
        "seconds": round(seconds, 1),
        "outcome": outcome,
        "requests": load.requests if load else None,
        "failed": load.failed if load else None,
        "errors": load.errors if load else {},
    }
    reporter.info(
        f"{name}: {row['seconds']} s, {outcome}"
        + (f", {row['requests']} requests, {row['failed']} failed" if load else "")
    )
    return row


def measure(settings: Settings, docker: DockerClient, reporter: Reporter, source: str, workdir: Path) -> dict[str, Any]:
    """The section's results (the `swarm` key of latest.json). `source` is the prod image to ship."""
    results: dict[str, Any] = {
        "measured": False,
        "nodes": 1,
        "replicas": REPLICAS,
        "load": dict(LOAD),
        "harness": benchstats.read_harness(settings.path(HARNESS_JSON)),
    }
    swarm = docker.system.info().swarm
    if swarm is not None and swarm.local_node_state not in (None, "inactive"):
        results["reason"] = "this engine is already in a swarm (someone else's): not touched"
        reporter.warn(f"swarm section skipped: {results['reason']}")
        return results
    if not docker.image.exists(source):
        raise StackError(f"{source} is not built", "build it first: `{build}`")
    run_id = uuid.uuid4().hex[:6]
    bench = settings.with_(
        project=PROJECT,
        state_dir=str(workdir / "state"),
        env_file=str(workdir / "swarm.env"),
        quiet=True,
    )
    run = Run(bench, reporter, docker)  # the swarm flows' one context: this engine, this .env
    run.ensure_env()
    options = SwarmOptions(
        registry_port=loopback.free_port(),
        proxy_port=loopback.free_port(),
        replicas=REPLICAS,
        stack=f"{PROJECT}-{run_id}",
    )
    versions = {"v1": f"bench-{run_id}-v1", "v2": f"bench-{run_id}-v2", "bad": f"bench-{run_id}-unhealthy"}
    variant_repo = f"{PROJECT}/variant-{run_id}"
    port = options.proxy_port
    phases: dict[str, dict[str, Any]] = {}
    reporter.step(f"swarm: one node, {REPLICAS} web replicas, registry on 127.0.0.1:{options.registry_port}")
    started = time.monotonic()
    with harness.single_node(docker, reporter):
        try:
            variants = {
                "v2": harness.build_variant(
                    docker, reporter, source, "relabelled", f"{variant_repo}:v2", versions["v2"]
                ),
                "bad": harness.build_variant(
                    docker, reporter, source, "unhealthy", f"{variant_repo}:unhealthy", versions["bad"]
                ),
            }
            t0 = time.monotonic()
            registry.up(run, options)
            results["registry_seconds"] = round(time.monotonic() - t0, 1)
            t0 = time.monotonic()
            for key, version in versions.items():
                release.release(run, version, options=options, source=variants.get(key), allow_dirty=True)
            results["release_seconds"] = round((time.monotonic() - t0) / len(versions), 1)

            def first() -> str:
                done = deploy.deploy(run, versions["v1"], REPLICAS, options=options)
                if not probe.until(lambda: loopback.status(port, "/healthz")[0] == 200 or None, 60, 0.5):
                    return f"{done.outcome}; the proxy does not answer /healthz"
                return done.outcome

            def update() -> str:
                return deploy.deploy(run, versions["v2"], REPLICAS, options=options).outcome

            def back() -> str:
                done = deploy.rollback(run, options=options)
                return f"{done.outcome} to {done.version}"

            def unhealthy() -> str:
                try:
                    deploy.deploy(run, versions["bad"], REPLICAS, options=options)
                except StackError as exc:
                    if "rolled it back" in exc.what:
                        return "rolled back by swarm"
                    raise
                return "error: the unhealthy version was not rolled back"

            reporter.step("swarm: first deploy (migrate job, then every web replica healthy)")
            phases["first_deploy"] = _phase(first, None, reporter, "first deploy")
            reporter.step("swarm: rolling update to a new digest, under load")
            phases["rolling_update"] = _phase(update, port, reporter, "rolling update")
            reporter.step("swarm: rollback (`invoke rollback`) to the previous release, under load")
            phases["rollback"] = _phase(back, port, reporter, "rollback")
            reporter.step("swarm: a version whose healthcheck fails, rolled back by swarm, under load")
            phases["failed_update"] = _phase(unhealthy, port, reporter, "failed update")
            results["measured"] = not any(str(p["outcome"]).startswith("error") for p in phases.values())
        finally:
            with contextlib.suppress(DockstageError, DockerException):
                deploy.undeploy(run, volumes=True, yes=True, options=options)
            with contextlib.suppress(DockstageError, DockerException):
                registry.down(run, volumes=True, yes=True)
            _remove_tags(docker, (f"127.0.0.1:{options.registry_port}/", f"{variant_repo}:"))
    results["phases"] = phases
    results["seconds"] = round(time.monotonic() - started, 1)
    return results
