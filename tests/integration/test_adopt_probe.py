"""Adoption that does not guess (issue 20), on the real engine, from projects outside the repo.

Two projects made on the spot with `django-admin startproject`, each adopted with `dockstage init`
(which builds the dev image and imports the settings there with a sentinel per name) and run
through `nox -s pipeline`, with no key set by hand and no edit to the project:
- a src/ layout whose settings read their own names (DJKEY through python-dotenv's dotenv_values of a
  .env no image holds; DBHOST, DBNAME, DBUSER, DBPASS) and
  whose pytest config names a test settings module that hard-codes SQLite (overlaid for the tests);
- an untouched startproject with an app (settings.py byte-identical after init and pipeline);
- manage.py in src/ (the app dir) with tests/ and pytest.ini at the project root (test-files).
Each must end with its tests proven to have run on the stack's MariaDB.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest

from tests.integration.projects import own_names_src_project, startproject
from tests.integration.test_adopt_startproject import owned
from tests.integration.wheelenv import WheelEnv

__all__ = ["owned"]  # the fixture: the test's own image and compose names

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_own_names_src_layout_sqlite_test_settings(wheel_env: WheelEnv, tmp_path: Path, owned: dict[str, str]) -> None:
    root = own_names_src_project(wheel_env.bin, tmp_path / "ownnames")
    before = {p: digest(p) for p in root.rglob("*.py")}
    found = wheel_env.run(["dockstage", "init"], root, owned)
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
    out = wheel_env.run(["nox", "-s", "pipeline"], root, owned)
    assert "Session pipeline was successful" in out
    assert "app tests (`pytest`): 2 tests, 0 failed, 0 errors, 0 skipped on MySQL at db" in out
    assert "uv binary not found" not in out
    assert {p: digest(p) for p in root.rglob("*.py") if p in before} == before  # no edit to the project
    # Without the test overlay the tests run on the SQLite of their settings: caught, named.
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('test-overlay = ["database"]', "test-overlay = []"))
    done = wheel_env.call(["nox", "-s", "test_image"], root, owned, timeout=900)
    assert done.returncode != 0
    assert (
        "the app's tests ran on SQLite, not on the stack's MySQL (settings mysite.settings_test; 2 tests, 1 failed"
        in done.stdout + done.stderr
    )


def test_root_tests_beside_a_src_app_dir_run_in_the_test_image(
    wheel_env: WheelEnv, tmp_path: Path, owned: dict[str, str]
) -> None:
    """Held-out PARTs_WebAPI's shape: src/manage.py, tests/ and pytest.ini (pythonpath = src) at the
    root. init makes them test-files; the test image adds them to the app dir and runs them on MySQL."""
    root = tmp_path / "roottests"
    root.mkdir()
    startproject(wheel_env.bin, root / "src", polls=True)
    (root / "tests").mkdir()
    (root / "src/polls/tests.py").rename(root / "tests/test_polls.py")
    (root / "tests/conftest.py").write_text("")
    (root / "pytest.ini").write_text("[pytest]\nDJANGO_SETTINGS_MODULE = mysite.settings\npythonpath = src\n")
    (root / "requirements.txt").write_text("Django>=5.2,<6\n")
    (root / "requirements-test.txt").write_text("pytest\npytest-django\n")
    found = wheel_env.run(["dockstage", "init", "--no-ci"], root, owned)
    assert "manage.py: src/manage.py (app dir src)" in found, found
    assert "test-files: pytest.ini, tests at the project root, beside the app dir (src)" in found
    assert tomllib.loads((root / "pyproject.toml").read_text())["tool"]["dockstage"]["test-files"] == [
        "pytest.ini",
        "tests",
    ]
    out = wheel_env.run(["nox", "-s", "test_image"], root, owned)
    assert "app tests (`pytest`): 2 tests, 0 failed, 0 errors, 0 skipped on MySQL at db" in out, out[-3000:]


def test_untouched_startproject(wheel_env: WheelEnv, tmp_path: Path, owned: dict[str, str]) -> None:
    root = startproject(wheel_env.bin, tmp_path / "untouched", polls=True)
    settings = root / "mysite/settings.py"
    before = settings.read_bytes()
    found = wheel_env.run(["dockstage", "init"], root, owned)
    table = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["dockstage"]
    assert set(table["overlay"]) == {"database", "secret-key", "allowed-hosts", "debug", "static-root"}, found
    assert "your files are not edited" in found
    out = wheel_env.run(["nox", "-s", "pipeline"], root, owned)
    assert "Session pipeline was successful" in out
    assert "app tests (`python manage.py test`): 2 tests, 0 failed, 0 errors, 0 skipped on MySQL at db" in out
    assert settings.read_bytes() == before  # byte-identical after init and the pipeline
