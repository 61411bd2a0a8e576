"""Secrets handed over as files, read into the variables the app reads (every Python process of
the image: gunicorn, manage.py, the workers).

A swarm deploy gives each secret as a file and the service <NAME>_FILE=/run/secrets/<key> in place
of <NAME> (no secret in a service's spec); DOCKSTAGE_SECRET_FILES lists those NAMEs. A project
that reads os.environ["SECRET_KEY"] then finds it, as the official images' `file_env` does for
their own variables: the file's text without its trailing newlines, a value already set wins.
Then the sitecustomize this one shadows on sys.path (Debian's apport hook), if any, runs too.
"""

import importlib.machinery
import importlib.util
import os
import sys


def _secret_files() -> None:
    for name in filter(None, (n.strip() for n in os.environ.get("DOCKSTAGE_SECRET_FILES", "").split(","))):
        path = os.environ.get(f"{name}_FILE", "")
        if name in os.environ or not path:
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                os.environ[name] = handle.read().rstrip("\r\n")
        except OSError as exc:
            sys.exit(f"dockstage: {name}_FILE={path!r} cannot be read ({exc.strerror}): is the secret attached?")


def _shadowed() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - as site.py does: a hook that fails is reported, not fatal
            print(f"Error in sitecustomize {spec.origin}: {exc!r}", file=sys.stderr)


_secret_files()
_shadowed()
