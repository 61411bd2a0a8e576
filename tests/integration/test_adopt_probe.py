"""Adoption that does not guess (issue 20), on the real engine, from projects outside the repo.

Two projects made on the spot with `django-admin startproject`, each adopted with `dockstage init`
(which builds the dev image and imports the settings there with a sentinel per name) and run
through `nox -s pipeline`, with no key set by hand and no edit to the project:
- a src/ layout whose settings read their own names (DJKEY, DBHOST, DBNAME, DBUSER, DBPASS) and
  whose pytest config names a test settings module that hard-codes SQLite (overlaid for the tests);
- an untouched startproject with an app (settings.py byte-identical after init and pipeline).
Both must end with their tests proven to have run on the stack's MariaDB.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.integration.test_adopt_startproject import (
    POLLS_MODELS,
    POLLS_TESTS,
    django_admin,  # noqa: F401 - the module's Django venv fixture
    owned,  # noqa: F401 - the test's own image and compose names
    run,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

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


def _with_polls(bin_dir: Path, root: Path) -> None:
    subprocess.run([bin_dir / "django-admin", "startproject", "mysite", "."], cwd=root, check=True)
    subprocess.run([bin_dir / "python", "manage.py", "startapp", "polls"], cwd=root, check=True)
    (root / "polls/models.py").write_text(POLLS_MODELS)
    (root / "polls/tests.py").write_text(POLLS_TESTS)
    settings = root / "mysite/settings.py"
    apps = "    'django.contrib.staticfiles',\n"
    settings.write_text(settings.read_text().replace(apps, apps + "    'polls',\n"))
    subprocess.run([bin_dir / "python", "manage.py", "makemigrations", "polls"], cwd=root, check=True)
    (root / "db.sqlite3").unlink(missing_ok=True)


def own_names_src_project(bin_dir: Path, root: Path) -> Path:
    """src/mysite + src/polls, manage.py at the root; settings read DJKEY, DBHOST...; pytest.ini
    names mysite.settings_test, which hard-codes SQLite."""
    root.mkdir()
    _with_polls(bin_dir, root)
    settings = root / "mysite/settings.py"
    text = settings.read_text().replace("from pathlib import Path\n", "import os\nfrom pathlib import Path\n", 1)
    text = (
        text[: text.index("SECRET_KEY = ")]
        + 'SECRET_KEY = os.environ["DJKEY"]\n'
        + text[text.index("\n", text.index("SECRET_KEY = ")) + 1 :]
    )
    start = text.index("DATABASES = {")
    settings.write_text(text[:start] + OWN_NAMES_DATABASES + text[text.index("}\n}\n", start) + 4 :])
    (root / "mysite/settings_test.py").write_text(SQLITE_TEST_SETTINGS)
    (root / "src").mkdir()
    for package in ("mysite", "polls"):
        (root / package).rename(root / "src" / package)
    (root / "pytest.ini").write_text(
        "[pytest]\nDJANGO_SETTINGS_MODULE = mysite.settings_test\npython_files = tests.py test_*.py\n"
    )
    (root / "requirements.txt").write_text("Django>=5.2,<6\n")
    (root / "requirements-test.txt").write_text("pytest\npytest-django\n")
    return root


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_own_names_src_layout_sqlite_test_settings(django_admin: Path, tmp_path: Path, owned: dict[str, str]) -> None:  # noqa: F811
    root = own_names_src_project(django_admin, tmp_path / "ownnames")
    before = {p: digest(p) for p in root.rglob("*.py")}
    found = run(["dockstage", "init"], root, owned)
    assert "built  the dev image to probe the settings" in found
    assert "source dir: src/" in found
    assert "test settings: mysite.settings_test (from pytest.ini)" in found
    table = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["dockstage"]
    assert table["env"] == {
        "database-host": "DBHOST",
        "database-name": "DBNAME",
        "database-user": "DBUSER",
        "database-password": "DBPASS",
        "secret-key": "DJKEY",
    }, table["env"]
    assert table["wsgi"] == "mysite.wsgi:application" and table["python-path"] == ["src"]
    assert "database" not in table["overlay"] and table["test-overlay"] == ["database"]
    out = run(["nox", "-s", "pipeline"], root, owned)
    assert "Session pipeline was successful" in out
    assert "app tests (`pytest`): 2 tests, 0 failed, 0 errors, 0 skipped on MySQL at db" in out
    assert "uv binary not found" not in out
    assert {p: digest(p) for p in root.rglob("*.py") if p in before} == before  # no edit to the project
    # Without the test overlay the tests run on the SQLite of their settings: caught, named.
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('test-overlay = ["database"]', "test-overlay = []"))
    done = subprocess.run(
        [sys.executable, "-m", "nox", "-s", "test_image"],
        cwd=root,
        env=owned,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode != 0
    assert (
        "the app's tests ran on SQLite, not on the stack's MySQL (settings mysite.settings_test; 2 tests, 1 failed"
        in done.stdout + done.stderr
    )


def test_untouched_startproject(django_admin: Path, tmp_path: Path, owned: dict[str, str]) -> None:  # noqa: F811
    root = tmp_path / "untouched"
    root.mkdir()
    _with_polls(django_admin, root)
    settings = root / "mysite/settings.py"
    before = digest(settings)
    found = run(["dockstage", "init"], root, owned)
    table = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["dockstage"]
    assert set(table["overlay"]) == {"database", "secret-key", "allowed-hosts", "debug", "static-root"}, found
    assert "your files are not edited" in found
    out = run(["nox", "-s", "pipeline"], root, owned)
    assert "Session pipeline was successful" in out
    assert "app tests (`python manage.py test`): 2 tests, 0 failed, 0 errors, 0 skipped on MySQL at db" in out
    assert digest(settings) == before
