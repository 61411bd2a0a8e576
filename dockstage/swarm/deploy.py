"""`invoke deploy / rollback / stack-ps / stack-logs / undeploy`: the stack on a swarm, from a release.

A deploy has two steps. First the whole stack with web held where it runs (its image and replica
count) and the migrate job at the new version; dockstage waits until that job completed. Then
web at the new version: a start-first rolling update, healthcheck-gated, that swarm rolls back by
itself when a new task fails; dockstage waits until the update completed (or says it was rolled
back). Secrets are Docker secrets named by a hash of their contents (a change is a new secret,
so rotation is a rolling update); the services read them through *_FILE variables (the prod
image's sitecustomize reads them back into the names an adopted app reads).

What the project adds to its compose stacks comes along: the workers of [tool.dockstage.workers]
(on the release's image, updated with web, after the migrations), the services beside the database
(redis: the release's pinned copy) and the services of its compose-files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from python_on_whales import DockerClient
from python_on_whales.components.service.cli_wrapper import Service
from python_on_whales.exceptions import DockerException, NoSuchContainer

from dockstage.core import files, resources
from dockstage.core.config import Settings
from dockstage.core.errors import ConfigError, StackError, docker_errors, engine_error, swallowed
from dockstage.core.report import Reporter
from dockstage.flows.run import Run
from dockstage.images.bases import BaseImages
from dockstage.stack import envfile, workers
from dockstage.stack.compose import compose_values, compose_view
from dockstage.swarm import stackfile, waits
from dockstage.swarm.options import DB_LABEL, PROXY_LABEL, SwarmOptions
from dockstage.swarm.release import Release, find, latest, load

SWARM_FILE = "compose.swarm.yaml"


def secrets_of(settings: Settings) -> tuple[tuple[str, str], ...]:
    """Docker secret (as the stack file names it) -> the .env variable it is made from: the one
    secrets table (envfile.secret_keys), the suite's and the app's."""
    return tuple((variable.lower(), variable) for variable in envfile.secret_keys(settings.app))


STACK_LABEL = "dockstage.stack"
OBJECT_LABEL = "dockstage.object"
NAMESPACE_LABEL = "com.docker.stack.namespace"
JOBS_CLIENT_MAJOR = 23  # docker/cli deploys `mode: replicated-job` from stack files since 23.0
KEEP_GENERATIONS = 2  # secrets/configs of the current and the previous deploy stay


@dataclass(frozen=True)
class Deployed:
    """What a deploy or rollback did."""

    stack: str
    version: str
    replicas: int
    outcome: str  # created | updated | unchanged | scaled
    seconds: float


@dataclass(frozen=True)
class TaskRow:
    """One task of the stack, as `stack_ps` shows it."""

    service: str
    slot: str
    node: str
    desired: str
    state: str
    image: str
    error: str


# --- the engine -------------------------------------------------------------------------------


def _version_major(text: str) -> int:
    try:
        return int(text.split(".", 1)[0])
    except ValueError:
        return 0


def require_manager(docker: DockerClient) -> None:
    """The engine is a swarm manager, or say how to make one."""
    with docker_errors("asking the engine for its swarm state"):
        info = docker.system.info()
    swarm = info.swarm
    if swarm is None or swarm.local_node_state != "active":
        raise StackError(
            "this engine is not in a swarm",
            "on one machine: `docker swarm init --advertise-addr 127.0.0.1`; a real swarm: docs/DEPLOY.md",
        )
    if not swarm.control_available:
        raise StackError("this engine is a swarm worker, not a manager", "deploy from a manager (DOCKER_HOST)")


def client_deploys_jobs(docker: DockerClient) -> bool:
    """Whether the docker CLI python-on-whales runs can deploy `mode: replicated-job` services."""
    with docker_errors("asking docker for its version"):
        version = docker.version()
    return version.client is not None and _version_major(version.client.version or "") >= JOBS_CLIENT_MAJOR


def ensure_node_labels(docker: DockerClient, reporter: Reporter) -> None:
    """The db and proxy are pinned by node labels: on a one-node swarm the node gets both; on a
    bigger one, one node must carry each (the fix names the command)."""
    nodes = docker.node.list()
    for label in (DB_LABEL, PROXY_LABEL):
        if any((node.spec.labels or {}).get(label) == "true" for node in nodes):
            continue
        if len(nodes) == 1:
            docker.node.update(nodes[0], labels_add={label: "true"})
            reporter.info(f"node {nodes[0].description.hostname}: label {label}=true (the only node)")
            continue
        raise StackError(
            f"no swarm node carries the label {label}=true",
            f"label the node it must run on: `docker node update --label-add {label}=true <node>`",
        )


# --- secrets and configs ----------------------------------------------------------------------


@contextlib.contextmanager
def _unprinted() -> Iterator[None]:
    """python-on-whales 0.81 prints "reference: <id>" for every Secret object it makes; not ours."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def object_name(stack: str, key: str, content: bytes) -> str:
    """<stack>_<key>_<hash>: a new name whenever the content changes. The hash is salted and slow
    (PBKDF2), so a name gives nothing away about a weak password."""
    digest = hashlib.pbkdf2_hmac("sha256", content, f"dockstage/{stack}/{key}".encode(), 50_000).hex()
    return f"{stack}_{key}_{digest[:12]}"


