"""`dockstage init`'s probe: build the dev image, import the settings there with a sentinel per
environment name (data/probe.py), and apply what was learned (learn.py) to the findings."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from pathlib import Path

from python_on_whales.exceptions import DockerException

from dockstage.adopt import learn, sourcewalk
from dockstage.adopt.inspect import HEALTH_WORDS, MANIFEST_GUESS, Findings, module_file
from dockstage.core import absentfiles, bareimports, config, distributions, dotenv, gitinfo
from dockstage.core.errors import EXIT_CODES, DockstageError
from dockstage.core.files import SKIP_DIRS
from dockstage.flows.run import Run

PROBE_SCRIPT = "/usr/local/lib/dockstage/probe.py"
MARK = "DOCKSTAGE-PROBE "
PROBE_HOST = "dockstage-probe"
GUESSED_LINES = ("environment the settings read:", "fixed values:", "the app's own names")
"""What init says from reading the settings' text, replaced by the probe's answer."""


def names(found: Findings) -> list[str]:
    """The names read in the source (the probe adds those it sees read at import)."""
    read = [n for group in found.env.values() for n in group]
    return list(dict.fromkeys([*read, *found.env_values, *found.other_env]))


def request(found: Findings, modules: list[str]) -> dict[str, object]:
    """What the probe is asked: the modules, the names, the health path candidates, and how the
    test command imports the tests' settings (its sys.argv and environment)."""
    paths = [found.health_path] if found.health_found else []
    asked: dict[str, object] = {
        "modules": modules,
        "names": names(found),
        "health": {"paths": paths, "words": list(HEALTH_WORDS)},
    }
    runner = test_runner(found.test_command)
    if runner:
        asked["runner"] = {"module": modules[-1], **runner}
    return asked


def test_runner(command: str) -> dict[str, object]:
    """What pytest or `manage.py test` show the settings they import: {} for another command."""
    words = command.split()
    if words[:1] in (["pytest"], ["py.test"]) or words[:3] == ["python", "-m", "pytest"]:
        return {"argv": ["/opt/venv/bin/pytest"], "env": {"PYTEST_VERSION": ""}}  # the probe fills the version
    if "manage.py" in words[:2] and "test" in words:
        return {"argv": ["manage.py", *words[words.index("test") :]], "env": {}}
    return {}


def run_probe(root: Path, found: Findings, said: list[str]) -> list[dict[str, object]] | None:
    """Build dev and run the probe in it; None (with a note) when that cannot be done here."""
    modules = [found.settings_module]
    if found.test_settings_module and found.test_settings_module != found.settings_module:
        modules.append(found.test_settings_module)
    try:
        settings = config.load(root, None, quiet=True)
        with Run.open(settings) as run:
            started = time.monotonic()
            run.build("dev")
            said.append(f"built  the dev image to probe the settings ({time.monotonic() - started:.0f} s)")
            started = time.monotonic()
            output = run.docker.run(
                settings.tag("dev"),
                ["/opt/venv/bin/python", PROBE_SCRIPT],  # the runtime venv: the interpreter prod imports with
                envs={"DOCKSTAGE_PROBE": json.dumps(request(found, modules))},
                networks=["none"],  # importing settings needs no network, and gets none
                hostname=PROBE_HOST,  # resolvable (debug-toolbar settings look their own host up)
                add_hosts=[(PROBE_HOST, "127.0.0.1")],
                remove=True,
            )
        took = f"{time.monotonic() - started:.0f} s, no network"
    except DockstageError as exc:
        found.unprobed = (exc.return_code, f"the dev image did not build: {exc.one_line()}")
        found.needs_python = getattr(exc, "needs_python", "")
        found.needs_apt = list(getattr(exc, "needs_apt", []))
        return None
    except DockerException as exc:
        found.unprobed = (EXIT_CODES["error"], f"the probe failed in the dev image (exit {exc.return_code})")
        return None
    answer = next((line for line in reversed(str(output).splitlines()) if line.startswith(MARK)), "")
    if not answer:
        found.unprobed = (EXIT_CODES["error"], "the probe gave no answer in the dev image")
        return None
    results: list[dict[str, object]] = json.loads(answer[len(MARK) :])["results"]
    said.append(probed_line(results, took))
    return results


