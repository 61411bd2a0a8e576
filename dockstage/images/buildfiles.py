"""What a build needs besides the Dockerfile: build arguments from [tool.dockstage], and the files
staged into the build context (`.dockstage/build/`) that the Dockerfile copies.

Staged: the suite's build helpers and prod files (`support/`), and each requirement set (`dev`,
`runtime`, `test`) as the project has it (a file's `-r`/`-c` includes too, at their relative
paths) with uv's arguments in `args`. Each set is its own directory, so a change to the runtime
requirements does not reinstall the dev tools. Files are rewritten only when their content changes.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Iterable
from pathlib import Path

from dockstage.core.appconfig import App
from dockstage.core.config import Settings
from dockstage.core.errors import ConfigError
from dockstage.core.files import read_text_any, write_if_changed
from dockstage.core.overlay import overlay_env
from dockstage.images import locks
from dockstage.images.bases import BaseImages

SUPPORT_FILES = (
    "install.py",
    "runtimelibs.py",
    "prune.py",
    "buildsteps.py",
    "testcommand.py",
    "gunicorn.conf.py",
    "healthcheck.py",
    "assets.py",
    "urllist.py",
    "probe.py",
    "pythonpath/dockstage_settings.py",
    "pythonpath/dockstage_dbproof.py",
    "pythonpath/dockstage_redis.py",
    "pythonpath/dockstage_errorlog.py",
    "pythonpath/sitecustomize.py",
)
"""The suite's files the Dockerfile copies (from `support_dir`: the package's, or the project's own)."""
SUITE_RUNTIME = ("gunicorn", "mysqlclient")
_SUITE_PIN = re.compile(
    r"^[ \t]*(gunicorn|mysqlclient)[ \t]*((?:===|==|~=|>=|<=|!=|>|<)[ \t]*[\w.*+!-]+"
    r"(?:[ \t]*,[ \t]*(?:===|==|~=|>=|<=|!=|>|<)[ \t]*[\w.*+!-]+)*)[ \t]*(?:[;#].*)?$",
    re.I | re.M,
)
"""Always in the runtime venv: prod serves with gunicorn and talks to MySQL with mysqlclient."""
STAGED = ".dockstage/build"
_INCLUDE = re.compile(r"^\s*(?:-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)")
_INDEX_LINE = re.compile(r"^[ \t]*(?:-i|--index-url|--extra-index-url)(?:[ \t]+|=|(?<=-i))(\S+)[^\n]*$", re.M)
PYPI_HOSTS = ("pypi.org", "www.pypi.org", "pypi.python.org", "pypi.io")
"""Hosts of PyPI's simple index (old names included): the build's default index, by any name."""


def is_pypi(url: str) -> bool:
    """Whether an index URL is PyPI's own simple index under one of its names."""
    host = re.sub(r"^[a-z+]+://(?:[^@/]*@)?", "", url.strip().lower()).split("/", 1)
    return host[0].split(":")[0] in PYPI_HOSTS and host[1:2] in ([""], ["simple"], ["simple/"])


def index_lines(text: str) -> list[str]:
    """The index URLs a requirements file names itself (-i / --index-url / --extra-index-url)."""
    return [m[1] for m in _INDEX_LINE.finditer(text)]


def without_own_index(text: str, *, index_url: bool) -> str:
    """A requirements file as staged: its own index lines commented out when [tool.dockstage]
    index-url is set (the configured index wins, as a policy) or when they name PyPI (the build's
    default index already; an old name such as pypi.python.org may not resolve behind a proxy).
    Any other index the file names is kept: the project needs it."""

    def replace(match: re.Match[str]) -> str:
        drop = index_url or is_pypi(match[1])
        return f"# dockstage: {match[0].strip()}" if drop else match[0]

    return _INDEX_LINE.sub(replace, text)


_PYPROJECT = re.compile(r"^(?P<path>(?:.*/)?pyproject\.toml)(?:\[(?P<extras>[^\]]*)\]|:(?P<group>[\w.-]+))?$")


NO_DATABASE_ENV = "DOCKSTAGE_NO_DATABASE"
"""1 wherever the suite runs the app's code with no database (the build steps, the image checks):
settings can switch off what connects while the apps load (a metrics app exporting migrations)."""


