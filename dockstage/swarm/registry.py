"""A local image registry on 127.0.0.1 (`invoke registry`), and pushes to it.

registry:2 where it can be pulled, else the stand-in from Debian's docker-registry package. Its
data lives in a named volume, kept when the container is removed unless asked. Plain HTTP, so it
binds to 127.0.0.1 only: dockerd trusts 127.0.0.0/8 registries without TLS by default.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from python_on_whales import DockerClient, Image
from python_on_whales.exceptions import NoSuchImage

from dockstage.core import loopback
from dockstage.core.config import Settings
from dockstage.core.errors import ConfigError, StackError, docker_errors, swallowed
from dockstage.flows.run import Run
from dockstage.images import services as images
from dockstage.swarm import probe
from dockstage.swarm.options import SwarmOptions

LABEL = "dockstage.registry"  # value: the owning project (or harness run)
CONTAINER_PORT = 5000
READY_SECONDS = 30.0


@dataclass(frozen=True)
class Registry:
    """A running registry container."""

    name: str
    image: str
    volume: str
    port: int  # on 127.0.0.1

    @property
    def address(self) -> str:
        """host:port to push to from this machine."""
        return f"127.0.0.1:{self.port}"


def names(settings: Settings) -> tuple[str, str]:
    """The registry's container and volume names for this project."""
    return f"{settings.project}-registry", f"{settings.project}-registry-data"


def _published_port(docker: DockerClient, name: str) -> int:
    container = docker.container.inspect(name)
    for binding in (container.network_settings.ports or {}).get(f"{CONTAINER_PORT}/tcp") or []:
        if binding.get("HostIp") == "127.0.0.1" and binding.get("HostPort"):
            return int(binding["HostPort"])
    raise StackError(
        f"registry container {name} publishes no port on 127.0.0.1",
        f"remove it (`docker rm -f {name}`) and run `{{registry}}` again",
    )


def wait_ready(port: int, timeout: float = READY_SECONDS) -> bool:
    """True once GET /v2/ answers 200 on 127.0.0.1:<port>."""
    return probe.until(lambda: loopback.status(port, "/v2/", timeout=2)[0] == 200, timeout, 0.2) is True


def up(
    run: Run,
    options: SwarmOptions | None = None,
    *,
    name: str | None = None,
    volume: str | None = None,
    port: int | None = None,
    network: str | None = None,
    alias: str = "registry",
    owner: str | None = None,
) -> Registry:
    """Start (or find running) the registry: 127.0.0.1:<port>, data in a named volume.

    `port` 0 picks a free port; `network` also attaches it there under `alias` (the harness)."""
    run.preflight()
    settings, docker, reporter = run.settings, run.docker, run.reporter
    options = options or SwarmOptions.from_settings(settings)
    default_name, default_volume = names(settings)
    name, volume = name or default_name, volume or default_volume
    owner = owner or settings.project
    wanted_port = options.registry_port if port is None else port
    if docker.container.exists(name):
        found = docker.container.inspect(name)
        if (found.config.labels or {}).get(LABEL) != owner:
            raise StackError(
                f"a container named {name} exists and is not this project's registry",
                "remove or rename it, or set DOCKSTAGE_PROJECT to another name",
            )
        if not found.state.running:
            docker.container.start(name)
        running_port = _published_port(docker, name)
        if wanted_port and running_port != wanted_port:
            raise ConfigError(
                f"the registry {name} already runs on port {running_port}, not {wanted_port}",
                f"use DOCKSTAGE_REGISTRY_PORT={running_port}, or `{{registry}} --stop` and start it again",
            )
        registry = Registry(name, found.config.image or "", volume, running_port)
    else:
        image = images.resolve(docker, images.REGISTRY, reporter, settings.hub_mirror)
        reporter.step(f"registry {name} ({image}) on 127.0.0.1:{wanted_port or '<any>'}")
        if not docker.volume.exists(volume):
            docker.volume.create(volume, labels={LABEL: owner})
        with docker_errors(
            f"starting the registry container {name}",
            port=wanted_port,
            another_port="DOCKSTAGE_REGISTRY_PORT=5001",
        ):
            docker.run(
                image,
                detach=True,
                name=name,
                publish=[(f"127.0.0.1:{wanted_port or ''}", CONTAINER_PORT)],
                volumes=[(volume, "/var/lib/registry")],
                labels={LABEL: owner},
                restart="unless-stopped",
                networks=[network] if network else [],
                network_aliases=[alias] if network else [],
            )
        registry = Registry(name, image, volume, _published_port(docker, name))
    if not wait_ready(registry.port):
        raise StackError(
            f"the registry on {registry.address} does not answer GET /v2/",
            f"see `docker logs {name}`",
        )
    reporter.ok(f"registry {registry.name} on http://{registry.address} (data: volume {registry.volume})")
    return registry


