"""`nox -s swarm`: a three-node swarm in containers, the stack on it, four scenarios under load.

The nodes are containers of a Debian image with Debian's docker.io (harness/docker/node.Dockerfile),
run with the flags ../shared/tools/fresh-machine uses, on a bridge network made for them, beside
a registry container the nodes reach as registry:5000 (plain HTTP, so configured as an insecure
registry and as their mirror). The host drives each node's dockerd through a socket in a
bind-mounted directory; load goes from this machine to 127.0.0.1 only, through the port node1's
container publishes there (the proxy's host-mode port inside node1).

Scenarios, each under bounded load: (a) a rolling update to a new version; (b) a new version whose
healthcheck fails (swarm rolls it back); (c) a worker node stopped (its tasks are rescheduled);
(d) the stack removed and deployed again (the database rows survive). Then the official bases:
stand-ins pushed as python:3.12-slim and mysql:8.4, pulled through a node's mirror, and the
doctor's checks with DOCKSTAGE_FLAVOUR=official against that node.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException
from python_on_whales.utils import run as run_docker

from dockstage.core import loopback
from dockstage.core.config import Settings
from dockstage.core.errors import BuildError, CheckFailed, DockstageError, StackError, docker_detail
from dockstage.core.report import Reporter
from dockstage.flows import pipeline
from dockstage.flows.run import Run
from dockstage.images import bases
from dockstage.images import services as images
from dockstage.swarm import deploy, probe, registry, release
from dockstage.swarm.options import DB_LABEL, PROXY_LABEL, SwarmOptions
from harness.load import Load, LoadResult, timed

LABEL = "dockstage.harness"  # on every container, volume and network the harness makes
# ../shared/tools/fresh-machine's flags (--privileged is refused here): every capability this
# host allows, unconfined seccomp/apparmor/systempaths, and the cgroup tree writable.
NODE_CAPS_DROPPED = ["SYS_RESOURCE"]
NODE_SECURITY = ["seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined"]
REGISTRY_IN_SWARM = "registry:5000"
PROXY_PORT = 8080
STALL_SECONDS = 60.0
LOAD_CONNECTIONS = 4
"""Keep-alive connections of the scenarios' load: also the most requests a killed host can have in flight."""
"""How long scenario (e) lets a rolling update go on without the killed node before starting it again."""
HERE = Path(__file__).resolve().parent
VARIANT = HERE / "docker" / "variant.Dockerfile"
NODE = images.Choice("", f"dockstage/swarm-node:20.10-{images.FLAVOUR}", HERE / "docker" / "node.Dockerfile")
OFFICIAL_NAMES = {"python": "library/python:3.12-slim", "mysql": "library/mysql:8.4"}


@dataclass(frozen=True)
class SwarmNode:
    """One swarm node: its container and a client of the dockerd inside it."""

    name: str  # container name
    hostname: str
    docker: DockerClient
    address: str  # on the harness network


@dataclass
class Cluster:
    """What the harness started (for the scenarios and for `while_up`)."""

    prefix: str
    network: str
    registry: registry.Registry
    nodes: list[SwarmNode]
    http_port: int  # 127.0.0.1 port of the proxy (node1's published 8080)
    options: SwarmOptions
    host: DockerClient  # this machine's engine, where the node containers run

    @property
    def manager(self) -> SwarmNode:
        """The manager the harness's commands talk to (node1: it runs the db and the proxy)."""
        return self.nodes[0]

    @property
    def leader(self) -> SwarmNode:
        """The manager that inits the swarm and leads it until it is lost (node2)."""
        return self.nodes[1] if len(self.nodes) > 1 else self.nodes[0]

    def socket(self, index: int) -> str:
        """DOCKER_HOST of node `index` (0-based), for tools run against it."""
        return str(self.nodes[index].docker.client_config.host)


@dataclass(frozen=True)
class Scenario:
    """One row of the harness table."""

    name: str
    requests: int
    failed: int
    seconds: float
    passed: bool
    note: str


