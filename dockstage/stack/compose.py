"""A compose project as a view of the run's one client: up (waiting on health), down, logs, URL."""

from __future__ import annotations

import dataclasses
import datetime
import socket
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NoReturn, TypeVar

from python_on_whales import Container, DockerClient
from python_on_whales.components.compose.cli_wrapper import ComposeCLI
from python_on_whales.components.container.models import ContainerState
from python_on_whales.exceptions import NoSuchContainer

from dockstage.core.absentfiles import absent_file_fix
from dockstage.core.appconfig import SUITE_SERVICES
from dockstage.core.config import Settings
from dockstage.core.errors import (
    MAKE_MIGRATIONS,
    DockstageError,
    NoPublishedPort,
    PortInUse,
    ServiceFailed,
    docker_errors,
    health_diagnosis,
    hopeless,
    known_fix,
    swallowed,
    unmigrated_cause,
    view_errors,
)
from dockstage.core.report import Reporter, log
from dockstage.core.timing import health_interval
from dockstage.images.bases import BaseImages
from dockstage.images.imagechecks import last_exception
from dockstage.stack import envfile

NEVER_HEALTHY_POLL = 2.0
"""Seconds between the looks at the healthchecks compose waits on (errors.hopeless)."""
RESTART_BESIDE_AFTER = 15.0
"""Seconds a service started beside a one-shot may have run when that one-shot ends before it is
restarted (Stack.counted_from_now): half the prod image's HEALTHCHECK start period (30 s), so a
long migrate never leaves web marked unhealthy for probes that failed on tables not made yet."""

COMPOSE_VARIANTS = {
    "prod": ("compose.yaml", "compose.proxy.yaml"),  # `invoke up`: the port is the proxy's
    "smoke": ("compose.yaml",),  # the pipeline's throwaway prod stack: web publishes its port
    "dev": ("compose.yaml", "compose.dev.yaml"),
    "test": ("compose.yaml", "compose.test.yaml"),
}


def generated_env_file(settings: Settings, run_id: str) -> Path:
    """The env file one command generates for this compose project (removed when it ends); named
    per command, so two commands on the same project never remove each other's."""
    return settings.path(settings.state_dir) / f"{settings.project}-{run_id}.env"


def app_env_file(settings: Settings, run_id: str = "") -> Path:
    """The app services' env file (the app's environment only): the project's own, or one run's
    (a throwaway stack's, removed when the run ends)."""
    name = f"{settings.project}-{run_id}.app.env" if run_id else f"{settings.project}.app.env"
    return settings.path(settings.state_dir) / name


def release_file(settings: Settings) -> Path:
    """Where `up` notes which web container runs which release (stack/rollout.py); `down` removes it."""
    return settings.path(settings.state_dir) / f"{settings.project}.release"


def app_variant(variant: str) -> str:
    """The app environment a compose variant's app services get (test and smoke: prod's)."""
    return "prod" if variant in ("test", "smoke") else variant


def test_env_file(settings: Settings, run_id: str) -> Path:
    """The test service's own env file (the test stack's app environment), generated beside the other."""
    return settings.path(settings.state_dir) / f"{settings.project}-{run_id}.test.env"


THROWAWAY_WORKERS = "1"
"""gunicorn worker processes of a throwaway stack's web (the pipeline's smoke stack): each worker
imports the app once more, and on 2 cores two more of them cost its smoke checks about half a
second of the CPU the tests and migrate share; one worker (its 4 threads) serves the checks. The
project's own stacks keep .env's GUNICORN_WORKERS."""


