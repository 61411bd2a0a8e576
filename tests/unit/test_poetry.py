"""[tool.poetry.dependencies] without a poetry.lock read as the project's requirements (pure)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from dockstage.adopt import poetry
from dockstage.adopt.inspect import inspect
from dockstage.adopt.requirements import find_requirements
from dockstage.core.errors import ConfigError
from dockstage.images import locks
from dockstage.images.buildfiles import requirement_set
from tests.unit.test_adopt_inspect import startproject


@pytest.mark.parametrize(
    ("constraint", "spec"),
    [
        ("^5.2", ">=5.2,<6"),
        ("^1.2.3", ">=1.2.3,<2"),
        ("^0.10.2", ">=0.10.2,<0.11"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0", ">=0,<1"),
        ("~1.2.3", ">=1.2.3,<1.3"),
        ("~1", ">=1,<2"),
        ("~=1.2", "~=1.2"),
        (">=1.2 <2.0", ">=1.2,<2.0"),
        (">=1.2, !=1.5", ">=1.2,!=1.5"),
        ("1.2.3", "==1.2.3"),
        ("*", ""),
        ("^1.0 || ^2.0", ""),
    ],
    ids=lambda value: value,
)
def test_poetry_constraints_become_pip_specifiers(constraint: str, spec: str) -> None:
    assert poetry.specifier(constraint) == spec


def test_table_entries_become_requirement_lines() -> None:
    table = {
        "python": "^3.12",
        "Django": "^5.2",
        "celery": {"extras": ["redis"], "version": "^5.3.6"},
        "tool": {"git": "https://example.org/tool.git", "rev": "abc123"},
        "local": {"path": "../local"},
        "maybe": {"version": "^1", "optional": True},
    }
    assert poetry.requirements(table) == [
        "Django>=5.2,<6",
        "celery[redis]>=5.3.6,<6",
        "tool @ git+https://example.org/tool.git@abc123",
    ]
    assert poetry.python(table) == ">=3.12,<4"


BOILERPLATE = """\
[tool.poetry]
name = "x"
package-mode = false

[tool.poetry.dependencies]
python = "^3.12"
Django = "^5.2"
python-decouple = "^3.8"

[tool.poetry.group.dev.dependencies]
model-bakery = "^1.12.0"
"""


def test_a_poetry_project_without_a_lock_gets_its_dependencies(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(BOILERPLATE)
    found = find_requirements(tmp_path, tmp_path, tomllib.loads(BOILERPLATE), "")
    assert found.runtime == ["Django>=5.2,<6", "python-decouple>=3.8,<4"]
    assert found.dev == ["model-bakery>=1.12.0,<2"]
    assert found.django == "Django>=5.2,<6" and found.mentions("python-decouple")
    assert any(n.startswith("[tool.poetry.dependencies] read as package specs") for n in found.notes)


def test_the_lock_and_requirement_files_win_over_the_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(BOILERPLATE)
    (tmp_path / "requirements.txt").write_text("Django==5.2.1\n")
    assert find_requirements(tmp_path, tmp_path, tomllib.loads(BOILERPLATE), "").runtime == ["requirements.txt"]
    (tmp_path / "requirements.txt").unlink()
    (tmp_path / "poetry.lock").write_text("# locked\n")
    assert find_requirements(tmp_path, tmp_path, tomllib.loads(BOILERPLATE), "").runtime == ["poetry.lock"]


def test_init_takes_the_python_of_the_poetry_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(BOILERPLATE)
    backend = tmp_path / "backend"
    (backend / "site").mkdir(parents=True)
    (backend / "manage.py").write_text('os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings")\n')
    (backend / "site" / "__init__.py").write_text("")
    (backend / "site" / "settings.py").write_text("SECRET_KEY = 'x'\n")
    found = inspect(tmp_path)
    assert (found.python, found.python_reason) == (">=3.12,<4", "[tool.poetry.dependencies] python")
    assert found.requirements.runtime[0] == "Django>=5.2,<6"


def test_a_lock_beside_the_app_dirs_own_pyproject_is_the_runtime_set(tmp_path: Path) -> None:
    """Held-out amanzon: app/pyproject.toml and app/uv.lock (its README runs `uv sync` in app/)."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text("django>=5.2.9\n")
    (app / "pyproject.toml").write_text(
        '[project]\nname = "shop"\ndependencies = ["django>=5.2.9", "psycopg2-binary>=2.9"]\n'
        '[dependency-groups]\ndev = ["pytest"]\n'
    )
    (app / "uv.lock").write_text("version = 1\n")
    found = find_requirements(tmp_path, app, {}, "")
    assert (found.runtime, found.dev) == (["app/uv.lock"], ["app/uv.lock:dev"])
    assert found.django == "Django>=5.2.9" and "libpq-dev" in found.apt_build
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "root"\ndependencies = ["django"]\n')
    (tmp_path / "uv.lock").write_text("version = 1\n")
    assert find_requirements(tmp_path, app, tomllib.loads((tmp_path / "pyproject.toml").read_text()), "").runtime == [
        "uv.lock"
    ]