@dataclass
class Outcome:
    """The harness's result: the scenario rows, the official-bases check, where the JSON went."""

    scenarios: list[Scenario] = field(default_factory=list)
    official_bases: list[str] = field(default_factory=list)
    official_passed: bool = False
    json_path: Path | None = None

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.scenarios) and self.official_passed


@contextmanager
def single_node(docker: DockerClient, reporter: Reporter, advertise: str = "127.0.0.1") -> Iterator[None]:
    """This engine as a one-node swarm for the block, then out of swarm mode again (and the
    docker_gwbridge network swarm leaves behind removed). An engine already in a swarm is not
    touched: that swarm is someone else's."""
    swarm = docker.system.info().swarm
    if swarm is not None and swarm.local_node_state not in (None, "inactive"):
        raise StackError(
            "this engine is already part of a swarm", "use that swarm (DOCKER_HOST of a manager), or leave it first"
        )
    had_bridge = network_exists(docker, "docker_gwbridge")
    docker.swarm.init(advertise_address=advertise)
    reporter.info(f"engine in swarm mode (one node, advertising {advertise})")
    try:
        yield
    finally:
        docker.swarm.leave(force=True)
        if not had_bridge:
            probe.until(lambda: _remove_network(docker, "docker_gwbridge"), 30, 0.5)
        reporter.info("engine out of swarm mode again")


def network_exists(docker: DockerClient, name: str) -> bool:
    """Whether a network of that exact name exists (python-on-whales' exists() misreads the
    20.10 client's "No such network" and raises)."""
    return any(n.name == name for n in docker.network.list(filters=[("name", name)]))


def _remove_network(docker: DockerClient, name: str) -> bool:
    if not network_exists(docker, name):
        return True
    try:
        docker.network.remove(name)
    except DockerException:
        return False
    return True


class _Started:
    """Everything the harness makes, removed in reverse order."""

    def __init__(self, docker: DockerClient, reporter: Reporter) -> None:
        self.docker, self.reporter = docker, reporter
        self.containers: list[str] = []
        self.volumes: list[str] = []
        self.networks: list[str] = []
        self.tags: list[str] = []
        self.dirs: list[Path] = []

    def remove(self) -> None:
        docker = self.docker
        for name in reversed(self.containers):
            with suppress(DockerException):
                if docker.container.exists(name):
                    # A node's dockerd stops its own containers on SIGTERM first.
                    docker.container.stop(name, time=30)
                    docker.container.remove(name, force=True, volumes=True)
        for name in self.volumes:
            with suppress(DockerException):
                if docker.volume.exists(name):
                    docker.volume.remove(name)
        for name in self.networks:
            with suppress(DockerException):
                if network_exists(docker, name):
                    docker.network.remove(name)
        for tag in self.tags:
            with suppress(DockerException):
                if docker.image.exists(tag):
                    docker.image.remove(tag)
        for path in self.dirs:
            shutil.rmtree(path, ignore_errors=True)
        self.reporter.info("harness: containers, volumes, network, pushed tags and temporary files removed")


def _node_client(socket_dir: Path) -> DockerClient:
    return DockerClient(host=f"unix://{socket_dir / 'docker.sock'}")


def _answers(client: DockerClient) -> bool:
    try:
        client.version()
    except DockerException:
        return False
    return True


