"""The project's .env: created on first run with fresh secrets, validated, never overwritten."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path

from dockstage.config import Settings, parse_env_file
from dockstage.errors import ConfigError
from dockstage.report import Reporter

SECRET_KEYS = ("DJANGO_SECRET_KEY", "API_TOKEN", "MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD")
NUMERIC_KEYS = ("DOCKSTAGE_WEB_PORT", "GUNICORN_WORKERS", "DOCKSTAGE_WAIT_TIMEOUT")


def fresh_secret(key: str) -> str:
    """A random value suited to the variable (Django wants 50+ characters)."""
    return secrets.token_urlsafe(50 if key == "DJANGO_SECRET_KEY" else 24)


def render_from_example(example: str) -> str:
    """The example's text with every empty secret filled in; comments and order kept."""
    lines = []
    for line in example.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in SECRET_KEYS and not value.strip():
            line = f"{key}={fresh_secret(key.strip())}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def ensure(settings: Settings, reporter: Reporter) -> Settings:
    """Create .env from .env.example when missing (saying so); validate it either way.

    Returns the settings with the new file's values when it was just written."""
    path = settings.path(settings.env_file)
    if not path.exists():
        example = settings.path(settings.env_example)
        if not example.is_file():
            raise ConfigError(f"{example.name} is missing", "restore it from git (`git checkout -- .env.example`)")
        text = render_from_example(example.read_text(encoding="utf-8"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(text, encoding="utf-8")
        reporter.ok(f"created {path.name} from {example.name} with fresh secrets (it is never overwritten)")
        settings = settings.with_dotenv(parse_env_file(text, source=path.name))
    validate(settings.env, path.name)
    return settings


def validate(values: Mapping[str, str], source: str = ".env") -> None:
    """Refuse values compose would accept but the stack cannot use."""
    for key in NUMERIC_KEYS:
        value = values.get(key, "")
        if value and not value.isdigit():
            raise ConfigError(
                f"{key}={value!r} in {source} is not a number", f"set {key} to a whole number in {source}"
            )
    for key in SECRET_KEYS:
        if key in values and not values[key]:
            raise ConfigError(
                f"{key} is empty in {source}",
                f"set a value, or delete {source} to have a fresh one generated",
            )


def render_generated(values: Mapping[str, str]) -> str:
    """The env file of the suite's resolved values for compose (images, ports, uid)."""
    body = "".join(f"{key}={value}\n" for key, value in sorted(values.items()))
    return "# written by dockstage for one command and removed after it; edit .env instead\n" + body


def write_generated(path: Path, values: Mapping[str, str]) -> Path:
    """Write the generated env file (removed by the run at its end)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_generated(values), encoding="utf-8")
    return path
