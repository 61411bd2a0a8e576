"""The app-specific half of [tool.dockstage]: what the suite must know about the Django project.

The defaults are neutral: what any project gets before `dockstage init` writes its keys (the
settings module and WSGI app have no default: a build asks for them). The bundled app is
configured like any adopted one, in this repository's [tool.dockstage]. Values are data: the Dockerfile gets them as build arguments, the
compose services through the generated env file, the smoke test as a list of HTTP checks.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from dockstage.core.errors import ConfigError
from dockstage.core.overlay import OVERLAY_VALUES

DEFAULT_PROD_EXCLUDE: tuple[str, ...] = (
    # tests, also inside packages, and what only runs them
    "tests/",
    "**/tests/",
    "test/",
    "**/test/",
    "**/tests.py",
    "**/test_*.py",
    "**/*_tests.py",
    "**/conftest.py",
    "pytest.ini",
    "tox.ini",
    ".coveragerc",
    # documentation and the project's tooling
    "docs/",
    "doc/",
    "noxfile.py",
    "tasks.py",
    "noxfile.dockstage.py",
    "tasks_dockstage.py",
    "requirements/",
    "requirements*.txt",
    "**/node_modules/",
    # dotfiles (.env, .git, caches...), bytecode, local databases and collected static files
    ".*",
    "**/.*",
    "**/__pycache__/",
    "**/*.pyc",
    "*.sqlite3",
    "staticfiles/",
)
"""What `prod-exclude` leaves out of the app dir by default (gitignore-like patterns)."""

SUITE_VALUES: tuple[str, ...] = (
    "secret-key",
    "debug",
    "allowed-hosts",
    "database-host",
    "database-port",
    "database-name",
    "database-user",
    "database-password",
    "database-url",
    "redis-url",
    "redis-host",
)
"""What the suite knows and hands to the app, under the environment names [tool.dockstage.env] gives."""

DEPLOY_CHECK_LEVELS = ("WARNING", "ERROR", "off")


@dataclass(frozen=True)
class SmokeCheck:
    """One HTTP request to the prod stack and what its answer must be."""

    path: str
    name: str = ""
    method: str = "GET"
    status: int = 200
    body: Any = None  # sent as JSON
    expect: Mapping[str, Any] = field(default_factory=dict)  # dotted JSON keys -> values ("{saved.key}" allowed)
    contains: str = ""  # a substring the body must hold
    auth: str = ""  # an .env key: its value is sent as `Authorization: Bearer <value>`
    save: str = ""  # keep the JSON answer under this name for `{name.key}` in later checks
    static: bool = False  # follow the page's first hashed /static/ link; it needs a far-future Cache-Control
    follow: bool = False  # follow the site's own redirects first, as the prod HEALTHCHECK and browsers do

    @property
    def label(self) -> str:
        return self.name or f"{self.method} {self.path}"


HEALTH_CHECK = "health"
"""The smoke check that may leave its path out: it then checks health-path (init writes it so, and
an edited health-path is what both the HEALTHCHECK and the smoke test ask for)."""


@dataclass(frozen=True)
class App:
    """Every app-specific value; the defaults are those of a project that has set none."""

    settings_module: str = ""  # e.g. "mysite.settings": no neutral value, `dockstage init` finds it
    wsgi: str = ""  # e.g. "mysite.wsgi:application"
    python: str = ">=3.11"  # a version ("3.12") or a specifier (">=3.12"), as requires-python
    requirements: tuple[str, ...] = ("requirements.txt",)  # files (or package specs) for /opt/venv
    dev_requirements: tuple[str, ...] = ()
    test_requirements: tuple[str, ...] = ()
    apt_build: tuple[str, ...] = ()  # Debian packages C extensions need to compile (dev)
    apt_runtime: tuple[str, ...] = ()  # the libraries they link at run time (stage, prod)
    prod_exclude: tuple[str, ...] = DEFAULT_PROD_EXCLUDE
    health_path: str = "/healthz"
    smoke: tuple[SmokeCheck, ...] = ()  # none given: the health path must answer 200
    collectstatic: bool = True
    build_commands: tuple[tuple[str, ...], ...] = ()  # after collectstatic, e.g. ("python", "manage.py", "compress")
    test_command: tuple[str, ...] = ("python", "manage.py", "test")  # or ("pytest",)
    env: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # suite value -> the app's names
    env_values: Mapping[str, str] = field(default_factory=dict)  # fixed values the app needs (DB=mysql)
    env_defaults: Mapping[str, str] = field(default_factory=dict)  # the app's own names its settings need; .env wins
    test_env: Mapping[str, str] = field(default_factory=dict)  # extra values for the test service only
    compose_files: tuple[str, ...] = ()  # more compose files: redis, workers...
    deploy_check: str = "WARNING"  # `check --deploy --fail-level`; "off" skips it
    debug_values: tuple[str, ...] = ("false", "true")  # how the app spells debug off and on ("False", "True")
    index_url: str = ""  # the package index for every set (beats a requirements file's own -i)
    workers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # service name -> command (prod image)
    secrets: tuple[str, ...] = ()  # the app's own secrets in .env (API_TOKEN): generated, never shown
    assets_command: tuple[str, ...] = ()  # the front-end build after `npm ci`, e.g. ("npm", "run", "build")
    assets_output: tuple[str, ...] = ()  # copied besides every file it wrote (app-dir relative: "node_modules")
    test_setup: tuple[
        tuple[str, ...], ...
    ] = ()  # commands before the tests, e.g. ("python", "manage.py", "compilejsi18n")
    tmpfs: tuple[str, ...] = ()  # writable in-memory paths of the prod services beyond /tmp and /var/tmp
    writable_dirs: tuple[
        str, ...
    ] = ()  # app-dir-relative dirs the app writes (from import on): made, app-owned, tmpfs in prod
    smoke_urls: bool = False  # the smoke test also GETs every parameterless URL of the URLconf (no 5xx)
    smoke_skip: tuple[str, ...] = ()  # glob patterns of URL paths smoke-urls leaves out ("/accounts/login/code/*")
    overlay: tuple[str, ...] = ()  # values the suite's settings module sets over the project's (core/overlay.py)
    test_overlay: tuple[str, ...] = ()  # the same, for the test service's settings module
    python_path: tuple[str, ...] = ()  # dirs (relative to app-dir) on PYTHONPATH, e.g. ["src"]
    # Project-root files and dirs the test image adds to the app dir: tests and pytest config kept
    # beside an app-dir such as src/ (["pytest.ini", "tests"]); never in stage or prod.
    test_files: tuple[str, ...] = ()
    services: tuple[str, ...] = ()  # services beside the database every stack starts: "redis"

    @property
    def tmpfs_mounts(self) -> tuple[str, ...]:
        """The extra tmpfs mounts of the prod containers (tmpfs, then writable-dirs under /app),
        each the app user's: a tmpfs over a dir of the image would take that dir's root owner."""
        mounts = []
        for path in (*self.tmpfs, *self.writable_paths):
            where, _, options = path.partition(":")
            if "uid=" not in options:
                options = ",".join(o for o in (options, f"uid={APP_UID},gid={APP_UID}") if o)
            mounts.append(f"{where}:{options}")
        return tuple(mounts)

    @property
    def writable_paths(self) -> tuple[str, ...]:
        """writable-dirs as paths in the containers (the app dir is /app)."""
        return tuple(f"/app/{d.strip('/')}" for d in self.writable_dirs)

    @property
    def package(self) -> str:
        """The project's top package (from the settings module)."""
        return self.settings_module.split(".")[0]

    @property
    def smoke_checks(self) -> tuple[SmokeCheck, ...]:
        """The smoke checks (one without a path checks the health path), or the health path's when
        [tool.dockstage] gives none."""
        given = tuple(check if check.path else replace(check, path=self.health_path) for check in self.smoke)
        return given or (SmokeCheck(self.health_path, name=HEALTH_CHECK, follow=True),)

    @property
    def pytest(self) -> bool:
        """Whether the test command is pytest (junit and pytest arguments apply)."""
        words = [w for w in self.test_command if w not in ("python", "python3", "-m")]
        return bool(words) and words[0] in ("pytest", "py.test")