def compose_values(
    settings: Settings,
    images: BaseImages,
    variant: str = "prod",
    env_path: Path | None = None,
    test_env_path: Path | None = None,
    *,
    throwaway: bool = False,
) -> dict[str, str]:
    """What the suite resolved and compose interpolates (images, port, the host user, where the
    compose files and the app are), and the app's environment under its own names: the app
    services read this same file (`env_file:`), since interpolation cannot choose names.

    In the test variant migrate and web keep the prod environment; the test service reads the
    test one from `test_env_path`."""
    return {
        **envfile.app_env(settings, app_variant(variant), throwaway=throwaway),
        **({"DOCKSTAGE_TEST_ENV_FILE": str(test_env_path)} if test_env_path else {}),
        "DOCKSTAGE_IMAGE": settings.image,
        "DOCKSTAGE_MYSQL_IMAGE": images.mysql,
        "DOCKSTAGE_REDIS_IMAGE": images.redis,
        "DOCKSTAGE_PROXY_IMAGE": images.proxy,
        "DOCKSTAGE_PUBLISH_PORT": str(settings.web_port) if settings.web_port else "",
        "DOCKSTAGE_UID": str(settings.uid),
        "DOCKSTAGE_GID": str(settings.gid),
        "DOCKSTAGE_APP_ENV_FILE": str(env_path or generated_env_file(settings, "deploy")),
        "DOCKSTAGE_COMPOSE_DIR": str(settings.path(settings.compose_dir)),
        "DOCKSTAGE_APP_DIR": settings.app_dir,
        "DOCKSTAGE_HEALTH_INTERVAL": health_interval(throwaway=throwaway),
        **({"GUNICORN_WORKERS": THROWAWAY_WORKERS} if throwaway else {}),
    }


def compose_view(
    docker: DockerClient,
    *,
    files: Iterable[Path],
    project: str,
    directory: Path,
    env_files: Iterable[Path],
    resolved: Collection[str] = (),
) -> ComposeCLI:
    """A compose view of the run's one client: these files, this project, these env files.

    Compose interpolates `${NAME}` from its process environment before any env file, so a shell's
    DOCKSTAGE_IMAGE would silently beat the value the suite resolved (an override made through
    Settings). The `resolved` names (those the generated env file sets) are therefore removed from
    compose's environment (`env -u NAME docker compose ...`): for them the env file is the only
    source. The other names (.env's, which the shell beats in Settings too) pass as they are."""
    base = docker.client_config
    call = [str(part) for part in base.get_client_call_with_path()]
    unset = [word for name in sorted(resolved) for word in ("-u", name)]
    config = dataclasses.replace(
        base,
        client_call=["env", *unset, *call] if unset else call,
        _client_call_with_path=None,
        compose_files=list(files),
        compose_profiles=[],
        compose_project_name=project,
        compose_project_directory=directory,
        compose_env_file=None,
        compose_env_files=[p for p in env_files if p.is_file()],
    )
    return ComposeCLI(config)


