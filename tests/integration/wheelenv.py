"""dockstage as adopters get it: the sdist, the wheel built from it, installed (not editable) into
one venv outside this repository, built once per test session.

`wheel_env` (registered in tests/integration/conftest.py, so any integration test can ask for it)
is a WheelEnv: its `bin` holds the installed `dockstage`, `nox` and `invoke` (the wheel's
dependencies) and `django-admin` (Django from PyPI, as a developer has it, to write projects with
startproject). Run adopted projects with `wheel_env.run(["dockstage", "init"], cwd=project, env=...)`
from a project directory outside the repository: the venv's package is the one imported, never
this checkout (checked when the venv is made: `dockstage.__file__` is in the venv's site-packages,
its install is not editable, and PYTHONPATH is dropped from every command's environment).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import venv
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DJANGO = "Django>=5.2,<6"


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


@dataclass(frozen=True)
class WheelEnv:
    """The venv with the installed wheel: where it is, what was installed, what each step took."""

    venv: Path
    sdist: Path
    wheel: Path
    package: Path  # the installed dockstage/ (in the venv's site-packages)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def environ(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """`base` (default: this process's environment) with the venv first on PATH, as after
        `source bin/activate`, and no PYTHONPATH that could put this checkout on sys.path."""
        env = {k: v for k, v in (os.environ if base is None else base).items() if k != "PYTHONPATH"}
        env.update(PATH=f"{self.bin}:{env.get('PATH', '')}", VIRTUAL_ENV=str(self.venv))
        return env

    def command(self, args: list[str]) -> list[str]:
        """`args` with its program taken from the venv (`dockstage`, `nox`, `invoke`, `django-admin`, `python`)."""
        return [str(self.bin / args[0]), *args[1:]]

    def call(
        self, args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 1800
    ) -> subprocess.CompletedProcess[str]:
        """Run a venv program in `cwd` (a project outside this repository); its result, unchecked."""
        assert not cwd.resolve().is_relative_to(ROOT), f"{cwd} is inside the repository"
        return subprocess.run(
            self.command(args),
            cwd=cwd,
            env=self.environ(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def run(self, args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 1800) -> str:
        """As `call`, the test failing with the output's tail when the command fails; its stdout + stderr."""
        done = self.call(args, cwd, env, timeout)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{output[-6000:]}"
        return output


def make_wheel_env(where: Path) -> WheelEnv:
    """Build the distributions under `where`, make the venv there and install the wheel (+ Django);
    check from a directory outside the repository that the venv imports its own copy."""
    seconds: dict[str, float] = {}
    started = time.monotonic()
    sdist, wheel = build_distributions(where / "build")
    seconds["sdist + wheel"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    venv.create(where / "venv", with_pip=True)
    python = where / "venv" / "bin" / "python"
    sh([python, "-m", "pip", "install", "-q", wheel, DJANGO], cwd=where, timeout=600)
    seconds["venv install"] = round(time.monotonic() - started, 1)
    outside = where / "outside"
    outside.mkdir()
    probe = "import json, dockstage, nox, invoke; print(json.dumps([m.__file__ for m in (dockstage, nox, invoke)]))"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    files = [Path(f) for f in json.loads(sh([python, "-c", probe], cwd=outside, env=env))]
    for file in files:  # the wheel's package and its dependencies, all from the venv
        assert file.is_relative_to(where / "venv") and "site-packages" in file.parts, files
    package = files[0].parent
    direct = json.loads(next(package.parent.glob("dockstage-*.dist-info")).joinpath("direct_url.json").read_text())
    assert not direct.get("dir_info", {}).get("editable", False), direct
    for script in ("dockstage", "nox", "invoke", "django-admin"):  # their shebangs start the venv's Python
        assert str(python) in (where / "venv" / "bin" / script).read_text()[:400], script
    return WheelEnv(where / "venv", sdist, wheel, package, seconds)


@pytest.fixture(scope="session")
def wheel_env(tmp_path_factory: pytest.TempPathFactory) -> WheelEnv:
    """One venv per test session with the installed wheel, nox, invoke and Django (see the module)."""
    where = tmp_path_factory.mktemp("wheel-env")
    assert not where.resolve().is_relative_to(ROOT)
    return make_wheel_env(where)