def _private_file(directory: str, content: bytes) -> Path:
    path = Path(directory) / "value"
    files.write_private(path, content, exclusive=True)
    return path


def _scratch_dir() -> str | None:
    return "/dev/shm" if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK) else None  # noqa: S108 - memory, not disk


def ensure_secrets(settings: Settings, docker: DockerClient, stack: str) -> dict[str, str]:
    """One Docker secret per .env secret (created when its content is new): key -> secret name."""
    empty = [variable for _, variable in secrets_of(settings) if not settings.value(variable)]
    if empty:
        raise ConfigError(
            f"{', '.join(empty)} empty in {settings.env_file}",
            f"set a value, or delete {settings.env_file} to have fresh secrets generated",
        )
    with _unprinted():
        existing = {s.spec.name for s in docker.secret.list(filters=[("label", f"{STACK_LABEL}={stack}")])}
    names: dict[str, str] = {}
    for key, variable in secrets_of(settings):
        content = settings.value(variable).encode()
        name = object_name(stack, key, content)
        if name not in existing:
            with _unprinted(), tempfile.TemporaryDirectory(prefix="dockstage-secret-", dir=_scratch_dir()) as tmp:
                docker.secret.create(name, _private_file(tmp, content), labels={STACK_LABEL: stack, OBJECT_LABEL: key})
        names[key] = name
    return names


def ensure_config(docker: DockerClient, stack: str, key: str, path: Path) -> str:
    """A Docker config from `path` (created when its content is new); its name."""
    name = object_name(stack, key, path.read_bytes())
    existing = {c.spec.name for c in docker.config.list(filters={"label": f"{STACK_LABEL}={stack}"})}
    if name not in existing:
        docker.config.create(name, path, labels={STACK_LABEL: stack, OBJECT_LABEL: key})
    return name


def prune_objects(docker: DockerClient, stack: str, in_use: Iterable[str]) -> int:
    """Remove this stack's secrets and configs older than the last KEEP_GENERATIONS of each
    kind; ones a service still uses are refused by the engine and stay. How many went."""
    keep, removed = set(in_use), 0
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (kind, key) -> [(created, name)]
    with _unprinted():
        for secret in docker.secret.list(filters=[("label", f"{STACK_LABEL}={stack}")]):
            key = (secret.spec.labels or {}).get(OBJECT_LABEL, "")
            found.setdefault(("secret", key), []).append((str(secret.created_at), secret.spec.name or secret.id))
    for config in docker.config.list(filters={"label": f"{STACK_LABEL}={stack}"}):
        key = (config.spec.labels or {}).get(OBJECT_LABEL, "")
        found.setdefault(("config", key), []).append((str(config.created_at), config.spec.name or config.id))
    for (kind, _), generations in found.items():
        for _, name in sorted(generations, reverse=True)[KEEP_GENERATIONS:]:
            if name in keep:
                continue
            # Safe: the engine refuses to remove one a service still uses, and that one stays.
            with swallowed("a secret or config still in use"):
                if kind == "secret":
                    docker.secret.remove(name)
                else:
                    docker.config.remove(name)
                removed += 1
    return removed


# --- the stack file ---------------------------------------------------------------------------


