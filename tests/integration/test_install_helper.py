"""The dev stage's install helper (dockstage/data/install.py) with real uv and the real package
index, on the host: what a build does when a package's old setup.py meets today's setuptools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockstage.core import cabundle
from tests.unit.test_adopt_helpers import helper

pytestmark = [pytest.mark.integration]

OLD_SETUP = """\
from setuptools import convert_path, setup  # convert_path: gone in setuptools 70 (django-allauth 0.42)

setup(name="oldpkg", version="1.0", py_modules=["oldpkg"], package_dir={"": convert_path(".")})
"""


def test_an_old_setup_py_is_built_again_with_the_setuptools_it_was_written_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Hopetree/izone's django-allauth 0.42: its build environment got the newest setuptools, which
    has no convert_path; the helper says so and installs the set again with setuptools<70."""
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if not uv:
        pytest.skip("uv is not installed here (the test extra installs it)")
    package = tmp_path / "oldpkg"
    package.mkdir()
    (package / "setup.py").write_text(OLD_SETUP)
    (package / "oldpkg.py").write_text("VALUE = 42\n")
    setdir = tmp_path / "runtime"
    setdir.mkdir()
    (setdir / "args").write_text(f"oldpkg @ {package.as_uri()}\n")
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, timeout=120)
    bundle = cabundle.find(os.environ)  # uv reads no pip config: the CA bundle pip uses, as the build hands it
    if bundle:
        monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))  # builds from the index, not a warm cache
    install = helper("install")
    monkeypatch.setattr(install, "UV", uv)
    assert install.main(str(venv), str(setdir)) == 0
    said = capfd.readouterr()
    told = [line for line in said.out.splitlines() if "which setuptools 70 removed" in line]
    assert len(told) == 1 and told[0].startswith(f"dockstage: oldpkg @ {package.as_uri()}"), said.out + said.err
    assert told[0].endswith("'s build uses convert_path, which setuptools 70 removed: building the set's "
                            "sources again with setuptools<70")  # fmt: skip
    assert (setdir / "build-constraints.txt").read_text() == "setuptools<70\n"
    imported = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import oldpkg; print(oldpkg.VALUE)"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert imported.stdout.strip() == "42", imported.stderr
