"""The compose file the suite generates from [tool.dockstage]: worker services, more tmpfs paths,
and the services beside the database (`services = ["redis"]`).

Workers ([tool.dockstage.workers]) are management-command processes beside web. Each entry (`mailer = "python manage.py send_queued_mail --loop"`) becomes a compose service of
the prod image with the app's environment, hardened like web, started after the migrations and
restarted unless stopped. A service of `services` (redis) is the base image of the run's flavour
(official redis, or the Debian stand-in) on the stack's network, no port published, healthy when it
answers PING, nothing kept on disk; migrate, web, the workers and the tests wait for it. The flow that prepares a stack writes them into a generated compose
file in the state dir (no secret in it: the environment comes from the app env file), merged
over the suite's own; loading the settings writes nothing.
`tmpfs` (paths beyond compose.yaml's /tmp and /var/tmp) adds in-memory writable paths to migrate,
web and the workers: compose appends them to the hardened services' own list. `writable-dirs`
(app-dir-relative, e.g. `data` for a task queue's sqlite file opened at import) are tmpfs there too:
on the read-only root they start empty with every container, owned by the app user (uid/gid
options: a tmpfs over the image's dir would be root's); what must outlive a container belongs in a
volume of a compose file named by compose-files.
"""

from __future__ import annotations

import json
from pathlib import Path

from dockstage.core import files
from dockstage.core.appconfig import App
from dockstage.core.config import Settings

FILE_NAME = "compose.generated.yaml"
INTERVAL = "${DOCKSTAGE_HEALTH_INTERVAL:?DOCKSTAGE_HEALTH_INTERVAL is written by dockstage}"
HEADER = (
    "# written by dockstage from [tool.dockstage] workers, tmpfs and services in pyproject.toml; "
    "edit those, not this file\n"
)
APP_SERVICES = ("migrate", "web")  # the suite's prod-image services; test is added in the test variant
TMPFS = ("/tmp", "/var/tmp")  # noqa: S108 - in-memory paths inside the prod containers (compose.yaml's)


def compose_file(settings: Settings) -> Path:
    """Where the generated compose file is written (the state dir)."""
    return settings.path(settings.state_dir) / FILE_NAME


def service(command: tuple[str, ...]) -> dict[str, object]:
    """One worker: the prod image running `command` (not gunicorn), healthy while it runs."""
    return {
        "image": "${DOCKSTAGE_IMAGE:-project-playground}:prod",
        "env_file": ["${DOCKSTAGE_APP_ENV_FILE:?DOCKSTAGE_APP_ENV_FILE is written by dockstage - use `invoke up`}"],
        "entrypoint": list(command[:1]),
        "command": list(command[1:]),
        "read_only": True,
        "tmpfs": list(TMPFS),  # in-memory, as compose.yaml gives web
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "depends_on": {
            "db": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        },
        # Not the prod image's HEALTHCHECK (gunicorn's health path, which a worker does not serve), and
        # not none: compose's `up --wait` (2.26) refuses a container without one. Healthy = its command
        # runs (PID 1: the container exits with it); one `true` at the stack's interval (core.timing).
        "healthcheck": {"test": ["CMD", "true"], "interval": INTERVAL, "timeout": "3s", "retries": 1},
        "restart": "unless-stopped",
        # docker-init as PID 1 passes SIGTERM on: a command with no handler of its own (PID 1
        # ignores it) would wait out the grace period on every stop, update and rollback.
        "init": True,
        "stop_grace_period": "30s",
    }


def redis() -> dict[str, object]:
    """The redis service: a cache or broker the app reaches at redis:6379 (envfile's redis-url)."""
    return {
        "image": "${DOCKSTAGE_REDIS_IMAGE:?DOCKSTAGE_REDIS_IMAGE is written by dockstage}",
        # Every interface of the stack's network (Debian's config binds loopback), nothing on disk.
        "command": ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no"],  # noqa: S104 - inside the container, on the stack's network only
        "read_only": True,
        "tmpfs": ["/data"],
        "security_opt": ["no-new-privileges:true"],  # no cap_drop: the official entrypoint switches user
        "healthcheck": {
            "test": ["CMD-SHELL", '[ "$$(redis-cli ping)" = PONG ]'],
            "interval": INTERVAL,
            "timeout": "3s",
            "retries": 10,
        },
        "restart": "unless-stopped",
    }


SERVICE_DEFINITIONS = {"redis": redis}


def render(app: App, variant: str = "prod") -> str:
    """The compose file of the app's workers, extra tmpfs paths and services (JSON, which compose
    reads as YAML); the test service waits for the services too in the test variant."""
    services: dict[str, dict[str, object]] = {name: service(command) for name, command in app.workers.items()}
    extra_tmpfs = list(app.tmpfs_mounts)  # each the app user's (a tmpfs over an image dir would be root's)
    for name in ("migrate", "web", *app.workers):
        if extra_tmpfs:
            services.setdefault(name, {})["tmpfs"] = [*(TMPFS if name in app.workers else ()), *extra_tmpfs]
    waiting = [*APP_SERVICES, *app.workers, *(("test",) if variant == "test" else ())]
    for extra in app.services:
        services[extra] = SERVICE_DEFINITIONS[extra]()
        for name in waiting:
            depends = services.setdefault(name, {}).setdefault("depends_on", {})
            depends[extra] = {"condition": "service_healthy"}  # type: ignore[index]
    return HEADER + json.dumps({"services": services}, indent=2) + "\n"


def compose_file_of(settings: Settings, variant: str) -> Path:
    """Where the generated compose file of `variant` is written (the state dir)."""
    return compose_file(settings) if variant != "test" else compose_file(settings).with_suffix(".test.yaml")


def write(settings: Settings, variant: str = "prod") -> Path | None:
    """Write the generated compose file when there are workers, tmpfs paths or services
    (atomically: steps run side by side)."""
    if not (settings.app.workers or settings.app.tmpfs or settings.app.writable_dirs or settings.app.services):
        return None
    path = compose_file_of(settings, variant)
    files.write_if_changed(path, render(settings.app, variant))
    return path