def _service(docker: DockerClient, stack: str, name: str) -> Service | None:
    full = f"{stack}_{name}"
    return docker.service.inspect(full) if docker.service.exists(full) else None


def _replicas(service: Service) -> int:
    mode = service.spec.mode or {}
    return int((mode.get("Replicated") or {}).get("Replicas", 0))


def job_mode_differs(service: Service | None, jobs: bool) -> bool:
    """Whether a running migrate service has the other mode than this CLI deploys: swarm refuses
    to change a service between replicated and replicated-job (a stack deployed by a docker CLI
    before 23.0, updated by a newer one, or the other way)."""
    if service is None:
        return False
    return ("ReplicatedJob" in (service.spec.mode or {})) != jobs


def _image(service: Service) -> str:
    spec = service.spec.task_template
    return (spec.container_spec.image or "") if spec and spec.container_spec else ""


def _fingerprint(service: Service | None) -> tuple[object, ...]:
    if service is None:
        return ()
    spec = service.spec.task_template
    container = spec.container_spec if spec else None
    if container is None:
        return ()
    return (container.image, tuple(container.env or ()), tuple(sorted((container.labels or {}).items())))


def _values(
    settings: Settings,
    options: SwarmOptions,
    target: Release,
    *,
    web_image: str,
    web_replicas: int,
    secrets: Mapping[str, str],
    proxy_conf: str,
) -> dict[str, str]:
    address = options.pull_address()
    revision = hashlib.sha256(json.dumps([sorted(secrets.values()), proxy_conf]).encode()).hexdigest()[:12]
    values = {
        "DOCKSTAGE_IMAGE": settings.image,
        "DOCKSTAGE_WEB_IMAGE": web_image,
        "DOCKSTAGE_MIGRATE_IMAGE": target.pinned("web", address),
        "DOCKSTAGE_MYSQL_IMAGE": target.pinned("mysql", address),
        "DOCKSTAGE_PROXY_IMAGE": target.pinned("proxy", address),
        "DOCKSTAGE_WEB_REPLICAS": str(web_replicas),
        "DOCKSTAGE_ENDPOINT_MODE": options.endpoint_mode,
        "DOCKSTAGE_UPDATE_MONITOR": f"{options.update_monitor}s",
        "DOCKSTAGE_PROXY_PORT": str(options.proxy_port),
        "DOCKSTAGE_CONFIG_PROXY_CONF": proxy_conf,
        "DOCKSTAGE_SECRETS_REVISION": revision,
        "DOCKSTAGE_DEPLOY_ID": uuid.uuid4().hex[:12],
    }
    values.update({f"DOCKSTAGE_SECRET_{variable}": secrets[key] for key, variable in secrets_of(settings)})
    for name in settings.app.services:  # redis: the copy the release pushed beside web
        if name not in target.images:
            raise StackError(
                f"release {target.version} carries no {name} image ([tool.dockstage] services came later)",
                "release again: `{release}` pushes it beside web",
            )
        values[f"DOCKSTAGE_{name.upper()}_IMAGE"] = target.pinned(name, address)
    return values


def swarm_file(settings: Settings) -> Path:
    """The swarm override: beside the project's compose.yaml (its own copy), else the package's."""
    beside = settings.path(settings.compose_dir) / SWARM_FILE
    return beside if beside.is_file() else resources.path(resources.SWARM_COMPOSE)


def placeholder(key: str) -> str:
    """What a secret's variable is interpolated as (the stack file gets its *_FILE instead)."""
    return f"dockstage-secret-{key}"


