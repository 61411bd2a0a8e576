"""In-image probe (dev image): what the project's settings do with the environment they read.

`dockstage init` runs `python probe.py` in the dev image with DOCKSTAGE_PROBE, a JSON object:
{"modules": ["pkg.settings", ...], "names": ["DB_HOST", ...]} (the names found in the source).
Each settings module is imported in a fresh process with a sentinel value for every name it may
read; every read of os.environ during the import is recorded, and names first seen that way get
a sentinel in the next attempt, and so does a name the import died for want of when no read showed
it (`KeyError: 'X'` from a copy of os.environ, django-environ's "Set the X environment variable"),
bounded in count and time. A sentinel that makes the import fail (int("ds3s"), a URL parser)
is changed to another form (a number, a URL, unset) and the import tried again, a bounded number
of times. Then DEBUG is flipped through the names that mention it, and a database engine name is
tried with "mysql". The last line on stdout is `DOCKSTAGE-PROBE <json>`: per module, the sentinel
each name had and what the settings held (DATABASES, SECRET_KEY, ALLOWED_HOSTS, DEBUG, ...).
With {"health": {"paths": [...], "words": [...]}} in the request, the first module's apps and
URLconf are loaded once more (django.setup()) and the health path candidates are resolved there
(health_path): the first module's answer carries the path chosen and why the others were not.
With {"runner": {"module": ..., "argv": [...], "env": {...}}}, the tests' settings module is
imported as the test command imports it (sys.argv and the environment pytest or `manage.py test`
give it) when it is not the first module, or when the first module looked at either: a settings
file that switches to SQLite under the test runner is seen doing so (its answer is appended).
Nothing here connects anywhere: settings and URLconf are imported, no request is made.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import json
import os
import re
import signal
import subprocess
import sys
import time
import traceback

MAX_ATTEMPTS = 160
_NUMBER_PARSE = re.compile(
    r"invalid literal for int|could not convert string to float|not a valid (integer|number)", re.I
)
NOT_THE_APPS = ("DOCKSTAGE_", "PYTHON", "SETUPTOOLS_", "PIP_", "UV_", "VIRTUAL_ENV", "LC_")
SYSTEM_NAMES = frozenset({"LANG", "LANGUAGE", "TZ", "TERM"})
"""The system's own names, whole: as prefixes "LANG" and "TZ" took the app's LANGUAGE_CODE
(nekrassov01/docker-django-blog's env('LANGUAGE_CODE') never got a sentinel, and its import failed)."""
RUNNERS = ("PYTEST_", "RUN_MAIN", "WERKZEUG_RUN_MAIN")
"""Names the test runner and the autoreloader set, never the suite's stacks: no sentinel (SISOC's
settings took SQLite when PYTEST_CURRENT_TEST was set at all); the tests' pass gets pytest's own."""


def not_the_apps(name: str) -> bool:
    """A name of the system, the tools or the test runner: never given a sentinel."""
    return name in SYSTEM_NAMES or name.startswith(NOT_THE_APPS + RUNNERS)


_CONTEXT: dict = {"argv": None, "env": {}}
"""The test runner's sys.argv and environment while the tests' module is probed (as_runner)."""
NOT_A_VALUE = ("ModuleNotFoundError", "ImportError", "AppRegistryNotReady", "SyntaxError", "IndentationError")
READ_BACK = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DEBUG",
    "STATIC_ROOT",
    "STORAGES",
    "STATICFILES_STORAGE",
    "COMPRESS_ENABLED",
    "COMPRESS_OFFLINE",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
)
SERVICE_SETTINGS = ("CACHES", "CHANNEL_LAYERS", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "BROKER_URL", "RQ_QUEUES")
"""Settings that name a service beside the database (read back with any other that mentions redis)."""
_URL_NAME = re.compile(r"(URL|URI|DSN)$|^(DB|DATABASE)$")
_INT_NAME = re.compile(r"(PORT|AGE|TIMEOUT|WORKERS|SIZE|COUNT|LIMIT|SECONDS|TTL|MAX|MIN)$")
_DEBUG_SPELLINGS = (("false", "true"), ("False", "True"), ("0", "1"), ("", "True"))
"""How a debug name is spelled off and on, tried in turn; the last for settings that keep the value as
it is read (mjgiannelli's `DEBUG = config('DEBUG')`, a string: only a blank one is off)."""
_ENGINE_WORDS = ("ENGINE", "BACKEND", "TYPE", "VENDOR", "KIND", "DRIVER")
_DB_WORDS = ("DB", "DATABASE", "MYSQL", "SQL")
_STAGE_WORDS = ("STAGE", "ENV", "ENVIRONMENT", "MODE", "PROFILE", "DEPLOYMENT", "TIER")
_PROD_VALUES = ("production", "prod")
"""A name that picks the settings' branch by the deployment's stage (1816815/TFG's MYPROJECT_STAGE:
"production" imports its MySQL settings, its default "development" SQLite's), and what prod is called."""
URL_KINDS = ("url", "url:smtp", "url:locmemcache", "url:elasticsearch", "url:redis")
"""The URL sentinels tried in turn on a name whose URL the settings' parser refused (redis last:
a cache the sentinel's scheme made a redis one would start a redis the app does not use)."""
PARSER_SCHEMES = {
    "email": "smtp",
    "cache": "locmemcache",
    "search": "elasticsearch",
    "db": "mysql",
    "database": "mysql",
}
"""The scheme a URL parser that names its kind wants (django-environ's email_url, cache_url...)."""
_SCHEMA_ERROR = re.compile(r"Invalid (\w+) schema")  # django-environ: "Invalid email schema mysql"
_NAME_SCHEMES = (("EMAIL", "smtp"), ("SMTP", "smtp"), ("SEARCH", "elasticsearch"))
"""A URL name's words that say its kind before any parser does (EMAIL_URL: smtp://)."""
MAX_MISSING = 40
PROBE_SECONDS = 300
_ENV_NAME = r"([A-Za-z_][A-Za-z0-9_]*)"
_MISSING = (
    re.compile(r"^KeyError: '" + _ENV_NAME + r"'$"),  # os.environ["X"], env = os.environ.copy(); env["X"]
    re.compile(r"ImproperlyConfigured: Set the " + _ENV_NAME + r" environment variable"),  # django-environ
    re.compile(r"UndefinedValueError: " + _ENV_NAME + r" not found"),  # python-decouple
    re.compile(
        r"(?:Environment variable|env var(?:iable)?) '?" + _ENV_NAME + r"'? (?:is )?(?:not set|missing|required)", re.I
    ),
    # pydantic-settings: "ValidationError: 2 validation errors for EnvSettings\nDATABASE_URL\n  Field required"
    re.compile(r"^" + _ENV_NAME + r"\s*\n\s+Field required", re.M),
)


