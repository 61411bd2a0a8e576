"""Build helper (stage): collectstatic, then the project's build commands (`manage.py compress`...).

The settings import with placeholder values under the app's own environment names (BUILD_ENV,
JSON): nothing connects to a database here and no real secret is used. COLLECTSTATIC=true runs
collectstatic first; BUILD_COMMANDS is a JSON list of argv lists. The steps run as root: the dirs
they make under the app dir (a log dir the settings make; STATIC_ROOT aside) are given to the app
user (APP_UID) and named, so the non-root stage can write them (prod's needs writable-dirs).

A step failing on a module the prune left out (PRUNED, the list prune.py wrote) says which path,
one failing on a name this Python dropped which package used it: one `dockstage: error: ...;
fix: ...` line, which the suite's build error shows as its own.
"""

import difflib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

PRUNED = Path("/usr/local/share/dockstage/pruned.txt")
_NO_MODULE = re.compile(r"No module named '([\w.]+)'")


def pruned_cause(output: str, pruned: list[str]) -> str:
    """The left-out path behind a `No module named` in `output` ('' when none is)."""
    for module in reversed(_NO_MODULE.findall(output)):
        path = module.replace(".", "/")
        for left_out in pruned:
            if f"{path}/".startswith(left_out.rstrip("/") + "/") or left_out in (f"{path}.py", f"{path}/"):
                return f"No module named {module!r}: the prune left out {left_out}"
    return ""


def absent_module_cause(output: str, app: Path) -> str:
    """The project's own module the step imported and the image lacks (tranlong58's settings import
    mysite.secret_key, a file its .gitignore names: no checkout has it, so no image does), or ''."""
    for module in reversed(_NO_MODULE.findall(output)):
        package, _, leaf = module.rpartition(".")
        folder = app / package.replace(".", "/")
        if package and leaf and (folder / "__init__.py").is_file() and not (folder / f"{leaf}.py").exists():
            return f"No module named {module!r}: {package.replace('.', '/')}/{leaf}.py is not in the image"
    return ""


_REMOVED_STDLIB = frozenset({"distutils", "imp", "asynchat", "asyncore", "smtpd", "cgi", "cgitb", "crypt", "pipes"})
"""Standard library modules Python 3.12 and 3.13 removed: a package still importing them is not a missing requirement."""


def uninstalled_module_cause(output: str, roots: list[Path]) -> str:
    """The module the step imported that neither the project (`roots`: the app dir, its python
    path) nor any installed requirement has (TejasJogi's INSTALLED_APPS names
    rest_framework_simplejwt, which its requirements.txt lacks), or ''."""
    last = output.rsplit("Traceback (most recent call last):", 1)[-1]
    found = _NO_MODULE.findall(last)
    if not found:
        return ""
    module = found[-1]
    top = module.split(".", 1)[0]
    if top in _REMOVED_STDLIB or top in getattr(sys, "stdlib_module_names", ()):
        return ""
    if any((root / top).is_dir() or (root / f"{top}.py").is_file() for root in roots):
        return ""  # the project's own (a submodule it lacks: absent_module_cause's case)
    if roots and module == top and nested_module(roots[0], top):
        return ""  # the project's, imported as if its folder were on the path: misimported_cause's case
    return f"No module named {module!r}, and no requirement installs {top}"


def misimported_cause(output: str, root: Path) -> tuple[str, str]:
    """(what, the module's dotted name) when the step's last traceback ends on a bare `import X` of
    a module the project holds below `root` (X is sec/models.py, imported as sec.models), else ('', '')."""
    last = output.rsplit("Traceback (most recent call last):", 1)[-1]
    found = _NO_MODULE.findall(last)
    if not found or "." in found[-1]:
        return "", ""
    top = found[-1]
    frames = [f for f in _FRAME.findall(last) if f[0].startswith(f"{root}/")]
    beside = Path(frames[-1][0]).parent if frames else None  # the importer's folder: its own module first
    here = [p for p in (beside / f"{top}.py", beside / top / "__init__.py") if p.is_file()] if beside else []
    nested = here[0].relative_to(root).as_posix() if here else nested_module(root, top)
    if not nested:
        return "", ""
    dotted = nested.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    importer = f"{_short(frames[-1][0])}:{frames[-1][1]} imports" if frames else "the code imports"
    return f"No module named {top!r}: {importer} it bare, and the project's own is {nested}", dotted