def render(
    settings: Settings, docker: DockerClient, reporter: Reporter, stack: str, values: Mapping[str, str]
) -> dict[str, Any]:
    """compose.yaml + compose.swarm.yaml, merged and interpolated by compose v2, as a stack file.

    Compose sees what the suite's own stacks see (stack.compose_values: images, the app's
    environment...) with every secret replaced by its placeholder, plus this deploy's `values`;
    the real secrets are never written or interpolated."""
    env = {**settings.env, **{variable: placeholder(key) for key, variable in secrets_of(settings)}}
    hidden = dataclasses.replace(settings, env=MappingProxyType(env), project=stack)
    state = settings.path(settings.state_dir) / "swarm"
    interpolated, app_env = state / f"{stack}.env", state / f"{stack}.app.env"
    known = {**env, **compose_values(hidden, BaseImages("official", "", values["DOCKSTAGE_MYSQL_IMAGE"]))}
    written = [interpolated]
    if "DOCKSTAGE_APP_ENV_FILE" in known:
        # compose.yaml's app services read this file (env_file): what the suite's compose stacks
        # give them, without this deploy's own values (images, ids), so web's spec changes only
        # when the app's environment does.
        app = {**compose_values(hidden, BaseImages("official", "", "")), "DOCKSTAGE_APP_ENV_FILE": str(app_env)}
        written.append(envfile.write_generated(app_env, app))
        known["DOCKSTAGE_APP_ENV_FILE"] = str(app_env)
    resolved = {**known, **values}
    envfile.write_generated(interpolated, resolved)
    added = [path for path in [workers.write(settings)] if path]  # workers, tmpfs, services, if any
    compose = compose_view(
        docker,
        files=[
            settings.path(settings.compose_dir) / "compose.yaml",
            *added,
            *(settings.path(name) for name in settings.app.compose_files),  # [tool.dockstage] compose-files
            swarm_file(settings),
        ],
        project=stack,
        directory=settings.root,
        env_files=[interpolated],
        resolved=resolved,  # the shell's DOCKSTAGE_* do not beat this deploy's values
    )
    try:
        with docker_errors("merging compose.yaml with compose.swarm.yaml"):
            merged = compose.config(return_json=True)
    finally:
        for path in written:
            path.unlink(missing_ok=True)
    doc, notes = stackfile.convert(merged, stack)
    for note in notes:
        reporter.info(note)
    doc = stackfile.as_workers(doc, settings.app.workers, values["DOCKSTAGE_MIGRATE_IMAGE"])
    doc = stackfile.reached_by_name(doc, values["DOCKSTAGE_ENDPOINT_MODE"])
    names = {key: values[f"DOCKSTAGE_SECRET_{variable}"] for key, variable in secrets_of(settings)}
    placeholders = {placeholder(key): key for key, _ in secrets_of(settings)}
    return stackfile.secrets_as_files(
        doc, placeholders, names, app_services={*workers.APP_SERVICES, *settings.app.workers}
    )


def _deploy_file(
    settings: Settings,
    docker: DockerClient,
    reporter: Reporter,
    stack: str,
    doc: Mapping[str, object],
    *,
    prune: bool,
    jobs: bool,
    registry_auth: bool = False,
) -> None:
    if not jobs:
        doc, changed = stackfile.without_jobs(doc)
        for name in changed:
            reporter.info(f"{name}: a one-shot replicated service (this docker CLI deploys no jobs)")
    text = stackfile.render(doc)
    stackfile.check_no_secrets(text, [settings.value(variable) for _, variable in secrets_of(settings)])
    path = settings.path(settings.state_dir) / "swarm" / f"{stack}.stack.json"
    files.write_private(path, text)
    with docker_errors(
        f"deploying {stack}",
        otherwise=lambda exc: StackError(
            f"docker stack deploy of {stack} failed",
            f"run again with DOCKSTAGE_DEBUG=1 to see docker's output; the stack file is {path}",
        ),
    ):
        docker.stack.deploy(
            stack, compose_files=[path], prune=prune, resolve_image="never", with_registry_auth=registry_auth
        )


# --- deploy and rollback ----------------------------------------------------------------------


def _prune_services(docker: DockerClient, reporter: Reporter, stack: str, doc: Mapping[str, Any]) -> None:
    """Remove the stack's services the stack file no longer has (what --prune would do)."""
    wanted = {f"{stack}_{name}" for name in doc["services"]}
    for service in docker.service.list(filters=[("label", f"{NAMESPACE_LABEL}={stack}")]):
        if service.spec.name and service.spec.name not in wanted:
            docker.service.remove(service)
            reporter.info(f"removed {service.spec.name}: no longer in the stack file")


def _release(settings: Settings, version: str | None) -> Release:
    target = find(settings, version) if version else latest(settings)
    if target is None:
        raise StackError(
            f"no release {version or 'at all'} of {settings.image} is recorded",
            "release one first: `{release}` (it pushes the prod image and records its digest)",
        )
    return target


