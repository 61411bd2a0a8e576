"""Service images (the registry, the proxy): official ones where they can be had, else stand-ins from Debian.

Stand-ins are built like dockstage/images/offline.py builds its own: a Dockerfile the package ships
(data/standins/, through core.resources) on the minbase root filesystem image, through buildx,
loaded into the engine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from python_on_whales import DockerClient

from dockstage.core import resources
from dockstage.core.errors import BuildError, docker_detail, docker_errors, engine_error
from dockstage.core.report import Reporter
from dockstage.images import bases, offline

FLAVOUR = "bookworm"  # the stand-ins' Debian suite


@dataclass(frozen=True)
class Choice:
    """An official image and the stand-in that replaces it when it cannot be had."""

    official: str
    stand_in: str
    dockerfile: Path  # its folder is the build context


def _shipped(dockerfile: str) -> Path:
    """A stand-in Dockerfile of the package, in its (real) build context folder."""
    return resources.build_context(dockerfile)[1]


REGISTRY = Choice("registry:2", f"dockstage/registry:2-{FLAVOUR}", _shipped(resources.REGISTRY_STANDIN))
PROXY = Choice("nginx:1.27", f"dockstage/nginx:1.22-{FLAVOUR}", _shipped(resources.PROXY_STANDIN))


def present_or_pullable(docker: DockerClient, ref: str, mirror: str = "") -> bool:
    """True when the engine has `ref` or can pull it now (through `mirror`, DOCKSTAGE_HUB_MIRROR,
    when the Hub is reached through one)."""
    if not ref:
        return False
    if docker.image.exists(ref):
        return True
    failed = bases.pull(ref, docker, Reporter(quiet=True), quiet=True, mirror=mirror)
    lost = engine_error(failed, f"pulling {ref}") if failed else None
    if lost is not None:  # no engine is not "no registry": no stand-in would help
        raise lost
    return failed is None


def build_stand_in(docker: DockerClient, choice: Choice, reporter: Reporter, *, force: bool = False) -> str:
    """The stand-in of `choice`, built on the root filesystem image unless already present."""
    if docker.image.exists(choice.stand_in) and not force:
        return choice.stand_in
    base = offline.rootfs_tag(FLAVOUR)
    if not docker.image.exists(base):
        offline.build_rootfs(docker, FLAVOUR, reporter)
    reporter.step(f"build {choice.stand_in} on {base}")
    started = time.monotonic()
    with docker_errors(
        f"building {choice.stand_in}",
        otherwise=lambda exc: BuildError(
            f"build of {choice.stand_in} failed",
            offline.standin_fix(choice.dockerfile),
            detail=docker_detail(exc),
        ),
    ):
        docker.buildx.build(
            context_path=choice.dockerfile.parent,
            file=choice.dockerfile,
            build_args={"BASE": base},
            tags=[choice.stand_in],
            load=True,
            progress=False,
        )
    size = docker.image.inspect(choice.stand_in).size or 0
    reporter.ok(f"{choice.stand_in} ({size / 1e6:.0f} MB, {time.monotonic() - started:.0f} s)")
    return choice.stand_in


def resolve(docker: DockerClient, choice: Choice, reporter: Reporter, mirror: str = "") -> str:
    """The official image when present or pullable (through `mirror`), else the stand-in (built on
    first use)."""
    if present_or_pullable(docker, choice.official, mirror):
        return choice.official
    return build_stand_in(docker, choice, reporter)
