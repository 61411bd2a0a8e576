"""Lock files as requirement sets: detection by init, staging for the build, poetry.lock read alone."""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import pytest

from dockstage.adopt.inspect import inspect
from dockstage.core.errors import ConfigError
from dockstage.images import buildfiles, locks
from tests.unit.test_adopt_inspect import startproject

POETRY_2 = """\
[[package]]
name = "Django"
version = "5.2.8"
groups = ["main"]
files = []
[package.dependencies]
asgiref = ">=3.8"

[[package]]
name = "asgiref"
version = "3.9.1"
groups = ["main"]
files = []

[[package]]
name = "pytest"
version = "8.4.2"
groups = ["dev"]
markers = "python_version >= \\"3.9\\""
files = []

[[package]]
name = "tzdata"
version = "2025.2"
groups = ["main"]
markers = {main = "sys_platform == \\"win32\\""}
files = []
"""
POETRY_PYPROJECT = """\
[tool.poetry.dependencies]
python = "^3.11"
Django = "^5.2"
[tool.poetry.group.dev.dependencies]
pytest = "*"
"""


def test_poetry_lock_groups_as_pinned_requirements() -> None:
    assert locks.poetry_requirements(POETRY_2, {}) == [
        "asgiref==3.9.1",
        "Django==5.2.8",
        'tzdata==2025.2 ; sys_platform == "win32"',
    ]
    assert locks.poetry_requirements(POETRY_2, {}, "dev") == ['pytest==8.4.2 ; python_version >= "3.9"']


def test_a_lock_without_groups_follows_the_dependencies_from_pyproject() -> None:
    """poetry 1.5-1.8 locks record no groups: the main set is what [tool.poetry.dependencies] reaches."""
    lock = POETRY_2.replace('groups = ["main"]\n', "").replace('groups = ["dev"]\n', "")
    pyproject = tomllib.loads(POETRY_PYPROJECT)
    assert locks.poetry_requirements(lock, pyproject) == ["asgiref==3.9.1", "Django==5.2.8"]
    assert locks.poetry_requirements(lock, pyproject, "dev") == ['pytest==8.4.2 ; python_version >= "3.9"']


def test_a_broken_poetry_lock_says_how_to_fix_it() -> None:
    with pytest.raises(ConfigError, match="poetry lock"):
        locks.poetry_requirements("[[package]\n", {})


def test_uv_lock_sets_stage_the_lock_and_the_export_arguments(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "uv.lock").write_text("version = 1\n")
    runtime = buildfiles.requirement_set(tmp_path, ["uv.lock"], ["gunicorn"])
    assert runtime["export"] == b".\n--no-default-groups\n"
    assert runtime["args"] == b"gunicorn\n" and {"uv.lock", "pyproject.toml"} <= set(runtime)
    assert buildfiles.requirement_set(tmp_path, ["uv.lock:test"])["export"] == b".\n--only-group\ntest\n"
    with pytest.raises(ConfigError, match=r"two uv\.lock entries"):
        buildfiles.requirement_set(tmp_path, ["uv.lock", "uv.lock:dev"])


LINKDING_LIKE = """\
# a comment before the first table
[project]
name = "linkding"
version = "1.0"
dependencies = [
    "django>=5.2",
    "huey[redis]>=2.5",
]

[dependency-groups]
dev = ["pytest", "pytest-django"]

[tool.uv]
package = false

[tool.ruff]
line-length = 120

[tool.dockstage]
app-name = "linkding"
"""


@pytest.mark.parametrize("entry", ["uv.lock", "pyproject.toml:dev", "pyproject.toml"])
def test_staged_pyproject_does_not_change_when_other_tables_change(tmp_path: Path, entry: str) -> None:
    (tmp_path / "uv.lock").write_text("version = 1\n")
    (tmp_path / "pyproject.toml").write_text(LINKDING_LIKE)
    before = buildfiles.requirement_set(tmp_path, [entry])
    staged = tomllib.loads(before["pyproject.toml"].decode())
    assert set(staged) == {"project", "dependency-groups", "tool"} and set(staged["tool"]) == {"uv"}
    assert staged["project"]["dependencies"] == ["django>=5.2", "huey[redis]>=2.5"]
    edited = LINKDING_LIKE.replace('app-name = "linkding"', 'app-name = "bookmarks"\nwritable-dirs = ["data"]')
    (tmp_path / "pyproject.toml").write_text(edited.replace("line-length = 120", "line-length = 88"))
    assert buildfiles.requirement_set(tmp_path, [entry]) == before