def start_nodes(
    docker: DockerClient,
    reporter: Reporter,
    started: _Started,
    prefix: str,
    network: str,
    count: int,
    image: str,
    workdir: Path,
) -> tuple[list[SwarmNode], int]:
    """`count` node containers on `network`, each dockerd answering; node1's 8080 on a fixed
    127.0.0.1 port (the same after the node is started again)."""
    reporter.step(f"starting {count} swarm nodes ({image})")
    http_port = loopback.free_port()
    made: list[tuple[str, str, Path]] = []
    for index in range(1, count + 1):
        name, hostname = f"{prefix}-node{index}", f"node{index}"
        volume = f"{prefix}-node{index}-docker"
        docker.volume.create(volume, labels={LABEL: prefix})
        started.volumes.append(volume)
        socket_dir = workdir / hostname
        socket_dir.mkdir(mode=0o700)
        started.containers.append(name)
        docker.run(
            image,
            [
                "--insecure-registry",
                REGISTRY_IN_SWARM,
                "--registry-mirror",
                f"http://{REGISTRY_IN_SWARM}",
            ],
            detach=True,
            name=name,
            hostname=hostname,
            networks=[network],
            labels={LABEL: prefix},
            volumes=[
                ("/sys/fs/cgroup", "/sys/fs/cgroup", "rw"),
                (volume, "/var/lib/docker"),
                (socket_dir, "/run/dockstage"),
            ],
            # A fixed host port: a node started again after a kill publishes the same one.
            publish=[(f"127.0.0.1:{http_port}", PROXY_PORT)] if index == 1 else [],
            cap_add=["ALL"],
            cap_drop=NODE_CAPS_DROPPED,
            security_options=NODE_SECURITY,
        )
        made.append((name, hostname, socket_dir))
    nodes = []
    for name, hostname, socket_dir in made:
        client = _node_client(socket_dir)
        if not probe.until(functools.partial(_answers, client), 60, 0.5):
            raise StackError(f"the dockerd in {name} did not start within 60 s", f"see `docker logs {name}`")
        attached = docker.container.inspect(name).network_settings.networks or {}
        address = (attached[network].ip_address or "") if network in attached else ""
        nodes.append(SwarmNode(name, hostname, client, address))
    reporter.ok(f"{count} nodes: {', '.join(f'{n.hostname} {n.address}' for n in nodes)}")
    return nodes, http_port


def form_swarm(nodes: list[SwarmNode], reporter: Reporter) -> None:
    """Three managers (Docker's advice: one may be lost, quorum stays): node2 inits and leads at
    first, the others join as managers; node1 is labelled for the db and the proxy (its container
    publishes the proxy's port) and is the one the harness's commands talk to, so losing the leader
    is a manager lost, not the stack's db, proxy or client."""
    leader = nodes[1] if len(nodes) > 1 else nodes[0]
    leader.docker.swarm.init(advertise_address=leader.address)
    token = leader.docker.swarm.join_token("manager")
    for node in nodes:
        if node is not leader:
            node.docker.swarm.join(f"{leader.address}:2377", advertise_address=node.address, token=token)

    def ready() -> bool:
        listed = leader.docker.node.list()
        return len(listed) == len(nodes) and all(n.status.state == "ready" for n in listed)

    if not probe.until(ready, 60, 1.0):
        raise StackError("the nodes did not all join the swarm within 60 s", "see the node containers' logs")
    front = nodes[0]
    for listed in leader.docker.node.list():
        if listed.description.hostname == front.hostname:
            leader.docker.node.update(listed, labels_add={DB_LABEL: "true", PROXY_LABEL: "true"})
    reporter.ok(
        f"swarm: {len(nodes)} managers, {leader.hostname} leading; {front.hostname} runs db and proxy"
        " and takes the harness's commands"
    )


def build_variant(docker: DockerClient, reporter: Reporter, base: str, target: str, tag: str, version: str) -> str:
    """A variant of the prod image (harness/docker/variant.Dockerfile): a new digest, or unhealthy."""
    reporter.step(f"variant {target} of {base} -> {tag}")
    try:
        docker.buildx.build(
            context_path=VARIANT.parent,
            file=VARIANT,
            target=target,
            build_args={"BASE": base},
            labels={"dockstage.harness.version": version},
            tags=[tag],
            load=True,
            progress=False,
        )
    except DockerException as exc:
        raise BuildError(
            f"build of {tag} failed", "see harness/docker/variant.Dockerfile", detail=docker_detail(exc)
        ) from None
    return tag


