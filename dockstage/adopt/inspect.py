"""What a Django project is made of, read from its files (nothing is imported or run)."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dockstage.adopt import codeimports, envnames, learn, poetry, postgresonly, settingschoice
from dockstage.adopt.requirements import Requirements, find_requirements, poetry_table
from dockstage.adopt.sourcewalk import matches
from dockstage.core import gitinfo
from dockstage.core.errors import ConfigError, NoManagePy, ProjectNotFound
from dockstage.core.files import SKIP_DIRS
from dockstage.images import buildfiles
from dockstage.images.bases import OFFICIAL_PYTHONS, official_python

MANIFEST_GUESS = "a manifest static storage in the settings' text:"
"""How the text-only guess of test-setup's collectstatic starts (the probe replaces it)."""

HEALTH_WORDS = ("healthz", "health", "ht", "ping", "status", "ready", "readyz", "livez", "alive")
_WSGI_SETTING = re.compile(r"""^WSGI_APPLICATION\s*=\s*["']([\w.]+)\.(\w+)["']""", re.MULTILINE)
_ASGI_SETTING = re.compile(r"""^ASGI_APPLICATION\s*=\s*["']([\w.]+)\.(\w+)["']""", re.MULTILINE)
_ROUTE = re.compile(r"""\b(?:re_)?path\(\s*[fr]?["']\^?((?:[\w/.<>:-]|\{\w+\})*?)\$?["']\s*,\s*([^)]*)""")
_INCLUDE = re.compile(r"""include\(\s*\(?\s*(?:["']([\w.]+)["']|(\w+)\b)""")
_LIST = re.compile(r"^(\w+)\s*(?::[^=]*)?=\s*\[(.*?)^\]", re.MULTILINE | re.DOTALL)
_PROD_NAMES = ("production", "prod", "live", "deploy", "deployment")
_TEST_NAMES = ("test", "tests", "testing", "ci")
_DEV_NAMES = ("local", "dev", "devel", "develop", "development")


@dataclass
class Findings:
    """What `dockstage init` found; `notes` are what the user should check."""

    root: Path
    app_dir: str = "."
    noxfile: str = "noxfile.py"  # noxfile.dockstage.py beside a project's own noxfile.py
    tasks: str = "tasks.py"  # tasks_dockstage.py beside a project's own tasks.py
    settings_module: str = ""
    test_settings_module: str = ""
    test_settings_source: str = ""
    python_path: list[str] = field(default_factory=list)  # source dirs under the app dir (a src/ layout)
    settings_files: list[Path] = field(default_factory=list)
    wsgi: str = ""
    asgi: str = ""
    requirements: Requirements = field(default_factory=Requirements)
    python: str = ">=3.11"
    python_reason: str = "the suite's default"
    needs_python: str = ""  # what the probe's dev build found a requirement needs (init retries with it)
    needs_apt: list[str] = field(default_factory=list)  # Debian packages its source builds lacked (likewise)
    packages: list[str] = field(default_factory=list)  # top-level packages of the app dir
    env: dict[str, list[str]] = field(default_factory=dict)  # suite value -> names the settings read
    env_values: dict[str, str] = field(default_factory=dict)
    env_defaults: dict[str, str] = field(default_factory=dict)  # the app's own names the settings need at import
    other_env: list[str] = field(default_factory=list)  # names read that are not the suite's
    health_path: str = "/"
    health_found: bool = False
    admin_path: str = ""
    static_root: bool = False
    manifest_static: bool = False
    unprobed: tuple[int, str] | None = None  # (exit status, why) when init's probe could not run
    test_command: str = "pytest"
    build_commands: list[str] = field(default_factory=list)
    test_env: dict[str, str] = field(default_factory=dict)
    deploy_check: str = "ERROR"
    debug_values: tuple[str, str] = ("false", "true")
    has_tests: bool = False
    assets_command: str = ""  # package.json's build script, run in the assets stage
    assets_output: list[str] = field(default_factory=list)
    test_setup: list[str] = field(default_factory=list)
    test_files: list[str] = field(default_factory=list)  # project-root tests beside an app dir such as src/
    overlay: list[str] = field(default_factory=list)  # values the suite's settings module sets (probe)
    db_literals: dict[str, str] = field(default_factory=dict)  # MYSQL_* -> what the settings fix (probe)
    test_overlay: list[str] = field(default_factory=list)
    overlay_reasons: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)  # beside the database, every stack: "redis" (probe)
    services_how: str = ""
    writable_dirs: list[str] = field(default_factory=list)  # under the app dir, needed at import (probe)
    tmpfs: list[str] = field(default_factory=list)  # absolute dirs outside the app a log handler writes in (probe)
    learned: str = ""  # how the env table was learned (a comment over it)
    guesses: list[str] = field(default_factory=list)  # notes from reading the text, dropped when a probe knows
    notes: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)


def _walk(root: Path, name: str, depth: int = 3) -> list[Path]:
    """Files called `name` under root, shallowest first, skipping virtualenvs and caches."""
    hits = []
    for path in sorted(root.rglob(name), key=lambda p: (len(p.parts), str(p))):
        relative = path.relative_to(root)
        if len(relative.parts) <= depth + 1 and not SKIP_DIRS.intersection(relative.parts[:-1]):
            hits.append(path)
    return hits


