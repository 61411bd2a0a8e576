"""What the settings do with the environment, learned from the in-image probe's answer (pure).

The probe (data/probe.py) imported each settings module in the dev image with a sentinel per name;
here a sentinel found in DATABASES['default']['HOST'] makes its name database-host, whatever it is
called, a sentinel URL's parts in DATABASES make it database-url, and so on. What the suite must
set but the settings do not read becomes the overlay: the suite's settings module imports the
project's and sets exactly those values (core/overlay.py).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from dockstage.core.errors import known_fix
from dockstage.core.overlay import OVERLAY_VALUES

_FIELDS = (
    ("HOST", "database-host"),
    ("PORT", "database-port"),
    ("NAME", "database-name"),
    ("USER", "database-user"),
    ("PASSWORD", "database-password"),
)
LOCAL_HOSTS = ("*", "localhost", ".localhost", "127.0.0.1")
_HOSTISH = re.compile(r"(HOST|SERVER)(NAME)?$", re.I)
BROKER_SETTINGS = ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "BROKER_URL")
"""Settings that hold a broker URL whose kind the value may not say (a sentinel in place of redis://)."""
SUITE_HOST = "localhost"
"""The Host header of every request the suite sends itself (healthcheck, smoke, load: core/loopback.py)."""
MANIFEST_STORAGES = ("ManifestStaticFilesStorage", "CompressedManifestStaticFilesStorage", "ManifestFilesMixin")
"""Static storages that need collectstatic's manifest before a page that uses {% static %} renders."""
COLLECTSTATIC = "python manage.py collectstatic --noinput"
URL_SENTINEL = re.compile(r"\w+://u\d+x:p\d+x@h\d+x\.probe:\d+/n\d+x")
"""A URL sentinel of the probe (data/probe.py sentinel()): mysql://, smtp://, redis://..."""


_STDLIB_GONE = re.compile(
    r"cannot import name '(\w+)' from '([\w.]+)' \(/[^)]*?/python3\.\d+/(?!.*site-packages)[^)]*\)"
    r"|module '([\w.]+)' has no attribute '(\w+)'"
)
_STDLIB_MODULES = frozenset(sys.stdlib_module_names)


def removed_from_python(error: str) -> str:
    """'inspect.formatargspec' when an import failed on a name the standard library no longer has
    (an old package on a newer Python: izone's pins on 3.11), else ''."""
    match = _STDLIB_GONE.search(error)
    if match is None:
        return ""
    name, module = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
    return f"{module}.{name}" if module.split(".")[0] in _STDLIB_MODULES else ""


@dataclass
class Learned:
    """Suite value -> the names that carry it, fixed values, the overlay, the app's own names."""

    module: str
    env: dict[str, list[str]] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    overlay: list[str] = field(default_factory=list)
    debug_values: tuple[str, str] = ("false", "true")
    others: list[str] = field(default_factory=list)
    required: dict[str, str] = field(default_factory=dict)  # the app's own names the import needs, a value each
    engine: str = ""
    reasons: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)  # beside the database: "redis"
    services_how: str = ""  # where the sentinel landed that said so
    error: str = ""
    error_at: str = ""  # the installed package's file and line the import failed in (vine/five.py:364)
    manifest: str = ""  # the manifest static storage the settings use (its pages need collectstatic first)
    static_root: bool = False  # STATIC_ROOT set once imported (wherever the settings set it)
    compress: dict[str, Any] = field(default_factory=dict)  # django-compressor: offline, or the name turning it on
    empty_key: bool = False  # SECRET_KEY is '' and read from no name: Django refuses to start without one
    db_literals: dict[str, str] = field(default_factory=dict)  # .env name -> the value the settings fix


def _default(values: dict[str, Any]) -> dict[str, Any]:
    databases = values.get("DATABASES") or {}
    default = databases.get("default") if isinstance(databases, dict) else None
    return default if isinstance(default, dict) else {}


def _url_name(env: dict[str, str], host: str) -> str:
    for name, value in env.items():
        if URL_SENTINEL.fullmatch(value) and f"@{host}:" in value:
            return name
    return ""


