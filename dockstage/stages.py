"""The stage graph of the Dockerfile, and builds through buildx that build prerequisites first."""

from __future__ import annotations

import time
from dataclasses import dataclass

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage import STAGES, cabundle, report
from dockstage.config import Settings
from dockstage.errors import BuildError, ConfigError
from dockstage.offline import BaseImages

NEEDS: dict[str, tuple[str, ...]] = {"dev": (), "test": ("dev",), "stage": ("dev",), "prod": ("stage",)}
CA_SECRET_ID = "pip_cert"  # noqa: S105 - the BuildKit secret id, not a secret


@dataclass(frozen=True)
class Built:
    """What one stage build produced."""

    stage: str
    tag: str
    size_bytes: int
    seconds: float
    cached: bool


def plan(*targets: str) -> list[str]:
    """The stages to build, in order, so each target's prerequisites come first."""
    order: list[str] = []

    def visit(stage: str) -> None:
        if stage not in NEEDS:
            raise ConfigError(f"unknown stage {stage!r}", f"use one of {', '.join(STAGES)}")
        for need in NEEDS[stage]:
            visit(need)
        if stage not in order:
            order.append(stage)

    for target in targets or STAGES:
        visit(target)
    return sorted(order, key=STAGES.index)


def build_args(bases: BaseImages) -> dict[str, str]:
    """The Dockerfile's build arguments for these base images."""
    return {"PYTHON_IMAGE": bases.python}


def secrets() -> list[str]:
    """BuildKit secrets: the host's proxy CA bundle, when there is one (never a layer)."""
    bundle = cabundle.find()
    return [f"id={CA_SECRET_ID},src={bundle}"] if bundle else []


def _image_id(docker: DockerClient, tag: str) -> str | None:
    try:
        return docker.image.inspect(tag).id
    except DockerException:
        return None


def build_stage(settings: Settings, docker: DockerClient, stage: str, bases: BaseImages) -> Built:
    """Build one stage (its prerequisites come from the BuildKit cache) and tag it."""
    tag = settings.tag(stage)
    before = _image_id(docker, tag)
    report.step(f"building {stage} -> {tag}")
    started = time.monotonic()
    try:
        docker.buildx.build(
            context_path=settings.root,
            file=settings.path(settings.dockerfile),
            target=stage,
            tags=[tag],
            load=True,
            build_args=build_args(bases),
            labels={"dockstage.flavour": bases.flavour},
            secrets=secrets(),
            progress=False if settings.quiet else ("plain" if report.is_ci() else "auto"),
        )
    except DockerException as exc:
        tail = "\n".join((exc.stderr or "").strip().splitlines()[-15:])
        raise BuildError(
            f"building stage {stage!r} failed (exit {exc.return_code})",
            "read the build output above; fix the Dockerfile or app/requirements, then build again",
            detail=tail,
        ) from None
    seconds = time.monotonic() - started
    image = docker.image.inspect(tag)
    return Built(stage, tag, image.size or 0, seconds, cached=before == image.id)


def build(settings: Settings, docker: DockerClient, bases: BaseImages, *targets: str) -> list[Built]:
    """Build the targets and everything they need, in order; return one row per stage built."""
    return [build_stage(settings, docker, stage, bases) for stage in plan(*targets)]


def table(built: list[Built]) -> None:
    """Print the build summary."""
    report.table(
        "builds",
        ("stage", "tag", "size", "seconds", "cached"),
        (
            (b.stage, b.tag, f"{b.size_bytes / 1e6:.1f} MB", f"{b.seconds:.1f}", "yes" if b.cached else "no")
            for b in built
        ),
    )
