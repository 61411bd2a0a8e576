"""Waiting on a swarm: tasks that run on nodes that are up, a job that completed, a rolling update
that ended. A `Watch` carries what the command waits for and what it last saw, so that a manager
going away meanwhile ends in one line saying what is known (errors.ManagerLost), while a swarm
electing a new leader is only waited through.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from python_on_whales import DockerClient
from python_on_whales.components.service.cli_wrapper import Service
from python_on_whales.exceptions import DockerException, NoSuchService

from dockstage.core.errors import (
    ManagerLost,
    StackError,
    SwarmHolds,
    docker_detail,
    swallowed,
    swarm_electing,
    swarm_unreachable,
)
from dockstage.core.report import Reporter
from dockstage.swarm import probe

T = TypeVar("T")

TERMINAL_UPDATES = ("completed", "paused", "rollback_completed", "rollback_paused")
INTERVAL = 1.0
"""Seconds between two looks at the swarm."""


class Watch:
    """What a swarm command is doing or waiting for, what it last saw, what the swarm holds of it
    (`then`), and whether the swarm's manager was out of reach at the last look."""

    def __init__(self, doing: str, *, then: SwarmHolds = "nothing") -> None:
        self.doing, self.then = doing, then  # ManagerLost's `then`: what the swarm holds of it so far
        self.seen = ""
        self.unreachable: DockerException | None = None

    def lost(self, exc: DockerException) -> ManagerLost:
        return ManagerLost(self.doing, self.seen, then=self.then, detail=docker_detail(exc))

    @contextmanager
    def guard(self) -> Iterator[None]:
        """A manager out of reach inside becomes ManagerLost; every other failure passes as it is."""
        try:
            yield
        except DockerException as exc:
            if not swarm_unreachable(exc):
                raise
            raise self.lost(exc) from None

    def look(self, call: Callable[[], T]) -> T | None:
        """call()'s value; None while the swarm elects a leader (seconds: the wait goes on, and
        `until` raises ManagerLost if none came back by its deadline) or when a task it read went
        away meanwhile; an engine gone is ManagerLost."""
        try:
            value = call()
        except DockerException as exc:
            if swarm_electing(exc):
                self.unreachable = exc
                return None
            if swarm_unreachable(exc):  # the engine itself is gone: nothing to wait for
                raise self.lost(exc) from None
            if _vanished(exc):
                self.unreachable = None
                return None
            raise
        self.unreachable = None
        return value

    def until(self, condition: Callable[[], T | None], timeout: float) -> T | None:
        """probe.until over `look`; at the deadline, a manager still out of reach is ManagerLost."""
        value = probe.until(lambda: self.look(condition), timeout, INTERVAL)
        if value is None and self.unreachable is not None:
            raise self.lost(self.unreachable)
        return value


def _vanished(exc: DockerException) -> bool:
    """A task listed a moment ago and gone when its details were read (python-on-whales inspects
    each listed task; swarm trims task history, most of all around a leader election): look again."""
    return "No such object" in (exc.stderr or "")


def _nodes_up(docker: DockerClient) -> set[str]:
    return {node.id for node in docker.node.list() if node.status.state == "ready"}


def running(docker: DockerClient, name: str) -> list[str]:
    """Images of the service's tasks that should run and do (healthy, when there is a
    healthcheck) on a node that is up: a dead node's tasks read running for seconds after it died."""
    try:
        tasks = docker.service.ps(name)
    except NoSuchService:  # not created yet: no task runs
        return []
    up = _nodes_up(docker)
    return [
        (t.spec.container_spec.image or "") if t.spec and t.spec.container_spec else ""
        for t in tasks
        if t.desired_state == "running"
        and t.status is not None
        and t.status.state == "running"
        and (t.node_id or "") in up
    ]


def held_by_down_nodes(docker: DockerClient, name: str) -> list[str]:
    """Hostnames of the nodes that are not up and still hold a task of the service that has not
    ended (a start-first update waits for such an old task to stop: swarm's updater cannot know)."""
    down = {
        node.id: node.description.hostname or node.id[:12]
        for node in docker.node.list()
        if node.status.state != "ready"
    }
    return sorted(
        {
            down[t.node_id]
            for t in docker.service.ps(name)
            if t.node_id in down and t.status is not None and t.status.state in _NOT_ENDED
        }
    )


_NOT_ENDED = ("new", "pending", "assigned", "accepted", "preparing", "ready", "starting", "running")