_RUNS_COMMANDS = re.compile(r"\bexecute_from_command_line\(")
MANAGE_DEPTH = 3
"""Folders below the root manage.py is looked for in (yamashitajun/nginx_django_mysql keeps its Django
project in build/AP/project/, its requirements.txt in build/AP/)."""


def manage_scripts(root: Path) -> list[Path]:
    """Scripts that run Django's commands under another name than manage.py (development-manage.py,
    production-manage.py; a package's __main__.py behind a console script: allegro/ralph's
    src/ralph/__main__.py), shallowest first."""
    found = [*_walk(root, "*manage*.py", 2), *_walk(root, "__main__.py", 3)]
    return [path for path in found if _RUNS_COMMANDS.search(read(path))]


def module_file(app_dir: Path, module: str) -> Path | None:
    base = app_dir.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def read(path: Path | None) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path else ""
    except OSError:
        return ""


_STAR = re.compile(r"^from\s+(\.+|[\w.]+\.)?(\w+)\s+import\s+\*", re.MULTILINE)


def _imported(app: Path, main: Path) -> list[Path]:
    """The settings module and the sibling modules it star-imports (`from .base import *`), recursively."""
    files, pending = [], [main]
    while pending:
        path = pending.pop()
        if path in files or not path.is_file():
            continue
        files.append(path)
        pending += [path.parent / f"{name}.py" for _, name in _STAR.findall(read(path))]
    return sorted(files, key=str)


def source_root(app: Path, module: str) -> Path:
    """Where `module` is importable from: the app dir, or a src/ dir under it (a src layout)."""
    if not module or module_file(app, module) is not None:
        return app
    for candidate in (app / "src", *sorted(p for p in app.iterdir() if p.is_dir() and p.name not in SKIP_DIRS)):
        if candidate.is_dir() and module_file(candidate, module) is not None:
            return candidate
    return app


