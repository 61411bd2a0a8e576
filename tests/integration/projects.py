"""Django projects the adoption tests write, outside this repository, and the names each test owns.

Two families, one writer each:
- `startproject`: what `django-admin startproject mysite .` (+ `startapp polls` with a model, a
  migration and two tests) makes, untouched; `make_project` and `own_names_src_project` change it
  the way the tests' shapes need (DATABASES from DB_*; own names DJKEY/DBHOST..., a src/ layout and
  a test settings module hard-coding SQLite).
- `mysite_files`: a hand-written `mysite` project (manage.py, wsgi.py, settings from `settings_py`)
  for the tests whose apps need more than startproject gives (tests/integration/test_adopt_build.py,
  test_adopt_details.py), each adding its own app's files.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
import uuid
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage import STAGES

POLLS_TESTS = """from django.test import TestCase

from polls.models import Question


class QuestionTests(TestCase):
    def test_round_trip_in_mysql(self):
        Question.objects.create(text="smoke 🐳 ✓")
        self.assertEqual(Question.objects.get().text, "smoke 🐳 ✓")

    def test_the_database_is_mysql(self):
        from django.db import connection

        self.assertEqual(connection.vendor, "mysql")
"""
POLLS_MODELS = """from django.db import models


class Question(models.Model):
    text = models.CharField(max_length=200)
