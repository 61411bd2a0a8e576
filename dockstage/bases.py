"""Which base images a run builds on, decided in one function: pull, present, or stand-ins."""

from __future__ import annotations

from dataclasses import dataclass

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage.errors import BasePullFailed, docker_detail
from dockstage.report import Reporter, log

FLAVOURS: tuple[str, ...] = ("bookworm", "trixie")
"""The Debian suites the stand-ins are built from."""
_PYTHON_VERSION = {"bookworm": "3.11", "trixie": "3.13"}
_MARIADB_VERSION = {"bookworm": "10.11", "trixie": "11.8"}


@dataclass(frozen=True)
class BaseImages:
    """The base images a stack is built on."""

    flavour: str  # "official" | "bookworm" | "trixie"
    python: str  # image reference
    mysql: str

    @property
    def refs(self) -> tuple[str, str]:
        return (self.python, self.mysql)

    @property
    def stand_in(self) -> bool:
        return self.flavour != "official"


OFFICIAL = BaseImages("official", "python:3.12-slim", "mysql:8.4")


def stand_in(flavour: str) -> BaseImages:
    """The stand-in image references of a Debian flavour (`flavour` is one of FLAVOURS)."""
    return BaseImages(
        flavour,
        f"dockstage/python:{_PYTHON_VERSION[flavour]}-{flavour}",
        f"dockstage/mariadb:{_MARIADB_VERSION[flavour]}-{flavour}",
    )


def pull_reason(exc: DockerException) -> str:
    """The registry's one-line reason a pull failed."""
    lines = [line.strip() for line in (exc.stderr or exc.stdout or "").splitlines() if line.strip()]
    reason = lines[-1] if lines else f"docker exit {exc.return_code}"
    return reason.removeprefix("Error response from daemon: ")[:200]


def pull(ref: str, docker: DockerClient, reporter: Reporter, *, quiet: bool) -> DockerException | None:
    """Pull one image (with docker's progress unless quiet); the failure, or None.

    A pull with progress writes docker's output to the terminal, so after one fails a quiet
    attempt captures the registry's reason."""
    log.debug("pull %s", ref)
    if not quiet:
        reporter.step(f"pulling {ref}")
        try:
            docker.image.pull(ref, quiet=False)
        except DockerException:
            pass
        else:
            return None
    try:
        docker.image.pull(ref, quiet=True)
    except DockerException as exc:
        return exc
    return None


def decide(flavour: str, docker: DockerClient, reporter: Reporter) -> BaseImages:
    """The one base-image decision of a run.

    official: pull each missing image, with progress; a failed pull names the image and the
    registry's reason. auto: the official images when present or pullable, else the bookworm
    stand-ins. bookworm/trixie: those stand-ins (built on first use, see offline.provide).
    """
    if flavour in FLAVOURS:
        return stand_in(flavour)
    quiet = flavour == "auto"
    for ref in OFFICIAL.refs:
        if docker.image.exists(ref):
            continue
        failed = pull(ref, docker, reporter, quiet=quiet)
        if failed is not None:
            if quiet:
                log.debug("auto: %s not pullable, using the bookworm stand-ins", ref)
                return stand_in("bookworm")
            raise BasePullFailed(ref, pull_reason(failed), docker_detail(failed))
    return OFFICIAL


def missing(bases: BaseImages, docker: DockerClient) -> list[str]:
    """Image references of `bases` not present locally."""
    return [ref for ref in bases.refs if not docker.image.exists(ref)]