def _defines_settings(path: Path) -> bool:
    """Whether a module sets anything (an assignment or an import): an empty settings package's
    __init__.py does not, and the project picks a module in it at deploy time."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(re.search(r"^\s*(?:[A-Za-z_]\w*\s*=|from\s|import\s)", text, re.M))


_WHOLE_SETTINGS = re.compile(r"^\s*(?:INSTALLED_APPS\s*[=+]|from\s+[\w.]+\s+import\s+\*)", re.M)


def _whole_settings(path: Path) -> bool:
    """Whether a settings module stands on its own: it sets INSTALLED_APPS or star-imports the
    settings it builds on. A fragment the main module imports does neither (kkuchar2's
    settings/production.py holds DATABASES and storage only; settings.py pulls it in)."""
    try:
        return bool(_WHOLE_SETTINGS.search(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False


def _prod_folder_twin(src: Path, module: str) -> str:
    """The same module in a production folder beside a development one (Vidski/BackendTemplate's
    Envs/{Local,CI,Production}/django_settings.py, manage.py naming Envs.Local.django_settings), or ''."""
    *packages, env, leaf = module.split(".") if module.count(".") >= 2 else ("", "", "")
    if env.lower() not in _DEV_NAMES:
        return ""
    folder = src.joinpath(*packages)
    twins = (
        sorted(d.name for d in folder.iterdir() if d.is_dir() and d.name.lower() in _PROD_NAMES)
        if folder.is_dir()
        else []
    )
    found = [name for name in twins if (folder / name / f"{leaf}.py").is_file()]
    return ".".join([*packages, found[0], leaf]) if found else ""


def _flat_sibling(src: Path, module: str, names: tuple[str, ...]) -> str:
    """A module beside `module`'s place named for one of `names` (`settings_prod`, `prod_settings`),
    when the project keeps its settings as flat files: '' when there is none."""
    package, _, leaf = module.rpartition(".")
    folder = src.joinpath(*package.split(".")) if package else src
    for name in names:
        for stem in (f"{leaf}_{name}", f"{name}_{leaf}"):
            if (folder / f"{stem}.py").is_file():
                return f"{package}.{stem}" if package else stem
    return ""


def _settings(found: Findings, app: Path, manage_text: str, pyproject: dict[str, object]) -> None:
    module = settingschoice.default_of(manage_text)
    if not module:  # no literal default (`"x.test" if argv[1] == "test" else "x.production"`): as it is served
        module, named_by = next(
            (pair for wsgi in _walk(app, "wsgi.py", 3) if (pair := settingschoice.serving(found.root, wsgi))[0]),
            ("", ""),
        )
        if module:
            found.notes.append(f"manage.py sets no DJANGO_SETTINGS_MODULE default: using {module} (from {named_by})")
    picked = settingschoice.template_package(manage_text) if not module else ""
    if picked:  # 'x.settings.{}'.format(os.environ.get('PROJECT_ENV', 'dev')): a module of that package
        package_init = module_file(app, picked)
        module = (
            f"{picked}.base" if package_init is not None and (package_init.parent / "base.py").is_file() else picked
        )
        found.notes.append(
            f"manage.py picks its settings module in {picked} from the environment: using {module}, and "
            "the production one for prod when there is one"
        )
    if not module:  # a settings.py, or a settings package (its prod module chosen below, else base)
        files = [
            *_walk(app, "settings.py", 3),
            *(p.parent for p in _walk(app, "__init__.py", 4) if p.parent.name == "settings"),
        ]
        first = sorted(files, key=lambda p: len(p.parts))[0] if files else None
        base = app / "src" if first is not None and (app / "src") in first.parents else app
        module = ".".join(first.relative_to(base).with_suffix("").parts) if first else ""
        if first is not None and first.is_dir() and (first / "base.py").is_file():
            module += ".base"
        found.notes.append(
            f"manage.py sets no DJANGO_SETTINGS_MODULE default: using {module or '?'}; check settings-module"
        )
    src = source_root(app, module)
    if src != app:
        found.python_path = [src.relative_to(app).as_posix()]
        found.found.append(f"source dir: {found.python_path[0]}/ (on PYTHONPATH: python-path)")
    package, _, leaf = module.rpartition(".")
    main = module_file(src, module)
    # A settings package (config/settings/{base,production,test}.py): its modules are read together.
    folder = main.parent if main and (main.name == "__init__.py" or main.parent.name.endswith("settings")) else None
    siblings = {p.stem: p for p in folder.glob("*.py")} if folder else {}
    prefix = module if main and main.name == "__init__.py" else package
    top = module.split(".")[0]
    served, where = settingschoice.serving(found.root, module_file(src, f"{top}.wsgi") if top else None)
    served_file = module_file(src, served) if served else None
    if served_file is not None and not _defines_settings(served_file):
        found.notes.append(
            f"{served} (named by {where}) defines no settings (an empty package): the project sets "
            "DJANGO_SETTINGS_MODULE where it deploys"
        )
        served, where = "", ""
    dev_default = served.rpartition(".")[2] in _DEV_NAMES and where.endswith("wsgi.py")
    prod_sibling = next((name for name in _PROD_NAMES if name in siblings and _whole_settings(siblings[name])), "")
    if dev_default and prod_sibling and served.rpartition(".")[0] == prefix:
        served, where = "", ""  # wsgi.py's default is the development module too: the prod sibling, below
    takes_served = bool(served) and served != module and served_file is not None
    flat = _flat_sibling(src, module, _PROD_NAMES) if main is None and module and not takes_served else ""
    development: tuple[str, Path | None] = ("", None)  # manage.py's module, when prod's is another folder's
    if flat:  # named but not there: flat settings files beside it (settings_prod.py)
        found.notes.append(
            f"{module} (named by {where or 'manage.py'}) is not in the project; prod uses {flat} "
            "(settings-module): check it"
        )
        found.found.append(f"prod settings: {flat} (beside {module}, which is not there)")
        module, main = flat, module_file(src, flat)
    elif takes_served:
        found.found.append(f"prod settings: {served} (as {where} serves it; manage.py uses {module})")
        module, main = served, served_file
    elif served == module and where:
        found.found.append(f"prod settings: {module} (as {where} serves it)")
    else:
        prod = prod_sibling
        twin = "" if prod else _prod_folder_twin(src, module)
        if prod and leaf != prod:
            found.notes.append(f"manage.py uses {module}; prod uses {prefix}.{prod} (settings-module): check it")
            module, main = f"{prefix}.{prod}", siblings[prod]
        elif twin:
            development = (module, main)  # its test settings stay the tests' (below)
            found.notes.append(
                f"manage.py uses {module}; prod uses {twin}, its twin in the production folder (settings-module): "
                "check it"
            )
            module, main = twin, module_file(src, twin)
    tests, where = settingschoice.for_tests(found.root, app, pyproject)
    if tests:
        found.test_settings_module, found.test_settings_source = tests, where
    else:
        test = next((name for name in _TEST_NAMES if name in siblings), "")
        if test:
            found.test_settings_module = f"{prefix}.{test}"
            found.test_settings_source = "its name"
        elif main is not None and main.name != "__init__.py" and "." in module:
            dev_module, dev_main = development
            found.test_settings_module = _test_twin(module, main) or (
                _test_twin(dev_module, dev_main) if dev_main is not None else ""
            )
            found.test_settings_source = "its name" if found.test_settings_module else ""
    found.settings_module = module
    found.settings_files = _imported(src, main) if main else []
    if found.test_settings_module:
        found.found.append(f"test settings: {found.test_settings_module} (from {found.test_settings_source})")
    if main is None:
        found.notes.append(f"settings module {module or '?'} not found under {found.app_dir}: check settings-module")
        leaf_path = src.joinpath(*module.split(".")) if module else src
        templates = sorted(leaf_path.parent.glob(f"{leaf_path.name}.*.py")) if module else []
        if templates:  # production.example.py: the project's deployer makes production.py from it
            found.notes[-1] = (
                f"settings module {module} is not in the project, only {templates[0].relative_to(found.root)}: "
                f"the project expects {leaf_path.name}.py made from it at deploy time; make it (then run init "
                "again), or set settings-module to a module that is there"
            )
    else:
        found.found.append(f"settings: {module} ({main.relative_to(found.root)})")


DJANGO_WSGI = "django.core.wsgi:get_wsgi_application()"
"""What a wsgi.py holds (DJANGO_SETTINGS_MODULE is set in every image), as a gunicorn factory call."""


def _wsgi(found: Findings, app: Path, settings_text: str) -> None:
    src = app.joinpath(*found.python_path)
    match = _WSGI_SETTING.search(settings_text)
    named = match.group(1) if match else ""
    if named and (src / named.split(".")[0]).is_dir() and module_file(src, named) is None:
        # VeredR/djangomysqlrestcrud: WSGI_APPLICATION names djangomysqlrestcrud.wsgi, never committed;
        # gunicorn's workers died on the import and web never became healthy.
        found.wsgi = DJANGO_WSGI
        found.notes.append(
            f"WSGI_APPLICATION names {named}, which the project does not hold ({named.replace('.', '/')}.py is not "
            f"in it; not committed?): gunicorn serves Django's own application for the settings module "
            f"(wsgi = {found.wsgi!r}); add that file to serve your own"
        )
    elif match:
        found.wsgi = f"{match.group(1)}:{match.group(2)}"
    else:
        wsgi_files = _walk(src, "wsgi.py", 2)
        found.wsgi = (
            ".".join(wsgi_files[0].relative_to(src).with_suffix("").parts) + ":application" if wsgi_files else ""
        )
    if not found.wsgi:  # django-healthcare: settings.py, urls.py and manage.py, no wsgi module at all
        found.wsgi = DJANGO_WSGI
        found.notes.append(
            f"no WSGI_APPLICATION or wsgi.py found: gunicorn serves Django's own application for the settings "
            f"module (wsgi = {found.wsgi!r}, a factory gunicorn calls); set wsgi if the project has one elsewhere"
        )
    found.found.append(f"WSGI: {found.wsgi}")
    asgi = _ASGI_SETTING.search(settings_text)
    asgi_files = _walk(src, "asgi.py", 2)
    if asgi or asgi_files:
        found.asgi = (
            f"{asgi.group(1)}:{asgi.group(2)}"
            if asgi
            else ".".join(asgi_files[0].relative_to(src).with_suffix("").parts) + ":application"
        )
        found.found.append(f"ASGI: {found.asgi} (noted only: prod serves WSGI with gunicorn)")


def _clean(route: str) -> str:
    return re.sub(r"\{\w+\}", "", route)


def _urls(found: Findings, app: Path) -> list[str]:
    """Every route the URL modules name, with the prefixes their includes give (one level deep).

    `path("api/v3/", include(api_urls))` prefixes the routes of the list api_urls in that file,
    `path("x/", include("pkg.urls"))` those of pkg/urls.py; f-string parts like {prefix} drop out."""
    texts = {p: read(p) for p in _walk(app, "urls.py", 4)}
    app = app.joinpath(*found.python_path)  # where dotted module names start
    module_prefix: dict[Path, str] = {}
    for text in texts.values():
        for route, target in _ROUTE.findall(text):
            included = _INCLUDE.search(target)
            module = module_file(app, included.group(1)) if included and included.group(1) else None
            if module is not None:
                module_prefix[module] = _clean(route)
            if "admin.site.urls" in target and not found.admin_path:
                found.admin_path = f"/{_clean(route).strip('/')}/" if _clean(route).strip("/") else "/"
    routes: list[str] = []
    for path, text in texts.items():
        lists = dict(_LIST.findall(text))
        list_prefix = {}
        for route, target in _ROUTE.findall(text):
            included = _INCLUDE.search(target)
            if included and included.group(2) in lists:
                list_prefix[included.group(2)] = _clean(route)  # the last include wins (api/v3/)
        base = module_prefix.get(path, "")
        for name, body in lists.items():
            routes += [base + list_prefix.get(name, "") + _clean(r) for r, _ in _ROUTE.findall(body)]
        outside = text
        for body in lists.values():
            outside = outside.replace(body, "")
        routes += [base + _clean(r) for r, _ in _ROUTE.findall(outside)]
    return routes


def _routes(found: Findings, app: Path) -> None:
    for route in _urls(found, app):
        words = [w.lower() for w in route.strip("/").split("/")]
        if not found.health_found and words and words[-1] in HEALTH_WORDS and "<" not in route:
            found.health_path = "/" + route.lstrip("/")
            found.health_found = True
    if found.health_found:
        found.found.append(f"health URL: {found.health_path}")
    elif found.admin_path:
        found.health_path = f"{found.admin_path}login/"
        found.notes.append(
            f"no health URL found: the HEALTHCHECK and smoke test use {found.health_path} (no database "
            "round trip); add a view that queries the database and set health-path"
        )
    else:
        found.notes.append("no health URL found: using / (it must answer 200); set health-path")


_PIPFILE_PYTHON = re.compile(r"""^\s*python_(?:full_)?version\s*=\s*["'](\d+\.\d+)""", re.MULTILINE)


