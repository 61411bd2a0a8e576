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


def _seen(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKSTAGE_", "DJANGO_"))}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**clean, "PYTHONPATH": str(PYTHONPATH), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_without_a_database_the_checks_get_none_unless_one_is_named() -> None:
    assert _seen(DOCKSTAGE_NO_DATABASE="1") == "[[], ['default']]"


def test_with_the_stack_the_checks_are_djangos_own() -> None:
    assert _seen() == "[None, ['default']]"  # Django 5.2's default: None (Django 6 hands every alias)
