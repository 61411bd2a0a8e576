"""The one door to the files the package ships (dockstage/data/), over importlib.resources.

Nothing in dockstage/ reaches a file through `__file__`: it asks here by one of the names below,
so the package works the same installed from a wheel, editable, or from a zip. Docker needs real
paths (build contexts, compose files, configs): an installed package's files are used where they
are; a resource that is not a real file (a zipped package) is copied out once and kept until the
process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import tempfile
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path

PACKAGE = "dockstage"
DATA = "data"
"""The folder of the package that holds every shipped file."""

SUPPORT = "."
"""The data folder itself: the build helpers, gunicorn config and healthcheck the Dockerfile copies."""
DOCKERFILE = "Dockerfile"
"""The multi-stage Dockerfile (dev, test, stage, prod); its ignore file is beside it."""
COMPOSE = "compose"
"""compose.yaml, its dev and test variants, the swarm override and the MySQL init scripts."""
SWARM_COMPOSE = "compose/compose.swarm.yaml"
"""The swarm override merged over compose.yaml for `docker stack deploy`."""
STANDINS = "standins"
"""Build context of the stand-in images built from Debian when no registry can be reached."""
PYTHON_STANDIN = "standins/python.Dockerfile"
MARIADB_STANDIN = "standins/mariadb.Dockerfile"
REDIS_STANDIN = "standins/redis.Dockerfile"
REGISTRY_STANDIN = "standins/registry.Dockerfile"
PROXY_STANDIN = "standins/proxy.Dockerfile"
PROXY_CONF = "standins/proxy-nginx.conf"
"""The swarm proxy's nginx configuration (a Docker config of the stack; the stand-in bakes it in too)."""

SERVED = (
    SUPPORT,
    DOCKERFILE,
    COMPOSE,
    SWARM_COMPOSE,
    STANDINS,
    PYTHON_STANDIN,
    MARIADB_STANDIN,
    REDIS_STANDIN,
    REGISTRY_STANDIN,
    PROXY_STANDIN,
    PROXY_CONF,
)
"""Every name the door serves (a unit test checks each one is in the wheel)."""

_KEPT = contextlib.ExitStack()
atexit.register(_KEPT.close)


def _find(name: str) -> Traversable:
    if name not in SERVED:
        raise ValueError(f"{name!r} is not a resource of dockstage (one of {', '.join(SERVED)})")
    item = resources.files(PACKAGE).joinpath(DATA)
    for part in name.split("/"):
        if part != ".":
            item = item.joinpath(part)
    return item


def _copy(item: Traversable, into: Path) -> Path:
    """`item` (a file or a folder, recursively) written under `into`."""
    target = into / item.name
    if item.is_dir():
        target.mkdir()
        for child in item.iterdir():
            _copy(child, target)
    else:
        target.write_bytes(item.read_bytes())
    return target


@functools.cache
def path(name: str) -> Path:
    """A real path of one shipped file or folder (`name`: one of SERVED)."""
    item = _find(name)
    if isinstance(item, Path):
        return item
    if item.is_dir():  # importlib.resources.as_file takes folders only from Python 3.12 on
        return _copy(item, Path(_KEPT.enter_context(tempfile.TemporaryDirectory(prefix="dockstage-data-"))))
    return _KEPT.enter_context(resources.as_file(item))


def version() -> str:
    """The installed dockstage's version (its distribution's metadata), e.g. for a pinned requirement."""
    return metadata.version(PACKAGE)


def build_context(dockerfile: str) -> tuple[Path, Path]:
    """The real folder holding a shipped Dockerfile (its build context) and the Dockerfile in it."""
    _find(dockerfile)  # a name the door serves
    folder, _, name = dockerfile.rpartition("/")
    context = path(folder or SUPPORT)
    return context, context / name