_NESTED_QUOTES = re.compile(
    r"""(?<![\w'"])(?:[fF][rR]?|[rR][fF])(?P<q>['"])"""  # an f-string opened by one quote
    r"""(?:(?!(?P=q))[^\n{]|\{\{|\{(?:(?!(?P=q))[^}\n])*\})*"""  # its text and whole {fields} before
    r"""\{(?:(?!(?P=q))[^}\n])*(?P=q)"""  # a field holding that same quote
)
"""An f-string whose replacement field holds the string's own quote (f'{env.get('X')}'): Python
reads it from 3.12 on (PEP 701); 3.11 stops at a SyntaxError (mohit4u007/DjangoBlog's settings)."""
PEP_701 = "3.12"


def _python(found: Findings, pyproject: dict[str, object], app: Path) -> None:
    project = pyproject.get("project", {})
    requires = project.get("requires-python") if isinstance(project, dict) else None
    pinned = next((p for p in (found.root / ".python-version", app / "runtime.txt") if p.is_file()), None)
    floor = found.requirements.django_python_floor()
    poetry_python = poetry.python(poetry_table(pyproject).get("dependencies"))
    if isinstance(requires, str):
        found.python, found.python_reason = requires.strip(), "requires-python"
    elif poetry_python:
        found.python, found.python_reason = poetry_python, "[tool.poetry.dependencies] python"
    elif pinned is not None:
        version = re.search(r"(\d+\.\d+)", read(pinned))
        if version:
            found.python, found.python_reason = f">={version.group(1)}", pinned.name
    elif pipenv := _PIPFILE_PYTHON.search(read(found.root / "Pipfile")):
        found.python, found.python_reason = f">={pipenv.group(1)}", "Pipfile [requires]"
    if floor and (found.python_reason == "the suite's default" or _below(found.python, floor)):
        found.python, found.python_reason = f">={floor}", f"{found.requirements.django} needs Python {floor}+"
    if _below(found.python, PEP_701):
        nested = next(matches(found.root, app, SKIP_DIRS, _NESTED_QUOTES), None)
        if nested is not None:
            found.python = f">={PEP_701}"
            found.python_reason = (
                f"{nested.path}:{nested.line} nests an f-string's own quotes in it, which Python reads from "
                f"{PEP_701} on (PEP 701)"
            )
    found.found.append(f"Python: {found.python} ({found.python_reason})")
    ceiling = found.requirements.django_python_ceiling()
    picked = _picked_python(found.python)
    if ceiling and picked and _version(picked) > _version(ceiling):
        oldest = OFFICIAL_PYTHONS[-1]
        found.notes.append(
            f"{found.requirements.django} supports Python up to {ceiling} and python = {found.python!r} builds on "
            f"{picked} (official bases; the stand-ins 3.11 or 3.13): "
            + (
                f'if its pins do not install or run there, set python = "{ceiling}" in [tool.dockstage] '
                f"(python:{ceiling}-slim; no stand-in has it)"
                if _version(ceiling) >= _version(oldest)
                else f"the suite builds on Python {oldest} and newer: raise Django to a release that runs there"
            )
        )