def sentinel(number: int, kind: str) -> str:
    """The value name number `number` gets: unique, and findable in whatever the settings make of it."""
    if kind == "int":
        return str(47000 + number)
    if kind.startswith("url"):  # "url" (mysql), or "url:<scheme>" for a parser of another kind of URL
        scheme = kind.partition(":")[2] or "mysql"
        return f"{scheme}://u{number}x:p{number}x@h{number}x.probe:{47000 + number}/n{number}x"
    if kind == "zero":  # a name that must be set but took no sentinel: "0" passes bool, int and str parsers
        return "0"
    if kind == "empty":  # ... and "0" broke the import too: blank, as an optional DSN is left (sentry)
        return ""
    return f"ds{number}s"


def marker(number: int, kind: str) -> str:
    """A part of the sentinel that survives in an error message (a URL is often cut at its '.')."""
    return f"u{number}x" if kind.startswith("url") else sentinel(number, kind)


def next_kind(kind: str, error: str) -> str:
    """The form to try after `kind` broke the import with `error`: a number when it was parsed as
    one; a URL of the scheme the parser asked for ("Invalid email schema mysql": smtp), else the
    next scheme of URL_KINDS; else unset (the settings' own default; a bool parser, a path...).
    A name that must be set goes "0", then blank, and no further."""
    if kind in ("zero", "empty"):
        return "empty"
    if kind == "str" and _NUMBER_PARSE.search(error):
        return "int"
    asked = _SCHEMA_ERROR.search(error)
    scheme = PARSER_SCHEMES.get(asked.group(1).lower(), "") if asked else ""
    if scheme and kind in ("str", "url"):  # the first forms only: then each scheme in turn, never back
        wanted = "url" if scheme == "mysql" else f"url:{scheme}"
        if wanted != kind:
            return wanted
    if kind in URL_KINDS[:-1]:
        return URL_KINDS[URL_KINDS.index(kind) + 1]
    return "unset"


def missing_name(error: str) -> str:
    """The environment name an import died for want of (`KeyError: 'SECRET_KEY'`, django-environ's
    `Set the X environment variable`, decouple's `X not found`), or "" when the error names none."""
    for pattern in _MISSING:
        found = pattern.search(error.strip())
        if found and found.group(1).upper() == found.group(1):
            return found.group(1)
    return ""


def switched_on(result: dict, env: dict) -> list:
    """The names the failed import only tested for presence (`NAME in os.environ`, never read for a
    value) and that have a sentinel: a platform's switch (WEBSITE_HOSTNAME on Azure, DYNO on
    Heroku) that turned the settings onto a branch of its own. Unset, the import takes the branch
    the suite's stacks take, where none of them is set."""
    return [n for n in result.get("tested", []) if n in env]


def first_kind(name: str) -> str:
    if _URL_NAME.search(name):
        return next((f"url:{scheme}" for word, scheme in _NAME_SCHEMES if word in name), "url")
    if _INT_NAME.search(name):
        return "int"
    return "str"


def plain(value, inside: tuple = ()):
    """A JSON-able copy of a settings value; a container inside itself is "<cycle>" there (django-heroku
    with DATABASE_URL and CI set makes DATABASES['default']['TEST'] the default itself: danzinj's
    settings stopped the probe with a RecursionError)."""
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        if id(value) in inside:
            return "<cycle>"
        inside = (*inside, id(value))
    if isinstance(value, dict):
        return {str(k): plain(v, inside) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v, inside) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if type(value).__name__ == "__proxy__":  # a lazy translation: str() needs the app registry
        return "<lazy>"
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a value that cannot say itself says nothing to the probe
        return f"<{type(value).__name__}>"


def _read_by_the_project(frame) -> bool:
    """Whether the project's code made this read (its settings, or a helper of theirs such as
    django-environ called by them), not a library importing itself (setuptools' distutils shim
    reads SETUPTOOLS_USE_DISTUTILS from inside the import machinery)."""
    root = os.getcwd() + os.sep
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith("<frozen importlib"):
            return False
        if name.startswith(root) and f"{os.sep}site-packages{os.sep}" not in name:
            return True
        frame = frame.f_back
    return False


def _django_version() -> list:
    """The installed Django's (major, minor), [] without one: which settings it still reads."""
    try:
        import django
    except ImportError:
        return []
    return list(django.VERSION[:2])


