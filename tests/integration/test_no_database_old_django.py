"""The image's sitecustomize under DOCKSTAGE_NO_DATABASE=1 with Django 3.0, from the real index:
its model checks ask a MySQL server for its version (the constraints' check, which Django 3.1 made
need `--database`), so `check --deploy` in the stage image died on "Unknown server host"
(Bartleby2718/simple-docker-django-mysql, Django 3.0.6). A real interpreter, a real Django 3.0
and a real MySQL driver (PyMySQL, pure Python) run here; no server is reachable, as in the image."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockstage.core import cabundle, resources

pytestmark = [pytest.mark.integration]

PYTHONPATH = resources.path(resources.SUPPORT) / "pythonpath"
SCRIPT = """
import pymysql

pymysql.install_as_MySQLdb()
import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
    DATABASES={"default": {"ENGINE": "django.db.backends.mysql", "NAME": "app", "HOST": "db.invalid"}},
)
django.setup()
from django.core.management import call_command

call_command("check")
print("checked", django.get_version())
"""


@pytest.fixture(scope="module")
def django30(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with Django 3.0 and PyMySQL from the index."""
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if not uv:
        pytest.skip("uv is not installed here (the test extra installs it)")
    where = tmp_path_factory.mktemp("django30")
    env = {**os.environ, "UV_CACHE_DIR": str(where / "uv-cache")}
    bundle = cabundle.find(os.environ)  # uv reads no pip config: the CA bundle pip uses
    if bundle:
        env["SSL_CERT_FILE"] = str(bundle)
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(where / "venv")], check=True, timeout=120)
    python = where / "venv" / "bin" / "python"
    install = [uv, "pip", "install", "-q", "--python", str(python), "Django==3.0.14", "PyMySQL==1.1.1"]
    subprocess.run(install, check=True, timeout=300, env=env)
    return python


def _check(python: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKSTAGE_", "DJANGO_"))}
    return subprocess.run(
        [str(python), "-c", SCRIPT],
        env={**clean, "PYTHONPATH": str(PYTHONPATH), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_django_30s_checks_run_without_a_database_where_the_suite_says_there_is_none(django30: Path) -> None:
    reached = _check(django30)  # the stack's own processes: Django as it is
    assert reached.returncode != 0 and "db.invalid" in reached.stderr, reached.stderr[-2000:]
    assert "_check_constraints" in reached.stderr  # the constraints' check is what connects
    offline = _check(django30, DOCKSTAGE_NO_DATABASE="1")
    assert offline.returncode == 0, offline.stderr[-2000:]
    assert offline.stdout.strip().splitlines()[-1] == "checked 3.0.14"