def _picked_python(python: str) -> str:
    """The Python the official bases build `python` on, or '' (none fits, or not a specifier)."""
    try:
        return official_python(python) or ""
    except ConfigError:
        return ""


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _test_twin(module: str, main: Path) -> str:
    """The test settings named after the settings module, beside it (Envs/Local/django_settings.py:
    test_django_settings.py), or ''."""
    package, leaf = module.rsplit(".", 1)
    names = (f"test_{leaf}", f"{leaf}_test", f"tests_{leaf}", f"{leaf}_tests")
    return next((f"{package}.{name}" for name in names if (main.parent / f"{name}.py").is_file()), "")


def _below(spec: str, floor: str) -> bool:
    match = re.match(r"\s*>=\s*(\d+)\.(\d+)", spec)
    if match is None:
        return False
    return (int(match.group(1)), int(match.group(2))) < tuple(int(x) for x in floor.split("."))


_HAS_A_TEST = re.compile(r"^\s*(?:class \w+\(.*TestCase|def test)", re.MULTILINE)
"""A tests.py with a test in it (startapp's own is an import and `# Create your tests here.`)."""


def _tests(found: Findings, app: Path, pyproject: dict[str, object]) -> None:
    has_pytest_config = (
        any((app / name).is_file() for name in ("pytest.ini", "conftest.py"))
        or any((found.root / name).is_file() for name in ("pytest.ini", "conftest.py"))
        or "pytest" in pyproject.get("tool", {})  # type: ignore[operator]
        or "[tool:pytest]" in read(found.root / "setup.cfg")
        or "[pytest]" in read(found.root / "tox.ini")
    )
    outside = _root_tests(found, app)
    candidates = (*_walk(app, "test*.py", 4), *_walk(app, "tests.py", 4))
    candidates += tuple(p for d in outside if (found.root / d).is_dir() for p in _walk(found.root / d, "test*.py", 4))
    candidates = tuple(p for p in dict.fromkeys(candidates) if not p.parent.name.endswith("settings"))  # tests.py: both
    test_files = [p for p in candidates if p.name != "tests.py" or _HAS_A_TEST.search(read(p))]
    stubs = [p for p in candidates if p.name == "tests.py" and p not in test_files and "TestCase" in read(p)]
    found.has_tests = bool(test_files)
    uses_pytest = (
        has_pytest_config
        or found.requirements.mentions("pytest")
        or found.requirements.mentions("pytest-django")
        or any(_PYTEST_STYLE.search(read(p)) for p in test_files)  # tests written for pytest, no config
    )
    # tests but no pytest config or requirement: the project runs them with manage.py test
    found.test_command = "python manage.py test" if ((test_files or stubs) and not uses_pytest) else "pytest"
    source = app.joinpath(*found.python_path)
    unentered = found.python_path and not (source / "__init__.py").exists()  # discovery never enters src/
    if found.test_command != "pytest" and unentered and any(p.is_relative_to(source) for p in test_files):
        found.test_command += f" {found.python_path[0]}"
    if found.test_command == "pytest" and not found.requirements.mentions("pytest-django"):
        found.requirements.test_extra += ["pytest", "pytest-django"]
    found.found.append(
        f"tests: {len(test_files)} file(s), run with `{found.test_command}`"
        if test_files
        else f"tests: none found (`{found.test_command}` will run none)"
        + (f"; {len(stubs)} tests.py as startapp made {'it' if len(stubs) == 1 else 'them'}" if stubs else "")
    )


