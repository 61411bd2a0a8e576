"""Which base images a run builds on, decided in one function: pull, present, or stand-ins."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage.core.errors import BasePullFailed, ConfigError, docker_detail, engine_error
from dockstage.core.report import Reporter, log

FLAVOURS: tuple[str, ...] = ("bookworm", "trixie")
"""The Debian suites the stand-ins are built from."""
_PYTHON_VERSION = {"bookworm": "3.11", "trixie": "3.13"}
_MARIADB_VERSION = {"bookworm": "10.11", "trixie": "11.8"}
_REDIS_VERSION = {"bookworm": "7.0", "trixie": "8.0"}
_NGINX_VERSION = {"bookworm": "1.22", "trixie": "1.26"}


@dataclass(frozen=True)
class BaseImages:
    """The base images a stack is built on."""

    flavour: str  # "official" | "bookworm" | "trixie"
    python: str  # image reference
    mysql: str
    redis: str = ""
    proxy: str = ""  # nginx in front of web in `invoke up` (compose.proxy.yaml)

    @property
    def refs(self) -> tuple[str, str]:
        return (self.python, self.mysql)

    def service_refs(self, services: tuple[str, ...]) -> tuple[str, ...]:
        """The images of the services a project asks for beside the database (redis)."""
        return tuple(ref for ref in (getattr(self, name, "") for name in services if name != "flavour") if ref)

    @property
    def stand_in(self) -> bool:
        return self.flavour != "official"


OFFICIAL = BaseImages("official", "python:3.12-slim", "mysql:8.4", "redis:7-bookworm", "nginx:1.27")


def stand_in(flavour: str) -> BaseImages:
    """The stand-in image references of a Debian flavour (`flavour` is one of FLAVOURS)."""
    return BaseImages(
        flavour,
        f"dockstage/python:{_PYTHON_VERSION[flavour]}-{flavour}",
        f"dockstage/mariadb:{_MARIADB_VERSION[flavour]}-{flavour}",
        f"dockstage/redis:{_REDIS_VERSION[flavour]}-{flavour}",
        f"dockstage/nginx:{_NGINX_VERSION[flavour]}-{flavour}",
    )


def pull_reason(exc: DockerException) -> str:
    """The registry's one-line reason a pull failed."""
    lines = [line.strip() for line in (exc.stderr or exc.stdout or "").splitlines() if line.strip()]
    reason = lines[-1] if lines else f"docker exit {exc.return_code}"
    return reason.removeprefix("Error response from daemon: ")[:200]


def through(ref: str, mirror: str) -> str:
    """Where a Docker Hub image is pulled from when the Hub is reached through `mirror` (a
    registry that proxies or copies it: Harbor, Artifactory, `registry:2` as a pull-through cache):
    an official image under library/, as the Hub itself keeps it."""
    if not mirror:
        return ref
    name = ref.split("@", 1)[0].rsplit(":", 1)[0]
    return f"{mirror.rstrip('/')}/{ref if '/' in name else f'library/{ref}'}"


def pull(
    ref: str, docker: DockerClient, reporter: Reporter, *, quiet: bool, mirror: str = ""
) -> DockerException | None:
    """Pull one image (with docker's progress unless quiet); the failure, or None. Through a
    `mirror` the image is pulled from there and tagged with its own name (what the builds use).

    A pull with progress writes docker's output to the terminal, so after one fails a quiet
    attempt captures the registry's reason."""
    source = through(ref, mirror)
    log.debug("pull %s", source)
    if not quiet:
        reporter.step(f"pulling {ref}" + (f" from {mirror}" if mirror else ""))
    failed = None
    for quiet_pull in (True,) if quiet else (False, True):
        try:
            docker.image.pull(source, quiet=quiet_pull)
            if source != ref:
                docker.image.tag(source, ref)
                docker.image.remove(source)  # the tag only: the image keeps its own name
            return None
        # The failure is the answer: the caller decides (the stand-ins, or the error naming the registry's reason).
        except DockerException as exc:
            failed = exc
    return failed


OFFICIAL_PYTHONS = ("3.12", "3.13", "3.14", "3.11", "3.10", "3.9")
"""python:<version>-slim tags tried for a project, in order of preference (the suite's default first);
3.9 is the oldest the Dockerfile's helpers run on (ruff's per-file target for dockstage/data)."""