APP_KEYS = frozenset(f.name for f in fields(App))
"""The [tool.dockstage] keys (with '_' for '-') that describe the app."""


def _strings(key: str, raw: object, *, split: bool = False) -> tuple[str, ...]:
    if isinstance(raw, str):
        return tuple(shlex.split(raw)) if split else (raw,)
    if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        return tuple(raw)
    raise ConfigError(f"[tool.dockstage] {key} must be a string or a list of strings", f"fix {key} in pyproject.toml")


def _table(key: str, raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ConfigError(
            f"[tool.dockstage.{key}] must be a table", f'write it as [tool.dockstage.{key}] NAME = "value"'
        )
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in raw.items()}


def _env(raw: object) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise ConfigError(
            "[tool.dockstage.env] must be a table", 'write it as [tool.dockstage.env] secret-key = "SECRET_KEY"'
        )
    mapping: dict[str, tuple[str, ...]] = {}
    for value, names in raw.items():
        if value not in SUITE_VALUES:
            raise ConfigError(
                f"unknown suite value {value!r} in [tool.dockstage.env]", f"use {', '.join(SUITE_VALUES)}"
            )
        mapping[value] = _strings(f"env.{value}", names)
    return MappingProxyType(mapping)


KNOWN_SERVICES = ("redis",)
"""Services beside the database the suite can start in every stack ([tool.dockstage] services)."""
APP_UID = 10001
"""The prod image's user (the Dockerfile's APP_UID)."""
SUITE_SERVICES = ("db", "migrate", "web", "test", "proxy", *KNOWN_SERVICES)
_SERVICE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
WRITABLE_DIR = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*/?")
"""A writable-dirs entry: relative, no spaces (the Dockerfile splits the list on them)."""