def near_names(top: str, roots: list[Path]) -> list[str]:
    """The project's packages whose name is close to `top` (torresender5's INSTALLED_APPS lists
    'company'; its app is companies/), at most two."""
    packages = sorted(
        {p.name for root in roots if root.is_dir() for p in root.iterdir() if (p / "__init__.py").is_file()}
    )
    return difflib.get_close_matches(top, packages, n=2, cutoff=0.7)


NESTED_SKIPPED = ("site-packages", "node_modules", ".venv", "venv", "static", "staticfiles")


_NO_DIR = re.compile(r"FileNotFoundError: \[Errno 2\] No such file or directory: '([^']+)'")


def missing_static_dir(output: str) -> str:
    """The folder collectstatic's finder could not list (sgofficial10/django-mysqlCrud's
    STATICFILES_DIRS names /var/www/static), or ''."""
    last = output.rsplit("Traceback (most recent call last):", 1)[-1]
    found = _NO_DIR.search(last)
    return found.group(1) if found and "staticfiles/finders.py" in last else ""


def empty_static_dir_made(static: str, before: set[str]) -> bool:
    """Make a STATICFILES_DIRS folder under the app dir that the image lacks, empty, and say so (True:
    run the step again). git keeps no empty folder, so a checkout lacks one its developers have
    (Terrenceluo's common_static; Django 2.2's finder fails on it, later ones warn). Made once each,
    and kept out of the dirs the steps made (`before`): the app does not write it."""
    path = Path(static) if static.startswith(f"{APP}/") else None
    if path is None or path.exists() or not path.parent.is_dir():
        return False
    path.mkdir()
    before.add(os.path.relpath(path, APP))
    print(
        f"dockstage: STATICFILES_DIRS names {static}, which the checkout does not hold (git keeps no empty "
        "folder): made it empty for the build; put a .gitkeep in it to keep it in the project",
        flush=True,
    )
    return True


def nested_module(root: Path, top: str) -> str:
    """Where the project holds module `top` one or two folders below `root` ('sec/models.py',
    'app/utils/__init__.py'), or '': JamesSullivan/akasaka's sec/query.py says `from models import`,
    which works only with sec/ on the path, and its URLconf imports sec.query."""
    for pattern in (f"*/{top}.py", f"*/{top}/__init__.py", f"*/*/{top}.py", f"*/*/{top}/__init__.py"):
        for path in sorted(root.glob(pattern)):
            relative = path.relative_to(root)
            if not any(part in NESTED_SKIPPED or part.startswith(".") for part in relative.parts[:-1]):
                return relative.as_posix()
    return ""


_NO_DATABASE = re.compile(
    r"OperationalError.*(?:Can't connect to (?:local )?(?:MySQL|MariaDB) server|Unknown (?:MySQL )?server host"
    r"|could not connect to server|could not translate host name|Connection refused)"
)
_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+), in (\S+)', re.MULTILINE)
_FRAMEWORK = ("/django/", "/pymysql/", "/MySQLdb/", "/psycopg", "/asyncio/", "/importlib/", "<frozen")
NO_DATABASE_ENV = "DOCKSTAGE_NO_DATABASE"
"""1 in BUILD_ENV (dockstage/images/buildfiles.py placeholders): the app's settings can switch off
what needs a database where there is none (the build steps, the image checks)."""


def _short(path: str) -> str:
    return path.split("site-packages/", 1)[-1] if "site-packages/" in path else path.removeprefix("/app/")


def database_cause(output: str) -> str:
    """Where a build step reached for a database (there is none at build time): the app's or its
    packages' last two frames of the final traceback ('' when the step did not fail on one)."""
    if not _NO_DATABASE.search(output):
        return ""
    last = output.rsplit("Traceback (most recent call last):", 1)[-1]
    frames = [f for f in _FRAME.findall(last) if not any(part in f[0] for part in _FRAMEWORK)]
    frames = [f for f in frames if not f[0].endswith("manage.py")]
    where = " -> ".join(f"{_short(path)}:{line} in {name}" for path, line, name in frames[-2:])
    return f"it connected to the database{f' ({where})' if where else ''}, and there is none while the image builds"


