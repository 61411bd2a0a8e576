"""The project's .env: created on first run with fresh secrets, validated, never overwritten."""

from __future__ import annotations

import secrets
from pathlib import Path

from dockstage import report
from dockstage.config import Settings, parse_env_file, read_env_file
from dockstage.errors import ConfigError

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


def ensure(settings: Settings) -> Path:
    """Create .env from .env.example when missing (saying so); validate it either way."""
    path = settings.path(settings.env_file)
    if not path.exists():
        example = settings.path(settings.env_example)
        if not example.is_file():
            raise ConfigError(f"{example.name} is missing", "restore it from git (`git checkout -- .env.example`)")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_from_example(example.read_text(encoding="utf-8")), encoding="utf-8")
        path.chmod(0o600)
        report.ok(f"created {path.name} from {example.name} with fresh secrets (it is never overwritten)")
    validate(read_env_file(path), path.name)
    return path


def validate(values: dict[str, str], source: str = ".env") -> None:
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


def write_generated(path: Path, values: dict[str, str]) -> None:
    """Write the suite's resolved values for compose (images, ports, uid); rewritten each run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{key}={value}\n" for key, value in sorted(values.items()))
    path.write_text("# written by dockstage on every run; edit .env instead\n" + body, encoding="utf-8")
    parse_env_file(path.read_text(encoding="utf-8"), source=path.name)  # round-trips by construction
