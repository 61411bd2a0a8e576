"""The compose file the suite generates from [tool.dockstage]: worker services, and more tmpfs paths.

Workers ([tool.dockstage.workers]) are management-command processes beside web. Each entry (`mailer = "python manage.py send_queued_mail --loop"`) becomes a compose service of
the prod image with the app's environment, hardened like web, started after the migrations and
restarted unless stopped. The flow that prepares a stack writes them into a generated compose
file in the state dir (no secret in it: the environment comes from the app env file), merged
over the suite's own; loading the settings writes nothing.
`tmpfs` (paths beyond compose.yaml's /tmp and /var/tmp) adds in-memory writable paths to migrate,
web and the workers: compose appends them to the hardened services' own list.
"""

from __future__ import annotations

import json
from pathlib import Path

from dockstage.core import files
from dockstage.core.appconfig import App
from dockstage.core.config import Settings

FILE_NAME = "compose.generated.yaml"
INTERVAL = "${DOCKSTAGE_HEALTH_INTERVAL:?DOCKSTAGE_HEALTH_INTERVAL is written by dockstage}"
HEADER = "# written by dockstage from [tool.dockstage] workers and tmpfs in pyproject.toml; edit those, not this file\n"
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
        "stop_grace_period": "30s",
    }


def render(app: App) -> str:
    """The compose file of the app's workers and extra tmpfs paths (JSON, which compose reads as YAML)."""
    services: dict[str, dict[str, object]] = {name: service(command) for name, command in app.workers.items()}
    for name in ("migrate", "web", *app.workers):
        if app.tmpfs:
            services.setdefault(name, {})["tmpfs"] = [*(TMPFS if name in app.workers else ()), *app.tmpfs]
    return HEADER + json.dumps({"services": services}, indent=2) + "\n"


def write(settings: Settings) -> Path | None:
    """Write the generated compose file when there are workers or tmpfs paths (atomically: steps run side by side)."""
    if not (settings.app.workers or settings.app.tmpfs):
        return None
    path = compose_file(settings)
    files.write_if_changed(path, render(settings.app))
    return path