_GONE = re.compile(
    r"cannot import name '(?P<name>\w+)' from '(?P<module>[\w.]+)'"
    r"|module '(?P<module2>[\w.]+)' has no attribute '(?P<name2>\w+)'"
)

_NOT_STARTED = re.compile(r"SystemError: initialization of (\w+) raised unreported exception")
"""A C extension whose init fails this way was written for an older Python (frrant's psycopg2 2.8.6 on 3.11)."""


def _installed_frame(traceback: str) -> tuple[str, str]:
    """The last frame of an installed package in `traceback`: (its package, 'package/file.py:line'),
    or ('', '') when none is an installed package's."""
    frames = [f for f in _FRAME.findall(traceback) if "site-packages/" in f[0]]
    if not frames:
        return "", ""
    path, line, _ = frames[-1]
    return _short(path).split("/", 1)[0].removesuffix(".py"), f"{_short(path)}:{line}"


def python_gone_cause(output: str) -> str:
    """Which installed package failed on a name this Python's standard library no longer has, and
    where ('' when the step failed otherwise): izone's vine 1.3 imports inspect.formatargspec,
    which Python 3.11 removed; or whose compiled module does not start on this Python."""
    last = output.rsplit("Traceback (most recent call last):", 1)[-1]
    python = f"Python {sys.version_info.major}.{sys.version_info.minor}"
    broken = _NOT_STARTED.search(last)
    package, where = _installed_frame(last[: broken.start()]) if broken else ("", "")
    if broken and package:  # psycopg2 2.8 on 3.11: built here, but made before this Python's C API
        return (
            f"{package} ({where}): its compiled module {broken.group(1)} does not start on {python} ({broken.group(0)})"
        )
    found = list(_GONE.finditer(last))
    if not found:
        return ""
    gone = found[-1]
    module = gone.group("module") or gone.group("module2")
    if module.split(".")[0] not in getattr(sys, "stdlib_module_names", ()):
        return ""
    name = f"{module}.{gone.group('name') or gone.group('name2')}"
    package, where = _installed_frame(last[: gone.start()])
    if not package:
        return f"the code uses {name}, which {python} no longer has"
    return f"{package} ({where}) uses {name}, which {python} no longer has"


_RAISED = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Warning|NotFound|DoesNotExist|Configured)\b.*)$", re.M)
RAISED_SHOWN = 300  # characters of the exception's line


def raised_cause(output: str) -> str:
    """The exception a failed step ended on and the app's own line that led to it, from its last
    traceback ('' without one): "ImportError: win32 only (dashboard/models.py:1)"
    (Khooshrin/Courtroom-Management-System-Django-MySQL's models import asyncio.windows_events, an
    editor's auto-import; the build said only "failed (exit 1)")."""
    if "Traceback (most recent call last):" not in output:
        return ""
    last = output.rsplit("Traceback (most recent call last):", 1)[-1]
    raised = _RAISED.findall(last)
    if not raised:
        return ""
    own = [(path, line) for path, line, _ in _FRAME.findall(last) if path.startswith(f"{APP}/")]
    where = f" ({_short(own[-1][0])}:{own[-1][1]})" if own else ""
    text = raised[-1].strip()
    return (text if len(text) <= RAISED_SHOWN else text[: RAISED_SHOWN - 3] + "...") + where


_NO_COMPRESS_TAGS = "No 'compress' template tags found in templates"


def nothing_to_compress(command: list[str], output: str) -> bool:
    """Whether a failed step is django-compressor's offline `compress` finding no {% compress %}
    tag anywhere (cookiecutter-django turns COMPRESS_OFFLINE on; a project may use no tag): its
    error, with nothing the pages would look up in the manifest."""
    return "compress" in command and _NO_COMPRESS_TAGS in output


APP = Path("/app")
STEP_SECONDS = 600
STEP_SECONDS_ENV = "DOCKSTAGE_BUILD_STEP_SECONDS"
"""How long one build step may run (kkuchar2/docker-django-backend's manage.py loops on "Waiting for
database..." before any command: its collectstatic at build time never ended)."""


def dirs_under(root: Path) -> set[str]:
    """Every dir under `root`, relative to it."""
    return {os.path.relpath(os.path.join(top, name), root) for top, names, _ in os.walk(root) for name in names}