"""
DATABASES_FROM_ENV = """
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.mysql",
        "HOST": os.environ.get("DB_HOST", "localhost"),
        "PORT": os.environ.get("DB_PORT", "3306"),
        "NAME": os.environ.get("DB_NAME", "mysite"),
        "USER": os.environ.get("DB_USER", "mysite"),
        "PASSWORD": os.environ.get("DB_PASSWORD", ""),
    }
}
"""
OWN_NAMES_DATABASES = """
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.mysql",
        "HOST": os.environ.get("DBHOST", "localhost"),
        "NAME": os.environ.get("DBNAME", "mysite"),
        "USER": os.environ.get("DBUSER", "mysite"),
        "PASSWORD": os.environ.get("DBPASS", ""),
    }
}
"""
SQLITE_TEST_SETTINGS = """from mysite.settings import *  # noqa: F403

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
"""


# --- startproject ---------------------------------------------------------------------------------
def startproject(bin_dir: Path, root: Path, *, polls: bool) -> Path:
    """`django-admin startproject mysite .` in a new `root`; with `polls`, `startapp polls` with
    POLLS_MODELS, its migration (made on startproject's sqlite settings) and POLLS_TESTS, the app
    added to INSTALLED_APPS. Nothing else is changed."""
    root.mkdir()
    subprocess.run([bin_dir / "django-admin", "startproject", "mysite", "."], cwd=root, check=True)
    if polls:
        subprocess.run([bin_dir / "python", "manage.py", "startapp", "polls"], cwd=root, check=True)
        (root / "polls/models.py").write_text(POLLS_MODELS)
        (root / "polls/tests.py").write_text(POLLS_TESTS)
        settings = root / "mysite/settings.py"
        apps = "    'django.contrib.staticfiles',\n"
        settings.write_text(settings.read_text().replace(apps, apps + "    'polls',\n"))
        subprocess.run([bin_dir / "python", "manage.py", "makemigrations", "polls"], cwd=root, check=True)
        (root / "db.sqlite3").unlink(missing_ok=True)
    return root


def _reading_os(text: str) -> str:
    return text.replace("from pathlib import Path\n", "import os\nfrom pathlib import Path\n", 1)


def _with_databases(text: str, databases: str) -> str:
    """startproject's settings text with its DATABASES block replaced by `databases`."""
    start = text.index("DATABASES = {")
    return text[:start] + databases + text[text.index("}\n}\n", start) + 4 :]


def make_project(bin_dir: Path, root: Path, *, app: bool) -> Path:
    """startproject (+ the polls app with two tests); the settings read DATABASES from DB_*."""
    startproject(bin_dir, root, polls=app)
    settings = root / "mysite/settings.py"
    settings.write_text(_with_databases(_reading_os(settings.read_text()), DATABASES_FROM_ENV))
    return root


def own_names_src_project(bin_dir: Path, root: Path) -> Path:
    """src/mysite + src/polls, manage.py at the root; settings read DJKEY (from python-dotenv's
    dotenv_values(".env"), as dragan717080/DjangoMySQLLMS does: no image holds .env), DBHOST...;
    pytest.ini names mysite.settings_test, which hard-codes SQLite."""
    startproject(bin_dir, root, polls=True)
    settings = root / "mysite/settings.py"
    text = _reading_os(settings.read_text())
    secret = text.index("SECRET_KEY = ")
    read_key = 'from dotenv import dotenv_values\n\nSECRET_KEY = dotenv_values(".env")["DJKEY"]\n'
    text = text[:secret] + read_key + text[text.index("\n", secret) + 1 :]
    settings.write_text(_with_databases(text, OWN_NAMES_DATABASES))
    (root / "mysite/settings_test.py").write_text(SQLITE_TEST_SETTINGS)
    (root / "src").mkdir()
    for package in ("mysite", "polls"):
        (root / package).rename(root / "src" / package)
    (root / "pytest.ini").write_text(
        "[pytest]\nDJANGO_SETTINGS_MODULE = mysite.settings_test\npython_files = tests.py test_*.py\n"
    )
    (root / "requirements.txt").write_text("Django>=5.2,<6\npython-dotenv\n")
    (root / "requirements-test.txt").write_text("pytest\npytest-django\n")
    return root


# --- a hand-written mysite -----------------------------------------------------------------------
MANAGE_PY = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""
WSGI_PY = """\
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
application = get_wsgi_application()
"""
_SETTINGS = """\
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
{at_import}SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = os.environ.get("{debug}", "false") == "true"
ALLOWED_HOSTS = os.environ.get("{hosts}", "localhost").split(",")
INSTALLED_APPS = {apps}
MIDDLEWARE = []
ROOT_URLCONF = "mysite.urls"
WSGI_APPLICATION = "mysite.wsgi.application"
TEMPLATES = [
    {{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": {template_dirs}, "APP_DIRS": True}}
]
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.mysql",
        "HOST": os.environ.get("{db}HOST", "localhost"),
        "PORT": os.environ.get("{db}PORT", "3306"),
        "NAME": os.environ.get("{db}NAME", "{name}"),
        "USER": os.environ.get("{db}USER", "{name}"),
        "PASSWORD": os.environ.get("{db}PASSWORD", ""),
    }}
}}
{extra}DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
"""


def settings_py(
    *,
    apps: str,
    name: str,
    db: str = "DB_",
    debug: str = "DEBUG",
    hosts: str = "ALLOWED_HOSTS",
    template_dirs: str = "[]",
    at_import: str = "",
    extra: str = "",
) -> str:
    """mysite/settings.py: SECRET_KEY from DJANGO_SECRET_KEY (no default), DEBUG and ALLOWED_HOSTS
    from `debug` and `hosts`, a MySQL DATABASES from `db`HOST/PORT/NAME/USER/PASSWORD; `at_import`
    runs before SECRET_KEY, `extra` (whole lines) comes after DATABASES."""
    return _SETTINGS.format(
        apps=apps,
        name=name,
        db=db,
        debug=debug,
        hosts=hosts,
        template_dirs=template_dirs,
        at_import=at_import,
        extra=extra,
    )


def mysite_files(settings: str, urls: str) -> dict[str, str]:
    """manage.py and the mysite package (settings and urls given), to be joined with the app's files."""
    return {
        "manage.py": MANAGE_PY,
        "mysite/__init__.py": "",
        "mysite/settings.py": settings,
        "mysite/wsgi.py": WSGI_PY,
        "mysite/urls.py": urls,
    }


def write_files(root: Path, files: Mapping[str, str]) -> Path:
    """Each of `files` (relative path -> text, dedented) written under `root`."""
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(textwrap.dedent(text))
    return root


# --- names a test owns ---------------------------------------------------------------------------
def owned_environ(name: str, image: str, **extra: str) -> dict[str, str]:
    """This process's environment without DOCKSTAGE_*, naming the test's image (`name`/`image`) and
    compose project (`name`): shell variables beat [tool.dockstage]."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKSTAGE_")}
    env.update(DOCKSTAGE_IMAGE=f"{name}/{image}", DOCKSTAGE_PROJECT=name, NO_COLOR="1", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def new_name(kind: str) -> str:
    return f"dsit-{kind}-{uuid.uuid4().hex[:8]}"


def remove_owned(docker: DockerClient, name: str, image: str = "site") -> None:
    """Every container, network and volume of the compose projects `name`(-test, -smoke, -pipeline)
    and every stage image of `name`/`image`."""
    for suffix in ("", "-test", "-smoke", "-pipeline"):
        label = f"com.docker.compose.project={name}{suffix}"
        with suppress(DockerException):
            for container in docker.container.list(all=True, filters=[("label", label)]):
                container.remove(force=True, volumes=True)
        with suppress(DockerException):
            for network in docker.network.list(filters=[("label", label)]):
                network.remove()
        with suppress(DockerException):
            for volume in docker.volume.list(filters=[("label", label)]):
                volume.remove()
    for stage in STAGES:
        with suppress(DockerException):
            docker.image.remove(f"{name}/{image}:{stage}", force=True)