PIPFILE_LOCK = {
    "_meta": {"requires": {"python_version": "3.11"}},
    "default": {
        "django": {"hashes": ["sha256:x"], "version": "==4.2.11"},
        "mysqlclient": {"version": "==2.2.4"},
        "django-phonenumber-field": {"extras": ["phonenumbers"], "version": "==7.0.2"},
        "tzdata": {"markers": "sys_platform == 'win32'", "version": "==2024.1"},
        "shared": {"git": "https://example.org/shared.git", "ref": "abc123"},
        "site": {"editable": True, "path": "."},
    },
    "develop": {"pytest-django": {"version": "==4.8.0"}},
}


def test_pipfile_lock_sections_as_pinned_requirements() -> None:
    text = json.dumps(PIPFILE_LOCK)
    assert locks.pipenv_requirements(text) == [
        "django==4.2.11",
        "django-phonenumber-field[phonenumbers]==7.0.2",
        "mysqlclient==2.2.4",
        "shared @ git+https://example.org/shared.git@abc123",
        "tzdata==2024.1; sys_platform == 'win32'",
    ]  # the project itself (editable, path ".") is not a requirement
    assert locks.pipenv_requirements(text, "develop") == ["pytest-django==4.8.0"]
    with pytest.raises(ConfigError, match="no section"):
        locks.pipenv_requirements(text, "dev")
    with pytest.raises(ConfigError, match="pipenv lock"):
        locks.pipenv_requirements("{not json")


def test_a_pipenv_project_is_adopted_from_its_lock_and_staged_for_the_build(tmp_path: Path) -> None:
    (tmp_path / "Pipfile").write_text('[packages]\ndjango = "*"\n')
    (tmp_path / "Pipfile.lock").write_text(json.dumps(PIPFILE_LOCK))
    found = find_requirements(tmp_path, tmp_path, {}, "")
    assert (found.runtime, found.dev) == (["Pipfile.lock"], ["Pipfile.lock:develop"])
    assert found.django == "Django==4.2.11" and found.mentions("mysqlclient")
    assert "git" in found.apt_build  # the lock's git requirement: uv clones it in the dev build
    staged = requirement_set(tmp_path, found.runtime)
    assert staged["args"] == b"-r\npipfile-default.txt\n"
    assert b"mysqlclient==2.2.4\n" in staged["pipfile-default.txt"]
    assert requirement_set(tmp_path, found.dev)["pipfile-develop.txt"] == b"pytest-django==4.8.0\n"
    (tmp_path / "Pipfile.lock").unlink()
    assert any("pipenv lock" in note for note in find_requirements(tmp_path, tmp_path, {}, "").notes)


def test_a_pipfile_python_is_the_floor(tmp_path: Path) -> None:
    root = startproject(tmp_path)
    (root / "Pipfile").write_text('[packages]\ndjango = "*"\n\n[requires]\npython_version = "3.12"\n')
    found = inspect(root)
    assert (found.python, found.python_reason) == (">=3.12", "Pipfile [requires]")