def probed_line(results: list[dict[str, object]], took: str) -> str:
    """What the probe did, module by module: imported, or failed (the reason is init's `check` line);
    the tests' module imported again as their runner imports it, last."""
    imported = [str(r.get("module")) for r in results if r.get("ok") and not r.get("runner")]
    failed = [str(r.get("module")) for r in results if not r.get("ok")]
    again = [
        f", then {r.get('module')} again as the tests import it" for r in results if r.get("runner") and r.get("ok")
    ]
    line = f"probed {', '.join(imported)} in it" if imported else "probed nothing in it"
    line += "".join(again)
    return line + (f"; importing {', '.join(failed)} failed (see below)" if failed else "") + f" ({took})"


_NO_MODULE = re.compile(r"No module named '([\w.]+)'")


def _import_roots(found: Findings) -> list[Path]:
    """The dirs the project's own modules import from: its python-path entries, then the app dir."""
    return [found.root / found.app_dir / extra for extra in (*found.python_path, ".")]


def deploy_made_module(error: str, found: Findings) -> str:
    """The fix when the settings import a module of the project's own package that is not in it,
    with a template beside it (pinry's settings/local_settings.example.py, copied to
    local_settings.py when its container starts), else ''."""
    missing = _NO_MODULE.search(error)
    package, _, leaf = (missing.group(1) if missing else "").rpartition(".")
    roots = _import_roots(found)
    folder = next(
        (r / package.replace(".", "/") for r in roots if package and (r / package.replace(".", "/")).is_dir()), None
    )
    if folder is None:
        return ""
    expected = folder / f"{leaf}.py"
    templates = absentfiles.templates_of(expected)
    module = next((f for f in (expected, folder / leaf) if f.exists()), None)
    hidden = module is None and not templates and gitinfo.ignores(found.root, expected)
    made = (
        f"the project makes it from {templates[0]} where it deploys"
        if templates
        else absent_from_images(module, found)
        if module is not None
        else f"it is not in the project: git ignores {expected.relative_to(found.root).as_posix()}, so no checkout "
        "has it (each developer makes it by hand)"
        if hidden
        else "it is not in the project"
    )
    secrets = "read what it holds from the environment (.env gives it to every stack), " if hidden else ""
    return (
        f"{package}.{leaf} is imported by the settings and {made}: {secrets}make that import optional "
        f"(try: ... except ImportError), or set settings-module to a module that needs no such file"
    )


_NO_FILE = re.compile(r"No such file or directory: '([^']+)'")
APP_IN_IMAGES = "/app/"


def absent_from_images(path: Path, found: Findings) -> str:
    """Why a file the project has is in no image: git ignores it, or the build's ignore rules."""
    shown = path.relative_to(found.root).as_posix()
    if gitinfo.ignores(found.root, path):
        return (
            f"{shown} is in your checkout but git ignores it, so no image holds it (the images hold what the "
            "checkout tracks: a build here is CI's, and a file of secrets is in none)"
        )
    return f"{shown} is in the project but the build leaves it out (the project's .dockerignore or the suite's rules)"