def allows(python: str, minor: str) -> bool:
    """Whether `python` ([tool.dockstage] python) allows some release of `minor` ("3.9"): any patch
    level counts (andrekovac/django-poetry-rest-api's Poetry python is "==3.9.12", which neither 3.9.0
    nor 3.9.99 meets)."""
    from dockstage.core.appconfig import python_spec

    spec = python_spec(python)
    return any(spec.contains(f"{minor}.{patch}") for patch in range(PATCH_LEVELS))


PATCH_LEVELS = 100


def official_python(python: str) -> str | None:
    """The Python of the python:<version>-slim base for `python` ([tool.dockstage] python): the first
    of OFFICIAL_PYTHONS it allows, else None."""
    return next((v for v in OFFICIAL_PYTHONS if allows(python, v)), None)


def _for_python(flavour: str, python: str) -> BaseImages:
    """`flavour`'s bases for a project that needs `python` ([tool.dockstage] python), or the fix."""
    if flavour == "official":
        version = official_python(python)
        if version is None:
            raise ConfigError(
                f"no official python image is known for python = {python!r}", 'set python to a version, e.g. "3.12"'
            )
        return OFFICIAL if version == "3.12" else dataclasses.replace(OFFICIAL, python=f"python:{version}-slim")
    if allows(python, _PYTHON_VERSION[flavour]):
        return stand_in(flavour)
    fits = [f for f in FLAVOURS if allows(python, _PYTHON_VERSION[f])]
    have = ", ".join(f"{f} {_PYTHON_VERSION[f]}" for f in FLAVOURS)
    raise ConfigError(
        f"the {flavour} stand-ins have Python {_PYTHON_VERSION[flavour]}, the project needs {python}",
        f"set DOCKSTAGE_FLAVOUR={fits[0]} (or flavour in [tool.dockstage])"
        if fits
        else f"no stand-in fits ({have}): use official bases, or widen python in [tool.dockstage]",
    )


def pull_failed(ref: str, failed: DockerException, mirror: str = "") -> BasePullFailed:
    """The error of a failed pull of `ref`: the image (and where a mirror was asked for it) and the
    registry's reason."""
    shown = ref if not mirror else f"{ref} (as {through(ref, mirror)})"
    return BasePullFailed(shown, pull_reason(failed), docker_detail(failed))


def decide(
    flavour: str,
    docker: DockerClient,
    reporter: Reporter,
    python: str = ">=3.11",
    services: tuple[str, ...] = (),
    mirror: str = "",
) -> BaseImages:
    """The one base-image decision of a run, for a project that needs Python `python`.

    official: pull each missing image, with progress; a failed pull names the image and the
    registry's reason. auto: the official images when present or pullable, else the first
    stand-ins whose Python fits (bookworm 3.11, trixie 3.13). bookworm/trixie: those stand-ins
    (built on first use, see offline.provide); a Python they lack is a config error naming the fix.
    The images of `services` (redis) are pulled or stood in with the others; through `mirror`
    (DOCKSTAGE_HUB_MIRROR) when the Hub is reached through one.
    """
    if flavour in FLAVOURS:
        return _for_python(flavour, python)
    official = _for_python("official", python)
    quiet = flavour == "auto"
    for ref in (*official.refs, *official.service_refs(services)):
        if docker.image.exists(ref):
            continue
        failed = pull(ref, docker, reporter, quiet=quiet, mirror=mirror)
        if failed is not None:
            lost = engine_error(failed, f"pulling {ref}")
            if lost is not None:  # no engine is not "no registry": no stand-in would help
                raise lost
            if quiet:
                fits = next((f for f in FLAVOURS if _fits(f, python)), FLAVOURS[0])
                log.debug("auto: %s not pullable, using the %s stand-ins", ref, fits)
                return _for_python(fits, python)
            raise pull_failed(ref, failed, mirror)
    return official


def _fits(flavour: str, python: str) -> bool:
    try:
        return _for_python(flavour, python) is not None
    except ConfigError:
        return False


def flavours_for(python: str) -> tuple[str, ...]:
    """The flavours a project needing Python `python` builds on: official when a python:<v>-slim
    fits, then each stand-in flavour whose Python fits (bookworm 3.11, trixie 3.13)."""
    return tuple(f for f in ("official", *FLAVOURS) if _fits(f, python))


def missing(bases: BaseImages, docker: DockerClient, services: tuple[str, ...] = ()) -> list[str]:
    """Image references of `bases` (and of `services`) not present locally."""
    return [ref for ref in (*bases.refs, *bases.service_refs(services)) if not docker.image.exists(ref)]
