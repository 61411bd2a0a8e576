"""The Debian packages stage needs so the runtime venv's compiled code loads (runs in dev).

`python3 runtimelibs.py VENV "APT_BUILD"` prints one package name per line, sorted:
- the owners of every system library an extension module in VENV links to (ldd), and
- the owners of the libraries of each apt-build package, links resolved (what a module loads by
  name through ctypes or cffi, e.g. python-magic's libmagic, weasyprint's pango, never shows in ldd).
Names come from this image's dpkg, so they fit the Debian release stage is built from
(libldap-2.5-0 on bookworm, libldap2 on trixie). Libraries a wheel bundles are its own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def _linked(venv: Path) -> set[str]:
    """The system libraries the venv's extension modules link to (resolved paths)."""
    modules = [str(p) for p in venv.rglob("*.so*") if p.is_file() and not p.is_symlink()]
    found: set[str] = set()
    for start in range(0, len(modules), 200):
        out = subprocess.run(["ldd", *modules[start : start + 200]], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split("=>")
            if len(parts) == 2 and parts[1].strip().startswith("/"):
                path = os.path.realpath(parts[1].split("(")[0].strip())
                if not path.startswith(str(venv)):
                    found.add(path)
    return found


_LIBRARY = re.compile(r"/lib[^/]*\.so(\.\d+)*$")


def _dev_links(packages: list[str]) -> set[str]:
    """The shared libraries of the given (installed) packages, links resolved: a -dev package's
    `libfoo.so` leads to the runtime package's file; a library package named in apt-build (what
    weasyprint opens through cffi) is its own."""
    found: set[str] = set()
    for package in packages:
        listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True).stdout
        for line in listing.splitlines():
            if _LIBRARY.search(line) and os.path.exists(line):
                found.add(os.path.realpath(line))
    return found


def _owners(paths: set[str]) -> set[str]:
    """The packages that own `paths` (dpkg may know a file under /lib or /usr/lib: both asked)."""
    asked = sorted({variant for p in paths for variant in (p, p.removeprefix("/usr"), "/usr" + p)})
    if not asked:
        return set()
    out = subprocess.run(["dpkg", "-S", *asked], capture_output=True, text=True).stdout
    owners = set()
    for line in out.splitlines():
        head = line.split(": ", 1)[0]
        for name in head.split(", "):
            owners.add(name.split(":")[0].strip())
    return {name for name in owners if name and not name.endswith("-dev")}


def main(argv: list[str]) -> int:
    venv = Path(argv[1])
    apt_build = argv[2].split() if len(argv) > 2 else []
    for name in sorted(_owners(_linked(venv) | _dev_links(apt_build))):
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
