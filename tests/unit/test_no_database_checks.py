"""The image's sitecustomize under DOCKSTAGE_NO_DATABASE=1 (build steps, image checks): Django's
system checks get no database unless one is named, as Django 5.2 and older ran them by default.

Django 6 hands every configured alias to the checks when none is named, and its MySQL backend then
connects (a model's AutoField asks for the server's version): `check --deploy` in the stage image and
`manage.py compress` at build time died on "Unknown server host 'db'" (OPpuolitaival/tasklist on
Django 6.1). A real interpreter and the tests' own Django run here, a check of ours recording what
the registry hands it."""

from __future__ import annotations

import os
import subprocess
import sys

from dockstage.core import resources

PYTHONPATH = resources.path(resources.SUPPORT) / "pythonpath"
SCRIPT = """
import django
from django.conf import settings

settings.configure(DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}})
django.setup()
from django.core import checks
from django.core.management import call_command

seen = []


@checks.register()
def record(app_configs, databases=None, **kwargs):
    seen.append(databases)
    return []


call_command("check", verbosity=0)
call_command("check", databases=["default"], verbosity=0)
print(seen)
"""


def _run(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`script` in a real interpreter with the image's sitecustomize on its path and only `env`'s
    DOCKSTAGE_/DJANGO_ names."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKSTAGE_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-c", script],
        env={**clean, "PYTHONPATH": str(PYTHONPATH), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _seen(**env: str) -> str:
    done = _run(SCRIPT, **env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_without_a_database_the_checks_get_none_unless_one_is_named() -> None:
    assert _seen(DOCKSTAGE_NO_DATABASE="1") == "[[], ['default']]"


def test_with_the_stack_the_checks_are_djangos_own() -> None:
    assert _seen() == "[None, ['default']]"  # Django 5.2's default: None (Django 6 hands every alias)


READY = """
import sys, types
import django
from django.apps import AppConfig
from django.conf import settings

# django-prometheus 2.2's AppConfig.ready(), which counts the migrations on every configured database
module = types.ModuleType("exports_migrations")
class ExportsMigrations(AppConfig):
    name = "exports_migrations"
    path = "/nowhere"
    def ready(self):
        if getattr(settings, "PROMETHEUS_EXPORT_MIGRATIONS", True):
            raise RuntimeError("queried the database in ready()")
module.ExportsMigrations = ExportsMigrations
sys.modules["exports_migrations"] = module
settings.configure(INSTALLED_APPS=["exports_migrations.ExportsMigrations"], PROMETHEUS_EXPORT_MIGRATIONS=True)
django.setup()
print("ready", settings.PROMETHEUS_EXPORT_MIGRATIONS)
"""


def test_without_a_database_a_package_that_queries_it_when_ready_is_switched_off() -> None:
    """Vidski/BackendTemplate: django-prometheus 2.2 counts migrations in ready(), and its build's
    collectstatic died on "Can't connect to MySQL server on 'database'"."""
    done = _run(READY, DOCKSTAGE_NO_DATABASE="1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ready False"
    kept = _run(READY)  # the running stack: the project's value stands, and the package runs as it does
    assert kept.returncode != 0 and "queried the database in ready()" in kept.stderr
