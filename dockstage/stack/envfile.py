"""The project's .env: created on first run with fresh secrets, validated, never overwritten."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from dockstage.core import dotenv, files
from dockstage.core.appconfig import App
from dockstage.core.config import Settings
from dockstage.core.errors import ConfigError
from dockstage.core.overlay import THROWAWAY_OVERLAY, overlay_env
from dockstage.core.report import Reporter

SECRET_KEYS = ("DJANGO_SECRET_KEY", "MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD")
"""The suite's secrets in .env; the app adds its own ([tool.dockstage] secrets): see secret_keys."""
NUMERIC_KEYS = ("DOCKSTAGE_WEB_PORT", "GUNICORN_WORKERS", "DOCKSTAGE_WAIT_TIMEOUT")
SUITE_PREFIXES = ("DOCKSTAGE_", "MYSQL_", "COMPOSE_", "GUNICORN_")
""".env keys that are the suite's, the database server's or compose's: not passed to the app as they are."""


def secret_keys(app: App) -> tuple[str, ...]:
    """The one secrets table: every .env variable that is a secret (the suite's, then the app's).

    Each is generated when its example line is empty, must not be empty, is kept out of every
    message, and becomes a Docker secret in a swarm deploy."""
    return (*SECRET_KEYS, *(key for key in app.secrets if key not in SECRET_KEYS))


def fresh_secret(key: str) -> str:
    """A random value suited to the variable (Django wants 50+ characters)."""
    return secrets.token_urlsafe(50 if key == "DJANGO_SECRET_KEY" else 24)


SUITE_SETTING_NOTE = (
    "# dockstage: a DOCKSTAGE_* line of the example is commented out here, so [tool.dockstage] keeps "
    "its say (uncomment one to override pyproject; the suite then says so on every command)"
)


def render_from_example(example: str, secrets: tuple[str, ...] = SECRET_KEYS) -> str:
    """The example's text with every empty secret filled in; comments and order kept.

    A DOCKSTAGE_* setting is written commented out: the first .env carries secrets, and the
    suite's settings stay those of [tool.dockstage] until the user uncomments one."""
    lines: list[str] = []
    for line in example.splitlines():
        key, sep, value = line.partition("=")
        name = key.strip().removeprefix("export ").strip()
        if sep and name in secrets and not value.strip():
            line = f"{key}={fresh_secret(name)}"
        elif sep and name.startswith("DOCKSTAGE_"):
            if SUITE_SETTING_NOTE not in lines:
                lines.append(SUITE_SETTING_NOTE)
            line = f"# {line.strip()}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def ensure(settings: Settings, reporter: Reporter) -> Settings:
    """Create .env from .env.example when missing (saying so); validate it either way.

    Returns the settings with the file's values as they are on disk now."""
    path = settings.path(settings.env_file)
    if not path.exists():
        example = settings.path(settings.env_example)
        if not example.is_file():
            raise ConfigError(f"{example.name} is missing", "restore it from git (`git checkout -- .env.example`)")
        text = render_from_example(dotenv.read_text(example), secret_keys(settings.app))
        if files.write_private(path, text, exclusive=True):  # steps side by side: the first one writes it
            reporter.ok(f"created {path.name} from {example.name} with fresh secrets (it is never overwritten)")
    # Read from disk: steps run side by side may all have found no .env; one wrote it, all use that one.
    settings = settings.reread_dotenv()
    validate(settings.env, path.name, secret_keys(settings.app))
    named = settings.example_keys()
    for key in secret_keys(settings.app):  # every secret the example names must be set
        if key in named and key not in settings.env:
            raise ConfigError(
                f"{key} is not set in {path.name}",
                f"add {key}=<a value> to {path.name}, or delete {path.name} to have a fresh one generated",
            )
    # The generated env files there hold the app's secrets too: the state dir is the owner's only.
    state = settings.path(settings.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o700)
    return settings