def once(module: str, setup: bool = False, health: dict | None = None) -> dict:
    """Import `module` here (a fresh process), recording every environment read; with `setup`,
    django.setup() after it (apps such as huey's open their files when loaded, not in the settings);
    with `health` too, the URLconf is loaded and the health path chosen (health_path)."""
    reads: list[str] = []  # every name the import read or tested
    valued: set[str] = set()  # ... read for its value
    argv = _Argv(sys.argv)
    sys.argv = argv
    environ_class = type(os.environ)
    original = environ_class.__getitem__
    original_contains = environ_class.__contains__
    testing_now: list[bool] = []  # inside `NAME in os.environ` (Mapping's __contains__ reads the item)

    def recording(self, key):
        if _read_by_the_project(sys._getframe(1)):
            if key not in reads:
                reads.append(key)
            if not testing_now:
                valued.add(key)
        return original(self, key)

    def testing(self, key):
        testing_now.append(True)
        try:
            return original_contains(self, key)
        finally:
            testing_now.pop()

    def tested() -> list[str]:
        """The names only tested for presence (a platform's switch: WEBSITE_HOSTNAME)."""
        return [name for name in reads if name not in valued]

    environ_class.__getitem__ = recording
    environ_class.__contains__ = testing
    sys.path.insert(0, os.getcwd())
    try:
        settings = importlib.import_module(module)
        if setup or health is not None:
            import django

            django.setup()
        chosen = health_path(health) if health is not None else None
    except BaseException as exc:  # noqa: BLE001 - reported to the host, which decides
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        installed = [f for f in traceback.extract_tb(exc.__traceback__) if "site-packages/" in f.filename]
        return {
            "ok": False,
            "error": last[:500],
            # the installed package's line it failed in (vine/five.py:364), '' when it was not one's
            "where": f"{installed[-1].filename.split('site-packages/', 1)[1]}:{installed[-1].lineno}"
            if installed
            else "",
            "reads": reads,
            "tested": tested(),
            "missing_dir": missing_dir(exc, os.getcwd()),
            "argv_read": argv.read,
        }
    finally:
        environ_class.__getitem__ = original
        environ_class.__contains__ = original_contains
    values = {name: plain(getattr(settings, name, None)) for name in READ_BACK}
    databases = getattr(settings, "DATABASES", None)
    values["DATABASES"] = plain(databases) if isinstance(databases, dict) else None
    values["INSTALLED_APPS"] = plain(list(getattr(settings, "INSTALLED_APPS", []) or []))
    values["SERVICES"] = services(settings)
    values["REDIS_LOOPBACK"] = sorted(redis_at_loopback(settings))
    values["LOG_FILES"] = log_files(getattr(settings, "LOGGING", None), os.getcwd())
    values["STATIC_STORAGE_LOCAL"] = static_storage_local(settings)
    values["DJANGO_VERSION"] = _django_version()
    if chosen is not None:
        values["HEALTH"] = chosen
    return {"ok": True, "reads": reads, "tested": tested(), "values": values, "argv_read": argv.read}


class _Argv(list):
    """sys.argv, noting whether the project's code looked at it (`'test' in sys.argv`)."""

    read = False

    def _seen(self) -> None:
        if not self.read and _read_by_the_project(sys._getframe(2)):
            self.read = True

    def __contains__(self, item: object) -> bool:
        self._seen()
        return super().__contains__(item)

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        self._seen()
        return super().__getitem__(index)

    def __iter__(self):  # type: ignore[no-untyped-def]
        self._seen()
        return super().__iter__()

    def __len__(self) -> int:
        self._seen()
        return super().__len__()


@contextlib.contextmanager
def as_runner(runner: dict):  # type: ignore[no-untyped-def]
    """Every attempt inside imports with the test runner's sys.argv and environment."""
    env = dict(runner.get("env") or {})
    if env.get("PYTEST_VERSION") == "":  # pytest sets it to its version before it loads any conftest
        try:
            env["PYTEST_VERSION"] = importlib.metadata.version("pytest")
        except importlib.metadata.PackageNotFoundError:
            env["PYTEST_VERSION"] = "8.4.0"
    _CONTEXT.update(argv=list(runner.get("argv") or []) or None, env=env)
    try:
        yield
    finally:
        _CONTEXT.update(argv=None, env={})


def runner_minded(result: dict) -> bool:
    """Whether a module's import looked at what the test runner sets: sys.argv, or its names."""
    return bool(result.get("argv_read")) or any(n.startswith(RUNNERS) for n in result.get("reads", []))


def static_storage_local(settings) -> object:
    """Whether the static files' storage keeps them on this disk (a FileSystemStorage: Django's,
    whitenoise's, a manifest one): False for a remote one (django-storages' S3, Azure, Google
    Cloud), None when its class does not import here."""
    storages = getattr(settings, "STORAGES", None)
    staticfiles = storages.get("staticfiles") if isinstance(storages, dict) else None
    backend = str(staticfiles.get("BACKEND") or "") if isinstance(staticfiles, dict) else ""
    backend = backend or str(getattr(settings, "STATICFILES_STORAGE", "") or "")
    if not backend:
        return True  # Django's own StaticFilesStorage
    try:
        from django.core.files.storage import FileSystemStorage
        from django.utils.module_loading import import_string

        storage = import_string(backend)
    except Exception:  # noqa: BLE001 - its module does not import here: unknown, nothing decided on it
        return None
    return isinstance(storage, type) and issubclass(storage, FileSystemStorage)


def log_files(logging: object, app: str) -> list:
    """The files LOGGING's handlers write (a `filename` key: FileHandler, RotatingFileHandler...),
    each with the dir under the app dir that holds it ("." for the app dir itself, "" outside)."""
    handlers = logging.get("handlers") if isinstance(logging, dict) else None
    found = []
    root = os.path.realpath(app)
    for name, handler in (handlers or {}).items() if isinstance(handlers, dict) else ():
        filename = handler.get("filename") if isinstance(handler, dict) else None
        if not isinstance(filename, (str, os.PathLike)):
            continue
        full = os.path.realpath(os.path.join(root, os.fspath(filename)))
        folder = os.path.dirname(full)
        inside = folder == root or folder.startswith(root + os.sep)
        found.append({"handler": str(name), "file": full, "dir": os.path.relpath(folder, root) if inside else ""})
    return found


