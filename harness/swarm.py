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
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage.core import loopback
from dockstage.core.config import Settings
from dockstage.core.errors import BuildError, DockstageError, StackError, docker_detail
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
        return self.nodes[0]

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
    """`count` node containers on `network`, each dockerd answering; node1's 8080 on 127.0.0.1."""
    reporter.step(f"starting {count} swarm nodes ({image})")
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
            publish=[("127.0.0.1:", PROXY_PORT)] if index == 1 else [],
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
    bindings = (docker.container.inspect(made[0][0]).network_settings.ports or {}).get(f"{PROXY_PORT}/tcp") or []
    port = next(int(b["HostPort"]) for b in bindings if b.get("HostIp") == "127.0.0.1")
    reporter.ok(f"{count} nodes: {', '.join(f'{n.hostname} {n.address}' for n in nodes)}")
    return nodes, port


def form_swarm(nodes: list[SwarmNode], reporter: Reporter) -> None:
    """node1 inits (manager, labelled for db and proxy); the others join as workers."""
    manager = nodes[0]
    manager.docker.swarm.init(advertise_address=manager.address)
    token = manager.docker.swarm.join_token("worker")
    for node in nodes[1:]:
        node.docker.swarm.join(f"{manager.address}:2377", advertise_address=node.address, token=token)

    def ready() -> bool:
        listed = manager.docker.node.list()
        return len(listed) == len(nodes) and all(n.status.state == "ready" for n in listed)

    if not probe.until(ready, 60, 1.0):
        raise StackError("the nodes did not all join the swarm within 60 s", "see the node containers' logs")
    for listed in manager.docker.node.list():
        if listed.description.hostname == manager.hostname:
            manager.docker.node.update(listed, labels_add={DB_LABEL: "true", PROXY_LABEL: "true"})
    reporter.ok(f"swarm: {manager.hostname} manager (db, proxy), {len(nodes) - 1} workers")


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
    return Scenario(name, result.requests, result.failed, round(seconds, 1), passed, note)


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
            self.cluster.http_port, connections=4, max_requests=self.max_requests, max_seconds=self.max_seconds
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
    ctx.reporter.step("scenario c: a worker node stopped, under load")
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
    return _row("c worker stopped", result, seconds, note.endswith("running"), f"{note} after {seconds:.0f} s")


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
    """(a) rolling update, (b) failed healthcheck and rollback, (c) worker down, (d) redeploy.
    A scenario that errs is a failed row; the next ones still run."""
    ctx = _Ctx(settings, reporter, cluster, versions, replicas, max_requests, max_seconds)
    rows = []
    for name, scenario in (
        ("a rolling update", _rolling_update),
        ("b failed healthcheck", _failed_healthcheck),
        ("c worker stopped", _worker_stopped),
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