def _web_image(cluster: Cluster, stack: str) -> str:
    service = cluster.manager.docker.service.inspect(f"{stack}_web")
    spec = service.spec.task_template
    return (spec.container_spec.image or "") if spec and spec.container_spec else ""


def _post_note(port: int, token: str, text: str) -> int | None:
    try:
        response = loopback.fetch(
            f"http://127.0.0.1:{port}/api/notes/", method="POST", body={"text": text}, token=token
        )
        return int(response.json()["id"]) if response.status == 201 else None  # type: ignore[index]
    except (*loopback.NO_ANSWER, ValueError, KeyError):
        return None


def _healthy_path(port: int) -> bool:
    return loopback.status(port, "/healthz", timeout=5)[0] == 200


def _row(name: str, result: LoadResult, seconds: float, passed: bool, note: str) -> Scenario:
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
class _Ctx:
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


def _under_load(ctx: _Ctx, action: Callable[[], str]) -> tuple[LoadResult, float, str]:
    """Run `action` (its note) under load; the load always stops. (load, seconds, note)."""
    result, seconds, note = timed(action, ctx.load())
    assert result is not None  # a load was running
    return result, seconds, note


def _rolling_update(ctx: _Ctx) -> Scenario:
    ctx.reporter.step("scenario a: rolling update under load")

    def action() -> str:
        ctx.deploy(ctx.versions["v2"])
        return f"serving {ctx.versions['v2']}"

    result, seconds, note = _under_load(ctx, action)
    passed = not note.startswith("error") and result.failed == 0 and ctx.serving(ctx.versions["v2"])
    return _row("a rolling update", result, seconds, passed, note)


def _failed_healthcheck(ctx: _Ctx) -> Scenario:
    ctx.reporter.step("scenario b: unhealthy version, automatic rollback, under load")

    def action() -> str:
        try:
            ctx.deploy(ctx.versions["bad"])
        except StackError as exc:
            if "rolled it back" in exc.what:
                return "rolled back"
            raise
        return "the unhealthy version was not rolled back"

    result, seconds, note = _under_load(ctx, action)
    old = ctx.serving(ctx.versions["v2"])
    passed = note == "rolled back" and old and result.failed == 0 and _healthy_path(ctx.cluster.http_port)
    return _row(
        "b failed healthcheck", result, seconds, passed, f"{note}; {ctx.versions['v2']} still serving" if old else note
    )


def _worker_stopped(ctx: _Ctx) -> Scenario:
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

    result, seconds, note = _under_load(ctx, action)
    rejoined = _restart_node(ctx, worker)  # for the scenarios after this one
    passed = note.endswith("running") and rejoined > 0
    return _row("c node stopped", result, seconds, passed, f"{note} after {seconds:.0f} s; back in {rejoined:.0f} s")


def _web_on(ctx: _Ctx, image: str, down: set[str]) -> dict[str, int]:
    """Hostname -> running tasks of `image` there, leaving out the nodes in `down` (swarm reads a
    dead node's tasks as running for seconds)."""
    try:
        return _count_web(ctx, image, down)
    except DockerException:  # a task gone between listing and reading it, a leader election: look again
        return {}


def _count_web(ctx: _Ctx, image: str, down: set[str]) -> dict[str, int]:
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

    def __init__(self, ctx: _Ctx, image: str, hosts: set[str]) -> None:
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


def _restart_node(ctx: _Ctx, node: SwarmNode) -> float:
    """Start a killed node's container again; seconds until the manager lists it ready (0: never)."""
    started = time.monotonic()
    ctx.cluster.host.container.start(node.name)

    def ready() -> bool:
        if not _answers(node.docker):
            return False
        try:
            listed = ctx.cluster.manager.docker.node.list()
        except DockerException:  # the manager itself still starting
            return False
        return any(n.description.hostname == node.hostname and n.status.state == "ready" for n in listed)

    return time.monotonic() - started if probe.until(ready, 120, 1.0) else 0.0