def _workers(raw: object) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise ConfigError(
            "[tool.dockstage.workers] must be a table",
            'write it as [tool.dockstage.workers] mailer = "python manage.py send_queued_mail --loop"',
        )
    workers: dict[str, tuple[str, ...]] = {}
    for name, command in raw.items():
        if not _SERVICE_NAME.fullmatch(name) or name in SUITE_SERVICES:
            raise ConfigError(
                f"[tool.dockstage.workers] {name!r} is not a service name the suite can add",
                f"use lowercase letters, digits, '-' and '_', and none of {', '.join(SUITE_SERVICES)}",
            )
        workers[name] = _strings(f"workers.{name}", command, split=True)
        if not workers[name]:
            raise ConfigError(f"[tool.dockstage.workers] {name} has no command", 'e.g. "python manage.py qcluster"')
    return MappingProxyType(workers)


def _smoke(raw: object) -> tuple[SmokeCheck, ...]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ConfigError(
            "[tool.dockstage] smoke must be an array of tables", "write each check as [[tool.dockstage.smoke]]"
        )
    known = {f.name for f in fields(SmokeCheck)}
    checks = []
    for number, item in enumerate(raw, start=1):
        unknown = set(item) - known
        pathless = "path" not in item and item.get("name") != HEALTH_CHECK  # the health check's is health-path
        if unknown or pathless:
            raise ConfigError(
                f"smoke check {number} has {'no path' if pathless else f'unknown keys {sorted(unknown)}'}",
                f"give each [[tool.dockstage.smoke]] a path (the one named {HEALTH_CHECK!r} may leave it out: it "
                f"checks health-path) and only {', '.join(sorted(known))}",
            )
        checks.append(SmokeCheck(**{"path": "", **item, "method": str(item.get("method", "GET")).upper()}))
    return tuple(checks)


def python_spec(python: str) -> SpecifierSet:
    """The Python versions `python` accepts: "3.12" means 3.12.*, anything else is a specifier."""
    text = python.strip()
    try:
        Version(text)
    except InvalidVersion:
        pass
    else:
        return SpecifierSet(f"=={text}.*" if text.count(".") == 1 else f"=={text}")
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        raise ConfigError(
            f"[tool.dockstage] python = {python!r} is neither a version nor a specifier",
            'write a version ("3.12") or a specifier (">=3.12")',
        ) from None