PYTEST_CONFIGS = ("pytest.ini", "conftest.py", "tox.ini", "setup.cfg")
"""Project-root files that hold pytest's config (pyproject.toml's is the project's own file too)."""


def _root_tests(found: Findings, app: Path) -> list[str]:
    """With an app dir below the root (src/): the root's test dirs and pytest config, which the test
    image adds to the app dir (test-files), so pytest finds them where the project runs them."""
    if app.resolve() == found.root.resolve():
        return []
    dirs = [
        name
        for name in ("tests", "test")
        if (found.root / name).is_dir() and not (app / name).exists() and _walk(found.root / name, "test*.py", 4)
    ]
    if not dirs:
        return []
    configs = [
        name
        for name in PYTEST_CONFIGS
        if (found.root / name).is_file()
        and not (app / name).exists()
        and (name in ("pytest.ini", "conftest.py") or "pytest" in read(found.root / name))
    ]
    found.test_files = [*configs, *dirs]
    found.found.append(
        f"test-files: {', '.join(found.test_files)} at the project root, beside the app dir ({found.app_dir}): the "
        "test image adds them to the app dir, so the tests run as the project runs them"
    )
    return dirs


_PYTEST_STYLE = re.compile(r"^\s*(?:import pytest|from pytest\b|@pytest\.)", re.M)
"""A test module written for pytest: manage.py test could not run it."""

BUILD_SCRIPTS = ("build", "build:prod", "build:production", "prod", "production", "dist", "compile", "assets")
"""package.json scripts taken as the front-end build, in order of preference."""


def package_jsons(app: Path, root: Path) -> list[Path]:
    """package.json files init looks at: the app dir's, the project root's, then one and two levels
    below the app dir, then below the root (assets/, frontend/, django-tailwind's theme/static_src/;
    never in node_modules or a hidden folder), each sorted."""
    found = [p for p in (app / "package.json", root / "package.json") if p.is_file()]
    for pattern in ("*/package.json", "*/*/package.json"):
        for folder in dict.fromkeys((app, root)):
            found += sorted(
                p
                for p in folder.glob(pattern)
                if p.is_file()
                and not any(part == "node_modules" or part.startswith(".") for part in p.relative_to(folder).parts[:-1])
            )
    return list(dict.fromkeys(found))


GULPFILES = ("gulpfile.js", "gulpfile.mjs", "gulpfile.cjs", "gulpfile.ts")
_GULP_BUILD = re.compile(
    r"""gulp\.task\(\s*["']build["']|^\s*export\s+(?:const|function|async\s+function)\s+build\b|exports\.build\s*=""",
    re.M,
)
"""A gulpfile's `build` task, in gulp 4/5's forms (gulp.task, an exported task)."""


def gulp_build(package: Path) -> str | None:
    """The gulpfile beside package.json that defines a `build` task, when the package uses gulp."""
    try:
        data = json.loads(read(package))
        uses = any("gulp" in (data.get(key) or {}) for key in ("devDependencies", "dependencies"))
    except (ValueError, AttributeError, TypeError):
        return None
    for name in GULPFILES if uses else ():
        gulpfile = package.parent / name
        if gulpfile.is_file() and _GULP_BUILD.search(read(gulpfile)):
            return name
    return None


def build_script(scripts: object) -> str | None:
    """The script of package.json's `scripts` that builds the front end, by its common names."""
    if not isinstance(scripts, dict):
        return None
    named = next((name for name in BUILD_SCRIPTS if isinstance(scripts.get(name), str)), None)
    if named is not None:
        return named
    # One build script by another name (wger's build:css:sass) is the build; of several parts
    # (build:js, build:css), none is the whole.
    parts = [name for name, command in scripts.items() if isinstance(command, str) and re.match(r"build[:_-]", name)]
    return parts[0] if len(parts) == 1 else None


def _scripts(package: Path) -> dict[str, str]:
    """A package.json's scripts ({} when it has none or does not parse)."""
    try:
        scripts = json.loads(read(package)).get("scripts", {})
    except (ValueError, AttributeError):
        return {}
    return scripts if isinstance(scripts, dict) else {}


