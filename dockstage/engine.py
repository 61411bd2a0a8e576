"""The python-on-whales client and the preflight checks that say how to fix what is missing."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage.config import Settings
from dockstage.errors import EngineError

COMPOSE_VARIANTS = {
    "prod": ("compose.yaml",),
    "dev": ("compose.yaml", "compose.dev.yaml"),
    "test": ("compose.yaml", "compose.test.yaml"),
}
MIN_FREE_GB = 3.0
PROVISION_HINT = "run `bash .ci/provision` (installs and starts Debian's docker.io, buildx, compose v2)"


def client(settings: Settings, variant: str = "prod") -> DockerClient:
    """A DockerClient whose compose commands target this project's files and env files."""
    compose_dir = settings.path(settings.compose_dir)
    env_files: list[str | Path] = [
        p for p in (settings.path(settings.env_file), generated_env_path(settings)) if p.is_file()
    ]
    return DockerClient(
        compose_files=[compose_dir / name for name in COMPOSE_VARIANTS[variant]],
        compose_project_name=settings.project,
        compose_project_directory=settings.root,
        compose_env_files=env_files,
    )


def generated_env_path(settings: Settings) -> Path:
    """The env file the suite writes with resolved values (images, ports, uid) for compose."""
    return settings.path(settings.state_dir) / f"{settings.project}.env"


@dataclass(frozen=True)
class Check:
    """One preflight result: what was checked, whether it passed, and how to fix it if not."""

    name: str
    passed: bool
    detail: str
    fix: str = ""
    fatal: bool = True

    def error(self) -> EngineError:
        """This failed check as the one-line error a flow raises."""
        return EngineError(self.detail, self.fix)


def _stderr(exc: DockerException) -> str:
    text = (exc.stderr or exc.stdout or "").strip().splitlines()
    return text[-1] if text else f"exit code {exc.return_code}"


def check_engine(docker: DockerClient) -> Check:
    """The daemon answers."""
    try:
        version = docker.version()
    except DockerException as exc:
        host = os.environ.get("DOCKER_HOST")
        fix = f"DOCKER_HOST is {host}: point it at a running engine or unset it" if host else PROVISION_HINT
        return Check("engine", False, f"no Docker engine reachable ({_stderr(exc)})", fix)
    except FileNotFoundError:
        return Check("engine", False, "no docker CLI on PATH", "apt-get install docker.io")
    server = version.server.version if version.server else "?"
    return Check("engine", True, f"Docker engine {server}")


def check_buildx(docker: DockerClient) -> Check:
    """The buildx plugin is installed and its builder can run BuildKit builds."""
    try:
        version = docker.buildx.version()
        builder = docker.buildx.inspect()
    except DockerException as exc:
        return Check(
            "buildx",
            False,
            f"buildx is missing or unusable ({_stderr(exc)})",
            "install the docker-buildx plugin (`bash .ci/provision` does it on Debian 12/13)",
        )
    words = version.split()
    return Check(
        "buildx", True, f"buildx {words[1] if len(words) > 1 else version}, builder {builder.name} ({builder.driver})"
    )


def check_compose(docker: DockerClient) -> Check:
    """Compose v2 (the CLI plugin) is installed; v1 is not usable by python-on-whales."""
    try:
        text = docker.compose.version()
    except DockerException as exc:
        return Check(
            "compose",
            False,
            f"compose v2 is missing ({_stderr(exc)})",
            "install the docker-compose v2 plugin (`bash .ci/provision` does it on Debian 12/13)",
        )
    found = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    if not found or int(found.group(1)) < 2:
        return Check(
            "compose", False, f"compose is too old ({text.strip()})", "install compose v2 (docker-compose-plugin)"
        )
    return Check("compose", True, f"compose {found.group(0).lstrip('v')}")


def check_disk(docker: DockerClient) -> Check:
    """Enough free space where the engine keeps its images (when it is on this machine)."""
    try:
        root = Path(docker.system.info().docker_root_dir or "/var/lib/docker")
    except DockerException:
        root = Path("/var/lib/docker")
    probe = root if root.exists() else Path("/")
    free_gb = shutil.disk_usage(probe).free / 1e9
    if free_gb < MIN_FREE_GB:
        return Check(
            "disk",
            False,
            f"only {free_gb:.1f} GB free under {probe}",
            "free space: `invoke clean`, `docker builder prune`, or remove old images",
        )
    return Check("disk", True, f"{free_gb:.0f} GB free under {probe}")


ENGINE_CHECKS: dict[str, Callable[[DockerClient], Check]] = {
    "engine": check_engine,
    "buildx": check_buildx,
    "compose": check_compose,
    "disk": check_disk,
}


def run_checks(docker: DockerClient, names: Iterable[str] = ENGINE_CHECKS) -> list[Check]:
    """Run the named checks; once the engine is unreachable, the others are not tried."""
    results: list[Check] = []
    for name in names:
        result = ENGINE_CHECKS[name](docker)
        results.append(result)
        if name == "engine" and not result.passed:
            break
    return results


def require(docker: DockerClient, *names: str) -> None:
    """Raise EngineError, one line with the fix, for the first failing check (engine always first)."""
    wanted = ["engine", *(n for n in names if n != "engine")]
    for result in run_checks(docker, wanted):
        if not result.passed and result.fatal:
            raise result.error()