def health_path(request: dict) -> dict:
    """The first candidate health path that resolves to a view without parameters and does not end
    in a 4xx when requested (after django.setup()): the project's own health URLs (the paths init
    found in the text, then every parameterless URL whose last word is a health word: health,
    healthz, ping...), then `/`, then the login page of each admin site as the URLconf reverses it
    (its prefix and language as the project sets them), then LOGIN_URL, then every other URL
    without parameters (sorted; none that reads as a logout or a delete: UNSAFE_WORDS). Each is
    requested with Django's test client, redirects followed: a page that needs the database (there
    is none here) is taken on its resolving alone. Each rejected candidate says why."""
    from django.conf import settings
    from django.urls import Resolver404, get_resolver, resolve

    try:
        _ = get_resolver().url_patterns  # the URLconf, imported once: a failure here is no candidate's
    except Exception as exc:  # noqa: BLE001 - said to init, which keeps the text's guess
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return {"path": "", "error": last[:300]}
    serving_language()
    unreachable_services(settings)
    words = {str(w).lower() for w in request.get("words", [])}
    try:
        from urllist import parameterless  # beside this script (the image's helpers)

        listed = parameterless()
    except Exception:  # noqa: BLE001 - without the list, the other candidates are tried
        listed = []
    # the last segment's words: /status/, /api-status/, /health_check/
    worded = [p for p in listed if words & set(re.split(r"[-_.]", p.strip("/").rsplit("/", 1)[-1].lower()))]
    kinds = {path: "health" for path in [*request.get("paths", []), *worded]}
    kinds.setdefault("/", "root")
    admin = ""
    for login in _admin_logins():
        admin = admin or login
        kinds.setdefault(login, "admin")
    login_url = str(getattr(settings, "LOGIN_URL", "") or "")
    if login_url.startswith("/"):
        kinds.setdefault(login_url, "login")
    for path in listed:  # last, any page without parameters (ligiaboliveira's only URL is /hello_mundo/)
        if not UNSAFE_WORDS & set(re.split(r"[-_./]", path.lower())):
            kinds.setdefault(path, "page")
    tried = []
    started = time.monotonic()
    for path, kind in kinds.items():
        serving_language()  # again: a request of the test client leaves its own active
        try:
            match = resolve(path)
        except Resolver404:
            tried.append(f"{path} does not resolve")
            continue
        except Exception as exc:  # noqa: BLE001 - a URLconf that fails on this path
            tried.append(f"{path}: {type(exc).__name__}")
            continue
        if match.args or getattr(match, "captured_kwargs", match.kwargs):
            tried.append(f"{path} takes parameters")
            continue
        in_time = time.monotonic() < started + REQUESTS_SECONDS
        refused, answered = (
            _requested(path) if in_time else ("", "not requested (the probe's time for requests ran out)")
        )
        if refused:
            tried.append(f"{path} {refused}")
            continue
        return {
            "path": path,
            "kind": kind,
            "view": match._func_path,
            "answered": answered,
            "tried": tried,
            "admin": admin,
            "admin_refused": _admin_refused(admin) if admin and admin != path and in_time else "",
        }
    return {"path": "", "kind": "", "view": "", "tried": tried, "admin": admin}


REQUESTS_SECONDS = 30  # the health candidates' requests, all together
UNSAFE_WORDS = {"logout", "signout", "delete", "remove", "reset", "clear", "drop", "destroy", "flush", "purge"}
"""Words of a path no healthcheck should GET every few seconds, even where its view is a safe one."""


def unreachable_services(settings) -> None:
    """Before the candidates are requested: every database server is 127.0.0.1:1 (refused at once;
    a sentinel host was looked up for a minute with no network) and every cache in memory."""
    for database in (settings.DATABASES or {}).values():
        if isinstance(database, dict) and "sqlite" not in str(database.get("ENGINE", "")):
            database.update(HOST="127.0.0.1", PORT="1")
    settings.CACHES = {
        alias: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"probe-{alias}"}
        for alias in (settings.CACHES or {"default": {}})
    }


def serving_language() -> None:
    """Activate the language a request without one is served in: LANGUAGE_CODE, as LocaleMiddleware
    reads it when it is installed ("en-us" is served as "en" when only "en" is in LANGUAGES)."""
    from django.conf import settings
    from django.utils import translation

    code = settings.LANGUAGE_CODE
    if "django.middleware.locale.LocaleMiddleware" in (settings.MIDDLEWARE or []):
        with contextlib.suppress(LookupError):
            code = translation.get_supported_language_variant(code)
    translation.activate(code)


def _admin_logins() -> list:
    """The login URL of every admin site the URLconf includes (the default one first)."""
    from django.contrib.admin import sites
    from django.urls import reverse

    names = ["admin", *sorted(s.name for s in getattr(sites, "all_sites", ()) if s.name != "admin")]
    found = []
    for name in names:
        try:
            found.append(reverse(f"{name}:login"))
        except Exception:  # noqa: BLE001, S112 - a site not in the URLconf
            continue
    return found


def _admin_refused(path: str) -> str:
    """What the admin's login page answers other than 200, redirects not followed, as the smoke
    check asks it ("answers 302 (to /login/)"), else "": Kangkangithub's middleware sends every
    page but its own login to /login/, and the proposed admin check failed on the 302. A failure
    here (no database, no services) says nothing: ''."""
    try:
        response = _client().get(path, secure=True)
    except Exception:  # noqa: BLE001 - the app's own failure, without its services
        return ""
    if response.status_code == 200:
        return ""
    to = response.get("Location", "")
    return f"answers {response.status_code}" + (f" (to {to})" if to else "")


def _client():
    """Django's test client, the test environment set up once (its host, testserver, allowed; mail
    kept in memory)."""
    from django.test import Client
    from django.test.utils import setup_test_environment

    with contextlib.suppress(RuntimeError):  # set up by an earlier request
        setup_test_environment()
    return Client()


