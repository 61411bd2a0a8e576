"""Build helper (stage): collectstatic, then the project's build commands (`manage.py compress`...).

The settings import with placeholder values under the app's own environment names (BUILD_ENV,
JSON): nothing connects to a database here and no real secret is used. COLLECTSTATIC=true runs
collectstatic first; BUILD_COMMANDS is a JSON list of argv lists.

A step failing on a module the prune left out (PRUNED, the list prune.py wrote) says which path:
one `dockstage: error: ...; fix: ...` line, which the suite's build error shows as its own.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

PRUNED = Path("/usr/local/share/dockstage/pruned.txt")
_NO_MODULE = re.compile(r"No module named '([\w.]+)'")


def pruned_cause(output: str, pruned: list[str]) -> str:
    """The left-out path behind a `No module named` in `output` ('' when none is)."""
    for module in reversed(_NO_MODULE.findall(output)):
        path = module.replace(".", "/")
        for left_out in pruned:
            if f"{path}/".startswith(left_out.rstrip("/") + "/") or left_out in (f"{path}.py", f"{path}/"):
                return f"No module named {module!r}: the prune left out {left_out}"
    return ""


def main() -> int:
    env = {**os.environ, **json.loads(os.environ.get("BUILD_ENV", "{}"))}
    commands = [list(c) for c in json.loads(os.environ.get("BUILD_COMMANDS", "[]"))]
    if os.environ.get("COLLECTSTATIC", "true") == "true":
        commands.insert(0, ["python", "manage.py", "collectstatic", "--noinput", "-v", "0"])
    for command in commands:
        print(f"dockstage: {shlex.join(command)}", flush=True)
        done = subprocess.run(command, env=env, check=False, stderr=subprocess.PIPE, text=True)
        sys.stderr.write(done.stderr)
        code = done.returncode
        cause = pruned_cause(done.stderr, PRUNED.read_text().split() if PRUNED.is_file() else []) if code else ""
        if cause:
            print(
                f"dockstage: error: `{shlex.join(command)}` failed at build time: {cause}; "
                f"fix: take the pattern matching {cause.rsplit(' ', 1)[-1]} out of prod-exclude in [tool.dockstage]",
                file=sys.stderr,
            )
            return code
        if code:
            print(
                f"dockstage: `{shlex.join(command)}` failed (exit {code}) at build time: fix the app, or "
                "collectstatic / build-commands in [tool.dockstage]",
                file=sys.stderr,
            )
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