def _frontend(found: Findings, app: Path, settings_text: str) -> None:
    """A package.json with a build script: the assets stage runs it (and keeps node_modules when the
    settings serve from it); django-statici18n: its catalogue is compiled before the tests."""
    # The first with a build script, the app dir's first (a root package.json holding only
    # tooling does not hide django-tailwind's theme/static_src/); else the first, for the note.
    packages = package_jsons(app, found.root)
    scripted = [(p, _scripts(p)) for p in packages]
    building = [(p, s) for p, s in scripted if build_script(s) is not None]
    building.sort(key=lambda pair: not pair[0].parent.is_relative_to(app))
    chosen = (building or scripted)[:1]
    package, scripts = chosen[0] if chosen else (None, {})
    script = build_script(scripts)
    gulpfile = gulp_build(package) if package is not None and script is None else None
    if package is not None and not package.parent.is_relative_to(app):
        found.notes.append(
            f"{package.relative_to(found.root)} is outside the app dir ({found.app_dir}): the assets stage, which "
            "builds in the app dir (assets-command, assets-output in [tool.dockstage]), does not see it"
        )
    elif package is not None and gulpfile is not None:
        where = package.parent.relative_to(app).as_posix()
        found.assets_command = (
            "npx gulp build" if where == "." else f"npm exec --prefix {where} -- gulp --cwd {where} build"
        )
        found.found.append(
            f"assets: {package.relative_to(found.root)} has no build script; its {gulpfile}'s build "
            "task runs in the assets stage before collectstatic (`gulp build`)"
        )
    elif package is not None and script is None:
        shown = f" (its scripts: {', '.join(sorted(scripts))})" if scripts else ""
        found.notes.append(
            f"{package.relative_to(found.root)} has no build script{shown}: set assets-command (and assets-output "
            "for files it builds outside the app's static dirs) in [tool.dockstage] to build the front end"
        )
    elif package is not None and script is not None:
        where = package.parent.relative_to(app).as_posix()
        prefix = "" if where == "." else f"--prefix {where} "
        found.assets_command = f"npm {prefix}run {script}"
        if "node_modules" in settings_text:
            found.assets_output = [f"{where}/node_modules" if prefix else "node_modules"]
        found.found.append(
            f"assets: {package.relative_to(found.root)}'s {script} script ({scripts[script]!r}) runs in the assets "
            f"stage before collectstatic{' (node_modules kept: the settings read it)' if found.assets_output else ''}"
        )
    if "statici18n" in settings_text:
        found.test_setup.append("python manage.py compilejsi18n")
        found.found.append("django-statici18n: `manage.py compilejsi18n` runs before the tests (test-setup)")


def index_notes(texts: list[str]) -> list[str]:
    """One line per package index the requirement files name themselves (-i / --extra-index-url):
    what the build does with it (buildfiles.without_own_index)."""
    urls = dict.fromkeys(url for text in texts for url in buildfiles.index_lines(text))
    return [
        f"a requirements file names the index {re.sub(r'//[^@/]*@', '//', url)}: "
        + (
            "that is PyPI, the build's default index, so the line is skipped; set index-url in [tool.dockstage] "
            "for another (your organisation's index wins over the files' own)"
            if buildfiles.is_pypi(url)
            else "the build uses it; set index-url in [tool.dockstage] to use your own instead (it then wins)"
        )
        for url in urls
    ]


_IMAGE_FIELD = re.compile(r"\bImageField\(")


def pillow_for_images(requirements: Requirements, root: Path, app: Path) -> None:
    """Pillow in init's own runtime set (the project lists no requirements) when a model has an
    ImageField, which Django refuses to check without it (Skyssar/institucion-medica-django-mysql:
    fields.E210 stopped its tests, migrate and check --deploy)."""
    if not requirements.made or requirements.mentions("Pillow"):
        return
    used = next(matches(root, app, SKIP_DIRS, _IMAGE_FIELD), None)
    if used is not None:
        requirements.add_made("Pillow", f"{used.path}:{used.line} has an ImageField")


_MODEL_CLASS = re.compile(r"^class\s+\w+\((?:models\.)?Model\)\s*:", re.MULTILINE)
_MIGRATION = re.compile(r"^\d{4}_\w+\.py$")


def unmigrated_apps(root: Path, app: Path) -> list[str]:
    """Notes for the apps whose models.py defines models while their migrations folder holds none:
    migrate makes no table for them, and the first page that reads one fails (mjgiannelli's
    backend/, ligiaboliveira's hello/: the smoke stack's web got a 500 after a whole build)."""
    notes = []
    used = matches(root, app, SKIP_DIRS, _MODEL_CLASS)
    for path in dict.fromkeys(use.path for use in used if use.path.endswith("models.py")):
        folder = (root / path).parent
        migrations = folder / "migrations"
        if migrations.is_dir() and any(_MIGRATION.match(f.name) for f in migrations.iterdir()):
            continue
        notes.append(
            f"{path} defines models and {folder.relative_to(root).as_posix()}/migrations/ holds no migration: migrate "
            "makes no table for them, so a page that reads one fails: run `invoke makemigrations` (`invoke manage -- "
            f"makemigrations {folder.name}` without a migrations folder) and commit the files"
        )
    return notes