def _requested(path: str) -> tuple:
    """(why `path` is refused, or "", what it answered) from a GET with Django's test client,
    redirects followed. Only a 404 or another 4xx (or a redirect to one: yuvalaha's health-worded
    /api/vacations_status answers 401 without a login) and an admin template no loader finds refuse
    it: an error from the database (none here) or another failure leaves the path as it resolved."""
    from django.db import Error as DatabaseError
    from django.template import TemplateDoesNotExist

    try:
        response = _client().get(path, follow=True, secure=True)
    except DatabaseError as exc:
        return "", f"it needs the database ({type(exc).__name__} here): taken as it resolves"
    except TemplateDoesNotExist as exc:
        if str(exc).startswith("admin/"):  # the admin's own: TEMPLATES finds no app's (django-starter's APP_DIRS off)
            return f"fails: no template loader finds {exc}, the admin's own (TEMPLATES' APP_DIRS)", ""
        return "", f"TemplateDoesNotExist {exc} here (a build step may make it): taken as it resolves"
    except Exception as exc:  # noqa: BLE001 - the app's own failure, without its services
        return "", f"{type(exc).__name__} here (no database, no services): taken as it resolves"
    chain = [url for url, _ in getattr(response, "redirect_chain", [])]
    via = f" (redirected to {chain[-1]})" if chain else ""
    if response.status_code == 404:
        return f"answers 404{via}", ""
    if 400 <= response.status_code < 500:  # the healthcheck's request would get the same: never healthy
        return f"answers {response.status_code}{via}, as it would the healthcheck (no credentials)", ""
    return "", f"it answered {response.status_code}{via}"


def services(settings) -> dict:
    """The settings where a service beside the database (redis) is configured: SERVICE_SETTINGS,
    and any upper-case setting whose name or value mentions redis (small values only)."""
    found = {}
    for name in dir(settings):
        if not name.isupper():
            continue
        value = plain(getattr(settings, name, None))
        text = json.dumps(value)
        if name in SERVICE_SETTINGS or (("REDIS" in name or "redis" in text.lower()) and len(text) < 4000):
            found[name] = value
    return found