def placeholders(app: App) -> dict[str, str]:
    """The app's environment at build time: its names with harmless values (no real secret), and
    NO_DATABASE_ENV."""
    values = {
        "secret-key": "build-time-placeholder-not-a-secret-build-time-placeholder-not-a-secret",
        "debug": app.debug_values[0],
        "allowed-hosts": "localhost",
        "database-host": "db",
        "database-port": "3306",
        "database-name": "app",
        "database-user": "app",
        "database-password": "build-time-placeholder",
        "database-url": "mysql://app:build-time-placeholder@db:3306/app",
        "redis-url": "redis://redis:6379",  # nothing connects at build time
        "redis-host": "redis",
    }
    env = {name: values[value] for value, names in app.env.items() for name in names}
    return {
        **app.env_defaults,
        **env,
        **app.env_values,
        **overlay_env(app.overlay, app.settings_module, values, debug_on=False),
        NO_DATABASE_ENV: "1",
    }


def build_args(settings: Settings, images: BaseImages, context: Path | None = None) -> dict[str, str]:
    """The Dockerfile's build arguments; stages the files they refer to into the context first."""
    app = settings.app
    context = (context or settings.root).resolve()
    if not (context / settings.app_dir).is_dir():  # not the app's context (a base image of the benchmark)
        return {"PYTHON_IMAGE": images.python}
    stage(settings, context)
    return {
        "PYTHON_IMAGE": images.python,
        "DOCKSTAGE_BUILD": STAGED,
        "APP_DIR": settings.app_dir.strip("/") or ".",
        "SETTINGS_MODULE": app.settings_module,
        "WSGI": app.wsgi,
        "HEALTH_PATH": app.health_path,
        "APT_BUILD": " ".join(app.apt_build),
        "APT_RUNTIME": " ".join(app.apt_runtime),
        "PROD_EXCLUDE": json.dumps(list(app.prod_exclude)),
        "BUILD_ENV": json.dumps(placeholders(app), sort_keys=True),
        "COLLECTSTATIC": "true" if app.collectstatic else "false",
        "BUILD_COMMANDS": json.dumps([list(c) for c in app.build_commands]),
        "TEST_COMMAND": json.dumps(list(app.test_command)),
        "TEST_SETUP": json.dumps([list(c) for c in app.test_setup]),
        "ASSETS": "node-assets" if app.assets_command else "no-assets",
        "ASSETS_COMMAND": json.dumps(list(app.assets_command)),
        "ASSETS_OUTPUT": json.dumps(list(app.assets_output)),
        "PYTHON_PATH": ":".join(f"/app/{p.strip('/')}" for p in app.python_path),
        "WRITABLE_DIRS": " ".join(app.writable_paths),
    }


def _write(path: Path, data: bytes) -> None:
    """Write `data` atomically, only when it differs (concurrent builds read these files); 0644,
    as COPY keeps the mode and the image's user reads them."""
    write_if_changed(path, data, mode=0o644)


def _sync(directory: Path, files: dict[str, bytes]) -> None:
    """Make `directory` hold exactly `files` (relative path -> content)."""
    for relative, data in files.items():
        _write(directory / relative, data)
    if directory.is_dir():
        for path in sorted(directory.rglob("*"), reverse=True):
            relative = path.relative_to(directory).as_posix()
            if path.is_file() and relative not in files and not path.name.startswith("."):
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def _inside(context: Path, path: Path, what: str) -> str:
    try:
        return path.resolve().relative_to(context).as_posix()
    except ValueError:
        raise ConfigError(
            f"{what} ({path}) is outside the project", "keep requirement files inside the project"
        ) from None


