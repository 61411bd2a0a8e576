"""Build helper (stage): collectstatic, then the project's build commands (`manage.py compress`...).

The settings import with placeholder values under the app's own environment names (BUILD_ENV,
JSON): nothing connects to a database here and no real secret is used. COLLECTSTATIC=true runs
collectstatic first; BUILD_COMMANDS is a JSON list of argv lists.
"""

import json
import os
import shlex
import subprocess
import sys


def main() -> int:
    env = {**os.environ, **json.loads(os.environ.get("BUILD_ENV", "{}"))}
    commands = [list(c) for c in json.loads(os.environ.get("BUILD_COMMANDS", "[]"))]
    if os.environ.get("COLLECTSTATIC", "true") == "true":
        commands.insert(0, ["python", "manage.py", "collectstatic", "--noinput", "-v", "0"])
    for command in commands:
        print(f"dockstage: {shlex.join(command)}", flush=True)
        code = subprocess.run(command, env=env, check=False).returncode
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