def left_out_file(error: str, found: Findings) -> str:
    """The fix when the settings open a file at import that the dev image lacks (stock-screener's
    secrets.json, kept out of git; GrowTheTribe's /etc/secret_key.txt, its server's), else ''."""
    missing = _NO_FILE.search(error)
    if missing is None or missing.group(1).endswith(".log"):  # a log file's folder: apply_log_dirs says it
        return ""
    opened = missing.group(1)
    if opened.startswith("/") and not opened.startswith(APP_IN_IMAGES):
        why = f"{opened} is a file of the machine the settings were written for, and no image has it"
    else:  # under the app dir, or relative to it (the containers' working directory)
        path = found.root / found.app_dir / opened.removeprefix(APP_IN_IMAGES)
        shown = path.relative_to(found.root) if path.is_relative_to(found.root) else path
        why = absent_from_images(path, found) if path.exists() else f"the project has no {shown}"
    return (
        f"{why}; the settings open it at import: read what it holds from the environment instead (.env gives "
        "it to every stack), or open the file only when it is there"
    )


def providers_missing(found: Findings, results: list[dict[str, object]]) -> list[str]:
    """The packages an init-made runtime set lacks (the project has no requirements file): the known
    providers (distributions.PACKAGE_OF) of the modules the settings or the URLconf failed to import
    (DonyMagRony's INSTALLED_APPS names corsheaders and rest_framework, and nothing lists a package)."""
    if not found.requirements.made:
        return []
    errors = [str(r.get("error") or "") for r in results]
    errors += [str(h.get("error") or "") for r in results if isinstance(h := r.get("health"), dict)]
    tops = [m.split(".", 1)[0] for error in errors for m in _NO_MODULE.findall(error)]
    wanted = [distributions.PACKAGE_OF[t] for t in dict.fromkeys(tops) if t in distributions.PACKAGE_OF]
    return [p for p in wanted if not found.requirements.mentions(p)]


def not_installed(error: str, found: Findings, apps: Iterable[object] = ()) -> str:
    """The fix when the settings import a module that is neither the project's nor installed from
    its requirements (django-healthcare's settings import decouple; python-decouple is not listed),
    else ''. An app of INSTALLED_APPS (`apps`) that nothing provides may be one the project lost
    (PedroFagundes' template lists a 'video' app it does not hold)."""
    missing = _NO_MODULE.search(error)
    top = missing.group(1) if missing and "." not in missing.group(1) else ""  # dotted: its parent is there
    roots = _import_roots(found)
    if not top or any((r / top).is_dir() or (r / f"{top}.py").is_file() for r in roots):
        return ""
    nested = bareimports.nested(found.root / found.app_dir, top)
    if nested:  # akasaka's sec/query.py: `from models import ...`, its models being sec/models.py
        shown, dotted = " or ".join(nested[:3]), " or ".join(bareimports.dotted(n) for n in nested[:3])
        return (
            f"{top} is the project's {shown}, imported bare (which finds it only when Python runs from its folder): "
            f"import it by its package ({dotted}), or relatively (`from .{top} import ...`)"
        )
    files = [f for f in found.requirements.runtime if f.endswith(".txt")]
    where = files[0] if files else "the runtime requirements (requirements in [tool.dockstage])"
    lost = top in {str(app).split(".", 1)[0] for app in apps} and top not in distributions.PACKAGE_OF
    gone = f", or take {top} out of INSTALLED_APPS if the project no longer has that app" if lost else ""
    return f"no requirement installs {top}: add {distributions.provider(top)} to {where}{gone}"