def requirement_files(context: Path, entry: str, found: dict[str, bytes], *, index_url: bool = False) -> list[str]:
    """uv's arguments for one requirements entry; the files it reads are added to `found`.

    A `.txt`/`.in` file (its -r/-c includes followed), a `pyproject.toml` (`pyproject.toml[extra]`,
    `pyproject.toml:group`), or anything else as a package spec ("Django>=5.2,<6").
    """
    lock = locks.LOCK_ENTRY.match(entry)
    if lock:
        return _lock_files(context, lock, found)
    pyproject = _PYPROJECT.match(entry)
    if pyproject:
        path = context / pyproject["path"]
        if not path.is_file():
            raise ConfigError(
                f"requirements entry {entry!r}: {path} does not exist", "fix [tool.dockstage] requirements"
            )
        relative = _inside(context, path, entry)
        found[relative] = locks.resolver_pyproject(path.read_bytes())
        if pyproject["group"]:
            return ["--group", f"{relative}:{pyproject['group']}"]
        extras = [e.strip() for e in (pyproject["extras"] or "").split(",") if e.strip()]
        return ["-r", relative, *(arg for extra in extras for arg in ("--extra", extra))]
    if not entry.endswith((".txt", ".in")):
        return [entry]
    path = context / entry
    if not path.is_file():
        raise ConfigError(
            f"requirements file {entry} does not exist", "fix [tool.dockstage] requirements, or create it"
        )
    pending = [path]
    while pending:
        current = pending.pop()
        relative = _inside(context, current, entry)
        if relative in found:
            continue
        text = read_text_any(current)
        found[relative] = without_own_index(text, index_url=index_url).encode("utf-8")
        for line in text.splitlines():
            include = _INCLUDE.match(line)
            if include:
                pending.append(current.parent / include.group(1))
    return ["-r", _inside(context, path, entry)]


def _lock_files(context: Path, lock: re.Match[str], found: dict[str, bytes]) -> list[str]:
    """A uv.lock entry: the lock and its pyproject.toml staged, `export` for install.py; a poetry.lock
    or Pipfile.lock entry: its pinned requirements as a staged file."""
    path = context / lock["path"]
    pyproject_path = path.parent / "pyproject.toml"
    if not path.is_file():
        raise ConfigError(f"requirements entry {lock[0]!r}: {path} does not exist", "fix [tool.dockstage] requirements")
    relative = _inside(context, path, lock[0])
    pyproject_text = pyproject_path.read_bytes() if pyproject_path.is_file() else b""
    if lock["kind"] == "uv":
        if "export" in found:
            raise ConfigError(
                f"two uv.lock entries in one requirements set ({lock[0]})", "list one uv.lock entry per set"
            )
        found[relative] = path.read_bytes()
        found[_inside(context, pyproject_path, lock[0])] = locks.resolver_pyproject(pyproject_text)
        folder = Path(relative).parent.as_posix()
        found["export"] = "".join(f"{a}\n" for a in [folder, *locks.uv_export_args(lock["group"])]).encode("utf-8")
        return []
    try:
        pyproject = tomllib.loads(pyproject_text.decode("utf-8", errors="replace"))
    except tomllib.TOMLDecodeError:
        pyproject = {}
    text = path.read_text(encoding="utf-8", errors="replace")
    if lock["kind"] == "Pipfile":
        group = lock["group"] or locks.PIPENV_SECTIONS[0]
        lines, name = locks.pipenv_requirements(text, group), f"pipfile-{group}.txt"
    else:
        group = lock["group"] or locks.MAIN
        lines, name = locks.poetry_requirements(text, pyproject, group), f"poetry-{group}.txt"
    found[name] = "".join(f"{line}\n" for line in lines).encode("utf-8")
    return ["-r", name]


def requirement_set(
    context: Path, entries: Iterable[str], extra: Iterable[str] = (), *, index_url: bool = False
) -> dict[str, bytes]:
    """The staged files of one set: the requirement files and `args` (index_url: [tool.dockstage]
    sets one, so the files' own index lines are dropped)."""
    files: dict[str, bytes] = {}
    args: list[str] = []
    for entry in entries:
        args += requirement_files(context, entry, files, index_url=index_url)
    args += list(extra)
    files["args"] = "".join(f"{arg}\n" for arg in args).encode("utf-8")
    return files


def suite_runtime(*sets: dict[str, bytes]) -> list[str]:
    """gunicorn and mysqlclient for the runtime set, each under the version specifier a dev or test
    requirement file gives it (`==2.2.8`, `~=2.2.8`, `>=2.2,<2.3`): the tools install under the
    runtime's versions, so a bare name resolving to another release would turn the app's own
    specifier into a conflict."""
    pins: dict[str, str] = {}
    for files in sets:
        for name, data in files.items():
            if name in ("args", "export"):
                continue
            for found in _SUITE_PIN.finditer(data.decode("utf-8", errors="replace")):
                pins.setdefault(found[1].lower(), found[1].lower() + found[2].replace(" ", "").replace("\t", ""))
    return [pins.get(name, name) for name in SUITE_RUNTIME]