def _version(image: str) -> str:
    return image.split("@")[0].rpartition(":")[2]


def wait_replicas(docker: DockerClient, watch: Watch, name: str, replicas: int, image: str, timeout: float) -> bool:
    """True once exactly `replicas` tasks of `image` run."""

    def enough() -> bool | None:
        count = running(docker, name).count(image)
        watch.seen = f"{count} of {replicas} tasks of {name} run {_version(image)}"
        return count == replicas or None

    return watch.until(enough, timeout) is True


def show_logs(docker: DockerClient, reporter: Reporter, name: str, tail: int = 30) -> None:
    text = ""
    # Safe: logs are shown only beside an error that is raised anyway (it says what failed).
    with swallowed("logs shown beside an error"):
        text = str(docker.service.logs(name, tail=tail))
    if text:
        reporter.raw(str(text))


def wait_job(
    docker: DockerClient, reporter: Reporter, watch: Watch, name: str, deploy_id: str, timeout: float
) -> float:
    """Wait until the task of this deploy (its DOCKSTAGE_DEPLOY_ID) completed; seconds taken."""
    started = time.monotonic()
    marker = f"DOCKSTAGE_DEPLOY_ID={deploy_id}"

    def states() -> list[str]:
        try:
            tasks = docker.service.ps(name)
        except NoSuchService:  # not created yet: no task ran
            return []
        found = [
            t.status.state or ""
            for t in tasks
            if t.status and t.spec and t.spec.container_spec and marker in (t.spec.container_spec.env or [])
        ]
        watch.seen = f"the {name} task: {', '.join(found) or 'not started'}"
        return found

    if watch.until(lambda: "complete" in states() or None, timeout) is None:
        show_logs(docker, reporter, name)
        raise StackError(
            f"migrations ({name}) did not complete within {timeout:.0f} s (task states: {', '.join(states()) or 'none'})",
            "see the job's output above (`{stack_logs} --service migrate`); fix and deploy again",
        )
    return time.monotonic() - started


def update_marker(service: Service | None) -> str:
    status = service.update_status if service else None
    return f"{status.state}@{status.started_at}" if status else ""


def wait_update(
    docker: DockerClient,
    reporter: Reporter,
    watch: Watch,
    name: str,
    before: str,
    replicas: int,
    image: str,
    timeout: float,
) -> str:
    """After a spec change: wait for the rolling update that follows it to end. Returns the final
    state; raises when swarm rolled it back or paused it."""
    deadline = time.monotonic() + timeout

    def ended() -> str | None:
        service = docker.service.inspect(name)
        status, marker = service.update_status, update_marker(service)
        count = running(docker, name).count(image)
        begun = status is not None and bool(marker) and marker != before
        watch.seen = f"update {status.state if begun and status else 'not begun'}, {count} of {replicas} tasks run {_version(image)}"
        if begun and status and status.state in TERMINAL_UPDATES:
            return status.state
        return None

    state = watch.until(ended, timeout)
    if state is None:
        show_logs(docker, reporter, name)
        held = watch.look(lambda: held_by_down_nodes(docker, name))
        if held:
            raise StackError(
                f"the update of {name} did not finish within {timeout:.0f} s: it waits on its tasks on"
                f" {', '.join(held)}, down (only a node itself reports its tasks stopped)",
                f"start {held[0]} again and swarm goes on by itself, or take it out of the swarm"
                f" (`docker node rm --force {held[0]}`); check with `{{stack_ps}}`",
            )
        raise StackError(f"the update of {name} did not finish within {timeout:.0f} s", "see `{stack_ps}`")
    if state != "completed":
        message = docker.service.inspect(name).update_status
        for task in docker.service.ps(name):
            if task.status and task.status.state in ("failed", "rejected") and task.status.err:
                reporter.info(f"{name} task {task.slot}: {task.status.state}: {task.status.err}")
        raise StackError(
            f"the update of {name} failed and swarm {'rolled it back' if state.startswith('rollback') else 'paused it'}"
            f" ({message.message if message else state})",
            "see why the new tasks failed (`{stack_ps}`, `{stack_logs} --service web`); the previous version still serves",
        )
    if not wait_replicas(docker, watch, name, replicas, image, max(5.0, deadline - time.monotonic())):
        raise StackError(f"{name}: the update completed but not {replicas} tasks run", "see `{stack_ps}`")
    return state