def apply(found: Findings, results: list[dict[str, object]]) -> None:
    """Replace the names guessed from the text by what the probe saw (or say why it could not)."""
    redis = any("redis" in text.lower() for text in found.requirements.texts)  # redis, django-redis, celery[redis]
    prod = learn.interpret(results[0], redis_dependency=redis)
    prod.others = [n for n in prod.others if n != prod.compress.get("name")]  # set by apply_compress
    values = results[0].get("values")
    apps = values.get("INSTALLED_APPS") or [] if isinstance(values, dict) else []
    apply_health(found, learn.health(results[0].get("health")), apps)
    made = [str(d) for r in results for d in r.get("writable_dirs") or []]  # type: ignore[attr-defined]
    found.writable_dirs = list(dict.fromkeys(made))
    if found.writable_dirs:
        found.found.append(
            f"writable-dirs: {', '.join(found.writable_dirs)} (the import opens a file there; made in every "
            "stage, the app user's, a tmpfs in prod)"
        )
    logs = learn.log_dirs(results[0])
    apply_log_dirs(found, logs)
    if prod.error:
        for where in logs.elsewhere:
            found.notes.append(
                f"LOGGING's {where}: prod's root is read-only and only dirs under the app dir can be made writable "
                "(writable-dirs) or a path in tmpfs: point the handler at such a dir, or log to the console"
            )
        gone = learn.removed_from_python(prod.error)
        made_later = deploy_made_module(prod.error, found)
        package = prod.error_at.split("/", 1)[0].removesuffix(".py")
        user = f"{package} ({prod.error_at})" if package else "a package it imports"
        fix = (
            f"{user} uses {gone}, which this Python no longer has: raise {package or 'that package'}'s pin, "
            "or set python in [tool.dockstage] to a Python it ran on"
            if gone
            else made_later
            or left_out_file(prod.error, found)
            or not_installed(prod.error, found)
            or "check [tool.dockstage.env]"
        )
        found.notes.append(f"importing {prod.module} in the dev image failed ({prod.error}): {fix}")
        overlay_from_text(found)
        entry_points_read(found)
        return
    found.notes = [note for note in found.notes if note not in found.guesses]
    found.found = [line for line in found.found if not line.startswith(GUESSED_LINES)]
    if prod.others:
        found.found.append(
            f"the app's own names (set them in .env; they reach the app as they are): {', '.join(prod.others)}"
        )
    found.env, found.env_values, found.other_env = prod.env, prod.fixed, prod.others
    found.env_defaults = prod.required
    if prod.required:
        found.notes.append(
            f"the settings cannot import without {', '.join(prod.required)}: env-defaults gives each a value "
            "that imports; set the real ones in .env (they win)"
        )
    entry_points_read(found)
    found.debug_values = prod.debug_values
    debug_in_env_template(found)
    found.static_root = found.static_root or prod.static_root  # set in a module the settings import
    found.overlay, found.overlay_reasons = prod.overlay, prod.reasons
    # Settings the overlay leaves their DATABASES keep their own name, user, password: the stack's db makes those.
    found.db_literals = {} if "database" in prod.overlay else prod.db_literals
    if found.db_literals:
        shown = ", ".join(
            f"{name}={'(theirs)' if name == 'MYSQL_PASSWORD' else value}" for name, value in found.db_literals.items()
        )
        found.found.append(f"database: the settings write out {shown[:200]}; the stack's db makes the same (.env)")
    if logs.elsewhere:  # encouragemint's /app/debug.log, leo's /app/all.log: the app root is prod's, read-only
        found.overlay.append("log-console")
        found.overlay_reasons.append(
            f"LOGGING's {'; '.join(logs.elsewhere)}, where prod's read-only root takes no file: prod logs it to "
            "the console (`invoke logs`), dev and the build keep the file"
        )
    apply_compress(found, prod.compress)
    tests = learn.interpret(results[1], redis_dependency=redis) if len(results) > 1 else prod
    found.services = list(dict.fromkeys([*prod.services, *tests.services]))
    found.services_how = prod.services_how or tests.services_how
    redis_names_read(found)
    if found.services:
        names = [n for role in ("redis-url", "redis-host") for n in prod.env.get(role, [])]
        found.found.append(
            f"services: {', '.join(found.services)} in every stack ({found.services_how}); "
            + (f"the stack sets {', '.join(names)} to it" if names else "the overlay points the settings at it")
        )
    found.test_overlay = learn.test_overlay(tests) if not tests.error else learn.test_overlay(prod)
    storage = (tests if not tests.error else prod).manifest
    found.manifest_static = bool(prod.manifest or storage)
    if not storage and any(line.startswith(MANIFEST_GUESS) for line in found.found):  # the text misled
        found.test_setup = [c for c in found.test_setup if c != learn.COLLECTSTATIC]
    found.found = [line for line in found.found if not line.startswith(MANIFEST_GUESS)]
    if storage:
        if learn.COLLECTSTATIC not in found.test_setup:
            found.test_setup.append(learn.COLLECTSTATIC)
        line = (
            f"{storage.rsplit('.', 1)[-1]}: the tests' pages need the static manifest, "
            f"so `{learn.COLLECTSTATIC}` runs before the tests (test-setup)"
        )
        found.found += [line] if line not in found.found else []
    count = len(results[0].get("env") or {})  # type: ignore[arg-type]
    found.learned = f"Learned by `dockstage init`: {learn.describe(prod, count)}." + (
        f"\nTests' settings {tests.module}: database {'overlaid' if found.test_overlay else 'read from the environment'}."
        if tests is not prod
        else ""
    )
    found.found.append(learn.describe(prod, count))
    if found.overlay:
        found.found.append(
            f"overlay: the suite's settings module imports {found.settings_module} and sets "
            f"{', '.join(found.overlay)} ({'; '.join(found.overlay_reasons)}); your files are not edited"
        )
    if found.test_overlay and tests is not prod:
        same = tests.module == prod.module  # probed again as the test command imports it
        found.found.append(
            f"test overlay: {tests.module} does not use the stack's database"
            f"{f' under `{found.test_command}`' if same else ''}: the suite sets it"
        )
    if tests.error and tests is not prod:
        found.notes.append(f"importing {tests.module} failed in the probe ({tests.error}): check test-env")