_TEST_TOOL = re.compile(r"^[ \t]*(pytest(?:[-_][\w-]+)?)[ \t]*(?:[=<>~!;\[#\\]|$)", re.I | re.M)


def runtime_test_tools(settings: Settings) -> list[str]:
    """The test tools (pytest, pytest-*) the app's own runtime requirements name, as last staged:
    prod holds them because the app asks for them, not because the suite leaked its own."""
    folder = settings.root / STAGED / "requirements" / "runtime"
    found: list[str] = []
    # Staged under their paths in the project (project/requirements.txt: a folder of its own).
    for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
        if not path.is_file() or path.name in ("args", "export") or path.name.endswith(".lock"):
            continue  # the suite's own lines; a lock lists every group, the runtime set is its project's
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.name == "pyproject.toml":  # uv.lock / poetry.lock sets install its project's dependencies
            text = "\n".join(_project_dependencies(text))
        found += [m[1].lower() for m in _TEST_TOOL.finditer(text)]
    return list(dict.fromkeys(found))


def _project_dependencies(text: str) -> list[str]:
    """[project] dependencies and [tool.poetry.dependencies] names of a pyproject.toml, as lines."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []
    project = data.get("project", {})
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {})
    listed = project.get("dependencies", []) if isinstance(project, dict) else []
    return [str(d) for d in listed if isinstance(d, str)] + [str(n) for n in poetry if isinstance(poetry, dict)]


def _index(app: App) -> list[str]:
    return ["--index-url", app.index_url] if app.index_url else []


def stage(settings: Settings, context: Path) -> Path:
    """Stage the support files and the requirement sets into `<context>/.dockstage/build`."""
    target = context / STAGED
    support = settings.path(settings.support_dir)
    missing = [name for name in SUPPORT_FILES if not (support / name).is_file()]
    if missing:
        raise ConfigError(
            f"{support} lacks {', '.join(missing)}",
            "run `dockstage init --eject --force` to refresh the project's copies, or remove support-dir",
        )
    _sync(target / "support", {name: (support / name).read_bytes() for name in SUPPORT_FILES})
    app = settings.app
    own = bool(app.index_url)
    dev = requirement_set(context, app.dev_requirements, _index(app) if app.dev_requirements else (), index_url=own)
    test = requirement_set(context, app.test_requirements, _index(app) if app.test_requirements else (), index_url=own)
    runtime = requirement_set(context, app.requirements, [*suite_runtime(dev, test), *_index(app)], index_url=own)
    sets = {"dev": dev, "runtime": runtime, "test": test}
    for name, files in sets.items():
        _sync(target / "requirements" / name, files)
    (target / "testfiles").mkdir(parents=True, exist_ok=True)  # the test stage copies it, empty or not
    _sync(target / "testfiles", test_files(context, app.test_files))
    return target


def test_files(context: Path, entries: tuple[str, ...]) -> dict[str, bytes]:
    """test-files as the test image adds them to the app dir (relative path -> content): each file,
    each dir's files but bytecode and caches."""
    found: dict[str, bytes] = {}
    for entry in entries:
        path = context / entry
        if not path.exists():
            raise ConfigError(
                f"test-files names {entry}, which is not in the project",
                "name files and dirs relative to the project root in test-files in [tool.dockstage]",
            )
        _inside(context, path, f"test-files {entry}")
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            parts = file.relative_to(context).parts
            if file.is_file() and not {"__pycache__", ".pytest_cache"} & set(parts) and file.suffix != ".pyc":
                found[file.relative_to(context).as_posix()] = file.read_bytes()
    return found


def describe(args: dict[str, str]) -> str:
    """The build arguments as a shell would show them (for debug lines)."""
    return " ".join(f"--build-arg {shlex.quote(f'{k}={v}')}" for k, v in sorted(args.items()))