def inspect(root: Path) -> Findings:
    """Everything `dockstage init` writes, found in the project at `root`."""
    if not root.is_dir():
        raise ProjectNotFound(str(root))
    root = root.resolve()
    found = Findings(root)
    manages = _walk(root, "manage.py", MANAGE_DEPTH)
    if not manages:
        raise NoManagePy(
            str(root), [script.relative_to(root).as_posix() for script in manage_scripts(root)], MANAGE_DEPTH
        )
    app = manages[0].parent
    found.app_dir = app.relative_to(root).as_posix() or "."
    found.found.append(f"manage.py: {manages[0].relative_to(root)} (app dir {found.app_dir})")
    try:
        pyproject = tomllib.loads(read(root / "pyproject.toml"))
    except tomllib.TOMLDecodeError:
        pyproject = {}
    _settings(found, app, read(manages[0]), pyproject)
    settings_text = "\n".join(read(p) for p in found.settings_files)
    _wsgi(found, app, settings_text)
    found.requirements = find_requirements(root, app, pyproject, settings_text)
    pillow_for_images(found.requirements, root, app)
    codeimports.add_imported(found.requirements, root, app, settings_text)
    found.notes += unmigrated_apps(root, app)
    found.found += found.requirements.describe()
    found.notes += found.requirements.notes
    found.notes += index_notes(found.requirements.texts)
    _python(found, pyproject, app)
    found.packages = sorted(p.parent.name for p in app.joinpath(*found.python_path).glob("*/__init__.py"))
    found.found.append(f"packages: {', '.join(found.packages) or 'none'} (prod gets the app dir minus prod-exclude)")
    names = envnames.classify(settings_text)
    found.env, found.env_values, found.other_env = names.mapping, names.fixed, names.others
    found.debug_values = names.debug_values
    if re.search(r"^\s*COMPRESS_OFFLINE\s*=\s*True", settings_text, re.MULTILINE):
        found.build_commands.append("python manage.py compress")
        found.found.append("django-compressor offline: `manage.py compress` runs at build time, after collectstatic")
        if "COMPRESS_ENABLED" not in settings_text and found.env.get("debug"):
            # COMPRESS_ENABLED follows DEBUG: with debug on at settings load, tests need no offline manifest
            found.test_env = {name: found.debug_values[1] for name in found.env["debug"]}
            found.notes.append(
                "tests run with debug on at settings load (test-env), so django-compressor stays off there"
            )
    checks = [p for p in (*_walk(app, "apps.py", 3), *_walk(app, "checks.py", 3)) if re.search(r"@register\(", read(p))]
    if any("connection.cursor" in read(p) for p in checks):
        found.deploy_check = "off"
        found.notes.append(
            f"{checks[0].relative_to(root)} registers a system check that queries the database: the image's "
            "check --deploy (no database there) is off (deploy-check)"
        )
    missing = not found.settings_files  # no text to read: say so, claim nothing about it
    found.notes += [] if missing else names.notes
    found.guesses += [] if missing else names.notes
    found.found += (
        [
            f"environment the settings read: unknown ({found.settings_module or 'the settings module'} is not in the project)"
        ]
        if missing
        else names.describe()
    )
    found.static_root = bool(re.search(r"^\s*STATIC_ROOT\s*=", settings_text, re.MULTILINE))
    found.manifest_static = "Manifest" in settings_text
    if re.search(r"Manifest\w*Storage", settings_text) and found.static_root:
        found.test_setup.append(learn.COLLECTSTATIC)
        found.found.append(f"{MANIFEST_GUESS} `{learn.COLLECTSTATIC}` runs before the tests (test-setup)")
    if not found.static_root and not missing:
        found.notes.append("no STATIC_ROOT in the settings: collectstatic is off, prod serves no static files")
        found.guesses.append(found.notes[-1])
    _routes(found, app)
    _tests(found, app, pyproject)
    _frontend(found, app, settings_text)
    postgres = postgresonly.note(postgresonly.uses(root, app, SKIP_DIRS))
    found.notes += [postgres] if postgres else []
    return found


def hidden_migrations(root: Path, app: Path) -> list[str]:
    """The apps under `app` (folders with a models.py or models/) whose migrations git ignores
    (sis_CRUD_with_django's .gitignore: `applications/*/migrations`), as paths relative to `root`;
    [] outside a git checkout."""
    apps: list[Path] = []
    for top, dirs, files in os.walk(app):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        if "models.py" in files or "models" in dirs:
            apps.append(Path(top))
    if not apps:
        return []
    probes = {(folder / "migrations" / "0001_initial.py").relative_to(root).as_posix(): folder for folder in apps}
    said = gitinfo.git(root, "check-ignore", "--", *probes)
    return [probes[line].relative_to(root).as_posix() for line in (said or "").splitlines() if line in probes]


def ignored_files(root: Path, names: Iterable[str]) -> list[str]:
    """Those of `names` (paths under `root`) that are files git ignores and does not track: no image
    has them (the build context holds what git tracks). ericwburden/django-compose-app's .gitignore
    says `requirements.txt` (meant for a copy in the parent folder), which also matches
    deploy/prod/requirements.txt: a checkout without it force-added fails every build on it."""
    files = [name for name in dict.fromkeys(names) if (root / name).is_file()]
    said = gitinfo.git(root, "check-ignore", "--", *files) if files else None
    return [line for line in (said or "").splitlines() if line in files]
