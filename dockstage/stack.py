"""The compose project: up (waiting on healthchecks), down, run, logs, and the web URL."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage import engine, envfile, report
from dockstage.config import Settings
from dockstage.errors import StackError
from dockstage.offline import BaseImages


def compose_values(settings: Settings, bases: BaseImages) -> dict[str, str]:
    """What the suite resolved and compose interpolates: images, port, the host user."""
    return {
        "DOCKSTAGE_IMAGE": settings.image,
        "DOCKSTAGE_MYSQL_IMAGE": bases.mysql,
        "DOCKSTAGE_PUBLISH_PORT": str(settings.web_port) if settings.web_port else "",
        "DOCKSTAGE_UID": str(os.getuid()),
        "DOCKSTAGE_GID": str(os.getgid()),
    }


def project(settings: Settings, bases: BaseImages, variant: str = "prod") -> DockerClient:
    """A client for this project's compose stack, with .env created and values written."""
    envfile.ensure(settings)
    envfile.write_generated(engine.generated_env_path(settings), compose_values(settings, bases))
    return engine.client(settings, variant)


def _running(docker: DockerClient, service: str) -> bool:
    try:
        return any(c.state.running for c in docker.compose.ps(services=[service]))
    except DockerException:
        return False


def check_port_free(settings: Settings, docker: DockerClient) -> None:
    """Fail early, with the fix, when the web port on 127.0.0.1 is taken by something else."""
    if not settings.web_port or _running(docker, "web"):
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", settings.web_port))
        except OSError:
            raise StackError(
                f"port {settings.web_port} on 127.0.0.1 is already in use",
                "stop what listens there, or pick another: DOCKSTAGE_WEB_PORT=18080 (shell or .env)",
            ) from None


def _stack_error(exc: DockerException, settings: Settings, action: str) -> StackError:
    text = f"{exc.stderr or ''}\n{exc.stdout or ''}"
    if "port is already allocated" in text or "address already in use" in text:
        return StackError(
            f"port {settings.web_port} on 127.0.0.1 is already in use",
            "stop what listens there, or pick another: DOCKSTAGE_WEB_PORT=18080 (shell or .env)",
        )
    if "No such image" in text or "pull access denied" in text or "failed to resolve reference" in text:
        return StackError(
            f"{action}: an image the stack needs is missing",
            "build it first (`nox -s build_prod` / `invoke build`) or check DOCKSTAGE_FLAVOUR",
            detail=text.strip(),
        )
    if "is unhealthy" in text or "exited with code" in text or "didn't complete successfully" in text:
        return StackError(
            f"{action}: a service did not become healthy",
            "see the service logs above (`invoke logs`); fix and run again",
            detail=text.strip(),
        )
    last = text.strip().splitlines()[-1] if text.strip() else f"exit code {exc.return_code}"
    return StackError(f"{action} failed ({last})", "see `invoke logs`; `invoke doctor` checks the engine", detail=text)


def up(settings: Settings, docker: DockerClient, services: Iterable[str] = ("web",)) -> None:
    """Start services detached and wait until every one is healthy (or has completed)."""
    check_port_free(settings, docker)
    try:
        docker.compose.up(
            services=list(services),
            detach=True,
            wait=True,
            wait_timeout=settings.wait_timeout,
            quiet=settings.quiet,
            pull="never",
        )
    except DockerException as exc:
        show_logs(docker)
        raise _stack_error(exc, settings, "starting the stack") from None


def down(docker: DockerClient, *, volumes: bool = False) -> None:
    """Stop and remove the project's containers and networks; volumes only when asked."""
    docker.compose.down(remove_orphans=True, volumes=volumes, quiet=True)


def show_logs(docker: DockerClient, services: Iterable[str] = (), tail: int = 60) -> None:
    """Print recent logs of the project's services (used when something failed)."""
    try:
        text = docker.compose.logs(services=list(services), tail=str(tail))
    except DockerException:
        return
    if text:
        report.raw(str(text))


def web_url(docker: DockerClient) -> str:
    """The base URL of the web service's published port on 127.0.0.1."""
    for container in docker.compose.ps(services=["web"]):
        bindings = (container.network_settings.ports or {}).get("8000/tcp") or []
        for binding in bindings:
            if binding.get("HostIp") in ("127.0.0.1", "") and binding.get("HostPort"):
                return f"http://127.0.0.1:{binding['HostPort']}"
    raise StackError("the web service publishes no port", "start it with `invoke up` and check `invoke ps`")