def _roll_out(
    run: Run,
    options: SwarmOptions,
    target: Release,
    replicas: int,
    *,
    migrate: bool,
    support: Release | None = None,
) -> Deployed:
    """Deploy `target` (migrations first when `migrate`); a manager lost meanwhile is one line."""
    watch = waits.Watch(f"deploying {target.version} to {options.stack_name(run.settings)}")
    with watch.guard():
        return _steps(run, options, target, replicas, watch, migrate=migrate, support=support)


def _steps(
    run: Run,
    options: SwarmOptions,
    target: Release,
    replicas: int,
    watch: waits.Watch,
    *,
    migrate: bool,
    support: Release | None,
) -> Deployed:
    started = time.monotonic()
    docker, reporter = run.docker, run.reporter
    stack = options.stack_name(run.settings)
    settings = run.ensure_env()  # the command's .env, created and validated once
    ensure_node_labels(docker, reporter)
    secrets = ensure_secrets(settings, docker, stack)
    proxy_conf = ensure_config(docker, stack, "proxy_conf", resources.path(resources.PROXY_CONF))
    jobs = client_deploys_jobs(docker)
    web_name = f"{stack}_web"
    new_web = target.pinned("web", options.pull_address())
    base = support or target  # db and proxy images: the target's, or (rollback) those running now
    values = _values(
        settings, options, base, web_image=new_web, web_replicas=replicas, secrets=secrets, proxy_conf=proxy_conf
    )
    values["DOCKSTAGE_MIGRATE_IMAGE"] = new_web
    doc = render(settings, docker, reporter, stack, values)

    def apply(part: Mapping[str, object]) -> None:
        # Without --prune: the service left out of `part` stays as it runs (see _prune_services).
        _deploy_file(
            settings, docker, reporter, stack, part, prune=False, jobs=jobs, registry_auth=options.registry_auth
        )

    if migrate:
        reporter.step(f"deploy {stack}: migrations of {target.version} first (web as it runs)")
        watch.doing, watch.then = f"the migrations of {target.version} ran", "update"
        if job_mode_differs(_service(docker, stack, "migrate"), jobs):
            # A finished one-shot: only its task history goes with it.
            with docker_errors(f"removing {stack}_migrate, deployed by another docker CLI"):
                docker.service.remove(f"{stack}_migrate")
            reporter.info(
                f"{stack}_migrate: made again as a {'job' if jobs else 'one-shot service'} for this docker CLI"
            )
        apply(stackfile.without(doc, "web", *settings.app.workers))  # the workers go with web
        seconds = waits.wait_job(
            docker, reporter, watch, f"{stack}_migrate", values["DOCKSTAGE_DEPLOY_ID"], settings.wait_timeout
        )
        reporter.ok(f"migrations of {target.version} applied ({seconds:.0f} s)")

    reporter.step(f"deploy {stack}: web {target.version}, {replicas} replicas")
    current = _service(docker, stack, "web")
    before, marker = _fingerprint(current), waits.update_marker(current)
    watch.doing, watch.then, watch.seen = f"web went to {target.version} on {stack}", "update", ""
    # Without migrate: any update of a job service runs it again.
    apply(stackfile.without(doc, "migrate"))
    watch.seen = "the swarm has web's new spec"
    _prune_services(docker, reporter, stack, doc)
    timeout = float(settings.wait_timeout + 45 * replicas)
    after = _fingerprint(_service(docker, stack, "web"))
    if current is None:
        outcome = "created"
        if not waits.wait_replicas(docker, watch, web_name, replicas, new_web, timeout):
            waits.show_logs(docker, reporter, web_name)
            raise StackError(
                f"{web_name}: {replicas} healthy tasks did not start within {timeout:.0f} s", "see `{stack_ps}`"
            )
    elif after != before:
        outcome = "updated"
        waits.wait_update(docker, reporter, watch, web_name, marker, replicas, new_web, timeout)
    else:
        outcome = "unchanged" if _replicas(current) == replicas else "scaled"
        if not waits.wait_replicas(docker, watch, web_name, replicas, new_web, timeout):
            raise StackError(f"{web_name}: {replicas} tasks do not run", "see `{stack_ps}`")
    for worker in settings.app.workers:
        name = f"{stack}_{worker}"
        watch.doing, watch.then = f"{name} runs {target.version}", "update"
        if not waits.wait_replicas(docker, watch, name, 1, new_web, float(settings.wait_timeout)):
            waits.show_logs(docker, reporter, name)
            raise StackError(f"{name}: its task of {target.version} does not run", "see `{stack_ps}`")
    removed = prune_objects(docker, stack, [*secrets.values(), proxy_conf])
    if removed:
        reporter.info(f"removed {removed} secrets/configs no deploy uses any more")
    done = Deployed(stack, target.version, replicas, outcome, time.monotonic() - started)
    reporter.ok(f"{stack}: web {target.version} ({outcome}), {replicas} replicas, {done.seconds:.0f} s")
    return done


