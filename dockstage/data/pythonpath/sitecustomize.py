"""Secrets handed over as files, read into the variables the app reads (every Python process of
the image: gunicorn, manage.py, the workers).

A swarm deploy gives each secret as a file and the service <NAME>_FILE=/run/secrets/<key> in place
of <NAME> (no secret in a service's spec); DOCKSTAGE_SECRET_FILES lists those NAMEs. A project
that reads os.environ["SECRET_KEY"] then finds it, as the official images' `file_env` does for
their own variables: the file's text without its trailing newlines, a value already set wins.
With DOCKSTAGE_NO_DATABASE=1 (the build steps and the image checks, which run without the stack),
Django's system checks are run against no database, as Django 5.2 and older ran them by default:
Django 6 checks the models against every configured database when no `--database` is given, and
its MySQL backend connects for that (an AutoField's column type waits on the server's version), so
`check --deploy` and any build command that runs the checks failed on "Unknown server host"; Django
2.2 and 3.0 did so for the models' constraints. And
the settings of packages that query the database when their app is ready are switched off there
(NO_DATABASE_SETTINGS: django-prometheus counts migrations in AppConfig.ready(), so collectstatic
failed at build time), as each package documents; the running stack keeps the project's values.
python-dotenv's dotenv_values() gives the environment first, then the env file (no image holds .env;
the stacks put its values in the environment). Then the sitecustomize this one shadows on sys.path
(Debian's apport hook), if any, runs too. With DOCKSTAGE_DB_WAIT, a database connection is tried
again while the server does not answer yet (the pipeline starts the tests while db initialises).
"""

import collections
import importlib.machinery
import importlib.util
import os
import sys
import time


def _secret_files() -> None:
    for name in filter(None, (n.strip() for n in os.environ.get("DOCKSTAGE_SECRET_FILES", "").split(","))):
        path = os.environ.get(f"{name}_FILE", "")
        if name in os.environ or not path:
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                os.environ[name] = handle.read().rstrip("\r\n")
        except OSError as exc:
            sys.exit(f"dockstage: {name}_FILE={path!r} cannot be read ({exc.strerror}): is the secret attached?")


def _no_database_checks() -> None:
    if os.environ.get("DOCKSTAGE_NO_DATABASE") != "1":
        return
    try:
        import django

        if django.VERSION < (3, 1):
            _no_database_constraint_checks()
            return
        from django.core import checks
        from django.core.checks import registry
    except Exception:  # noqa: BLE001 - no Django here (or not yet installed): nothing to change
        return
    run_checks = registry.registry.run_checks  # the module-level name Django's commands call

    def without_databases(
        app_configs: object = None,
        tags: object = None,
        include_deployment_checks: bool = False,
        databases: object = None,
    ) -> object:
        return run_checks(app_configs, tags, include_deployment_checks, [] if databases is None else databases)

    checks.run_checks = registry.run_checks = without_databases


def _no_database_constraint_checks() -> None:
    """Django 2.2 and 3.0 check every model's constraints against every configured database (3.1
    made that need `--database`), and the MySQL backend asks the server's version for it
    (supports_table_check_constraints), so their `check` reached the database. Without one, that
    check finds nothing, as it does on 3.1 and later (bartleby's Django 3.0.6 failed on "Unknown
    server host" here)."""
    try:
        from django.db.models import base
    except Exception:  # noqa: BLE001 - a Django that does not import: its own error comes later
        return
    if hasattr(base.Model, "_check_constraints"):
        base.Model._check_constraints = classmethod(lambda cls, *args, **kwargs: [])  # type: ignore[method-assign]


NO_DATABASE_SETTINGS = {"PROMETHEUS_EXPORT_MIGRATIONS": False}
"""Settings that stop an installed package's AppConfig.ready() from querying the database."""


