"""The python-on-whales client and the preflight checks that say how to fix what is missing."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage.core.config import Settings
from dockstage.core.errors import (
    ComposeTooOld,
    DockstageError,
    LowDisk,
    NoDockerCli,
    NoEngine,
    PluginMissing,
    docker_detail,
    swallowed,
)
from dockstage.core.report import log

MIN_FREE_GB = 3.0


def client(settings: Settings) -> DockerClient:
    """The run's one DockerClient (compose projects are views of it, see stack.Stack)."""
    log.debug("docker client created (DOCKER_HOST=%s)", settings.docker_host or "default")
    return DockerClient(compose_project_directory=settings.root)


@dataclass(frozen=True)
class Check:
    """One preflight result: what was checked, and the error when it failed."""

    name: str
    detail: str
    error: DockstageError | None = None

    @property
    def passed(self) -> bool:
        return self.error is None


def compose_major_version(text: str) -> tuple[int, str] | None:
    """Major version and version string of `docker compose version` output (v1 or v2 forms)."""
    found = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    return (int(found.group(1)), found.group(0).lstrip("v")) if found else None


def check_engine(docker: DockerClient, settings: Settings) -> Check:
    """The daemon answers."""
    try:
        version = docker.version()
    # A preflight check: the failure is its result (the Check's error, raised by Run.preflight).
    except DockerException as exc:
        return Check("engine", "unreachable", NoEngine(settings.docker_host, docker_detail(exc)))
    except FileNotFoundError:
        return Check("engine", "no docker CLI", NoDockerCli())
    server = version.server.version if version.server else "?"
    return Check("engine", f"Docker engine {server}")


def check_buildx(docker: DockerClient, settings: Settings) -> Check:
    """The buildx plugin is installed and its builder can run BuildKit builds."""
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="preflight-buildx") as pool:
            asked = pool.submit(docker.buildx.version)  # beside the builder's look-up (two calls)
            builder = docker.buildx.inspect()
            version = asked.result()
    # A preflight check: the failure is its result (the Check's error, raised by Run.preflight).
    except DockerException as exc:
        return Check("buildx", "missing", PluginMissing("buildx", docker_detail(exc)))
    words = version.split()
    return Check(
        "buildx", f"buildx {words[1] if len(words) > 1 else version}, builder {builder.name} ({builder.driver})"
    )


def check_compose(docker: DockerClient, settings: Settings) -> Check:
    """Compose v2 (the CLI plugin) is installed; v1 is not usable by python-on-whales."""
    try:
        text = docker.compose.version()
    # A preflight check: the failure is its result (the Check's error, raised by Run.preflight).
    except DockerException as exc:
        return Check("compose", "missing", PluginMissing("compose", docker_detail(exc)))
    parsed = compose_major_version(text)
    if parsed is None or parsed[0] < 2:
        return Check("compose", "too old", ComposeTooOld(text.strip()))
    return Check("compose", f"compose {parsed[1]}")


def check_disk(docker: DockerClient, settings: Settings) -> Check:
    """Enough free space where the engine keeps its images (when it is on this machine)."""
    root = Path("/var/lib/docker")
    # Safe: only where to measure; the engine check before this one said whether the engine answers.
    with swallowed("the engine's data root (disk check)"):
        root = Path(docker.system.info().docker_root_dir or root)
    probe = root if root.exists() else Path("/")
    free_gb = shutil.disk_usage(probe).free / 1e9
    if free_gb < MIN_FREE_GB:
        return Check("disk", f"{free_gb:.1f} GB free", LowDisk(free_gb, str(probe)))
    return Check("disk", f"{free_gb:.0f} GB free under {probe}")


ENGINE_CHECKS: dict[str, Callable[[DockerClient, Settings], Check]] = {
    "engine": check_engine,
    "buildx": check_buildx,
    "compose": check_compose,
    "disk": check_disk,
}


def run_checks(docker: DockerClient, settings: Settings, names: Iterable[str] = ENGINE_CHECKS) -> list[Check]:
    """Run the named checks, engine first; once the engine answers, the others at once (each is a
    CLI call or two of its own), their results in the order named; an unreachable engine ends it."""
    rest = list(dict.fromkeys(n for n in names if n != "engine"))
    log.debug("preflight: %s", ", ".join(["engine", *rest]))
    first = check_engine(docker, settings)
    if not first.passed or not rest:
        return [first]
    with ThreadPoolExecutor(max_workers=len(rest), thread_name_prefix="preflight") as pool:
        return [first, *pool.map(lambda name: ENGINE_CHECKS[name](docker, settings), rest)]
