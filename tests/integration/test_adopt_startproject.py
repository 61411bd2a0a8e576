"""Adopting the suite in a project made on the spot: `django-admin startproject`, DATABASES read
from the environment (the one change to the project's files), `dockstage init`, `nox -s pipeline`.

Nothing of the suite is edited: the project uses the package's Dockerfile, compose files and
helpers. Each test owns its image names and compose projects and removes them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
import venv
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage import STAGES

pytestmark = [pytest.mark.integration, pytest.mark.slow]

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


@pytest.fixture(scope="module")
def django_admin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """django-admin from a throwaway venv (Django from PyPI, as a developer would have it)."""
    where = tmp_path_factory.mktemp("django-venv")
    venv.create(where, with_pip=True)
    subprocess.run([where / "bin/python", "-m", "pip", "install", "-q", "Django>=5.2,<6"], check=True, timeout=300)
    return where / "bin"


def make_project(bin_dir: Path, root: Path, *, app: bool) -> Path:
    """startproject (+ startapp polls with two tests); the settings read DATABASES from the environment."""
    root.mkdir()
    subprocess.run([bin_dir / "django-admin", "startproject", "mysite", "."], cwd=root, check=True)
    settings = root / "mysite/settings.py"
    if app:  # the app and its migration first, on startproject's sqlite settings
        subprocess.run([bin_dir / "python", "manage.py", "startapp", "polls"], cwd=root, check=True)
        (root / "polls/models.py").write_text(POLLS_MODELS)
        (root / "polls/tests.py").write_text(POLLS_TESTS)
        apps = "    'django.contrib.staticfiles',\n"
        settings.write_text(settings.read_text().replace(apps, apps + "    'polls',\n"))
        subprocess.run([bin_dir / "python", "manage.py", "makemigrations", "polls"], cwd=root, check=True)
        (root / "db.sqlite3").unlink(missing_ok=True)
    text = settings.read_text().replace("from pathlib import Path\n", "import os\nfrom pathlib import Path\n", 1)
    start = text.index("DATABASES = {")
    settings.write_text(text[:start] + DATABASES_FROM_ENV + text[text.index("}\n}\n", start) + 4 :])
    return root


@pytest.fixture
def owned(docker_client: DockerClient) -> Iterator[dict[str, str]]:
    """This test's image name and compose project (shell variables beat [tool.dockstage]); removed after."""
    name = f"dsit-adopt-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKSTAGE_")}
    env.update(DOCKSTAGE_IMAGE=f"{name}/app", DOCKSTAGE_PROJECT=name, NO_COLOR="1", PYTHONUNBUFFERED="1")
    yield env
    for suffix in ("", "-test", "-smoke", "-pipeline"):
        with suppress(DockerException):
            for container in docker_client.container.list(
                all=True, filters=[("label", f"com.docker.compose.project={name}{suffix}")]
            ):
                container.remove(force=True, volumes=True)
        with suppress(DockerException):
            for volume in docker_client.volume.list(filters=[("label", f"com.docker.compose.project={name}{suffix}")]):
                volume.remove()
    for stage in STAGES:
        with suppress(DockerException):
            docker_client.image.remove(f"{name}/app:{stage}", force=True)


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 1500) -> str:
    tool = {"dockstage": [sys.executable, "-m", "dockstage.adopt.cli"], "nox": [sys.executable, "-m", "nox"]}[args[0]]
    done = subprocess.run(
        [*tool, *args[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return output


def suite_unchanged() -> str:
    """`git status` of the suite's own files (the test must leave them as they were)."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        ["git", "status", "--porcelain", "--", "dockstage"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    ).stdout


def test_startproject_with_pytest(django_admin: Path, tmp_path: Path, owned: dict[str, str]) -> None:
    before = suite_unchanged()
    root = make_project(django_admin, tmp_path / "mysite", app=False)
    found = run(["dockstage", "init"], root, owned)
    assert "probed mysite.settings in the dev image" in found and "database-host <- DB_HOST" in found
    assert "wrote  [tool.dockstage] in pyproject.toml" in found
    # The CI workflow by default (Django 5.2: Python >=3.10, so both stand-ins fit), no GitLab file.
    assert "wrote  .github/workflows/dockstage.yml (nox sessions on official, bookworm, trixie;" in found
    assert (root / ".github/workflows/dockstage.yml").read_text().startswith("# dockstage: CI for this project")
    assert not (root / ".gitlab-ci.yml").exists()
    out = run(["nox", "-s", "pipeline"], root, owned)
    assert "Session pipeline was successful" in out
    assert "ok   smoke health: GET /admin/login/ gave 200" in out and "ok   smoke gunicorn" in out
    assert "prod image: _mysql links every library" in out
    assert suite_unchanged() == before


def test_startapp_with_manage_py_test(django_admin: Path, tmp_path: Path, owned: dict[str, str]) -> None:
    root = make_project(django_admin, tmp_path / "polls_site", app=True)
    found = run(["dockstage", "init", "--no-ci"], root, owned)
    assert "run with `python manage.py test`" in found
    assert not (root / ".github").exists() and "dockstage.yml" not in found
    out = run(["nox", "-s", "pipeline"], root, owned)
    assert "Session pipeline was successful" in out
    assert "app tests (`python manage.py test`): 2 tests, 0 failed, 0 errors, 0 skipped on MySQL at db" in out
    assert "copied into prod; left out:" in out and "polls/tests.py" in out  # the build log says what prod lacks
    prod = DockerClient().run(
        f"{owned['DOCKSTAGE_IMAGE']}:prod", ["-c", "ls /app /app/polls"], entrypoint="sh", remove=True
    )
    assert "tests.py" not in str(prod) and "models.py" in str(prod)  # tests stay out of prod
