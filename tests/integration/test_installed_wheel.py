"""dockstage as users get it: the sdist and the wheel built from it, the wheel installed (not
editable) into a fresh venv (the session's `wheel_env`, tests/integration/wheelenv.py, which the
adoption tests run from too), and a project made outside this repository driven from that install.

`django-admin startproject` + `startapp` (Django from PyPI, in the same venv) -> `dockstage init`
-> `nox -l` (only the sessions a user runs) -> `nox -s bases -- --force` (the stand-ins built
from the wheel's own files) -> `nox -s pipeline`. Nothing here imports or runs this checkout's
package: every command is the venv's.

`bases -- --force` replaces the engine's stand-in images with ones built from the same
Dockerfiles (the wheel's copies of dockstage/data/standins/), so other projects' builds keep
working; their next build on the new base misses the cache once.
"""

from __future__ import annotations

import re
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from tests.integration.projects import make_project
from tests.integration.test_adopt_startproject import owned
from tests.integration.wheelenv import ROOT, WheelEnv

__all__ = ["owned"]  # the fixture: this test's image name and compose projects, removed after

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_installed_wheel_adopts_a_new_project(wheel_env: WheelEnv, tmp_path: Path, owned: dict[str, str]) -> None:
    seconds = dict(wheel_env.seconds)  # the session's build and install (tests/integration/wheelenv.py)

    def timed(step: str, args: list[str], cwd: Path, env: dict[str, str]) -> str:
        started = time.monotonic()
        output = wheel_env.run(args, cwd, env)
        seconds[step] = round(time.monotonic() - started, 1)
        return output

    with zipfile.ZipFile(wheel_env.wheel) as archive:
        shipped = {n for n in archive.namelist() if n.startswith("dockstage/data/standins/")}
    with tarfile.open(wheel_env.sdist) as archive:
        in_sdist = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert shipped and shipped <= in_sdist  # the sdist carries the stand-ins the wheel is built with
    package = wheel_env.package
    assert package.is_relative_to(wheel_env.venv) and package.parent.name == "site-packages"  # not this checkout

    (tmp_path / "outside").mkdir()
    root = make_project(wheel_env.bin, tmp_path / "outside" / "polls_site", app=True)
    assert not root.is_relative_to(ROOT)

    found = timed("dockstage init", ["dockstage", "init"], root, owned)
    assert "wrote  [tool.dockstage] in pyproject.toml" in found and "wrote  noxfile.py" in found

    listed = wheel_env.run(["nox", "-l"], root, owned)
    sessions = {line.split()[1] for line in listed.splitlines() if line.startswith(("* ", "- "))}
    assert {"doctor", "bases", "build_prod", "pipeline"} <= sessions
    assert not sessions & {"swarm", "bench", "tests", "lint", "typecheck"}, sessions

    bases = timed(
        "nox -s bases -- --force", ["nox", "-s", "bases", "--", "--force"], root, {**owned, "DOCKSTAGE_DEBUG": "1"}
    )
    assert "Session bases was successful" in bases
    for dockerfile in ("python.Dockerfile", "mariadb.Dockerfile", "redis.Dockerfile"):  # built from the wheel's files
        assert f"--file {package / 'data' / 'standins' / dockerfile}" in bases
    assert str(ROOT) not in bases

    out = timed("nox -s pipeline", ["nox", "-s", "pipeline"], root, owned)
    assert "Session pipeline was successful" in out
    assert re.search(r"app tests \(`[^`]+`\): 2 tests, 0 failed, 0 errors, 0 skipped on MySQL at db", out)
    assert (
        "ok   smoke gunicorn" in out
        and "prod image: _mysql and every compiled module of the venv link their libraries" in out
    )
    print(f"installed wheel, seconds per step: {seconds}")  # shown with -rP; measured in the commit log