def made_dirs(before: set[str], after: set[str], static_roots: list[str]) -> list[str]:
    """The top-most dirs the build steps made (not inside another one they made), the static files'
    dirs (STATIC_ROOT: collectstatic's, compress's) left out."""
    new = sorted(after - before)
    top = [d for d in new if not any(d.startswith(f"{other}/") for other in new if other != d)]
    return [d for d in top if not any(d == s or s.startswith(f"{d}/") for s in static_roots)]


def _static_roots(env: dict[str, str]) -> list[str]:
    """STATIC_ROOT (and COMPRESS_ROOT) relative to the app dir, as the settings say."""
    done = subprocess.run(
        [sys.executable, "-c", _STATIC_ROOTS],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    roots = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    return [os.path.relpath(r, APP) for r in roots if os.path.isabs(r)]


_STATIC_ROOTS = (
    "from django.conf import settings\n"
    "for name in ('STATIC_ROOT', 'COMPRESS_ROOT'):\n"
    "    print(str(getattr(settings, name, '') or ''))\n"
)


def give_made_dirs(env: dict[str, str], before: set[str]) -> None:
    """The dirs the steps (run as root) made under the app dir become the app user's, so the
    non-root stage does not crash on them; prod's root is read-only, so the line says the key."""
    made = made_dirs(before, dirs_under(APP), _static_roots(env))
    uid = int(os.environ.get("APP_UID", "10001"))
    for relative in made:
        for top, names, files in os.walk(APP / relative):
            for name in [".", *names, *files]:
                os.chown(os.path.join(top, name), uid, uid)
    if made:
        print(
            f"dockstage: the build steps made {', '.join(d + '/' for d in made)} under the app dir: given to the app "
            "user; prod's root is read-only, so list the ones the app writes in writable-dirs ([tool.dockstage])",
            flush=True,
        )


def source_roots() -> list[Path]:
    """Where the project's own modules import from in the image: the app dir and PYTHONPATH's dirs."""
    extra = [Path(p) for p in os.environ.get("PYTHONPATH", "").split(":") if p]
    return [APP, *extra]


def run_step(
    command: list[str], env: dict[str, str], limit: float, before: set[str]
) -> subprocess.CompletedProcess[str]:
    """One build step, its stderr captured (TimeoutExpired after `limit` seconds); run again once a
    STATICFILES_DIRS folder git did not keep is made (empty_static_dir_made), its traceback unshown."""
    while True:
        done = subprocess.run(command, env=env, check=False, stderr=subprocess.PIPE, text=True, timeout=limit)
        if not (done.returncode and empty_static_dir_made(missing_static_dir(done.stderr), before)):
            return done


def main() -> int:
    env = {**os.environ, **json.loads(os.environ.get("BUILD_ENV", "{}"))}
    commands = [list(c) for c in json.loads(os.environ.get("BUILD_COMMANDS", "[]"))]
    if os.environ.get("COLLECTSTATIC", "true") == "true":
        commands.insert(0, ["python", "manage.py", "collectstatic", "--noinput", "-v", "0"])
    before = dirs_under(APP) if APP.is_dir() else set()
    limit = float(os.environ.get(STEP_SECONDS_ENV, STEP_SECONDS))
    for command in commands:
        print(f"dockstage: {shlex.join(command)}", flush=True)
        try:
            done = run_step(command, env, limit, before)
        except subprocess.TimeoutExpired as late:
            said = late.stderr.decode("utf-8", "replace") if isinstance(late.stderr, bytes) else (late.stderr or "")
            sys.stderr.write(said)
            print(
                f"dockstage: error: `{shlex.join(command)}` did not end within {limit:.0f} s at build time (its output "
                "is above): a build has no database and no service of the stack, so a manage.py or settings that "
                "wait for one (a `Waiting for database...` loop) never end; fix: wait for the database where it is "
                "used (an entrypoint, not manage.py), or set collectstatic = false / build-commands in [tool.dockstage]",
                file=sys.stderr,
            )
            return 1
        sys.stderr.write(done.stderr)
        code = done.returncode
        if code and nothing_to_compress(command, done.stderr):
            print(
                "dockstage: `manage.py compress` found no {% compress %} tag in any template: nothing to compress "
                "offline, so nothing for the pages to look up; going on",
                flush=True,
            )
            continue
        cause = pruned_cause(done.stderr, PRUNED.read_text().split() if PRUNED.is_file() else []) if code else ""
        if cause:
            print(
                f"dockstage: error: `{shlex.join(command)}` failed at build time: {cause}; "
                f"fix: take the pattern matching {cause.rsplit(' ', 1)[-1]} out of prod-exclude in [tool.dockstage]",
                file=sys.stderr,
            )
            return code
        absent = absent_module_cause(done.stderr, APP) if code else ""
        if absent:
            print(
                f"dockstage: error: `{shlex.join(command)}` failed at build time: {absent}; fix: the images hold "
                "what the checkout tracks (minus what git or a .dockerignore leaves out): a module each developer "
                "makes by hand (secrets kept out of git) is in none; read such values from the environment "
                "(.env gives them to every stack), or make that import optional (try: ... except ImportError)",
                file=sys.stderr,
            )
            return code
        misimported, dotted = misimported_cause(done.stderr, APP) if code else ("", "")
        if misimported:
            print(
                f"dockstage: error: `{shlex.join(command)}` failed at build time: {misimported}; fix: import it as "
                f"{dotted} (or relatively, `from .{dotted.rsplit('.', 1)[-1]} import ...`): a bare import finds it "
                "only when Python runs from that folder",
                file=sys.stderr,
            )
            return code
        uninstalled = uninstalled_module_cause(done.stderr, source_roots()) if code else ""
        if uninstalled:
            top = uninstalled.rsplit(" ", 1)[-1]
            near = near_names(top, source_roots())
            fix = (
                f"the project has {' and '.join(n + '/' for n in near)}: if {top} means that, correct the name where it "
                "is imported or listed (INSTALLED_APPS, the URLconf's include()); else add the package that provides "
                f"{top} to the runtime requirements"
                if near
                else f"add the package that provides {top} to the runtime requirements (requirements in [tool.dockstage])"
            )
            print(
                f"dockstage: error: `{shlex.join(command)}` failed at build time: {uninstalled}; fix: {fix}",
                file=sys.stderr,
            )
            return code
        no_database = database_cause(done.stderr) if code else ""
        if no_database:
            print(
                f"dockstage: error: `{shlex.join(command)}` failed at build time: {no_database}; "
                "fix: make that code connect on first use (not at import or in AppConfig.ready()), or switch it "
                f"off where the environment has {NO_DATABASE_ENV}=1 (build steps and image checks), e.g. a "
                f'setting read as `not os.environ.get("{NO_DATABASE_ENV}")`',
                file=sys.stderr,
            )
            return code
        static = missing_static_dir(done.stderr) if code else ""
        if static:
            inside = static.startswith(f"{APP}/")
            print(
                f"dockstage: error: `{shlex.join(command)}` failed at build time: STATICFILES_DIRS names {static}, "
                "which the image does not have; fix: "
                + (
                    "keep that folder in the project (git tracks no empty folder: put a .gitkeep in it), or take it "
                    "out of STATICFILES_DIRS"
                    if inside
                    else "point STATICFILES_DIRS at a folder of the project (e.g. BASE_DIR / 'static'), or take it out"
                ),
                file=sys.stderr,
            )
            return code
        gone = python_gone_cause(done.stderr) if code else ""
        if gone:
            package = gone.split(" ", 1)[0]
            print(
                f"dockstage: error: `{shlex.join(command)}` failed at build time: {gone}; fix: raise "
                f"{package}'s pin to a release made for this Python (or set python in [tool.dockstage] to "
                "the Python the pins were made for)",
                file=sys.stderr,
            )
            return code
        raised = raised_cause(done.stderr) if code else ""
        if raised:
            print(
                f"dockstage: error: `{shlex.join(command)}` failed at build time: {raised}; fix: the app, or "
                "collectstatic / build-commands in [tool.dockstage]",
                file=sys.stderr,
            )
            return code
        if code:
            print(
                f"dockstage: `{shlex.join(command)}` failed (exit {code}) at build time: fix the app, or "
                "collectstatic / build-commands in [tool.dockstage]",
                file=sys.stderr,
            )
            return code
    if commands and APP.is_dir():
        give_made_dirs(env, before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