def _redis_roles(env: dict[str, str], values: dict[str, Any], redis_dependency: bool) -> tuple[dict[str, str], str]:
    """Names whose sentinel lands in a redis setting (a cache, channel layer or broker), each with
    its role (redis-url for a whole URL, redis-host for a host), and where the first one landed."""
    roles: dict[str, str] = {}
    how = ""
    for setting, value in (values.get("SERVICES") or {}).items():
        text = json.dumps(value)
        bare = URL_SENTINEL.sub("", text).lower()  # a sentinel's own scheme (redis://) says nothing of the app
        redis = "redis" in bare or "REDIS" in setting or (setting in BROKER_SETTINGS and redis_dependency)
        if not redis:
            continue
        for name, sentinel in env.items():
            if not sentinel or sentinel not in text or name in roles:
                continue
            whole = json.dumps(sentinel)  # the sentinel as a whole string value, not a part of one
            if URL_SENTINEL.fullmatch(sentinel):
                roles[name] = "redis-url"
            elif f"redis://{sentinel}" in text or f"rediss://{sentinel}" in text or _HOSTISH.search(name):
                roles[name] = "redis-host"
            elif text == whole or f'"LOCATION": {whole}' in text:  # a broker URL, a cache's location
                roles[name] = "redis-url"
            else:
                continue
            how = how or f"{name}'s sentinel landed in {setting}"
    return roles, how


def interpret(result: dict[str, Any], *, redis_dependency: bool = False) -> Learned:
    """The roles of the names one module read, from the probe's answer for it."""
    learned = Learned(str(result.get("module", "")))
    if not result.get("ok"):
        learned.error = str(result.get("error") or "the import failed")
        learned.error_at = str(result.get("where") or "")
        return learned
    engine = result.get("engine") or {}
    env: dict[str, str] = {k: v for k, v in dict(result.get("env") or {}).items() if k != engine.get("name")}
    by_value = {value: name for name, value in env.items() if value not in ("", "0")}  # blank/"0" name nothing
    values: dict[str, Any] = result.get("values") or {}
    if engine.get("name"):
        learned.fixed[str(engine["name"])] = str(engine["value"])
    default = _default(values)
    learned.engine = str(default.get("ENGINE", ""))

    def take(role: str, name: str) -> None:
        if name and name not in learned.env.setdefault(role, []):
            learned.env[role].append(name)

    url = _url_name(env, str(default.get("HOST", "")))
    if url:
        take("database-url", url)
    else:
        for key, role in _FIELDS:
            take(role, by_value.get(str(default.get(key, "")), ""))
        learned.db_literals = db_literals(default, by_value)
    engine_name = by_value.get(learned.engine, "")
    if engine_name:  # the settings take ENGINE as it is from the environment
        learned.fixed[engine_name] = "django.db.backends.mysql"
        learned.engine = "django.db.backends.mysql"
    take("secret-key", by_value.get(str(values.get("SECRET_KEY", "")), ""))
    hosts = values.get("ALLOWED_HOSTS") or []
    hosts = hosts if isinstance(hosts, list) else [hosts]
    single = set(result.get("single_hosts") or ())  # one host each: the suite's list cannot go through them
    for host in hosts:
        name = by_value.get(str(host), "")
        take("allowed-hosts", "" if name in single else name)
    debug = result.get("debug") or {}
    if debug.get("name"):
        take("debug", str(debug["name"]))
        off, on = debug["values"]
        learned.debug_values = (str(off), str(on))
    used_so_far = {n for names in learned.env.values() for n in names}
    redis, how = _redis_roles({k: v for k, v in env.items() if k not in used_so_far}, values, redis_dependency)
    for name, role in redis.items():
        take(role, name)
    if redis:
        learned.services, learned.services_how = ["redis"], how
    learned.env = {role: names for role, names in learned.env.items() if names}
    shown = [f"${by_value[str(host)]}" if str(host) in by_value else host for host in hosts]  # a name, not its sentinel
    _overlay(learned, values, default, hosts, shown)
    _not_followed(learned, values, result.get("alone") or {})
    _behind_the_proxy(learned, values, result.get("alone") or {})
    _redis_at_loopback(learned, values)
    learned.manifest = manifest_storage(values)
    learned.compress = dict(result.get("compress") or {})
    used = {n for names in learned.env.values() for n in names} | set(learned.fixed)
    learned.others = [n for n in (result.get("reads") or []) if n in env and n not in used]
    required = result.get("required") or {}
    learned.required = {n: str(v) for n, v in required.items() if n in learned.others}
    return learned


DB_LITERAL_NAMES = {"NAME": "MYSQL_DATABASE", "USER": "MYSQL_USER", "PASSWORD": "MYSQL_PASSWORD"}
"""The .env names that make the stack's database, its user and password (the db service's own)."""