COMPRESS = "python manage.py compress --force"
"""django-compressor's offline files, made at build time whatever COMPRESS_ENABLED says then."""


ENV_TEMPLATES = (".env.example", ".env.sample", ".env.template", ".env.dist", "example.env", "sample.env")
"""The env file a project gives its developers to copy (`cp .env.example .env`), where they run the tests."""
_TRUE = ("true", "1", "yes", "on")


_HARD_READ = re.compile(r"""os\.environ\[\s*['"]([A-Za-z_]\w*)['"]\s*\]""")


def entry_points_read(found: Findings) -> None:
    """Names manage.py and the WSGI module read with os.environ['NAME'] (a KeyError without one),
    which the settings' probe does not see: gather-connector's manage.py reads SERVER_ENV to pick its
    .env file, and collectstatic stopped on KeyError at build time. env-defaults gives each ''."""
    app_dir = found.root / found.app_dir
    files = [app_dir / "manage.py", module_file(app_dir, found.wsgi.split(":")[0]) if found.wsgi else None]
    known = {n for names in found.env.values() for n in names} | set(found.env_values) | set(found.env_defaults)
    read: list[str] = []
    for path in files:
        if path is not None and path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            read += [n for n in _HARD_READ.findall(text) if n not in known and n != "DJANGO_SETTINGS_MODULE"]
    read = list(dict.fromkeys(read))
    if read:
        found.env_defaults.update(dict.fromkeys(read, ""))
        found.notes.append(
            f"manage.py or the WSGI module reads {', '.join(read)} with os.environ[...] (a KeyError unset): "
            "env-defaults gives each '' for the build steps and the stacks; set the real ones in .env (they win)"
        )


_REDIS_DEFAULT = re.compile(
    r"""\(\s*['"]([A-Za-z_]\w*)['"]\s*,\s*(?:default\s*=\s*)?['"]rediss?://(?:[^@'"/\s]*@)?"""
    r"""(?:127\.0\.0\.1|localhost)(?=[:/'"])"""
)
"""A name read with a redis at a loopback address as its default: env("REDIS_URL", default="redis://127.0.0.1:6379/1"),
os.environ.get("CACHE_URL", "redis://localhost")."""


