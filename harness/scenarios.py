"""The swarm harness's scenarios under bounded load from 127.0.0.1: (a) a rolling update to a new
version, (b) a version whose healthcheck fails (swarm rolls it back), (c) a node stopped (its tasks
rescheduled) and started again, (d) the stack removed and deployed again (the rows survive).
Each is a row of the harness's table; the faults during an update are in harness/faults.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from python_on_whales.exceptions import DockerException

from dockstage.core import loopback
from dockstage.core.config import Settings
from dockstage.core.errors import StackError
from dockstage.core.report import Reporter
from dockstage.flows.run import Run
from dockstage.swarm import deploy, probe, release
from harness.cluster import Cluster, restart_node
from harness.load import Load, LoadResult, timed

LOAD_CONNECTIONS = 4
"""Keep-alive connections of the scenarios' load: also the most requests a killed host can have in flight."""


@dataclass(frozen=True)
class Scenario:
    """One row of the harness table."""

    name: str
    requests: int
    failed: int
    seconds: float
    passed: bool
    note: str


def _web_image(cluster: Cluster, stack: str) -> str:
    service = cluster.manager.docker.service.inspect(f"{stack}_web")
    spec = service.spec.task_template
    return (spec.container_spec.image or "") if spec and spec.container_spec else ""


def post_note(port: int, token: str, text: str) -> int | None:
    try:
        response = loopback.fetch(
            f"http://127.0.0.1:{port}/api/notes/", method="POST", body={"text": text}, token=token
        )
        return int(response.json()["id"]) if response.status == 201 else None  # type: ignore[index]
    except (*loopback.NO_ANSWER, ValueError, KeyError):
        return None


def healthy_path(port: int) -> bool:
    return loopback.status(port, "/healthz", timeout=5)[0] == 200


def row(name: str, result: LoadResult, seconds: float, passed: bool, note: str) -> Scenario:
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(result.errors.items()))
    return Scenario(
        name,
        result.requests,
        result.failed,
        round(seconds, 1),
        passed,
        f"{note}{'; failed: ' + kinds if kinds else ''}",
    )


def _running_web(cluster: Cluster, stack: str, down: set[str]) -> int:
    manager = cluster.manager.docker
    hosts = {n.id: n.description.hostname for n in manager.node.list()}
    try:
        tasks = manager.service.ps(f"{stack}_web")
    except DockerException:
        return 0
    return sum(
        1
        for t in tasks
        if t.desired_state == "running"
        and t.status is not None
        and t.status.state == "running"
        and hosts.get(t.node_id or "") not in down
    )


@dataclass(frozen=True)
class Ctx:
    settings: Settings
    reporter: Reporter
    cluster: Cluster
    versions: dict[str, str]
    replicas: int
    max_requests: int
    max_seconds: float

    @property
    def stack(self) -> str:
        return self.cluster.options.stack_name(self.settings)

    def load(self) -> Load:
        return Load(
            self.cluster.http_port,
            connections=LOAD_CONNECTIONS,
            max_requests=self.max_requests,
            max_seconds=self.max_seconds,
        ).start()

    def on_manager(self) -> Run:
        """A run on the swarm's manager node (where deploys and undeploys are made)."""
        return Run(self.settings, self.reporter, self.cluster.manager.docker)

    def deploy(self, version: str) -> None:
        deploy.deploy(self.on_manager(), version, self.replicas, options=self.cluster.options)

    def serving(self, version: str) -> bool:
        made = release.find(self.settings, version)
        return made is not None and _web_image(self.cluster, self.stack) == made.pinned(
            "web", self.cluster.options.pull_address()
        )


def under_load(ctx: Ctx, action: Callable[[], str]) -> tuple[LoadResult, float, str]:
    """Run `action` (its note) under load; the load always stops. (load, seconds, note)."""
    result, seconds, note = timed(action, ctx.load())
    assert result is not None  # a load was running
    return result, seconds, note


def rolling_update(ctx: Ctx) -> Scenario:
    ctx.reporter.step("scenario a: rolling update under load")

    def action() -> str:
        ctx.deploy(ctx.versions["v2"])
        return f"serving {ctx.versions['v2']}"

    result, seconds, note = under_load(ctx, action)
    passed = not note.startswith("error") and result.failed == 0 and ctx.serving(ctx.versions["v2"])
    return row("a rolling update", result, seconds, passed, note)


def failed_healthcheck(ctx: Ctx) -> Scenario:
    ctx.reporter.step("scenario b: unhealthy version, automatic rollback, under load")

    def action() -> str:
        try:
            ctx.deploy(ctx.versions["bad"])
        except StackError as exc:
            if "rolled it back" in exc.what:
                return "rolled back"
            raise
        return "the unhealthy version was not rolled back"

    result, seconds, note = under_load(ctx, action)
    old = ctx.serving(ctx.versions["v2"])
    passed = note == "rolled back" and old and result.failed == 0 and healthy_path(ctx.cluster.http_port)
    return row(
        "b failed healthcheck", result, seconds, passed, f"{note}; {ctx.versions['v2']} still serving" if old else note
    )


def node_stopped(ctx: Ctx) -> Scenario:
    ctx.reporter.step("scenario c: a node (web tasks only) stopped, under load")
    manager, worker = ctx.cluster.manager.docker, ctx.cluster.nodes[-1]
    hosts = {n.id: n.description.hostname for n in manager.node.list()}
    on_worker = sum(
        1
        for t in manager.service.ps(f"{ctx.stack}_web")
        if t.desired_state == "running" and hosts.get(t.node_id or "") == worker.hostname
    )

    def action() -> str:
        ctx.reporter.info(f"stopping {worker.hostname} ({on_worker} web tasks on it)")
        ctx.cluster.host.container.stop(worker.name, time=10)
        back = probe.until(
            lambda: _running_web(ctx.cluster, ctx.stack, {worker.hostname}) == ctx.replicas or None,
            ctx.settings.wait_timeout,
            1.0,
        )
        return f"{on_worker} tasks rescheduled, all {ctx.replicas} running" if back else "replicas not back in time"

    result, seconds, note = under_load(ctx, action)
    rejoined = restart_node(ctx.cluster, worker)  # for the scenarios after this one
    passed = note.endswith("running") and rejoined > 0
    return row("c node stopped", result, seconds, passed, f"{note} after {seconds:.0f} s; back in {rejoined:.0f} s")


def redeploy(ctx: Ctx) -> Scenario:
    ctx.reporter.step("scenario d: undeploy and deploy again under load, rows survive")
    port = ctx.cluster.http_port
    marker = f"harness {uuid.uuid4().hex[:8]}"
    note_id = post_note(port, ctx.settings.value("API_TOKEN"), marker)

    def action() -> str:
        deploy.undeploy(ctx.on_manager(), options=ctx.cluster.options)
        ctx.deploy(ctx.versions["v2"])
        probe.until(lambda: healthy_path(port) or None, 60, 1.0)
        status, body = loopback.status(port, "/api/notes/?page_size=100", timeout=10)
        return "note kept" if status == 200 and marker in body.decode("utf-8", "replace") else "note lost"

    result, seconds, note = under_load(ctx, action)
    passed = note_id is not None and note == "note kept"
    # Requests fail while no stack runs: that is the downtime a redeploy costs, reported, not judged.
    return row("d redeploy", result, seconds, passed, f"{note}; failures = downtime between undeploy and deploy")