def db_literals(default: dict[str, Any], by_value: dict[str, str]) -> dict[str, str]:
    """The database name, user and password that MySQL settings write out themselves, by the .env
    name that makes them in the stack's db (kdanjana/djangomysql-k8s: 'NAME': 'kubernetes_djangotodo'
    beside a host and user read from the environment; the stack made `app`, and migrate was refused
    on the settings' database). Not for root, which the db service makes from MYSQL_ROOT_PASSWORD."""
    if not str(default.get("ENGINE", "")).endswith("mysql"):
        return {}
    found = {}
    for key, env_name in DB_LITERAL_NAMES.items():
        value = default.get(key)
        if isinstance(value, str) and value.strip() and not any(sentinel in value for sentinel in by_value):
            found[env_name] = value
    return {} if found.get("MYSQL_USER") == "root" else found


def allows(patterns: list[Any], host: str = SUITE_HOST) -> bool:
    """Whether ALLOWED_HOSTS `patterns` let `host` in, as Django's validate_host decides: `*`, the
    name itself, or `.name` (the name and its subdomains)."""
    for pattern in (str(p).lower() for p in patterns):
        if (
            pattern == "*"
            or pattern == host
            or (pattern.startswith(".") and (host.endswith(pattern) or host == pattern[1:]))
        ):
            return True
    return False


def manifest_storage(values: dict[str, Any]) -> str:
    """The manifest static storage the settings use (STORAGES' staticfiles, or the older
    STATICFILES_STORAGE, which Django 5.1 stopped reading), or '' when there is none: its pages
    need collectstatic's manifest."""
    storages = values.get("STORAGES")
    staticfiles = storages.get("staticfiles") if isinstance(storages, dict) else None
    backend = str(staticfiles.get("BACKEND", "")) if isinstance(staticfiles, dict) else ""
    version = tuple(values.get("DJANGO_VERSION") or ())
    if not backend and not (version and version >= (5, 1)):
        backend = str(values.get("STATICFILES_STORAGE") or "")
    return backend if backend.rsplit(".", 1)[-1] in MANIFEST_STORAGES else ""


def _overlay(
    learned: Learned, values: dict[str, Any], default: dict[str, Any], hosts: list[Any], shown: list[Any]
) -> None:
    """What the suite's settings module must set because these settings do not read it (`shown`:
    the hosts as the user knows them, $NAME for one read from the environment)."""
    reads_db = "database-url" in learned.env or "database-host" in learned.env
    if not reads_db or not learned.engine.endswith("mysql"):
        learned.overlay.append("database")
        learned.reasons.append(
            f"DATABASES is {learned.engine.rsplit('.', 1)[-1] or 'not set'}"
            + ("" if reads_db else " and its host is not read from the environment")
        )
    elif isinstance(options := default.get("OPTIONS"), dict) and "sslmode" in options:
        learned.overlay.append("database")  # it keeps the rest of OPTIONS
        learned.reasons.append(
            "DATABASES' OPTIONS has sslmode, a PostgreSQL option (dj-database-url's ssl_require, django-heroku's "
            "default), which mysqlclient refuses"
        )
    if "secret-key" not in learned.env:
        learned.overlay.append("secret-key")
        learned.reasons.append("SECRET_KEY is not read from the environment")
        learned.empty_key = not values.get("SECRET_KEY")
    if "allowed-hosts" not in learned.env and not allows(hosts):
        learned.overlay.append("allowed-hosts")
        learned.reasons.append(
            f"ALLOWED_HOSTS ({', '.join(map(str, shown)) or 'empty'}) does not take {SUITE_HOST}, "
            "the Host of the suite's healthcheck and smoke requests"
        )
    if "debug" not in learned.env and values.get("DEBUG"):
        learned.overlay.append("debug")
        learned.reasons.append("DEBUG is True and read from no environment name")
    apps = values.get("INSTALLED_APPS") or []
    learned.static_root = bool(values.get("STATIC_ROOT"))
    if not values.get("STATIC_ROOT") and "django.contrib.staticfiles" in apps:
        learned.overlay.append("static-root")
        learned.reasons.append("STATIC_ROOT is not set (collectstatic needs it)")
    if values.get("STATIC_STORAGE_LOCAL") is False and "django.contrib.staticfiles" in apps:
        learned.overlay.append("static-storage")
        learned.reasons.append(
            "the static files' storage is not on this disk (a cloud bucket): the suite's images collect "
            "them at build time and serve them, with no credentials and no network"
        )
    assert set(learned.overlay) <= set(OVERLAY_VALUES)