def _deploying(ctx: _Ctx, version: str) -> tuple[threading.Thread, list[str]]:
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


def _kept(ctx: _Ctx, marker: str) -> bool:
    status, body = loopback.status(ctx.cluster.http_port, "/api/notes/?page_size=100", timeout=10)
    return status == 200 and marker in body.decode("utf-8", "replace")


def _node_killed_mid_update(ctx: _Ctx) -> Scenario:
    """(e) A node running a task of the new version (and nothing else) is killed during the rolling update."""
    ctx.reporter.step("scenario e: a node running a new task killed during a rolling update, under load")
    target = ctx.versions["v1"]
    made = release.find(ctx.settings, target)
    assert made is not None  # recorded by run()
    image = made.pinned("web", ctx.cluster.options.pull_address())
    marker = f"harness {uuid.uuid4().hex[:8]}"
    note_id = _post_note(ctx.cluster.http_port, ctx.settings.value("API_TOKEN"), marker)
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
            how = f"once it was back ({_restart_node(ctx, victim):.0f} s to rejoin): the update waited on its old task"
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

    result, seconds, note = _under_load(ctx, action)
    kept = _kept(ctx, marker)
    rejoined = _restart_node(ctx, killed[0]) if killed else 0.0  # at once when it is already back
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
    return _row("e node killed mid-update", result, seconds, passed, f"{note}; node back in {rejoined:.0f} s")


def _leader_killed_mid_update(ctx: _Ctx) -> Scenario:
    """(f) The leading manager killed during the rolling update, then started again: the other two
    managers elect a leader and the update goes on; the deploy (talking to node1) waits through."""
    ctx.reporter.step("scenario f: the leading manager killed during a rolling update and started again, under load")
    target = ctx.versions["v2"]
    made = release.find(ctx.settings, target)
    assert made is not None  # recorded by run()
    image = made.pinned("web", ctx.cluster.options.pull_address())
    leader = ctx.cluster.leader
    marker = f"harness {uuid.uuid4().hex[:8]}"
    note_id = _post_note(ctx.cluster.http_port, ctx.settings.value("API_TOKEN"), marker)
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
        timings["node"] = _restart_node(ctx, leader)
        return f"deploy: {outcome[0] if outcome else 'still waiting'}"

    result, seconds, note = _under_load(ctx, action)
    kept = _kept(ctx, marker)
    deployed = note == "deploy: deployed"
    passed = note_id is not None and kept and deployed and timings.get("converged", 0.0) > 0 and timings["node"] > 0
    note = (
        f"{note}; {leader.hostname} killed, {target} on all {ctx.replicas} {timings.get('converged', 0):.0f} s after"
        f" the kill, node back in {timings.get('node', 0):.0f} s; note {'kept' if kept else 'LOST'}"
    )
    return _row("f leader killed mid-update", result, seconds, passed, note)


def _redeploy(ctx: _Ctx) -> Scenario:
    ctx.reporter.step("scenario d: undeploy and deploy again under load, rows survive")
    port = ctx.cluster.http_port
    marker = f"harness {uuid.uuid4().hex[:8]}"
    note_id = _post_note(port, ctx.settings.value("API_TOKEN"), marker)

    def action() -> str:
        deploy.undeploy(ctx.on_manager(), options=ctx.cluster.options)
        ctx.deploy(ctx.versions["v2"])
        probe.until(lambda: _healthy_path(port) or None, 60, 1.0)
        status, body = loopback.status(port, "/api/notes/?page_size=100", timeout=10)
        return "note kept" if status == 200 and marker in body.decode("utf-8", "replace") else "note lost"

    result, seconds, note = _under_load(ctx, action)
    passed = note_id is not None and note == "note kept"
    # Requests fail while no stack runs: that is the downtime a redeploy costs, reported, not judged.
    return _row("d redeploy", result, seconds, passed, f"{note}; failures = downtime between undeploy and deploy")