def _on_manager(run: Run, options: SwarmOptions | None) -> SwarmOptions:
    """The run's preflight (the engine answers), then this engine must manage a swarm; the swarm
    options the shell and .env set unless given."""
    run.preflight()
    require_manager(run.docker)
    return options or SwarmOptions.from_settings(run.settings)


def deploy(
    run: Run,
    version: str | None = None,
    replicas: int | None = None,
    *,
    options: SwarmOptions | None = None,
) -> Deployed:
    """Deploy a recorded release (default: the latest) on the swarm the run's engine manages:
    migrations as a job first, then web as a health-gated rolling update (automatic rollback on failure)."""
    options = _on_manager(run, options)
    target = _release(run.settings, version)
    return _roll_out(run, options, target, replicas or options.replicas, migrate=True)


def _release_of(settings: Settings, image: str) -> Release | None:
    """The recorded release whose web image `image` is (by name:tag@digest, else by digest)."""
    path = image.split("/", 1)[1] if "/" in image else image
    recorded = list(reversed(load(settings)))
    digest = image.rpartition("@")[2]
    return next((r for r in recorded if r.images.get("web") == path), None) or next(
        (r for r in recorded if r.images.get("web", "").endswith(f"@{digest}")), None
    )


def rollback(run: Run, to_version: str | None = None, *, options: SwarmOptions | None = None) -> Deployed:
    """Put web back on the previous release (or `to_version`), without migrations: under the
    expand/contract rule the older code runs on the newer schema (docs/DEPLOY.md)."""
    options = _on_manager(run, options)
    settings = run.settings
    stack = options.stack_name(settings)
    web = _service(run.docker, stack, "web")
    if web is None:
        raise StackError(f"{stack} runs no web service", "deploy it first: `{deploy}`")
    running = _release_of(settings, _image(web))
    if to_version:
        target = _release(settings, to_version)
    else:
        recorded = [r for r in load(settings) if r.image == settings.image]
        index = next((i for i, r in enumerate(recorded) if running and r.version == running.version), None)
        if index is None or index == 0:
            raise StackError(
                "there is no release before the one that runs",
                "name one: `{rollback} --version V` (releases: .dockstage/releases.json)",
            )
        target = recorded[index - 1]
    run.reporter.step(f"rollback {stack}: web {running.version if running else '?'} -> {target.version}")
    return _roll_out(run, options, target, _replicas(web), migrate=False, support=running)


# --- looking at it and removing it ------------------------------------------------------------


def stack_ps(run: Run, *, options: SwarmOptions | None = None) -> list[TaskRow]:
    """The stack's current tasks: service, node, desired and current state, version, error."""
    options = _on_manager(run, options)
    docker = run.docker
    stack = options.stack_name(run.settings)
    hosts = {n.id: n.description.hostname or n.id[:12] for n in docker.node.list()}
    rows: list[TaskRow] = []
    for service in sorted(
        docker.service.list(filters=[("label", f"{NAMESPACE_LABEL}={stack}")]), key=lambda s: s.spec.name or ""
    ):
        name = (service.spec.name or "").removeprefix(f"{stack}_")
        tasks = sorted(docker.service.ps(service), key=lambda t: str(t.created_at), reverse=True)
        shown = [t for t in tasks if t.desired_state == "running"] or tasks[:1]  # a job: its last run
        for task in shown:
            image = (task.spec.container_spec.image or "") if task.spec and task.spec.container_spec else ""
            rows.append(
                TaskRow(
                    service=name,
                    slot=str(task.slot or ""),
                    node=hosts.get(task.node_id or "", ""),
                    desired=task.desired_state or "",
                    state=(task.status.state or "") if task.status else "",
                    image=image.split("@")[0].rpartition(":")[2] if "/" in image else image,
                    error=(task.status.err or "") if task.status else "",
                )
            )
    run.reporter.table(
        f"stack {stack}",
        ("service", "slot", "node", "desired", "state", "version", "error"),
        ((r.service, r.slot, r.node, r.desired, r.state, r.image, r.error) for r in rows),
    )
    return rows