def _not_followed(learned: Learned, values: dict[str, Any], alone: dict[str, Any]) -> None:
    """Overlay what the settings do not take from the names the suite sets when only those are
    set (prod's environment): a file that branches on another name (`if "X" in os.environ`) runs
    its other branch in prod, with its own DEBUG, key, hosts or database."""
    if not alone.get("ok") or alone.get("same"):
        return
    prod = alone.get("values") or {}
    hosts = prod.get("ALLOWED_HOSTS") or []
    drift = {
        "debug": bool(prod.get("DEBUG")) and not bool(values.get("DEBUG")),
        "secret-key": prod.get("SECRET_KEY") != values.get("SECRET_KEY"),
        "allowed-hosts": prod.get("ALLOWED_HOSTS") != values.get("ALLOWED_HOSTS")
        and not allows(hosts if isinstance(hosts, list) else [hosts]),
        "database": _default(prod) != _default(values),
    }
    for key, drifted in drift.items():
        if drifted and key not in learned.overlay:
            learned.overlay.append(key)
            learned.reasons.append(
                f"{SUITE_SETTING_NAMES[key]} takes another branch when only the names the suite sets are set "
                "(the settings switch on a name of their own)"
            )


def _behind_the_proxy(learned: Learned, values: dict[str, Any], alone: dict[str, Any]) -> None:
    """SECURE_SSL_REDIRECT on (as prod's environment makes it) with no SECURE_PROXY_SSL_HEADER:
    behind the suite's proxy, which passes X-Forwarded-Proto on, every request would be sent to
    https:// again; the overlay trusts that header, as a TLS-terminating deployment needs."""
    prod = (alone.get("values") if alone.get("ok") and not alone.get("same") else None) or values
    if prod.get("SECURE_SSL_REDIRECT") and not prod.get("SECURE_PROXY_SSL_HEADER"):
        learned.overlay.append("proxy-ssl-header")
        learned.reasons.append(
            "SECURE_SSL_REDIRECT is on and SECURE_PROXY_SSL_HEADER is not set: behind a proxy every request "
            "would be redirected to https (the overlay reads X-Forwarded-Proto)"
        )


def _redis_at_loopback(learned: Learned, values: dict[str, Any]) -> None:
    """Settings that name a redis at a fixed loopback address (wallet-transaction-api's CACHES at
    redis://127.0.0.1:6379/1, read from no name): in a container no redis listens there, so the
    stack starts one and the overlay points those settings at it."""
    moved = [str(name) for name in values.get("REDIS_LOOPBACK") or []]
    if not moved:
        return
    said = f"{', '.join(moved)} name{'s' * (len(moved) == 1)} a redis at a loopback address"
    learned.services = ["redis"]
    learned.services_how = learned.services_how or said
    learned.overlay.append("redis-service")
    learned.reasons.append(
        f"{said}, read from no environment name: in a container no redis listens there, so the stack's redis serves "
        f"{'it' if len(moved) == 1 else 'them'}"
    )


SUITE_SETTING_NAMES = {
    "debug": "DEBUG",
    "secret-key": "SECRET_KEY",
    "allowed-hosts": "ALLOWED_HOSTS",
    "database": "DATABASES",
}


def test_overlay(learned: Learned) -> list[str]:
    """What the tests' settings module needs set: its database, when it does not follow the stack's;
    its secret key when it has none (opsxin/blog's SECRET_KEY = '', filled by a local_settings it
    keeps out of git: its tests stopped on "The SECRET_KEY setting must not be empty"); its redis at a
    loopback address; STATIC_ROOT too when its static storage needs collectstatic before the tests
    (test_setup)."""
    needed = ["database"] if "database" in learned.overlay else []
    needed += ["secret-key"] if learned.empty_key and "secret-key" in learned.overlay else []
    needed += ["redis-service"] if "redis-service" in learned.overlay else []
    return [*needed, "static-root"] if learned.manifest and "static-root" in learned.overlay else needed


def test_setup(learned: Learned) -> list[str]:
    """Commands before the tests: collectstatic when the static storage is a manifest one (its
    {% static %} raises "Missing staticfiles manifest entry" until the manifest exists)."""
    return [COLLECTSTATIC] if learned.manifest else []


def describe(learned: Learned, names: int) -> str:
    """One line: how it was learned."""
    shown = ", ".join(f"{role} <- {'/'.join(n)}" for role, n in learned.env.items()) or "none of the suite values"
    fixed = "".join(f"; {name} = {value!r} (env-values)" for name, value in learned.fixed.items())
    return f"probed {learned.module} in the dev image ({names} names, a sentinel each): {shown}{fixed}"


