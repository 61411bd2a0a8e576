"""Which settings module the project serves with, and which its tests use, as it says itself.

Serving: a Procfile's web line (`DJANGO_SETTINGS_MODULE=x` or `--settings x`), a hosting manifest's
environment (render.yaml, fly.toml, app.yaml, app.json), a Dockerfile's `ENV DJANGO_SETTINGS_MODULE`,
a script starting gunicorn (or another server) that sets it, then
wsgi.py's `setdefault` (manage.py's default is for commands run by hand, often the development
module). Tests: DJANGO_SETTINGS_MODULE (or `--ds`) in the
pytest config (pytest.ini, pyproject's [tool.pytest.ini_options], setup.cfg, tox.ini).
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

_ASSIGNED = re.compile(r"""DJANGO_SETTINGS_MODULE\s*[=\s]\s*["']?([\w.]+)""")
_SETTINGS_FLAG = re.compile(r"""--settings[=\s]+["']?([\w.]+)""")
_DS_FLAG = re.compile(r"""--ds[=\s]+["']?([\w.]+)""")
SETTINGS_DEFAULT = re.compile(
    r"""^[^#\n]*?setdefault\(\s*["']DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]*\w)["']\s*,?\s*\)""", re.MULTILINE
)
"""os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x.settings"), not in a comment (yakir3/jiracdflow's
wsgi.py keeps `# ...setdefault(..., 'jiracdflow.settings')` above its 'jiracdflow.settings.{}'.format(env))."""


SETTINGS_SET = re.compile(
    r"""^[^#\n]*?environ\[\s*["']DJANGO_SETTINGS_MODULE["']\s*\]\s*=\s*["']([\w.]*\w)["']""", re.MULTILINE
)
"""os.environ["DJANGO_SETTINGS_MODULE"] = "x.settings": set, not defaulted (kkuchar2/docker-django-backend's
manage.py says "settings.settings", its wsgi.py defaults to a name only its own sys.path games resolve)."""


def default_of(text: str) -> str:
    """The settings module a manage.py (or wsgi.py) sets: its setdefault, else its plain assignment, else ''."""
    found = SETTINGS_DEFAULT.search(text) or SETTINGS_SET.search(text)
    return found.group(1) if found else ""


SETTINGS_TEMPLATE = re.compile(
    r"""^[^#\n]*?setdefault\(\s*["']DJANGO_SETTINGS_MODULE["']\s*,\s*"""
    r"""(?:f["']([\w.]+)\.\{|["']([\w.]+)\.(?:\{\w*\}|%s)["']\s*(?:\.format\(|%)|["']([\w.]+)\.["']\s*\+)""",
    re.MULTILINE,
)
"""A default made from the environment: 'x.settings.{}'.format(env), 'x.settings.%s' % env,
f"x.settings.{env}", "x.settings." + env: the settings package it picks a module of."""


def template_package(text: str) -> str:
    """The settings package a DJANGO_SETTINGS_MODULE default picks a module of at run time, or ''."""
    found = SETTINGS_TEMPLATE.search(text)
    return next((group for group in found.groups() if group), "") if found else ""


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    except OSError:
        return ""


def from_procfile(text: str) -> str:
    """The settings module of a Procfile's web (else first) process ('' when it names none)."""
    lines = [line for line in text.splitlines() if ":" in line and not line.lstrip().startswith("#")]
    web = [line for line in lines if line.split(":", 1)[0].strip() == "web"] or lines
    for line in web[:1]:
        match = _ASSIGNED.search(line) or _SETTINGS_FLAG.search(line)
        if match:
            return match.group(1)
    return ""


MANIFESTS = ("render.yaml", "fly.toml", "app.yaml", "app.json")
"""Hosting platforms' files that give the deployed app its environment: Render's blueprint (`key:` /
`value:`), Fly's [env], App Engine's env_variables, Heroku's app.json (`{"value": ...}`)."""
_MANIFEST_VALUE = re.compile(
    r"""DJANGO_SETTINGS_MODULE["']?\s*(?:[:=]\s*(?:\{[^}]*?"value"\s*:\s*)?|\n\s*value:\s*)["']?([\w.]+)"""
)


def from_manifest(text: str) -> str:
    """DJANGO_SETTINGS_MODULE as a hosting manifest sets it for the deployed app, else ''."""
    found = [m.group(1) for m in _MANIFEST_VALUE.finditer(text)]
    return next((module for module in found if module.rpartition(".")[2] not in _NOT_SERVED), "")


def from_dockerfile(text: str) -> str:
    """The last `ENV DJANGO_SETTINGS_MODULE` of a Dockerfile (the final stage's, usually)."""
    found = re.findall(r"""^\s*ENV\s+.*?DJANGO_SETTINGS_MODULE[=\s]+["']?([\w.]+)""", text, re.MULTILINE)
    return found[-1] if found else ""


_COMPOSE_VALUE = re.compile(r"""DJANGO_SETTINGS_MODULE["']?\s*[:=]\s*["']?([\w.]+)""")
COMPOSE_FILES = ("*compose*.yml", "*compose*.yaml", "docker/*compose*.yml", "docker/*compose*.yaml")
"""The project's Compose files (tradoan/docker-django-poetry's docker-compose.prod.yaml gives web
DJANGO_SETTINGS_MODULE=store.settings.prod; its manage.py names store.settings, a folder of modules)."""