def validate(values: Mapping[str, str], source: str = ".env", secrets: tuple[str, ...] = SECRET_KEYS) -> None:
    """Refuse values compose would accept but the stack cannot use."""
    for key in NUMERIC_KEYS:
        value = values.get(key, "")
        if value and not value.isdigit():
            raise ConfigError(
                f"{key}={value!r} in {source} is not a number", f"set {key} to a whole number in {source}"
            )
    for key in secrets:
        if key in values and not values[key]:
            raise ConfigError(
                f"{key} is empty in {source}",
                f"set a value, or delete {source} to have a fresh one generated",
            )


def suite_values(settings: Settings, variant: str = "prod") -> dict[str, str]:
    """What the suite hands the app ([tool.dockstage.env] names them), from .env and the stack.

    Debug is on in the dev stack and off in the test stack, as the .env says elsewhere."""
    value = settings.value
    name, user, password = value("MYSQL_DATABASE") or "app", value("MYSQL_USER") or "app", value("MYSQL_PASSWORD")
    off, on = settings.app.debug_values
    wanted = value("DJANGO_DEBUG").strip().lower() in ("1", "true", "yes", "on")
    debug = {"dev": on, "test": off}.get(variant, on if wanted else off)
    return {
        "secret-key": value("DJANGO_SECRET_KEY"),
        "debug": debug,
        "allowed-hosts": value("DJANGO_ALLOWED_HOSTS") or "localhost,127.0.0.1",
        "database-host": "db",
        "database-port": "3306",
        "database-name": name,
        "database-user": user,
        "database-password": password,
        "database-url": f"mysql://{quote(user, safe='')}:{quote(password, safe='')}@db:3306/{quote(name, safe='')}",
        "redis-url": "redis://redis:6379",  # the stack's redis service ([tool.dockstage] services); no db path: the app may add one
        "redis-host": "redis",
    }


DB_WAIT = "DOCKSTAGE_DB_WAIT"
"""Seconds an app process's database connections are tried again while db is not up yet (the image's
sitecustomize): the pipeline starts the tests and migrate while db still initialises."""


def app_env(settings: Settings, variant: str = "prod", *, throwaway: bool = False) -> dict[str, str]:
    """The environment of the app's services: .env's own keys as they are (not the suite's), the
    suite's values under the app's names, the app's fixed values, test-env in the test stack; in a
    `throwaway` stack's app services the overlay keeps mail in the process (THROWAWAY_OVERLAY), and
    their database connections wait while db does not answer yet (DB_WAIT)."""
    app = settings.app
    env = {**app.env_defaults, **{key: v for key, v in settings.env.items() if not key.startswith(SUITE_PREFIXES)}}
    values = suite_values(settings, variant)
    env.update({name: values[value] for value, names in app.env.items() for name in names})
    env.update(app.env_values)
    if variant == "test":
        env.update(app.test_env)
    overlay = app.test_overlay if variant == "test" else app.overlay
    if throwaway and variant != "test":
        overlay = (*overlay, *THROWAWAY_OVERLAY)
    base = env.get("DJANGO_SETTINGS_MODULE") or app.settings_module
    env.update(overlay_env(overlay, base, values, values["debug"] == app.debug_values[1]))
    env["DOCKSTAGE_HEALTH_PATH"] = app.health_path
    if throwaway:  # migrate may start while db initialises (the pipeline's smoke branch): its connections wait
        env[DB_WAIT] = str(settings.wait_timeout)
    return env


def render_generated(values: Mapping[str, str]) -> str:
    """The env file of the suite's resolved values for compose (images, ports, uid) and the app's
    environment (its names, secrets included)."""
    body = "".join(f"{key}={dotenv.quoted(value)}\n" for key, value in sorted(values.items()))
    return "# written by dockstage for one command and removed after it; edit .env instead\n" + body


def write_generated(path: Path, values: Mapping[str, str]) -> Path:
    """Write the generated env file (removed by the run at its end); only the owner reads it."""
    files.write_private(path, render_generated(values))
    return path
