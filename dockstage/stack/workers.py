"""Worker services from [tool.dockstage.workers]: management-command processes beside web.

Each entry (`mailer = "python manage.py send_queued_mail --loop"`) becomes a compose service of
the prod image with the app's environment, hardened like web, started after the migrations and
restarted unless stopped. The flow that prepares a stack writes them into a generated compose
file in the state dir (no secret in it: the environment comes from the app env file), merged
over the suite's own; loading the settings writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from dockstage.core import files
from dockstage.core.appconfig import App
from dockstage.core.config import Settings

FILE_NAME = "compose.workers.yaml"
INTERVAL = "${DOCKSTAGE_HEALTH_INTERVAL:?DOCKSTAGE_HEALTH_INTERVAL is written by dockstage}"
HEADER = "# written by dockstage from [tool.dockstage.workers] in pyproject.toml; edit that table, not this file\n"


def compose_file(settings: Settings) -> Path:
    """Where the workers' compose file is written (the state dir)."""
    return settings.path(settings.state_dir) / FILE_NAME


def service(command: tuple[str, ...]) -> dict[str, object]:
    """One worker: the prod image running `command` (not gunicorn), healthy while it runs."""
    return {
        "image": "${DOCKSTAGE_IMAGE:-project-playground}:prod",
        "env_file": ["${DOCKSTAGE_APP_ENV_FILE:?DOCKSTAGE_APP_ENV_FILE is written by dockstage - use `invoke up`}"],
        "entrypoint": list(command[:1]),
        "command": list(command[1:]),
        "read_only": True,
        "tmpfs": ["/tmp"],  # noqa: S108 - a tmpfs inside the container, as compose.yaml gives web
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
    """The compose file of the app's workers (JSON, which compose reads as YAML)."""
    services = {name: service(command) for name, command in app.workers.items()}
    return HEADER + json.dumps({"services": services}, indent=2) + "\n"


def write(settings: Settings) -> Path | None:
    """Write the workers' compose file when there are workers (atomically: steps run side by side)."""
    if not settings.app.workers:
        return None
    path = compose_file(settings)
    files.write_if_changed(path, render(settings.app))
    return path