def scenarios(
    settings: Settings,
    reporter: Reporter,
    cluster: Cluster,
    versions: dict[str, str],
    replicas: int,
    *,
    max_requests: int,
    max_seconds: float,
) -> list[Scenario]:
    """(a) rolling update, (b) failed healthcheck and rollback, (c) a node down (and back), (e) a
    node and (f) the leading manager killed during a rolling update, (d) redeploy.
    A scenario that errs is a failed row; the next ones still run."""
    ctx = _Ctx(settings, reporter, cluster, versions, replicas, max_requests, max_seconds)
    rows = []
    for name, scenario in (
        ("a rolling update", _rolling_update),
        ("b failed healthcheck", _failed_healthcheck),
        ("c node stopped", _worker_stopped),
        ("e node killed mid-update", _node_killed_mid_update),
        ("f leader killed mid-update", _leader_killed_mid_update),
        ("d redeploy", _redeploy),
    ):
        try:
            rows.append(scenario(ctx))
        except (DockstageError, DockerException) as exc:
            rows.append(Scenario(name, 0, 0, 0.0, False, f"error: {exc}"))
        reporter.info(f"{rows[-1].name}: {rows[-1].requests} requests, {rows[-1].failed} failed, {rows[-1].seconds} s")
    return rows


def official_bases(
    settings: Settings, docker: DockerClient, node: SwarmNode, reporter: Reporter, registry_address: str
) -> tuple[bool, list[str]]:
    """Push the stand-ins as python:3.12-slim and mysql:8.4 to the registry, then run the doctor's
    checks with DOCKSTAGE_FLAVOUR=official against `node`, whose dockerd pulls through the registry
    as its mirror. (passed, one line per check)."""
    stand_in = bases.stand_in("bookworm")
    pushed = {
        "python": registry.push(docker, stand_in.python, registry_address, OFFICIAL_NAMES["python"]),
        "mysql": registry.push(docker, stand_in.mysql, registry_address, OFFICIAL_NAMES["mysql"]),
    }
    reporter.info(", ".join(f"{p.ref} ({p.digest[:19]})" for p in pushed.values()))
    official = settings.with_(flavour="official")
    run = Run(official, reporter, node.docker)
    lines: list[str] = []
    try:
        checks = pipeline.doctor(run)
        lines = [f"{c.name}: {c.detail}" for c in checks]
        passed = all(c.passed for c in checks)
    except DockstageError as exc:
        lines.append(str(exc))
        passed = False
    return passed, lines