def test_a_pyproject_that_cannot_be_cut_safely_is_staged_whole() -> None:
    dynamic = b'[project]\nname = "x"\ndynamic = ["dependencies"]\n[tool.setuptools.dynamic]\ndependencies = {file = "r.txt"}\n'
    assert locks.resolver_pyproject(dynamic) == dynamic
    tricky = b'[project]\nname = "x"\ndescription = """\n[tool.dockstage]\n"""\n[tool.dockstage]\napp-name = "y"\n'
    assert locks.resolver_pyproject(tricky) == tricky
    assert locks.resolver_pyproject(b"not toml [") == b"not toml ["


def test_poetry_lock_sets_stage_a_pinned_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(POETRY_PYPROJECT)
    (tmp_path / "poetry.lock").write_text(POETRY_2)
    files = buildfiles.requirement_set(tmp_path, ["poetry.lock:dev"])
    assert files["args"] == b"-r\npoetry-dev.txt\n"
    assert files["poetry-dev.txt"] == b'pytest==8.4.2 ; python_version >= "3.9"\n'


def test_init_detects_a_poetry_lock_and_its_groups(tmp_path: Path) -> None:
    root = startproject(
        tmp_path,
        extra={"pyproject.toml": textwrap.indent(POETRY_PYPROJECT, ""), "poetry.lock": POETRY_2},
    )
    r = inspect(root).requirements
    assert (r.runtime, r.dev, r.test) == (["poetry.lock"], ["poetry.lock:dev"], [])
    # the lock's exact versions are what the build installs: no note that it resolves the newest ones
    assert not any("without a poetry.lock" in note for note in inspect(root).notes)
    (root / "poetry.lock").unlink()
    assert any("without a poetry.lock" in note for note in inspect(root).notes)


OLD_POETRY_LOCK = """\
[[package]]
name = "django"
version = "4.1.13"
[package.dependencies]
asgiref = ">=3.5.2,<4"
"backports.zoneinfo" = {version = "*", markers = "python_version < \\"3.9\\""}
tzdata = {version = "*", markers = "sys_platform == \\"win32\\""}

[[package]]
name = "asgiref"
version = "3.5.2"

[[package]]
name = "backports.zoneinfo"
version = "0.2.1"

[[package]]
name = "tzdata"
version = "2022.2"

[[package]]
name = "pyjwt"
version = "2.4.0"
[package.dependencies]
cryptography = {version = ">=3.3.1", optional = true, markers = "extra == \\"crypto\\""}

[[package]]
name = "cryptography"
version = "42.0.4"

[[package]]
name = "importlib-metadata"
version = "4.12.0"

[[package]]
name = "pandas"
version = "2.0.0"
[package.dependencies]
tzdata = ">=2022.1"
"""


def test_an_old_poetry_lock_takes_each_package_s_condition_from_the_edges_into_it() -> None:
    """shynet's lock (poetry 1.x) records no markers per package: django's edge to backports.zoneinfo
    says python_version < 3.9, and installing it on 3.11 failed to compile. An extra's edge
    (pyjwt[crypto] -> cryptography) and an edge with no condition keep the package unconditional."""
    pyproject = {
        "tool": {
            "poetry": {
                "dependencies": {
                    "python": ">=3.8,<4",
                    "Django": ">=4,<5",
                    "pyjwt": {"version": "^2.4", "extras": ["crypto"]},
                    "importlib-metadata": {"version": "*", "python": "<3.10"},
                }
            }
        }
    }
    assert locks.poetry_requirements(OLD_POETRY_LOCK, pyproject) == [
        "asgiref==3.5.2",
        'backports.zoneinfo==0.2.1 ; python_version < "3.9"',
        "cryptography==42.0.4",
        "django==4.1.13",
        'importlib-metadata==4.12.0 ; python_version < "3.10"',
        "pyjwt==2.4.0",
        'tzdata==2022.2 ; sys_platform == "win32"',
    ]
    pyproject["tool"]["poetry"]["dependencies"]["pandas"] = "*"  # type: ignore[index]
    assert "tzdata==2022.2" in locks.poetry_requirements(OLD_POETRY_LOCK, pyproject)  # pandas needs it anywhere