def parse_app(raw: Mapping[str, object]) -> App:
    """The App of the [tool.dockstage] values given (keys with '_'); the rest keep their defaults."""
    values: dict[str, object] = {}
    for key, value in raw.items():
        shown = key.replace("_", "-")
        if key in ("requirements", "dev_requirements", "test_requirements", "apt_build", "apt_runtime"):
            values[key] = _strings(shown, value, split=key.startswith("apt"))
        elif key in (
            "prod_exclude",
            "compose_files",
            "debug_values",
            "secrets",
            "assets_output",
            "tmpfs",
            "writable_dirs",
            "overlay",
            "test_overlay",
            "python_path",
            "services",
            "smoke_skip",
            "test_files",
        ):
            values[key] = _strings(shown, value)
        elif key in ("test_command", "assets_command"):
            values[key] = _strings(shown, value, split=True)
        elif key in ("build_commands", "test_setup"):
            commands = [value] if isinstance(value, str) else value
            if not isinstance(commands, list):
                raise ConfigError(f"[tool.dockstage] {shown} must be a list", 'e.g. ["python manage.py compress"]')
            values[key] = tuple(_strings(shown, c, split=True) for c in commands)
        elif key in ("env_values", "test_env", "env_defaults"):
            values[key] = MappingProxyType(_table(shown, value))
        elif key == "env":
            values[key] = _env(value)
        elif key == "smoke":
            values[key] = _smoke(value)
        elif key == "workers":
            values[key] = _workers(value)
        elif key in ("collectstatic", "smoke_urls"):
            if not isinstance(value, bool):
                raise ConfigError(f"[tool.dockstage] {shown} must be true or false", "fix it in pyproject.toml")
            values[key] = value
        else:
            values[key] = str(value).strip()
    app = App(**values)  # type: ignore[arg-type]
    python_spec(app.python)
    if app.deploy_check not in DEPLOY_CHECK_LEVELS:
        raise ConfigError(
            f"[tool.dockstage] deploy-check = {app.deploy_check!r} is not a level",
            f"use one of {', '.join(DEPLOY_CHECK_LEVELS)}",
        )
    if len(app.debug_values) != 2:
        raise ConfigError(
            "[tool.dockstage] debug-values must be two strings", 'write them off first: ["False", "True"]'
        )
    bad_secret = next((name for name in app.secrets if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)), None)
    if bad_secret is not None:
        raise ConfigError(f"[tool.dockstage] secrets: {bad_secret!r} is not a variable name", "name .env variables")
    for key, overlay in (("overlay", app.overlay), ("test-overlay", app.test_overlay)):
        unknown = [value for value in overlay if value not in OVERLAY_VALUES]
        if unknown:
            raise ConfigError(
                f"[tool.dockstage] {key} has unknown values {unknown}", f"use {', '.join(OVERLAY_VALUES)}"
            )
    if app.wsgi and ":" not in app.wsgi:
        raise ConfigError(f"[tool.dockstage] wsgi = {app.wsgi!r} has no ':'", 'write it as "package.wsgi:application"')
    unknown_services = [name for name in app.services if name not in KNOWN_SERVICES]
    if unknown_services:
        raise ConfigError(
            f"[tool.dockstage] services has {unknown_services[0]!r}, which the suite cannot start",
            f"use {', '.join(KNOWN_SERVICES)}, or add the service in a compose file named by compose-files",
        )
    bad_dir = next(
        (d for d in app.writable_dirs if not WRITABLE_DIR.fullmatch(d) or {".", ".."} & set(d.split("/"))), None
    )
    if bad_dir is not None:
        raise ConfigError(
            f"[tool.dockstage] writable-dirs {bad_dir!r} is not a path inside the app dir",
            'write it relative to the app dir, without spaces, "." or "..": writable-dirs = ["data"]',
        )
    relative = [p for p in app.tmpfs if not p.startswith("/")]
    if relative:
        raise ConfigError(
            f"[tool.dockstage] tmpfs {relative[0]!r} is not an absolute path", 'e.g. tmpfs = ["/app/media"]'
        )
    if not app.health_path.startswith("/"):
        raise ConfigError(f"[tool.dockstage] health-path = {app.health_path!r}", "start it with / (e.g. /healthz)")
    outside = next((p for p in app.test_files if p.startswith("/") or ".." in p.split("/") or p in ("", ".")), None)
    if outside is not None:
        raise ConfigError(
            f"[tool.dockstage] test-files {outside!r} is not a path inside the project",
            'name files and dirs relative to the project root: test-files = ["pytest.ini", "tests"]',
        )
    return app
