"""runtimelibs.py: the Debian packages a venv's compiled code loads, named by this system's dpkg."""

from __future__ import annotations

import glob
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import dockstage

HELPER = Path(dockstage.__file__).parent / "data" / "runtimelibs.py"
SYSTEM_BZ2 = sorted(glob.glob("/usr/lib/python3*/lib-dynload/_bz2.*.so"))
needs_dpkg = pytest.mark.skipif(
    not (shutil.which("dpkg") and shutil.which("ldd") and SYSTEM_BZ2), reason="needs a Debian system's dpkg and ldd"
)


def _run(venv: Path, apt_build: str = "") -> list[str]:
    out = subprocess.run(
        [sys.executable, str(HELPER), str(venv), apt_build], capture_output=True, text=True, check=True
    )
    return out.stdout.split()


@needs_dpkg
def test_an_extension_module_brings_the_package_of_the_library_it_links(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "python3" / "site-packages"
    site.mkdir(parents=True)
    shutil.copy(SYSTEM_BZ2[0], site)
    packages = _run(tmp_path)
    assert any(name.startswith("libbz2") for name in packages), packages
    assert not [name for name in packages if name.endswith("-dev")]


@needs_dpkg
def test_a_library_bundled_in_the_venv_is_its_own(tmp_path: Path) -> None:
    bundled = tmp_path / "lib" / "pkg.libs"
    bundled.mkdir(parents=True)
    linked = subprocess.run(["ldd", SYSTEM_BZ2[0]], capture_output=True, text=True).stdout
    libbz2 = next(line.split("=>")[1].split("(")[0].strip() for line in linked.splitlines() if "libbz2" in line)
    shutil.copy(Path(libbz2).resolve(), bundled / "libbz2-bundled.so.1")
    assert not [name for name in _run(tmp_path) if name.startswith("libbz2")]


@needs_dpkg
def test_an_apt_build_package_brings_the_library_behind_its_so_link(tmp_path: Path) -> None:
    installed = subprocess.run(["dpkg-query", "-W", "-f=${Package}\\n", "libbz2-dev"], capture_output=True, text=True)
    if installed.returncode != 0:
        pytest.skip("libbz2-dev is not installed here")
    assert any(name.startswith("libbz2") for name in _run(tmp_path, "libbz2-dev"))
    assert _run(tmp_path, "") == []
    runtime = next(name for name in _run(tmp_path, "libbz2-dev") if name.startswith("libbz2"))
    assert _run(tmp_path, runtime) == [runtime]  # a library package named itself: what cffi opens
