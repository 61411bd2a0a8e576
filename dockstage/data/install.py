"""Build helper (dev and test stages): install one requirement set into a venv with uv.

`python3 install.py VENV SETDIR`: SETDIR holds the set's requirement files as the project has them
(dockstage stages them, includes too) and `args`, uv's arguments one per line. When uv finds no
solution because of the Python version, the last line says which version to set.
"""

import re
import subprocess
import sys
from pathlib import Path

PYTHON_CONFLICT = re.compile(
    r"current Python version \(([\d.]+)\) does not satisfy Python\s*([<>=!~][^\s,]+(?:,\s*[<>=!~][^\s,]+)*)"
)


def main(venv: str, setdir: str) -> int:
    args = [line for line in Path(setdir, "args").read_text(encoding="utf-8").splitlines() if line]
    if not args:
        print(f"dockstage: no requirements for {Path(setdir).name}")
        return 0
    command = ["/opt/uv/bin/uv", "pip", "install", "-q", "--python", f"{venv}/bin/python", *args]
    result = subprocess.run(command, cwd=setdir, stderr=subprocess.PIPE, text=True, check=False)
    sys.stderr.write(result.stderr)
    if result.returncode:
        conflict = PYTHON_CONFLICT.search(result.stderr)
        if conflict:
            have, needs = conflict.groups()
            print(
                f"dockstage: a requirement needs Python {needs} and this base image has {have}: set "
                f'python = "{needs}" in [tool.dockstage] (the trixie stand-ins have 3.13; official bases any version)',
                file=sys.stderr,
            )
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