def from_compose(text: str) -> str:
    """The first DJANGO_SETTINGS_MODULE a Compose file gives a service (`- NAME=value` or `NAME: value`)
    that is no development or test module, else ''."""
    found = [m.group(1) for m in _COMPOSE_VALUE.finditer(text)]
    return next((module for module in found if module.rpartition(".")[2] not in _NOT_SERVED), "")


DOCKERFILES = (
    "Dockerfile",
    "Dockerfile.*",
    "*.Dockerfile",
    "docker/Dockerfile",
    "docker/Dockerfile.*",
    "docker/*.Dockerfile",
)
"""The project's own Dockerfiles (pinry serves from Dockerfile.autobuild, not its Dockerfile)."""
SERVER_SCRIPTS = ("docker/**/*.sh", "scripts/*.sh", "bin/*.sh", "deploy/**/*.sh", "*.sh")
_SERVER = re.compile(r"\b(?:gunicorn|uwsgi|uvicorn|daphne|hypercorn)\b")
_NOT_SERVED = ("local", "dev", "devel", "develop", "development", "test", "tests", "testing", "ci")


def from_server_script(text: str) -> str:
    """DJANGO_SETTINGS_MODULE as a shell script that starts the app server sets it (`gunicorn ...
    --env DJANGO_SETTINGS_MODULE=x`, an export before it), else ''."""
    if not _SERVER.search(text):
        return ""
    found = [m.group(1) for m in _ASSIGNED.finditer(text)] + [m.group(1) for m in _SETTINGS_FLAG.finditer(text)]
    return next((module for module in found if module.rpartition(".")[2] not in _NOT_SERVED), "")


def _files(root: Path, patterns: tuple[str, ...]) -> list[Path]:
    return list(dict.fromkeys(path for pattern in patterns for path in sorted(root.glob(pattern)) if path.is_file()))


def serving(root: Path, wsgi_file: Path | None) -> tuple[str, str]:
    """(module, where it was read) for prod: Procfile, a hosting manifest, the project's Dockerfiles, its
    Compose files (a production one first), a script that starts its app server, wsgi.py; ('', '') when
    none. A development or test module a Dockerfile, a Compose file or a script names (a dev
    container's) is passed over."""
    for name in ("Procfile",):
        module = from_procfile(_read(root / name))
        if module:
            return module, name
    for name in MANIFESTS:
        module = from_manifest(_read(root / name))
        if module:
            return module, name
    for path in _files(root, DOCKERFILES):
        module = from_dockerfile(_read(path))
        if module and module.rpartition(".")[2] not in _NOT_SERVED:
            return module, path.relative_to(root).as_posix()
    composed = _files(root, COMPOSE_FILES)
    for path in sorted(composed, key=lambda p: not any(w in p.name for w in ("prod", "deploy", "release"))):
        module = from_compose(_read(path))
        if module:
            return module, path.relative_to(root).as_posix()
    for path in _files(root, SERVER_SCRIPTS):
        module = from_server_script(_read(path))
        if module:
            return module, path.relative_to(root).as_posix()
    module = default_of(_read(wsgi_file)) if wsgi_file else ""
    if module and wsgi_file is not None:
        return module, wsgi_file.relative_to(root).as_posix()
    return "", ""


def from_ini(text: str, section: str) -> str:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return ""
    if not parser.has_section(section):
        return ""
    values = {k.upper(): v for k, v in parser.items(section)}
    if values.get("DJANGO_SETTINGS_MODULE"):
        return values["DJANGO_SETTINGS_MODULE"].strip()
    match = _DS_FLAG.search(values.get("ADDOPTS", ""))
    return match.group(1) if match else ""


def for_tests(root: Path, app: Path, pyproject: dict[str, object]) -> tuple[str, str]:
    """(module, where) the project's pytest config names for its tests; ('', '') when none."""
    tool = pyproject.get("tool", {})
    options = tool.get("pytest", {}).get("ini_options", {}) if isinstance(tool, dict) else {}
    if isinstance(options, dict):
        module = options.get("DJANGO_SETTINGS_MODULE")
        addopts = options.get("addopts", "")
        addopts = " ".join(addopts) if isinstance(addopts, list) else str(addopts)
        flag = _DS_FLAG.search(addopts)
        if isinstance(module, str) and module:
            return module, "pyproject.toml"
        if flag:
            return flag.group(1), "pyproject.toml"
    for folder in dict.fromkeys((app, root)):
        for name, section in (("pytest.ini", "pytest"), ("setup.cfg", "tool:pytest"), ("tox.ini", "pytest")):
            module = from_ini(_read(folder / name), section)
            if module:
                return module, (folder / name).relative_to(root).as_posix()
    for folder in dict.fromkeys((app, root)):
        module = from_tox_setenv(_read(folder / "tox.ini"))
        if module:
            return module, f"{(folder / 'tox.ini').relative_to(root).as_posix()} [testenv] setenv"
    return "", ""


def from_tox_setenv(text: str) -> str:
    """DJANGO_SETTINGS_MODULE as tox's [testenv] setenv sets it for the tests ('' when it does not)."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return ""
    setenv = parser.get("testenv", "setenv", fallback="")
    for line in setenv.splitlines():
        key, _, value = line.partition("=")
        if key.strip().upper() == "DJANGO_SETTINGS_MODULE" and re.fullmatch(r"[\w.]+", value.strip()):
            return value.strip()
    return ""