def _no_database_packages() -> None:
    if os.environ.get("DOCKSTAGE_NO_DATABASE") != "1":
        return
    try:
        from django.apps import registry
    except Exception:  # noqa: BLE001 - no Django here (or not yet installed): nothing to change
        return
    populate = registry.Apps.populate

    def populate_without_database(self: object, installed_apps: object = None) -> object:
        from django.conf import settings

        if settings.configured:
            for name, value in NO_DATABASE_SETTINGS.items():
                setattr(settings, name, value)
        return populate(self, installed_apps)

    registry.Apps.populate = populate_without_database


def _dotenv_values_with_environment() -> None:
    """python-dotenv's dotenv_values() reads the process environment first, then the env file: the
    stacks put .env's values in the environment, and no image holds .env (it has secrets), so
    settings that say `config = dotenv_values(".env"); SECRET_KEY = config["DJANGO_SECRET_KEY"]`
    read the stack's values, as load_dotenv() + os.environ would (dragan717080/DjangoMySQLLMS
    stopped on KeyError there). In the dev stack the bind-mounted .env is read for what the
    environment lacks. A stream is read as before."""
    if importlib.util.find_spec("dotenv") is None:
        return
    try:
        import dotenv
        from dotenv import main
    except Exception:  # noqa: BLE001 - a python-dotenv that does not import: its own error comes later
        return
    read = main.dotenv_values

    def dotenv_values(dotenv_path: object = None, stream: object = None, *args: object, **kwargs: object) -> object:
        if stream is not None:
            return read(dotenv_path, stream, *args, **kwargs)  # type: ignore[arg-type]
        if dotenv_path is None:  # find_dotenv()'s search, from the caller's dir (not this file's)
            dotenv_path = _found_upwards(os.path.dirname(os.path.abspath(sys._getframe(1).f_code.co_filename)))
        there = bool(dotenv_path) and os.path.isfile(os.fspath(dotenv_path))  # type: ignore[call-overload]
        return collections.ChainMap(os.environ, read(dotenv_path, None, *args, **kwargs) if there else {})  # type: ignore[arg-type]

    dotenv.dotenv_values = main.dotenv_values = dotenv_values  # type: ignore[assignment]


DB_NOT_UP_YET = frozenset({2002, 2003, 2006, 2013})
"""MySQL client errors of a server not answering yet: no socket, no TCP answer (refused), gone, lost
at the handshake. Any other error (a wrong password, no such database) is the app's, raised at once."""


def _database_wait() -> None:
    """With DOCKSTAGE_DB_WAIT=<seconds> (the pipeline's test container, started while db still
    initialises), a connection Django opens is tried again every 0.1 s while the server does not
    answer yet, until that many seconds after this process started: the tests' own start (Python,
    Django, the runner) overlaps the database's, instead of following it."""
    wait = os.environ.get("DOCKSTAGE_DB_WAIT", "")
    if not wait:
        return
    try:
        deadline = time.monotonic() + float(wait)
        from django.db.backends.base import base
    except Exception:  # noqa: BLE001 - no Django here, or an odd value: connect as usual
        return
    connect = base.BaseDatabaseWrapper.connect

    def connect_once_up(self: object) -> object:
        while True:
            try:
                return connect(self)  # type: ignore[arg-type]
            except Exception as exc:
                code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else getattr(exc, "errno", None)
                if code not in DB_NOT_UP_YET or time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)

    base.BaseDatabaseWrapper.connect = connect_once_up  # type: ignore[method-assign]


def _found_upwards(start: str, name: str = ".env") -> str:
    """find_dotenv()'s answer for a caller in `start`: the first `name` there or in a dir above, or ''."""
    here = start
    while True:
        candidate = os.path.join(here, name)
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return ""
        here = parent


def _shadowed() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - as site.py does: a hook that fails is reported, not fatal
            print(f"Error in sitecustomize {spec.origin}: {exc!r}", file=sys.stderr)


_secret_files()
_no_database_checks()
_no_database_packages()
_dotenv_values_with_environment()
_database_wait()
_shadowed()