def redis_names_read(found: Findings) -> None:
    """Names the project's code outside the settings reads with a loopback redis as their default,
    which the settings' probe does not see (wallet-transaction-api's conftest.py sets the tests'
    CACHES from env("REDIS_URL", default="redis://127.0.0.1:6379/1"): 10 of its 16 tests got
    Error 111 connecting to 127.0.0.1:6379). The stack starts its redis and sets each name to it."""
    known = {n for names in found.env.values() for n in names} | set(found.env_values) | set(found.env_defaults)
    uses = [u for u in sourcewalk.matches(found.root, found.root, SKIP_DIRS, _REDIS_DEFAULT) if u.text not in known]
    names = list(dict.fromkeys(u.text for u in uses))
    if not names:
        return
    found.env = {**found.env, "redis-url": [*found.env.get("redis-url", []), *names]}  # not the probe's own
    if "redis" not in found.services:
        found.services.append("redis")
    where = ", ".join(dict.fromkeys(f"{u.path}:{u.line}" for u in uses))
    found.services_how = (
        found.services_how
        or f"{where} read{'s' * (len(names) == 1)} {', '.join(names)} with a loopback redis as the default"
    )
    found.found.append(
        f"redis-url <- {', '.join(names)}: read in {where} with a redis at a loopback address as the default; "
        "the stack sets it to its redis"
    )


def debug_in_env_template(found: Findings) -> None:
    """Debug on in the tests when the project's own env template turns it on: its tests are run
    that way (held-out amanzon: `DEBUG=True` in .env.example; with debug off at settings load its
    settings redirect every request to https, and 23 of its 58 tests saw a 301)."""
    names = [n for n in found.env.get("debug", []) if n not in found.test_env]
    folders = dict.fromkeys([found.root, found.root / found.app_dir])
    for folder, template in ((f, t) for f in folders for t in ENV_TEMPLATES):
        path = folder / template
        text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        if not text or text.startswith("# dockstage:"):
            continue  # none, or the suite's own
        try:
            values = dotenv.parse(text, template)
        except DockstageError:
            continue
        turned_on = [n for n in names if values.get(n, "").strip().lower() in _TRUE]
        for name in turned_on:
            found.test_env[name] = found.debug_values[1]
        if turned_on:
            found.found.append(
                f"test-env: {', '.join(turned_on)} on, as the project's {path.relative_to(found.root)} "
                "sets it where its tests run"
            )
        return


def apply_compress(found: Findings, compress: dict[str, object]) -> None:
    """django-compressor under prod's read-only root: its files are made at build time (`compress`)
    and prod reads them (COMPRESS_OFFLINE on: through the name the settings read it from, else the
    overlay); the tests keep compressing as they run (their image has no offline manifest)."""
    if not compress.get("app"):
        return
    ours = [c for c in found.build_commands if c.startswith("python manage.py compress")]
    if compress.get("offline"):
        if not ours:
            found.build_commands.append(COMPRESS)
            found.found.append(f"django-compressor offline (COMPRESS_OFFLINE is on): `{COMPRESS}` runs at build time")
        return
    found.build_commands = [*(c for c in found.build_commands if c not in ours), COMPRESS]
    name = str(compress.get("name") or "")
    if name:
        on, off = str(compress["on"]), str(compress["off"])
        found.env_values[name] = on
        found.test_env.setdefault(name, off)
        found.other_env = [n for n in found.other_env if n != name]
        found.env_defaults.pop(name, None)
        how = f"{name} = {on!r} in env-values, {off!r} in test-env"
    else:
        if "compress-offline" not in found.overlay:
            found.overlay.append("compress-offline")
        found.overlay_reasons.append(
            "django-compressor would write its files at request time under prod's read-only root"
        )
        how = "COMPRESS_OFFLINE = True in the overlay, prod only"
    found.notes.append(
        "django-compressor offline: a page that answers 500 with OfflineGenerationError (a key missing from the "
        "offline manifest) has a {% compress %} block that renders differently per request (its language, the "
        "user): give the settings a COMPRESS_OFFLINE_CONTEXT that covers it"
    )
    found.found.append(
        f"django-compressor: `{COMPRESS}` runs at build time after collectstatic and prod reads its files "
        f"({how}): prod's root is read-only, so nothing is compressed at request time; the tests compress as they run"
    )


