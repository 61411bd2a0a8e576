"""The swarm harness's cluster: node containers running dockerd (harness/docker/node.Dockerfile),
run with the flags ../shared/tools/fresh-machine uses, on a bridge network made for them beside a
registry container the nodes reach as registry:5000; three managers (node2 leads at first, node1
holds the db and the proxy and takes the harness's commands). Also the one-node swarm mode the
tests use, and the variants of the prod image the scenarios deploy.
"""

from __future__ import annotations

import functools
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage.core import loopback
from dockstage.core.errors import BuildError, StackError, docker_detail
from dockstage.core.report import Reporter
from dockstage.images import services as images
from dockstage.swarm import probe, registry
from dockstage.swarm.options import DB_LABEL, PROXY_LABEL, SwarmOptions

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
        """The manager the harness's commands talk to (node1: it runs the db and the proxy)."""
        return self.nodes[0]

    @property
    def leader(self) -> SwarmNode:
        """The manager that inits the swarm and leads it until it is lost (node2)."""
        return self.nodes[1] if len(self.nodes) > 1 else self.nodes[0]

    def socket(self, index: int) -> str:
        """DOCKER_HOST of node `index` (0-based), for tools run against it."""
        return str(self.nodes[index].docker.client_config.host)


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


class Started:
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


def node_client(socket_dir: Path) -> DockerClient:
    return DockerClient(host=f"unix://{socket_dir / 'docker.sock'}")


def answers(client: DockerClient) -> bool:
    try:
        client.version()
    except DockerException:
        return False
    return True


def start_nodes(
    docker: DockerClient,
    reporter: Reporter,
    started: Started,
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
        client = node_client(socket_dir)
        if not probe.until(functools.partial(answers, client), 60, 0.5):
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


def restart_node(cluster: Cluster, node: SwarmNode) -> float:
    """Start a killed node's container again; seconds until the manager lists it ready (0: never)."""
    started = time.monotonic()
    cluster.host.container.start(node.name)

    def ready() -> bool:
        if not answers(node.docker):
            return False
        try:
            listed = cluster.manager.docker.node.list()
        except DockerException:  # the manager itself still starting
            return False
        return any(n.description.hostname == node.hostname and n.status.state == "ready" for n in listed)

    return time.monotonic() - started if probe.until(ready, 120, 1.0) else 0.0