def redis_at_loopback(settings) -> dict:
    """The settings that name a redis at a fixed loopback address, as the overlay would set them
    (pythonpath/dockstage_redis.py, beside this script here and in the images)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "pythonpath"))
    try:
        import dockstage_redis
    finally:
        sys.path.pop(0)
    return dockstage_redis.moved({name: getattr(settings, name, None) for name in dir(settings) if name.isupper()})


MISSING_FILE = re.compile(r"unable to open database file|No such file or directory", re.I)
MAX_DIRS = 3  # writable dirs made for the import (writable-dirs), at most


def _paths_near(exc: BaseException) -> list:
    """The path-like values the failing frames held, innermost first: their string locals and the
    string attributes of their objects (huey's SqliteStorage keeps its file in self.filename)."""
    found = [exc.filename] if isinstance(exc, OSError) and isinstance(exc.filename, str) else []
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    frames = [f for f in frames if not f.f_code.co_filename.startswith("<") and f.f_code.co_filename != __file__]
    for frame in reversed(frames[-8:]):  # the import machinery's own frames (.pyc paths) left out
        for value in list(frame.f_locals.values())[:40]:
            if isinstance(value, (str, os.PathLike)):
                found.append(os.fspath(value))
            else:
                attributes = getattr(value, "__dict__", None)
                if isinstance(attributes, dict):
                    found += [v for v in list(attributes.values())[:40] if isinstance(v, str)]
    return [
        path
        for path in found
        if isinstance(path, str) and "/" in path and len(path) < 400 and not path.endswith((".py", ".pyc"))
    ]


def missing_dir(exc: BaseException, app: str) -> str:
    """The dir under the app dir an import died for want of (sqlite's "unable to open database
    file", FileNotFoundError), relative to it; "" when the error is another one."""
    if not MISSING_FILE.search(str(exc)) and not isinstance(exc, FileNotFoundError):
        return ""
    root = os.path.realpath(app)
    for path in _paths_near(exc):
        full = os.path.realpath(os.path.join(root, path))
        if not full.startswith(root + os.sep) or os.path.exists(full):
            continue
        folder = os.path.dirname(full)  # the file's dir ...
        if os.path.isdir(folder):  # ... which exists: the path itself is the missing dir, if it reads as one
            if not isinstance(exc, FileNotFoundError) or "." in os.path.basename(full):
                continue
            folder = full
        if folder != root:
            return os.path.relpath(folder, root)
    return ""


def attempt(module: str, env: dict, setup: bool = False, health: dict | None = None) -> dict:
    """One import of `module` with `env`, in a child process (forked: the libraries the parent
    preloaded are not imported again, which makes the many attempts of a large settings cheap)."""
    base = {k: v for k, v in BASE_ENV.items() if k not in ("DOCKSTAGE_PROBE", "DJANGO_SETTINGS_MODULE")}
    base.update(_CONTEXT["env"])
    if hasattr(os, "fork"):
        return _forked(module, {**base, **env, "DJANGO_SETTINGS_MODULE": module}, setup, health)
    argv = {"DOCKSTAGE_PROBE_ARGV": json.dumps(_CONTEXT["argv"])} if _CONTEXT["argv"] else {}
    done = subprocess.run(
        [sys.executable, __file__, "--once", module],
        env={**base, **env, "DJANGO_SETTINGS_MODULE": module, **argv},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("DOCKSTAGE-ONCE "):
            return json.loads(line.split(" ", 1)[1])
    return {"ok": False, "error": (done.stderr.strip().splitlines() or ["no answer"])[-1][:500], "reads": []}


BASE_ENV = dict(os.environ)
PRELOAD = ("django", "django.conf", "django.core.exceptions", "django.utils.translation", "environ", "decouple")


def _as_text(value: object) -> str:
    """What json cannot write in an answer (a setting holding bytes, a path object): as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _forked(module: str, env: dict, setup: bool = False, health: dict | None = None) -> dict:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: this environment, one import, the answer down the pipe
        os.close(read_end)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # warnings, a request's logged 500: not init's output
        code, answer = 0, ""
        try:
            signal.alarm(120)
            os.environ.clear()
            os.environ.update(env)
            if _CONTEXT["argv"]:
                sys.argv = list(_CONTEXT["argv"])
            answer = json.dumps(once(module, setup, health), default=_as_text)
        except BaseException as exc:  # noqa: BLE001 - a SystemExit at import, an answer json cannot write
            code = 1
            stopped = f"the import stopped the probe: {type(exc).__name__}: {str(exc)[:300]}"
            answer = json.dumps({"ok": False, "error": stopped, "reads": []})
        finally:
            try:
                with os.fdopen(write_end, "w") as out:
                    out.write(answer)
            finally:
                os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as answer:
        text = answer.read()
    _, status = os.waitpid(pid, 0)
    try:
        return json.loads(text)
    except ValueError:
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGALRM:
            why = "the import did not finish in 120 s"
        elif os.WIFSIGNALED(status):
            why = f"the import crashed the interpreter (signal {os.WTERMSIG(status)})"
        else:
            why = f"the import ended the interpreter (exit {os.WEXITSTATUS(status)}) without an answer"
        return {"ok": False, "error": why, "reads": []}


def preload() -> None:
    """Import what most settings import, once, before the attempts fork."""
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - not installed: the attempts import what they need
            continue


def probe(module: str, names: list, pinned: dict | None = None) -> dict:
    """Import `module` until it imports with a sentinel for every name it reads (bounded);
    `pinned` names keep their value (the engine choice found on a first pass)."""
    pinned = pinned or {}
    skip = {"DJANGO_SETTINGS_MODULE", "DOCKSTAGE_PROBE", "PATH", "HOME", "PYTHONPATH", *pinned, *_CONTEXT["env"]}
    order = [n for n in dict.fromkeys(names) if n not in skip and not not_the_apps(n)]
    kinds = {name: first_kind(name) for name in order}

    def env() -> dict:
        return {**{n: sentinel(i, kinds[n]) for i, n in enumerate(order) if kinds[n] != "unset"}, **pinned}

    result: dict = {}
    asked: list[str] = []  # names no read showed, learned from the error the import died with
    deadline = time.monotonic() + PROBE_SECONDS
    made: list = []  # dirs under the app dir the import needed (writable-dirs)
    for _ in range(MAX_ATTEMPTS):
        result = attempt(module, env())
        needed = result.get("missing_dir") or ""
        if needed and len(made) < MAX_DIRS and needed not in made:
            os.makedirs(needed, exist_ok=True)  # in the probe's throwaway container
            made.append(needed)
            continue
        new = [n for n in result["reads"] if n not in kinds and n not in skip and not not_the_apps(n)]
        wanted = "" if result["ok"] or new else missing_name(result["error"])
        if kinds.get(wanted) == "unset":  # its sentinel broke the import, and unset it is missing: "0"
            kinds[wanted] = "zero"
            continue
        if wanted in kinds or wanted in skip or not_the_apps(wanted):
            wanted = ""  # it had its sentinel already, or it is the image's (PYTHON_VERSION), not the app's
        if wanted and len(asked) < MAX_MISSING:
            new, asked = [wanted], [*asked, wanted]
        if time.monotonic() > deadline:
            break
        for name in new:
            order.append(name)
            kinds[name] = first_kind(name)
        if result["ok"] and not new:
            break
        if not result["ok"] and not new:
            current = env()
            marks = {
                n: marker(order.index(n), kinds[n]) for n in current if n in order and kinds[n] not in ("zero", "empty")
            }  # "0" and "" show in any message: they name no culprit
            culprit = next((n for n, mark in marks.items() if mark in result["error"]), "")
            switches = switched_on(result, current) if not culprit else []
            if switches:  # a branch the suite's stacks do not take (Azure's WEBSITE_HOSTNAME): off again
                kinds.update(dict.fromkeys(switches, "unset"))
                continue
            if not culprit and result["error"].split(":", 1)[0].endswith(NOT_A_VALUE):
                break  # a missing module, an app registry not ready: no value of ours changes that
            if not culprit:
                culprit = next((n for n in reversed(result["reads"]) if n in current), "")
            if not culprit:
                break  # the failure is not ours to fix by a value
            tried = kinds[culprit]
            kinds[culprit] = next_kind(tried, result["error"])
            if kinds[culprit] == tried:
                break  # nothing plainer to give it
    if result.get("ok") and not _host_is_sentinel(result, env()):
        result = _url_pass(module, kinds, env, result)
    final = env()
    while result.get("ok") and len(made) < MAX_DIRS:  # the apps loaded too: files they open at setup
        needed = attempt(module, final, setup=True).get("missing_dir") or ""
        if not needed or needed in made:
            break
        os.makedirs(needed, exist_ok=True)
        made.append(needed)
    out = {"module": module, "env": final, "kinds": kinds, **result, "writable_dirs": made}
    out["reads"] = list(dict.fromkeys([*result.get("reads", []), *asked]))
    if not result.get("ok"):
        return out
    engine = {} if pinned else _engine(module, final, result, order)
    if engine:  # again with the engine chosen: names read only on that branch get sentinels too
        out = probe(module, [*order, *engine["reads"]], {engine["name"]: engine["value"]})
        out["engine"] = {"name": engine["name"], "value": engine["value"]}
        out["reads"] = list(dict.fromkeys([*out.get("reads", []), *asked]))
        out["writable_dirs"] = list(dict.fromkeys([*made, *out.get("writable_dirs", [])]))
        return out
    out["debug"] = _debug(module, final, result, order)
    out["engine"] = {}
    out["single_hosts"] = single = _single_hosts(module, final, result)
    suite_set = {n: v for n, v in _suite_set(final, result, out["debug"].get("name", "")).items() if n not in single}
    out["required"] = _required(module, final, suite_set)
    out["compress"] = _compress(module, final, result, order)
    out["alone"] = _alone(module, final, suite_set, out["required"])
    return out


SUITE_SETTINGS = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASES")
_SENTINEL = re.compile(r"ds\d+s|47\d{3}|\w+://u\d+x:p\d+x@h\d+x\.probe:\d+/n\d+x")  # what sentinel() makes
_PLAIN = ("0", "")
"""What a name that must be set but took no sentinel gets ("zero", "empty"): the app's own value, not a
fixed one of the suite's (an engine): learned as required (env-defaults), where .env wins."""


def _shows(value: str, shown: str) -> bool:
    """Whether a sentinel shows in the settings' text: whole, or a URL's host (a parsed URL)."""
    host = re.search(r"@(h\d+x\.probe):", value)
    return value in shown or bool(host and host.group(1) in shown)


def _alone(module: str, final: dict, suite_set: dict, required: dict) -> dict:
    """The settings as the suite's environment will make them: only the names whose sentinel shows
    in a value the suite sets (and the DEBUG switch) are set, and the names the import requires
    with the value init gives them (env-defaults), every other name unset. A settings file that
    branches on a name the suite does not set (a flag) takes its other branch here; the paths
    and URLs the app's own names would set take their defaults (LOGGING's files, STATIC_URL)."""
    kept = dict(suite_set)
    kept.update({n: v for n, v in required.items() if n not in kept})  # the suite's own names keep theirs
    if kept == final:
        return {"ok": True, "same": True}
    tried = attempt(module, kept)
    if not tried.get("ok"):
        return {"ok": False, "error": tried.get("error", "")}
    values = {k: tried["values"].get(k) for k in (*SUITE_SETTINGS, *PROXY_SETTINGS, "LOG_FILES")}
    return {"ok": True, "same": False, "values": values, "env": kept}


PROXY_SETTINGS = ("SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER")
"""Read back as prod's environment makes them too: an ssl redirect defaulting on behind the proxy."""


MAX_REQUIRED_CHECKS = 40


def _suite_set(final: dict, result: dict, debug_name: str) -> dict:
    """The names of `final` the suite's environment sets: those whose sentinel shows in a value the
    suite sets (and the DEBUG switch), and the fixed values (an engine)."""
    shown = json.dumps({k: result["values"].get(k) for k in SUITE_SETTINGS}, default=str)
    return {
        n: v
        for n, v in final.items()
        if n == debug_name or (v not in _PLAIN and (not _SENTINEL.fullmatch(v) or _shows(v, shown)))
    }


def _required(module: str, final: dict, suite_set: dict) -> dict:
    """Names the import cannot do without (os.environ["X"], env("X") with no default), each with
    the plainest value it imports with: "", "0", or its sentinel. Learned from prod's environment
    (the suite's names alone), adding each name the import then dies for want of: a name is not
    needed because, with every other name at its sentinel, a branch it guards breaks (held-out
    django-bmx's DEBUG got "ds0s"). Only when an error names no name, each name of `final` is
    left out in turn."""
    required: dict = {}
    for _ in range(MAX_REQUIRED_CHECKS):
        tried = attempt(module, {**suite_set, **required})
        if tried.get("ok"):
            return required
        name = missing_name(tried.get("error", ""))
        if not name or name in required or name not in final:
            break
        value = _plainest(module, {**suite_set, **required}, name, final[name])
        if value is None:
            break
        required[name] = value
    return _left_out_in_turn(module, final)


LOCAL_URL = "http://localhost"
"""The plainest value of a name that reads as a URL (BASE_URL, SITE_URL), tried before "": blank,
shark's CSRF_TRUSTED_ORIGINS = [BASE_URL] imported, then failed Django's check (4_0.E001)."""


def _plain_values(name: str, sentinel_: str) -> tuple:
    """The values tried for a name the import needs, plainest first."""
    url = re.search(r"_(URL|URI)$", name) and first_kind(name) == "url"
    return (LOCAL_URL, "", "0", sentinel_) if url else ("", "0", sentinel_)


def _plainest(module: str, env: dict, name: str, sentinel_: str) -> str | None:
    """The plainest value of `name` that gets the import past wanting it (_plain_values); a URL only
    when the import then goes on (not when a parser refused it)."""
    for value in _plain_values(name, sentinel_):
        tried = attempt(module, {**env, name: value})
        wanted = missing_name(tried.get("error", ""))
        if tried.get("ok") or (wanted != name and (value != LOCAL_URL or wanted)):
            return value
    return None


def _left_out_in_turn(module: str, final: dict) -> dict:
    """The names of `final` whose absence breaks the import, each with its plainest value."""
    required = {}
    for name in list(final)[:MAX_REQUIRED_CHECKS]:
        without = {k: v for k, v in final.items() if k != name}
        if attempt(module, without).get("ok"):
            continue
        for value in _plain_values(name, final[name]):
            if attempt(module, {**without, name: value}).get("ok"):
                required[name] = value
                break
    return required


def _default(result: dict) -> dict:
    return ((result.get("values") or {}).get("DATABASES") or {}).get("default") or {}


def _single_hosts(module: str, final: dict, result: dict) -> list:
    """The names whose value lands in ALLOWED_HOSTS as one host, not split into a list: given two
    hosts ("a,b"), the settings keep "a,b" as one entry (`ALLOWED_HOSTS = [os.environ["HOST"]]`).
    The suite's list of hosts cannot go through such a name."""
    hosts = _hosts(result)
    single = []
    for name, value in final.items():
        if value not in hosts:
            continue
        split = _hosts(attempt(module, {**final, name: f"{value},{value}y"}))
        if not (value in split and f"{value}y" in split):
            single.append(name)
    return single


def _hosts(result: dict) -> list:
    """ALLOWED_HOSTS of an import's answer as a list of strings ([] when the import failed)."""
    hosts = (result.get("values", {}).get("ALLOWED_HOSTS") or []) if result.get("ok") else []
    return [str(h) for h in (hosts if isinstance(hosts, list) else [hosts])]


def _host_is_sentinel(result: dict, env: dict) -> bool:
    host = str(_default(result).get("HOST", ""))
    return bool(host) and any(host == v or f"@{host}:" in v for v in env.values())


def _url_pass(module: str, kinds: dict, env, result: dict) -> dict:
    """When no sentinel reached DATABASES' host: give every plain name a URL (a name parsed as a
    database URL need not say so) and keep that form for the one whose URL's host shows up."""
    plain_names = [n for n, kind in kinds.items() if kind == "str"]
    for name in plain_names:
        kinds[name] = "url"
    tried = attempt(module, env())
    host = str(_default(tried).get("HOST", "")) if tried.get("ok") else ""
    keep = next((n for n, v in env().items() if host and f"@{host}:" in v and n in plain_names), "")
    for name in plain_names:
        if name != keep:
            kinds[name] = "str"
    return attempt(module, env()) if keep else result


def _debug(module: str, final: dict, result: dict, order: list) -> dict:
    """The name that turns DEBUG on and off, and how it is spelled (empty when none does)."""
    now = result["values"].get("DEBUG")
    for name in [n for n in order if "DEBUG" in n.upper()]:
        for off, on in _DEBUG_SPELLINGS:
            flipped = attempt(module, {**final, name: off if now else on})
            if flipped.get("ok") and bool(flipped["values"].get("DEBUG")) != bool(now):
                back = attempt(module, {**final, name: on if now else off})
                if back.get("ok") and bool(back["values"].get("DEBUG")) == bool(now):
                    return {"name": name, "values": [off, on]}
    return {}


_ON_OFF = (("True", "False"), ("true", "false"), ("1", "0"))


def _compress(module: str, final: dict, result: dict, order: list) -> dict:
    """django-compressor: whether COMPRESS_OFFLINE is on, else the name (one that mentions
    COMPRESS) that turns it on and how it is spelled; {} when compressor is not installed."""
    apps = result["values"].get("INSTALLED_APPS") or []
    if not any(str(app).split(".")[0] == "compressor" for app in apps):
        return {}
    if result["values"].get("COMPRESS_OFFLINE") is True:
        return {"app": True, "offline": True}
    for name in [n for n in order if "COMPRESS" in n.upper()]:
        for on, off in _ON_OFF:
            tried = attempt(module, {**final, name: on})
            if tried.get("ok") and tried["values"].get("COMPRESS_OFFLINE") is True:
                return {"app": True, "offline": False, "name": name, "on": on, "off": off}
    return {"app": True, "offline": False}


def _engine(module: str, final: dict, result: dict, order: list) -> dict:
    """A name that selects the database engine by value ("mysql"), or the stage whose settings use
    MySQL ("production"), when the sentinels did not."""
    engine = str(((result["values"].get("DATABASES") or {}).get("default") or {}).get("ENGINE", ""))
    # A sentinel of ours as the ENGINE: the name is learned as the engine's already. ("" and "0",
    # the values of a name that must be blank or zero, are in any string: they say nothing.)
    if engine.endswith("mysql") or any(v and v != "0" and v in engine for v in final.values()):
        return {}
    tries = [(n, ("mysql", "django.db.backends.mysql")) for n in order if _picks_engine(n)]
    tries += [(n, _PROD_VALUES) for n in order if not _picks_engine(n) and _words(n) & set(_STAGE_WORDS)]
    for name, values in tries:
        for value in values:
            tried = attempt(module, {**final, name: value})
            unread = [n for n in tried.get("reads", []) if n not in final and n != name]
            if not tried.get("ok") and unread:  # the branch reads names of its own (growler's prod.py:
                tried = probe(module, [*final, *unread], {name: value})  # SQL_HOST...): each its sentinel
            if tried.get("ok") and str(_default(tried).get("ENGINE", "")).endswith("mysql"):
                return {"name": name, "value": value, "reads": tried["reads"]}
    return {}


def _words(name: str) -> set:
    """An environment name's words (MYPROJECT_STAGE: MYPROJECT, STAGE)."""
    return set(name.upper().split("_"))


def _picks_engine(name: str) -> bool:
    """Whether a name reads as the database engine's (DB_KIND, DATABASE_ENGINE, DB)."""
    words = _words(name)
    return bool(words & set(_DB_WORDS) and words & set(_ENGINE_WORDS)) or name in ("DB", "DATABASE")


def check_health(result: dict, request: dict) -> dict:
    """The health path of the prod settings (health_path), with the environment they imported with;
    {"error": ...} when the apps or the URLconf do not load here."""
    alone = result.get("alone") or {}
    # as prod's: an empty environment (the suite sets none of the names) is prod's too
    env = alone["env"] if alone.get("ok") and "env" in alone else result.get("env")
    # A name the settings take ENGINE from as it is gets MySQL's, as init writes it (env-values).
    engine = str(_default(result).get("ENGINE", ""))
    env = {n: "django.db.backends.mysql" if engine and v == engine else v for n, v in (env or {}).items()}
    tried = attempt(result["module"], env, setup=True, health=request)
    if not tried.get("ok"):
        return {"path": "", "error": tried.get("error", "no answer")}
    return tried["values"].get("HEALTH") or {"path": "", "error": "no answer"}


def main(argv: list) -> int:
    if argv[:1] == ["--once"]:
        sys.argv = json.loads(os.environ.get("DOCKSTAGE_PROBE_ARGV", "null")) or sys.argv
        print("DOCKSTAGE-ONCE " + json.dumps(once(argv[1])), flush=True)
        return 0
    request = json.loads(os.environ.get("DOCKSTAGE_PROBE", "{}"))
    sys.path.insert(0, os.getcwd())
    preload()
    names = list(request.get("names", []))
    modules = list(request.get("modules", []))
    runner = request.get("runner") or {}
    tests = runner.get("module") if isinstance(runner, dict) else None
    results = [probe(module, names) for module in modules if module != tests or module == modules[0]]
    if results and results[0].get("ok") and isinstance(request.get("health"), dict):
        results[0]["health"] = check_health(results[0], request["health"])
    if tests and (tests != modules[0] or (results and runner_minded(results[0]))):
        with as_runner(runner):  # the tests' settings as the test command imports them
            results.append({**probe(tests, names), "runner": True})
    print("DOCKSTAGE-PROBE " + json.dumps({"python": sys.version.split()[0], "results": results}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