def apply_log_dirs(found: Findings, logs: learn.LogDirs) -> None:
    """The dirs LOGGING's file handlers write in become writable-dirs (the app user's after the
    build steps, which ran as root and may have made them; a tmpfs in prod, whose root is read-only),
    or tmpfs entries when they are outside the app dir."""
    _learn_dirs(
        found, found.writable_dirs, logs.dirs, "writable-dirs", "the app user's after the build steps, a tmpfs in prod"
    )
    _learn_dirs(
        found,
        found.tmpfs,
        logs.outside,
        "tmpfs",
        "outside the app dir: in memory in prod and the image checks, the app user's; "
        "point the handler at stdout to keep its lines",
    )


def _learn_dirs(found: Findings, known: list[str], dirs: dict[str, str], key: str, how: str) -> None:
    """The `dirs` LOGGING writes in (dir -> which handler writes what) not yet in `known` (a list of
    `found`'s, the key's value), added to it and said in one line."""
    new = [d for d in dirs if d not in known]
    if new:
        known += new
        found.found.append(f"{key}: {', '.join(new)} (LOGGING: {'; '.join(dirs[d] for d in new)}; {how})")


HEALTH_GUESSES = ("no health URL found", "health URL:")
"""What init says of the health path from the text, replaced when the probe resolved one."""


def apply_health(found: Findings, chosen: learn.Health, apps: Iterable[object] = ()) -> None:
    """The health path (and the admin's prefix) the probe resolved in the URLconf, said in one line;
    the text's guess stays, with a note, when the URLconf did not load (with the fix, when it was an
    app of `apps`, INSTALLED_APPS, or a module nothing installs)."""
    if chosen.path or chosen.admin_path:  # the URLconf loaded: its admin login, or none that answers
        found.admin_path = chosen.admin_path
    if chosen.note:
        if chosen.admin_path or not chosen.note.startswith(
            "the URLconf did not load"
        ):  # it loaded: the text's note is stale
            found.notes = [n for n in found.notes if not n.startswith(HEALTH_GUESSES)]
        fix = not_installed(chosen.note, found, apps) if chosen.note.startswith("the URLconf did not load") else ""
        found.notes.append(f"{chosen.note}; {fix}" if fix else chosen.note)  # ptran068's corsheaders: listed nowhere
    if not chosen.path:
        return
    found.health_path, found.health_found = chosen.path, True
    found.notes = [n for n in found.notes if not n.startswith(HEALTH_GUESSES)]
    found.found = [line for line in found.found if not line.startswith(HEALTH_GUESSES)]
    found.found.append(chosen.line)


def overlay_from_text(found: Findings) -> None:
    """The probe could not import the settings: overlay what their text shows they do not read
    from the environment. The overlay only sets values the suite has, so where the settings do
    read them after all nothing changes; where they do not, no one has to edit the project."""
    roles = set(found.env)
    wanted = {
        "database": not {"database-host", "database-url"} & roles,
        "secret-key": "secret-key" not in roles,
        "allowed-hosts": "allowed-hosts" not in roles,
        "debug": "debug" not in roles,
    }
    found.overlay = [key for key, needed in wanted.items() if needed]
    if not found.overlay:
        return
    found.overlay_reasons = [f"{', '.join(found.overlay)}: not read from the environment in the settings' text"]
    found.test_overlay = ["database"] if "database" in found.overlay else []
    found.notes = [n for n in found.notes if not n.startswith(TEXT_ONLY_NOTES)]


TEXT_ONLY_NOTES = (
    "the settings do not read the database from the environment",
    "SECRET_KEY is not read from the environment",
    "ALLOWED_HOSTS is not read from the environment",
)
"""The text's notes asking for an edit of the project, which the overlay makes needless."""