def run(
    settings: Settings,
    docker: DockerClient,
    reporter: Reporter,
    *,
    node_count: int = 3,
    replicas: int = 3,
    max_requests: int = 50_000,
    max_seconds: float = 600.0,
    results: Path | None = None,
    while_up: Callable[[Cluster], None] | None = None,
) -> Outcome:
    """The whole harness; everything it starts is removed at the end (also on failure). The
    stand-in images it builds (node, registry, proxy) stay, as the base stand-ins do."""
    source = settings.tag("prod")
    if not docker.image.exists(source):
        raise StackError(f"{source} is not built", "build it first: `{build}`")
    prefix = f"dsh-{uuid.uuid4().hex[:6]}"
    workdir = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir="/tmp"))
    started = _Started(docker, reporter)
    started.dirs.append(workdir)
    outcome = Outcome()
    hs = settings.with_(state_dir=str(workdir / "state"), env_file=str(workdir / "harness.env"))
    local = Run(hs, reporter, docker)  # the registry and the releases: this engine
    hs = local.ensure_env()
    try:
        node_image = images.build_stand_in(docker, NODE, reporter)
        network = f"{prefix}-net"
        docker.network.create(network, driver="bridge", labels={LABEL: prefix})
        started.networks.append(network)
        started.containers.append(f"{prefix}-registry")
        started.volumes.append(f"{prefix}-registry")
        reg = registry.up(
            local,
            name=f"{prefix}-registry",
            volume=f"{prefix}-registry",
            port=0,
            network=network,
            alias="registry",
            owner=prefix,
        )
        options = SwarmOptions(
            registry_port=reg.port,
            registry_address=REGISTRY_IN_SWARM,
            stack=prefix,
            proxy_port=PROXY_PORT,
            replicas=replicas,
        )
        nodes, http_port = start_nodes(docker, reporter, started, prefix, network, node_count, node_image, workdir)
        cluster = Cluster(prefix, network, reg, nodes, http_port, options, docker)
        form_swarm(nodes, reporter)

        versions = {"v1": f"{prefix}-v1", "v2": f"{prefix}-v2", "bad": f"{prefix}-unhealthy"}
        variants = {
            "v2": build_variant(docker, reporter, source, "relabelled", f"{prefix}/variant:v2", versions["v2"]),
            "bad": build_variant(docker, reporter, source, "unhealthy", f"{prefix}/variant:unhealthy", versions["bad"]),
        }
        started.tags.extend(variants.values())
        for key, version in versions.items():
            made = release.release(local, version, options=options, source=variants.get(key))
            started.tags.extend([made.ref, *(f"{reg.address}/{ref.split('@')[0]}" for ref in made.images.values())])

        reporter.step(f"deploy {versions['v1']} ({replicas} web replicas over {node_count} nodes)")
        manager = Run(hs, reporter, cluster.manager.docker)  # the deploys: the swarm's manager node
        deploy.deploy(manager, versions["v1"], replicas, options=options)
        if not probe.until(lambda: _healthy_path(http_port) or None, 60, 1.0):
            raise StackError(f"the proxy on 127.0.0.1:{http_port} does not answer /healthz", "see `invoke stack-ps`")
        reporter.ok(f"serving on http://127.0.0.1:{http_port}")

        reporter.step("official bases through a node's registry mirror")
        try:
            outcome.official_passed, outcome.official_bases = official_bases(
                hs, docker, nodes[1], reporter, reg.address
            )
        except (DockstageError, DockerException) as exc:
            outcome.official_bases = [f"error: {exc}"]
        started.tags.extend(f"{reg.address}/{name}" for name in OFFICIAL_NAMES.values())
        (reporter.ok if outcome.official_passed else reporter.fail)(
            "DOCKSTAGE_FLAVOUR=official doctor against node2: " + "; ".join(outcome.official_bases)
        )
        if while_up is not None:
            while_up(cluster)  # the stack serves; node2 has the official names (e.g. run nox -s doctor there)

        outcome.scenarios = scenarios(
            hs, reporter, cluster, versions, replicas, max_requests=max_requests, max_seconds=max_seconds
        )
    finally:
        started.remove()
    reporter.table(
        f"swarm harness ({node_count} nodes, {replicas} web replicas; load from 127.0.0.1)",
        ("scenario", "requests", "failed", "seconds", "passed", "note"),
        (
            (s.name, s.requests, s.failed, f"{s.seconds:.1f}", "yes" if s.passed else "NO", s.note)
            for s in outcome.scenarios
        ),
    )
    path = results or settings.path("benchmarks/results/swarm.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "nodes": node_count,
                "replicas": replicas,
                "scenarios": [dataclasses.asdict(s) for s in outcome.scenarios],
                "official_bases": {"passed": outcome.official_passed, "checks": outcome.official_bases},
                "passed": outcome.passed,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    outcome.json_path = path
    (reporter.ok if outcome.passed else reporter.fail)(f"swarm harness: results in {path}")
    return outcome


def verdict(outcome: Outcome) -> Outcome:
    """The outcome when it passed; else CheckFailed naming what did not (`nox -s swarm`'s exit code)."""
    if outcome.passed:
        return outcome
    failed = [s.name for s in outcome.scenarios if not s.passed]
    if not outcome.official_passed:
        failed.append("the official bases through a registry mirror")
    raise CheckFailed(
        f"the swarm harness failed: {', '.join(failed)}", f"see the table above and {outcome.json_path or 'swarm.json'}"
    )