def stack_logs(run: Run, service: str | None = None, *, tail: int = 100, options: SwarmOptions | None = None) -> None:
    """Recent logs of one service of the stack (db, migrate, web, proxy) or of all."""
    options = _on_manager(run, options)
    docker, reporter = run.docker, run.reporter
    stack = options.stack_name(run.settings)
    names = [service] if service else ["db", "migrate", "web", "proxy"]
    for name in names:
        if not docker.service.exists(f"{stack}_{name}"):
            if service:
                raise StackError(f"{stack} has no service {name}", "use db, migrate, web or proxy")
            continue
        reporter.step(f"logs of {stack}_{name}")
        waits.show_logs(docker, reporter, f"{stack}_{name}", tail)


def _gone(docker: DockerClient, stack: str) -> bool:
    """The stack's services, containers and networks are gone (removing what swarm leaves)."""
    label: list[tuple[Literal["label"], str]] = [("label", f"{NAMESPACE_LABEL}={stack}")]
    if docker.service.list(filters=label):
        return False
    try:
        containers = docker.container.list(all=True, filters=label)
        if any(c.state.running for c in containers):  # each state is a look at the container
            return False
    except NoSuchContainer:  # one went away meanwhile: look again
        return False
    # Swarm leaves the exited containers of job tasks behind once their service is removed.
    for container in containers:
        # Safe: one may be going away by itself meanwhile; what is left is looked at again.
        with swallowed("a job container going away"):
            docker.container.remove(container)
    for network in docker.network.list(filters=label):
        # Safe: a network still has endpoints while swarm removes the tasks; it is looked at again.
        with swallowed("a stack network still in use"):
            docker.network.remove(network)
    return not docker.container.list(all=True, filters=label) and not docker.network.list(filters=label)


def undeploy(run: Run, *, volumes: bool = False, yes: bool = False, options: SwarmOptions | None = None) -> None:
    """Remove the stack: services, networks, its secrets and configs. The database volume stays
    unless volumes and yes (on a multi-node swarm it lives on the node labelled dockstage.db)."""
    if volumes and not yes:
        raise ConfigError("deleting the database volume loses every row", "add --yes to confirm --volumes")
    options = _on_manager(run, options)
    settings, docker, reporter = run.settings, run.docker, run.reporter
    stack = options.stack_name(settings)
    reporter.step(f"undeploy {stack}")
    watch = waits.Watch(f"removing {stack}")
    with docker_errors(f"removing the stack {stack}"), watch.guard():
        unfinished = ""
        if any(s.name == stack for s in docker.stack.list()):
            watch.then = "removal"
            try:
                docker.stack.remove(stack)
            except DockerException as exc:  # the CLI exits 1 on a network a stopping task still holds
                if engine_error(exc, f"removing the stack {stack}") is not None:
                    raise
                said = (exc.stderr or exc.stdout or "").strip().splitlines()
                unfinished = f" (`docker stack rm` said: {said[-1][-300:]})" if said else ""
        if not watch.until(lambda: _gone(docker, stack) or None, settings.wait_timeout):  # removes what it left
            raise StackError(
                f"{stack}'s services or networks are still there{unfinished}",
                "see `docker stack ps`; run undeploy again",
            )
        watch.doing = f"removing {stack}'s secrets and configs"
        with _unprinted():
            for secret in docker.secret.list(filters=[("label", f"{STACK_LABEL}={stack}")]):
                docker.secret.remove(secret)
        for config in docker.config.list(filters={"label": f"{STACK_LABEL}={stack}"}):
            docker.config.remove(config)
    volume = f"{stack}_db-data"
    if docker.volume.exists(volume):
        if volumes:
            docker.volume.remove(volume)
            reporter.ok(f"{stack} removed, and its database volume {volume}")
            return
        reporter.ok(f"{stack} removed; its database volume {volume} is kept")
        return
    reporter.ok(f"{stack} removed" + ("; no database volume on this node" if volumes else ""))