@dataclass
class Stack:
    """One compose project: its settings (name, port), the run's client and a compose view of it."""

    settings: Settings
    docker: DockerClient
    compose: ComposeCLI
    reporter: Reporter
    stopped: dict[str, str] = field(default_factory=dict, repr=False)
    """Service -> the healthcheck output for which its container was killed (_never_healthy_stopped):
    the reason, kept, since the probe the kill cut short is the health log's last entry."""
    counted_from: dict[str, datetime.datetime] = field(default_factory=dict, repr=False)
    """Service -> the moment from which its log and health probes count (start_beside): what a web
    started beside migrate said about tables migrate had not made yet is not its error."""

    @classmethod
    def of(
        cls,
        settings: Settings,
        docker: DockerClient,
        reporter: Reporter,
        variant: str,
        env_files: list[Path],
        extra_files: list[Path] | None = None,
        resolved: Collection[str] = (),
    ) -> Stack:
        """The compose view of `docker` for this project's files (plus `extra_files`), name and env
        files; the `resolved` names are interpolated from the env files only (see compose_view)."""
        compose_dir = settings.path(settings.compose_dir)
        compose = compose_view(
            docker,
            files=[
                *(compose_dir / name for name in COMPOSE_VARIANTS[variant]),
                *(settings.path(name) for name in settings.app.compose_files),  # [tool.dockstage] compose-files
                *(extra_files or []),
            ],
            project=settings.project,
            directory=settings.root,
            env_files=env_files,
            resolved=resolved,
        )
        log.debug("stack %s (%s): a compose view of the run's client", settings.project, variant)
        return cls(settings, docker, compose, reporter)

    @property
    def project(self) -> str:
        return self.settings.project

    def added_services(self) -> list[str]:
        """The services the project adds ([tool.dockstage] workers and compose-files), started with web."""
        app = self.settings.app
        if not (app.compose_files or app.workers or app.tmpfs or app.writable_dirs):
            return []
        with docker_errors("reading the compose files of [tool.dockstage] compose-files"):
            model = self.compose.config(return_json=True)
        return [name for name in model.get("services", {}) if name not in SUITE_SERVICES]

    def service_names(self) -> list[str]:
        """Every service of this stack's compose files (the suite's and the project's)."""
        with docker_errors("reading the stack's compose files"):
            model = self.compose.config(return_json=True)
        return list(model.get("services", {}))

    @property
    def backing(self) -> list[str]:
        """The services the app needs up before it runs: db and [tool.dockstage] services (redis)."""
        return ["db", *self.settings.app.services]

    def containers(self, service: str = "", *, stopped: bool = False) -> list[Container]:
        """The project's containers of `service` (else of all services), running ones unless
        `stopped`, as compose ps lists them (one-off `run` containers left out), found by their
        labels: one `docker container ls`, not a compose process (which costs five times as much,
        on the pipeline's way to its smoke checks three times)."""
        filters: list[tuple[Literal["label"], str]] = [
            ("label", f"com.docker.compose.project={self.project}"),
            ("label", "com.docker.compose.oneoff=False"),
        ]
        if service:
            filters.append(("label", f"com.docker.compose.service={service}"))
        return list(self.docker.container.list(all=stopped, filters=filters))

    def running(self, service: str) -> bool:
        # Safe: only asked before `up`, which makes the same compose call and says what failed.
        with swallowed("compose ps before up; up reports the failure"):
            return any(c.state.running for c in self.containers(service))
        return False

    def publishes(self, port: int) -> bool:
        """Whether a running container of this project already publishes `port` on the host."""
        # Safe: only asked before `up`, which binds the port itself and says what failed.
        with swallowed("compose ps before up; up reports the failure"):
            return any(
                binding.get("HostPort") == str(port)
                for c in self.containers()
                if c.state.running
                for bindings in (c.network_settings.ports or {}).values()
                for binding in bindings or []
            )
        return False

    def check_port_free(self) -> None:
        """Fail early, with the fix, when the web port on 127.0.0.1 is taken by something else
        (before anything is stopped: a changed port that is taken leaves the running site alone)."""
        port = self.settings.web_port
        if not port or self.publishes(port):
            return
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise PortInUse(port) from None

    def up(
        self,
        services: Iterable[str] = ("web",),
        *,
        action: str = "starting the stack",
        dependencies: bool = True,
        wait: bool = True,
    ) -> None:
        """Start services detached and wait until every one is healthy (or has completed); with
        `wait=False` return once they are started (a later `up` or `run` waits on their health)."""
        self.check_port_free()
        with self._failing(action, services), self._never_healthy_stopped(services if wait else ()):
            self.compose.up(
                services=list(services),
                detach=True,
                wait=wait,
                wait_timeout=self.settings.wait_timeout if wait else None,
                quiet=True,
                pull="never",
                dependencies=dependencies,
            )

    @contextmanager
    def _never_healthy_stopped(self, services: Iterable[str]) -> Iterator[None]:
        """While compose waits on `services`: a container whose healthcheck says it never will be
        healthy (errors.hopeless: Django's 400 for the Host twice in a row, a 500 that lasts) is killed, so
        the wait ends now with that reason, not after the start period, the retries or the
        timeout. The output it was killed for goes to `stopped`, for the error that follows."""
        wanted = list(services)
        if not wanted:
            yield
            return
        done = threading.Event()
        filters: list[tuple[Literal["label"], str]] = [("label", f"com.docker.compose.project={self.project}")]
        if len(wanted) == 1:  # the usual case (web): one inspect per look, not one per container
            filters.append(("label", f"com.docker.compose.service={wanted[0]}"))

        def watch() -> None:
            while not done.wait(NEVER_HEALTHY_POLL):
                # Safe: only a shortcut; compose's own wait decides and reports the failure anyway.
                with swallowed("watching the healthchecks compose waits on"):
                    for container in self.docker.container.list(filters=filters):
                        service = service_of(container)
                        since = self.counted_from.get(service)
                        probes = health_probes(container.state, since)
                        said = hopeless(probes, running_for(container.state, since))
                        if service in wanted and said and not done.is_set():
                            self.stopped[service] = probes[-1][1]
                            self.reporter.info(f"{service}: {said}; stopped waiting")
                            self.docker.container.kill(container)

        watcher = threading.Thread(target=watch, name=f"health-{self.project}", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join()

    def counted_from_now(self, service: str, *, action: str) -> None:
        """What `service`'s containers logged and probed until now stops counting (start_beside);
        one that stopped or restarted meanwhile, or has run RESTART_BESIDE_AFTER seconds (its
        healthcheck's start period may be spent), is restarted, so its health starts over."""
        with self._failing(action, [service]):
            for container in self.containers(service, stopped=True):
                state = container.state
                if (
                    not state.running
                    or state.restarting
                    or container.restart_count
                    or running_for(state) >= RESTART_BESIDE_AFTER
                ):
                    self.docker.container.restart(container, time=0)
        self.counted_from[service] = datetime.datetime.now(datetime.UTC)

    def start_beside(self, service: str, *, action: str) -> None:
        """Start `service` now, before the one-shot it needs has run (web beside migrate: its workers
        boot while migrate works); counted_from_now(service) once that one-shot is done. Its own
        compose call: in one with the one-shot, compose waits for the one-shot's end first."""
        with self._failing(action, [service]):
            self.compose.up(services=[service], detach=True, quiet=True, pull="never", dependencies=False)

    def kill(self, *services: str) -> None:
        """Kill the running containers of `services`, `compose run` ones too (the pipeline's tests
        and migrate, waiting for a db that failed). Only a shortcut: the stack's teardown removes
        them anyway."""
        wanted = set(services)
        with swallowed(f"stopping {', '.join(services)} early"):
            for container in self.docker.container.list(
                filters=[("label", f"com.docker.compose.project={self.project}")]
            ):
                if service_of(container) in wanted:
                    self.docker.container.kill(container)

    def run_once(self, service: str, *, action: str, meanwhile: Callable[[], None] | None = None) -> None:
        """Run a one-shot service (migrate) to completion; its container stays, exited, for `ps`.
        `meanwhile`: called once it has started, before its end is waited on (the pipeline's wait
        for db, which migrate's connections wait for too); its error is its own, not the one-shot's."""
        with self._failing(action, [service]):
            self.compose.up(services=[service], detach=True, quiet=True, pull="never", dependencies=False)
        if meanwhile is not None:
            meanwhile()
        with self._failing(action, [service]):
            containers = self.containers(service, stopped=True)
            code = self.docker.container.wait(containers[0]) if containers else None
        if code != 0:
            why = self._last_exception(containers[0]) if containers else ""
            failed = ServiceFailed(action, [service], f"{service} exited with {code}", why=why, exited=code)
            self._failed(failed, action, [service])

    def _last_exception(self, container: Container) -> str:
        """How a one-shot's Python command ended (its last exception line), or ''."""
        # Safe: only to say why beside an error that is raised anyway (its log is shown too).
        with swallowed("reading a failed one-shot's log"):
            return last_exception(str(self.docker.container.logs(container, tail=80)))
        return ""

    @contextmanager
    def _failing(self, action: str, services: Iterable[str]) -> Iterator[None]:
        """Docker calls inside that fail become the error they mean, with the failing services' logs."""
        try:
            with docker_errors(action, port=self.settings.web_port):
                yield
        except DockstageError as exc:
            self._failed(exc, action, services)

    def _failed(self, error: DockstageError, action: str, services: Iterable[str]) -> NoReturn:
        """Show the failing services' logs and raise the error naming them."""
        bad = failing_services(self, services)
        logs = self.show_logs(bad)
        if isinstance(error, ServiceFailed):
            why, fix = health_diagnosis(
                [*(self.stopped[s] for s in bad if s in self.stopped), *health_outputs(self, bad)], view_errors(logs)
            )
            # the cause under a 500 or an exit, when the log shows it: audiowurscht's {% load staticfiles %}
            fix = known_fix(logs) or self._absent_file_fix(bad) or fix
            unmigrated = unmigrated_cause(logs)
            if unmigrated:  # a model without its migration: the 500 is no error of the health view's own
                said = why or error.why
                why, fix = (f"{said}: {unmigrated}" if said else unmigrated), MAKE_MIGRATIONS
            error = ServiceFailed(action, bad, error.detail, why=why or error.why, fix=fix, exited=error.exited)
        raise error from None

    def _absent_file_fix(self, services: Iterable[str]) -> str:
        """absentfiles' fix from the services' longer log: the file is read early and the traceback
        after it is long (jiracdflow's migrate: 60 lines of it hid the read)."""
        text = ""
        # Safe: only to say why beside an error that is raised anyway (its log is shown too).
        with swallowed("reading a failed service's log"):
            text = str(self.compose.logs(services=list(services), tail="400") or "")
        return absent_file_fix(text, self.settings.path(self.settings.app_dir))

    def down(self, *, volumes: bool = False, timeout: int | None = None) -> None:
        """Stop and remove the project's containers and networks; volumes only when asked
        (`timeout`: seconds each container gets to stop, else its stop_grace_period)."""
        with docker_errors(f"stopping {self.project}"):
            self.compose.down(remove_orphans=True, volumes=volumes, quiet=True, timeout=timeout)

    def discard(self) -> None:
        """Remove a throwaway project for good, by its compose label: its containers (`compose run`
        ones too) killed and removed in one call, at once rather than one after the other in
        compose's dependency order, then its networks and volumes. No compose process is started
        (its own start costs more than the removals); should a removal fail, `down` is tried."""
        label = f"com.docker.compose.project={self.project}"
        try:
            with docker_errors(f"removing {self.project}"):
                found = self.docker.container.list(all=True, filters=[("label", label)])
                if found:
                    self.docker.container.remove(found, force=True, volumes=True)
                networks = self.docker.network.list(filters=[("label", label)])
                if networks:
                    self.docker.network.remove([network.id for network in networks])
                volumes = self.docker.volume.list(filters=[("label", label)])
                if volumes:
                    self.docker.volume.remove([volume.name for volume in volumes])
        except DockstageError:
            self.down(volumes=True, timeout=0)

    def forget(self) -> None:
        """Remove the files the project's stack keeps between commands (its app env file, with
        secrets, and the note of its release): once it is down for good (`down`, `clean`). Not
        part of down(): this command's compose calls still read the env file."""
        app_env_file(self.settings).unlink(missing_ok=True)
        release_file(self.settings).unlink(missing_ok=True)

    def show_logs(self, services: Iterable[str] = (), tail: int = 60) -> str:
        """Print recent logs of the project's services (used when something failed); their text."""
        text = ""
        wanted = list(services)
        starts = [self.counted_from[s] for s in wanted if s in self.counted_from]  # only what counts (start_beside)
        since = min(starts).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if wanted and len(starts) == len(wanted) else None
        # Safe: logs are shown only beside an error that is raised anyway (it says what failed).
        with swallowed("logs shown beside an error"):
            text = self.compose.logs(services=wanted, tail=str(tail), since=since)
        if text:
            self.reporter.raw(str(text))
        return str(text or "")

    def url(self, service: str = "") -> str:
        """The base URL of the stack on 127.0.0.1: the proxy's published port 8080 where it runs
        (`invoke up`), else web's port 8000 (dev, test and throwaway stacks); or `service`'s."""
        wanted = [(service, SERVICE_PORTS.get(service, "8000/tcp"))] if service else list(SERVICE_PORTS.items())
        with docker_errors(f"finding the port of {service or 'the stack'}"):
            ports = still_there(self.containers(), lambda c: (service_of(c), c.network_settings.ports or {}))
        for name, inside in wanted:
            for owner, published in ports:
                if owner != name:
                    continue
                for binding in published.get(inside) or []:
                    if binding.get("HostIp") in ("127.0.0.1", "") and binding.get("HostPort"):
                        return f"http://127.0.0.1:{binding['HostPort']}"
        raise NoPublishedPort(service or "web")

    def running_containers(self, service: str) -> list[Container]:
        """The service's running containers, oldest first (by compose's number: a web `up`
        replaced is web-2, web-3...)."""
        with docker_errors(f"listing the running {service} containers"):
            found = [c for c in self.containers(service) if c.state.running]
        return sorted(found, key=lambda c: int((c.config.labels or {}).get(NUMBER_LABEL, "0")))

    def execute_in_web(self, command: list[str]) -> str:
        """Run `command` in the running web container, whichever number it has (compose exec
        assumes 1)."""
        webs = self.running_containers("web")
        if not webs:
            raise NoPublishedPort("web")
        return str(self.docker.container.execute(webs[0], command) or "")


NUMBER_LABEL = "com.docker.compose.container-number"
SERVICE_PORTS = {"proxy": "8080/tcp", "web": "8000/tcp"}
"""The port inside each service that the stack publishes, in the order url() looks for them."""


T = TypeVar("T")


def still_there(containers: Iterable[Container], look: Callable[[Container], T]) -> list[T]:
    """`look` at each container compose listed, leaving out those removed since (each attribute
    read is a `docker inspect`): the pipeline's tests remove their one-off container when they end,
    and a smoke branch failing at that moment raised NoSuchContainer instead of its own error."""
    seen = []
    for container in containers:
        try:
            seen.append(look(container))
        except NoSuchContainer:
            continue
    return seen


def service_of(container: Container) -> str:
    """The compose service a container belongs to (its name when it has no compose label)."""
    return str((container.config.labels or {}).get("com.docker.compose.service", container.name))


def failing_services(stack: Stack, wanted: Iterable[str]) -> list[str]:
    """The services whose container exited non-zero or is unhealthy (all of `wanted` if none is)."""
    containers = []
    # Safe: asked only to name the services in an error that is raised anyway (all of `wanted` then).
    with swallowed("naming the failing services of an error"):
        containers = stack.compose.ps(all=True)

    def failed(c: Container) -> str:
        if (c.config.labels or {}).get("com.docker.compose.oneoff") == "True":
            return ""  # a `compose run` (the tests beside the smoke stack): its own command reports it
        health = c.state.health.status if c.state.health else None
        return service_of(c) if health == "unhealthy" or (not c.state.running and (c.state.exit_code or 0) != 0) else ""

    return [name for name in still_there(containers, failed) if name] or list(wanted)


def health_outputs(stack: Stack, services: Iterable[str]) -> list[str]:
    """The last healthcheck output of each container of `services` (what the probe printed)."""
    wanted, outputs = set(services), []
    # Safe: read only to explain an error that is raised anyway (without the explanation then).
    with swallowed("reading the healthchecks of a failing service"):
        for service, probes in still_there(
            stack.compose.ps(all=True), lambda c: (service_of(c), health_probes(c.state))
        ):
            if service in wanted and probes:
                outputs.append(probes[-1][1])
    return outputs


def running_for(state: ContainerState, since: datetime.datetime | None = None) -> float:
    """Seconds since the container started, or since `since` if that is later (0 when it says no start)."""
    started = state.started_at
    if started is None or started.year < 2000:  # docker's zero time for a container never started
        return 0.0
    start = max(started, since) if since is not None else started
    return max(0.0, (datetime.datetime.now(datetime.UTC) - start).total_seconds())


def health_probes(state: ContainerState, since: datetime.datetime | None = None) -> list[tuple[int | None, str]]:
    """A container's healthcheck probes, oldest first: (exit code, what the probe printed); only
    those begun at `since` or later, when given."""
    if not state.health:
        return []
    return [
        (p.exit_code, str(p.output or ""))
        for p in state.health.log or []
        if since is None or p.start is None or p.start >= since
    ]