def down(
    run: Run,
    *,
    volumes: bool = False,
    yes: bool = False,
    name: str | None = None,
    volume: str | None = None,
    owner: str | None = None,
) -> None:
    """Remove the registry container; its volume (every pushed image) only with volumes and yes."""
    settings, docker, reporter = run.settings, run.docker, run.reporter
    default_name, default_volume = names(settings)
    name, volume = name or default_name, volume or default_volume
    owner = owner or settings.project
    if volumes and not yes:
        raise ConfigError("deleting the registry volume removes every pushed image", "add --yes to confirm --volumes")
    run.preflight()
    address = ""
    if docker.container.exists(name):
        if (docker.container.inspect(name).config.labels or {}).get(LABEL) != owner:
            raise StackError(f"{name} is not this project's registry", "leave it alone or remove it yourself")
        with contextlib.suppress(StackError):  # a registry publishing no port: no tags to find
            address = f"127.0.0.1:{_published_port(docker, name)}"
        docker.container.remove(name, force=True)
        reporter.ok(f"registry {name} removed")
    if volumes and docker.volume.exists(volume):
        if (docker.volume.inspect(volume).labels or {}).get(LABEL) != owner:
            raise StackError(f"volume {volume} is not this project's registry data", "remove it yourself")
        docker.volume.remove(volume)
        reporter.ok(f"volume {volume} removed")
        if address:
            untagged = untag(docker, address)
            if untagged:
                reporter.ok(f"{untagged} local tags of {address} removed (what they named went with the volume)")


def untag(docker: DockerClient, address: str) -> int:
    """Remove this engine's tags of images pushed to `address` (the images stay while another tag
    or a container uses them); how many."""
    tags = [tag for tags in map(_repo_tags, docker.image.list()) for tag in tags if tag.startswith(f"{address}/")]
    for tag in tags:
        with swallowed(f"untagging {tag}"):
            docker.image.remove(tag)
    return len(tags)


def _repo_tags(image: Image) -> list[str]:
    """The image's tags; none when it was removed since it was listed (by another command on the
    engine: a listing is not a snapshot, each image is inspected after it)."""
    try:
        return list(image.repo_tags or [])
    except NoSuchImage:
        return []


@dataclass(frozen=True)
class Pushed:
    """An image pushed to a registry."""

    ref: str  # as pushed: 127.0.0.1:5000/name:tag
    digest: str  # sha256:... (the manifest digest: the same wherever the registry is reached)

    def pinned(self, address: str) -> str:
        """name:tag@digest as reached at `address` (the nodes may see the registry elsewhere)."""
        _, _, path = self.ref.partition("/")
        return f"{address}/{path}@{self.digest}"


def push(docker: DockerClient, source: str, registry_address: str, target: str | None = None) -> Pushed:
    """Tag `source` as <registry>/<target or source> and push it; the manifest digest."""
    target = target or source
    ref = f"{registry_address}/{target}"
    with docker_errors(
        f"pushing {ref}",
        otherwise=lambda exc: StackError(f"pushing {ref} failed", "is the registry up? `{registry}` starts it"),
    ):
        docker.image.tag(source, ref)
        docker.image.push(ref, quiet=True)
        digests = docker.image.inspect(ref).repo_digests or []
    repository = ref.rsplit(":", 1)[0] if ":" in ref.rsplit("/", 1)[-1] else ref
    for entry in digests:
        name, _, digest = entry.partition("@")
        if name == repository:
            return Pushed(ref, digest)
    raise StackError(f"the engine recorded no digest for {ref}", "push it again; see `docker image inspect`")
