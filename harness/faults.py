"""The swarm harness's faults during a rolling update, under bounded load from 127.0.0.1: (e) a node
running a task of the new version killed once that task ran past swarm's monitor window, (f) the
leading manager killed and started again. Each reports failed requests (and their kinds), when
all replicas ran the new version, what the deploy command said, and that a row written before is kept.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

from python_on_whales.exceptions import DockerException
from python_on_whales.utils import run as run_docker

from dockstage.core import loopback
from dockstage.core.errors import DockstageError
from dockstage.swarm import probe, release
from harness.cluster import SwarmNode, restart_node
from harness.scenarios import LOAD_CONNECTIONS, Ctx, Scenario, post_note, row, under_load

STALL_SECONDS = 60.0
"""How long scenario (e) lets a rolling update go on without the killed node before starting it again."""


def _web_on(ctx: Ctx, image: str, down: set[str]) -> dict[str, int]:
    """Hostname -> running tasks of `image` there, leaving out the nodes in `down` (swarm reads a
    dead node's tasks as running for seconds)."""
    try:
        return _count_web(ctx, image, down)
    except DockerException:  # a task gone between listing and reading it, a leader election: look again
        return {}


def _count_web(ctx: Ctx, image: str, down: set[str]) -> dict[str, int]:
    manager = ctx.cluster.manager.docker
    hosts = {n.id: n.description.hostname or "" for n in manager.node.list()}
    counts: dict[str, int] = {}
    for task in manager.service.ps(f"{ctx.stack}_web"):
        host = hosts.get(task.node_id or "", "")
        spec = task.spec.container_spec if task.spec else None
        if (
            task.desired_state == "running"
            and task.status is not None
            and task.status.state == "running"
            and spec is not None
            and spec.image == image
            and host not in down
        ):
            counts[host] = counts.get(host, 0) + 1
    return counts


class _PastMonitor:
    """Picks a node to kill mid-update: one of `hosts` whose tasks of `image` have all run past
    swarm's monitor window (timed from when this harness first saw each running), while the update
    still goes on. Killed inside that window, a new task counts as a failed update and swarm rolls
    back (max_failure_ratio 0): it cannot tell a crashed host from a crashing version; that is the
    failed-healthcheck scenario's case. (e) is the host's crash."""

    def __init__(self, ctx: Ctx, image: str, hosts: set[str]) -> None:
        self.ctx, self.image, self.hosts = ctx, image, hosts
        self.window = ctx.cluster.options.update_monitor + 0.5
        self.first_seen: dict[str, float] = {}
        self.ended = False
        self.inside = False  # the node picked also ran a new task still inside its window

    def __call__(self) -> str | None:
        # One `docker service ps` with a format, not python-on-whales' Task objects (an inspect per
        # task, history included: a second per look, too slow to see the updater's 2 s delay).
        manager = self.ctx.cluster.manager.docker
        command = [*manager.client_config.docker_cmd, "service", "ps", "--no-trunc", "--filter"]
        command += ["desired-state=running", "--format", "{{json .}}", f"{self.ctx.stack}_web"]
        try:
            listed = str(run_docker(command))
            rows = [json.loads(line) for line in listed.splitlines() if line.strip()]
        except DockerException:  # the manager busy electing: look again
            return None
        running = [
            (str(row["ID"]), str(row["Node"]))
            for row in rows
            if str(row.get("CurrentState", "")).startswith("Running") and row.get("Image") == self.image
        ]
        if len(running) >= self.ctx.replicas:
            self.ended = True
            return ""  # the update is over: nothing left to kill mid-way
        now = time.monotonic()
        for task, _ in running:
            self.first_seen.setdefault(task, now)
        settled = {h for t, h in running if h in self.hosts and now - self.first_seen[t] > self.window}
        young = {h for t, h in running if now - self.first_seen[t] <= self.window}
        calm = sorted(settled - young)
        # The updater often places the next new task on the same node at once: after one window
        # without a calm moment, any node with a settled task will do (the row says which case).
        if not calm and settled and now - min(self.first_seen.values()) > 2 * self.window:
            self.inside = bool(settled & young)
            return sorted(settled)[0]
        return calm[0] if calm else None


def _deploying(ctx: Ctx, version: str) -> tuple[threading.Thread, list[str]]:
    """ctx.deploy(version) in a thread; its outcome ("deployed", or the error's one line) lands in the list."""
    outcome: list[str] = []

    def work() -> None:
        try:
            ctx.deploy(version)
            outcome.append("deployed")
        except DockstageError as exc:
            outcome.append(exc.one_line())
        except DockerException as exc:  # untranslated: a gap in the deploy's error handling, shown as such
            outcome.append(f"untranslated docker failure: {(exc.stderr or '').strip()[:200]}")

    thread = threading.Thread(target=work, daemon=True, name=f"deploy-{version}")
    thread.start()
    return thread, outcome


def _kept(ctx: Ctx, marker: str) -> bool:
    status, body = loopback.status(ctx.cluster.http_port, "/api/notes/?page_size=100", timeout=10)
    return status == 200 and marker in body.decode("utf-8", "replace")


def node_killed_mid_update(ctx: Ctx) -> Scenario:
    """(e) A node running a task of the new version (and nothing else) is killed during the rolling update."""
    ctx.reporter.step("scenario e: a node running a new task killed during a rolling update, under load")
    target = ctx.versions["v1"]
    made = release.find(ctx.settings, target)
    assert made is not None  # recorded by run()
    image = made.pinned("web", ctx.cluster.options.pull_address())
    marker = f"harness {uuid.uuid4().hex[:8]}"
    note_id = post_note(ctx.cluster.http_port, ctx.settings.value("API_TOKEN"), marker)
    # A node with web tasks only: not node1 (db, proxy, the commands' manager), not the leader ((f)).
    workers = {n.hostname: n for n in ctx.cluster.nodes if n not in (ctx.cluster.manager, ctx.cluster.leader)}
    killed: list[SwarmNode] = []
    inside: list[str] = []

    def action() -> str:
        thread, outcome = _deploying(ctx, target)
        picker = _PastMonitor(ctx, image, set(workers))
        host = probe.until(picker, 120, 0.1)
        if not host:
            thread.join(ctx.settings.wait_timeout * 3)
            return f"no node with web tasks only ran a task of {target} past its monitor window before the update ended"
        victim = workers[host]
        if picker.inside:
            inside.append(victim.hostname)
        ctx.reporter.info(
            f"killing {victim.hostname} (it runs a task of {target}{', one inside its monitor window' if picker.inside else ''})"
        )
        at = time.monotonic()
        ctx.cluster.host.container.kill(victim.name)
        killed.append(victim)

        def converged() -> bool | None:
            if inside and outcome:  # swarm rolled the update back (the deploy said so): nothing to converge
                return True
            return sum(_web_on(ctx, image, {victim.hostname}).values()) == ctx.replicas or None

        # Swarm often finishes without the node; but a start-first update whose old task sat on the
        # dead node waits for that task to stop, which only the node itself can report: then the
        # node is started again (a crashed host reboots) and the update goes on.
        back, how = probe.until(converged, STALL_SECONDS, 1.0), "without it"
        if not back:
            how = f"once it was back ({restart_node(ctx.cluster, victim):.0f} s to rejoin): the update waited on its old task"
            back = probe.until(converged, ctx.settings.wait_timeout * 3, 1.0)
        replicas_in = time.monotonic() - at
        thread.join(ctx.settings.wait_timeout * 3)
        state = outcome[0] if outcome else "still waiting"
        if not back:
            return f"{victim.hostname} killed; replicas not back in time; deploy: {state}"
        return (
            f"{victim.hostname} killed; all {ctx.replicas} of {target} run {replicas_in:.1f} s after, {how};"
            f" deploy: {state}"
        )

    result, seconds, note = under_load(ctx, action)
    kept = _kept(ctx, marker)
    rejoined = restart_node(ctx.cluster, killed[0]) if killed else 0.0  # at once when it is already back
    # A host that dies takes the requests in flight to its tasks with it (the proxy cannot retry a
    # request whose upstream stopped answering mid-way before its read timeout): at most one per
    # load connection. Every other request must succeed.
    in_flight = LOAD_CONNECTIONS
    # Killed past every new task's monitor window, the update goes on to the new version; killed
    # while one ran inside it, swarm counts that task as failed and rolls back (max_failure_ratio 0),
    # and the deploy says so: both are right, the row says which happened.
    previous = ctx.versions["v2"]
    if inside:
        ended = "rolled it back" in note and ctx.serving(previous)
        note += f"; a new task was inside its monitor window: swarm rolled back, {previous} serving"
    else:
        ended = "deploy: deployed" in note and ctx.serving(target)
        note += f"; final {target if ctx.serving(target) else 'NOT ' + target}"
    passed = note_id is not None and kept and ended and result.failed <= in_flight and rejoined > 0
    note += f"; note {'kept' if kept else 'LOST'}"
    return row("e node killed mid-update", result, seconds, passed, f"{note}; node back in {rejoined:.0f} s")


def leader_killed_mid_update(ctx: Ctx) -> Scenario:
    """(f) The leading manager killed during the rolling update, then started again: the other two
    managers elect a leader and the update goes on; the deploy (talking to node1) waits through."""
    ctx.reporter.step("scenario f: the leading manager killed during a rolling update and started again, under load")
    target = ctx.versions["v2"]
    made = release.find(ctx.settings, target)
    assert made is not None  # recorded by run()
    image = made.pinned("web", ctx.cluster.options.pull_address())
    leader = ctx.cluster.leader
    marker = f"harness {uuid.uuid4().hex[:8]}"
    note_id = post_note(ctx.cluster.http_port, ctx.settings.value("API_TOKEN"), marker)
    timings: dict[str, float] = {}

    def action() -> str:
        thread, outcome = _deploying(ctx, target)
        if not probe.until(lambda: sum(_web_on(ctx, image, set()).values()) >= 1 or None, 120, 0.2):
            thread.join(ctx.settings.wait_timeout * 3)
            return "no task of the new version ran"
        ctx.reporter.info(f"killing {leader.hostname} (the leading manager) mid-update")
        at = time.monotonic()
        ctx.cluster.host.container.kill(leader.name)
        thread.join(ctx.settings.wait_timeout * 3)
        timings["deploy"] = time.monotonic() - at
        timings["converged"] = time.monotonic() - at if ctx.serving(target) else 0.0
        timings["node"] = restart_node(ctx.cluster, leader)
        return f"deploy: {outcome[0] if outcome else 'still waiting'}"

    result, seconds, note = under_load(ctx, action)
    kept = _kept(ctx, marker)
    deployed = note == "deploy: deployed"
    passed = note_id is not None and kept and deployed and timings.get("converged", 0.0) > 0 and timings["node"] > 0
    note = (
        f"{note}; {leader.hostname} killed, {target} on all {ctx.replicas} {timings.get('converged', 0):.0f} s after"
        f" the kill, node back in {timings.get('node', 0):.0f} s; note {'kept' if kept else 'LOST'}"
    )
    return row("f leader killed mid-update", result, seconds, passed, note)
