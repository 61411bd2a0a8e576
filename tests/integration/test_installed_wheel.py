"""dockstage as users get it: the sdist and the wheel built from it, the wheel installed (not
editable) into a fresh venv, and a project made outside this repository driven from that install.

`django-admin startproject` + `startapp` (Django from PyPI, in the same venv) -> `dockstage init`
-> `nox -l` (only the sessions a user runs) -> `nox -s bases -- --force` (the stand-ins built
from the wheel's own files) -> `nox -s pipeline`. Nothing here imports or runs this checkout's
package: every command is the venv's.

`bases -- --force` replaces the engine's stand-in images with ones built from the same
Dockerfiles (the wheel's copies of dockstage/data/standins/), so other projects' builds keep
working; their next build on the new base misses the cache once.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
import time
import venv
import zipfile
from pathlib import Path

import pytest

from tests.integration.test_adopt_startproject import make_project, owned

__all__ = ["owned"]  # the fixture: this test's image name and compose projects, removed after

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def sh(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None, timeout: float = 1500) -> str:
    """Run one command; its output (stdout + stderr), the test failing with the tail when it fails."""
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}:\n{output[-4000:]}"
    return output


def build_distributions(into: Path) -> tuple[Path, Path]:
    """`python -m build` on a clean copy of the sources: the sdist, then the wheel built from it."""
    source = into / "src"
    shutil.copytree(ROOT / "dockstage", source / "dockstage", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    sh([sys.executable, "-m", "build", "--outdir", into / "dist", source], cwd=into, timeout=600)
    (sdist,) = (into / "dist").glob("dockstage-*.tar.gz")
    (wheel,) = (into / "dist").glob("dockstage-*.whl")
    return sdist, wheel


def test_the_installed_wheel_adopts_a_new_project(tmp_path: Path, owned: dict[str, str]) -> None:
    seconds: dict[str, float] = {}

    def timed(step: str, args: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
        started = time.monotonic()
        output = sh(args, cwd, env)
        seconds[step] = round(time.monotonic() - started, 1)
        return output

    started = time.monotonic()
    sdist, wheel = build_distributions(tmp_path / "build")
    seconds["sdist + wheel"] = round(time.monotonic() - started, 1)
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n for n in archive.namelist() if n.startswith("dockstage/data/standins/")}
    with tarfile.open(sdist) as archive:
        in_sdist = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert shipped and shipped <= in_sdist  # the sdist carries the stand-ins the wheel is built with

    where = tmp_path / "venv"
    venv.create(where, with_pip=True)
    bin_dir = where / "bin"
    timed("venv install", [bin_dir / "python", "-m", "pip", "install", "-q", wheel, "Django>=5.2,<6"], tmp_path)
    package = Path(
        sh([bin_dir / "python", "-c", "import dockstage; print(dockstage.__file__)"], tmp_path).strip()
    ).parent
    assert package.is_relative_to(where) and package.parent.name == "site-packages"  # not this checkout
    direct = json.loads(next(package.parent.glob("dockstage-*.dist-info")).joinpath("direct_url.json").read_text())
    assert not direct.get("dir_info", {}).get("editable", False)

    (tmp_path / "outside").mkdir()
    root = make_project(bin_dir, tmp_path / "outside" / "polls_site", app=True)
    assert not root.is_relative_to(ROOT)
    env = {**owned, "PATH": f"{bin_dir}:{owned.get('PATH', '')}", "VIRTUAL_ENV": str(where)}

    found = timed("dockstage init", [bin_dir / "dockstage", "init"], root, env)
    assert "wrote  [tool.dockstage] in pyproject.toml" in found and "wrote  noxfile.py" in found

    listed = sh([bin_dir / "nox", "-l"], root, env)
    sessions = {line.split()[1] for line in listed.splitlines() if line.startswith(("* ", "- "))}
    assert {"doctor", "bases", "build_prod", "pipeline"} <= sessions
    assert not sessions & {"swarm", "bench", "tests", "lint", "typecheck"}, sessions

    bases = timed(
        "nox -s bases -- --force",
        [bin_dir / "nox", "-s", "bases", "--", "--force"],
        root,
        {**env, "DOCKSTAGE_DEBUG": "1"},
    )
    assert "Session bases was successful" in bases
    for dockerfile in ("python.Dockerfile", "mariadb.Dockerfile", "redis.Dockerfile"):  # built from the wheel's files
        assert f"--file {package / 'data' / 'standins' / dockerfile}" in bases
    assert str(ROOT) not in bases

    out = timed("nox -s pipeline", [bin_dir / "nox", "-s", "pipeline"], root, env)
    assert "Session pipeline was successful" in out
    assert re.search(r"app tests \(`[^`]+`\): 2 tests, 0 failed, 0 errors, 0 skipped on MySQL at db", out)
    assert "ok   smoke gunicorn" in out and "prod image: _mysql links every library" in out
    print(f"installed wheel, seconds per step: {seconds}")  # shown with -rP; measured in the commit log