HEALTH_KINDS = {
    "health": "the project's health URL",
    "root": "the site's root",
    "admin": "the admin's login page (no health URL in the URLconf)",
    "login": "LOGIN_URL (no health URL in the URLconf)",
    "page": "a page of the site without parameters (no health URL, root, admin or LOGIN_URL in the URLconf)",
}


@dataclass
class Health:
    """The health path the probe chose by resolving candidates in the URLconf ('' when none did)."""

    path: str = ""
    admin_path: str = ""  # the admin's prefix, from its login URL as the URLconf reverses it
    line: str = ""  # what init says it chose and why
    note: str = ""  # what to check when nothing was chosen


def health(answer: object) -> Health:
    """The probe's health answer (data/probe.py health_path) read: the path, one line of why."""
    if not isinstance(answer, dict):
        return Health()
    admin = str(answer.get("admin") or "")
    tried = [str(t) for t in answer.get("tried") or []]
    if answer.get("kind") == "admin":  # the admin site whose login answered
        admin = str(answer.get("path") or "")
    elif any(t.startswith(f"{admin} answers 404") for t in tried) or answer.get("admin_refused"):
        admin = ""  # its login page is sent elsewhere: no smoke check on it
    chosen = Health(admin_path=admin.removesuffix("login/") if admin.endswith("/login/") else "")
    if answer.get("error"):
        gone = removed_from_python(str(answer["error"]))
        dropped = f" (a package it imports uses {gone}, which this Python no longer has)" if gone else ""
        pin = known_fix(str(answer["error"]))  # audiowurscht: django.conf.urls.url, gone in Django 4.0
        dropped += f" ({pin})" if pin else ""
        chosen.note = (
            f"the URLconf did not load in the probe ({answer['error']}){dropped}: health-path is the text's "
            "guess; check that it answers 200"
        )
        return chosen
    path = str(answer.get("path") or "")
    if not path:
        chosen.note = (
            f"no health path resolves in the URLconf ({'; '.join(tried) or 'no candidate'}): "
            "set health-path to a URL that answers 200"
        )
        return chosen
    chosen.path = path
    why = HEALTH_KINDS.get(str(answer.get("kind")), "a URL of the project")
    view = f" ({answer['view']})" if answer.get("view") else ""
    before = f"; passed over: {', '.join(tried)}" if tried else ""
    answered = f" ({answer['answered']})" if answer.get("answered") else ""
    refused = answer.get("admin_refused")
    no_admin = f"; no admin smoke check: {answer.get('admin')} {refused}" if refused else ""
    chosen.line = (
        f"health-path {path}: {why}{view}, resolved and requested in the dev image{answered}{before}{no_admin}"
    )
    return chosen


@dataclass
class LogDirs:
    """What LOGGING's file handlers need written (probe's LOG_FILES): dirs under the app dir, and
    files the suite cannot make writable by a dir (the app dir itself, or outside it)."""

    dirs: dict[str, str] = field(default_factory=dict)  # dir under the app dir -> why (handler: file)
    elsewhere: list[str] = field(default_factory=list)  # "handler: file" written in the app dir or outside it
    outside: dict[str, str] = field(default_factory=dict)  # absolute dir outside the app -> why (a tmpfs in prod)


_PROBE_VALUE = re.compile(r"ds\d+s|47\d{3}|://u\d+x:")
"""A sentinel of the probe inside a path: the path an app's own name would set, not prod's."""


def log_dirs(result: dict[str, Any]) -> LogDirs:
    """The dirs the settings' LOGGING handlers write files in, read from the probe's answer: as
    prod's environment makes them (the `alone` import) when it imported, else with the sentinels'
    paths left out."""
    alone = result.get("alone") or {}
    values = alone.get("values") if alone.get("ok") and alone.get("values") else result.get("values")
    found = LogDirs()
    for entry in (values or {}).get("LOG_FILES") or []:
        if not isinstance(entry, dict) or _PROBE_VALUE.search(str(entry.get("file") or "")):
            continue
        where = f"handler {entry.get('handler')!r} writes {entry.get('file')}"
        folder = str(entry.get("dir") or "")
        if not folder and str(entry.get("file") or "").startswith(("/tmp/", "/var/tmp/")):  # noqa: S108
            continue  # outside the app, in a tmpfs prod has already
        file = str(entry.get("file") or "")
        if folder and folder != "." and not folder.startswith(".."):
            found.dirs.setdefault(folder, where)
        elif not folder and file.startswith("/") and file.count("/") >= 2:
            found.outside.setdefault(file.rsplit("/", 1)[0], where)  # /logs/x.log: /logs, in memory in prod
        else:
            found.elsewhere.append(where)
    return found
