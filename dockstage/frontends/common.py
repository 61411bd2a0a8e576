"""What both front-ends share: one run per command, and one way from an error to an exit."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import tomllib
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NoReturn, TextIO, TypeVar

import pydantic
from python_on_whales.exceptions import DockerException

from dockstage.core import config
from dockstage.core.errors import DockstageError, Unexpected, docker_action, from_docker, redact
from dockstage.flows.run import Run

T = TypeVar("T")

INVOKE_TASKS = (
    "dev", "watch", "up", "down", "ps", "logs", "build", "test", "smoke", "shell", "manage", "migrate", "makemigrations",
    "db_shell", "db_dump", "db_restore", "clean", "doctor", "bases",
    "registry", "release", "sbom", "deploy", "rollback", "stack_ps", "stack_logs", "undeploy",
)  # fmt: skip
"""Every invoke task, by its Python name (`db_dump` is `invoke db-dump`)."""
INVOKE_COMMANDS: Mapping[str, str] = MappingProxyType(
    {name: f"invoke {name.replace('_', '-')}" for name in INVOKE_TASKS}
)
NOX_COMMANDS: Mapping[str, str] = MappingProxyType(
    {
        **INVOKE_COMMANDS,  # what only invoke does (the stack, the database, the swarm), nox users run too
        "build": "nox -s build_prod",
        "bases": "nox -s bases",
        "doctor": "nox -s doctor",
        "test": "nox -s test_image",
        "smoke": "nox -s smoke_prod",
    }
)
"""The command a fix names, per front-end: `{build}` in a fix becomes one of these, `{db_dump}`
`invoke db-dump` under both (errors.DockstageError.one_line)."""

PARSE_ERRORS: Mapping[type[Exception], str] = MappingProxyType(
    {
        ET.ParseError: "reading an XML report",
        json.JSONDecodeError: "reading JSON",
        pydantic.ValidationError: "reading docker's answer",  # python-on-whales' models of it
        tomllib.TOMLDecodeError: "reading TOML",
    }
)
"""Parse failures the last resort in `execute` turns into one line, and what was being done."""


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler writing to sys.stderr as it is when a line is logged (not as it was when the
    handler was made: a stream swapped since, by a test runner's capture, may be closed)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: object) -> None:
        pass  # StreamHandler.__init__ and setStream assign it: always sys.stderr here


def configure_logging(debug: bool) -> None:
    """Debug lines (dockstage's and python-on-whales' docker argv) on stderr, only when asked."""
    if not debug:
        for name in ("dockstage", "python_on_whales"):
            logging.getLogger(name).setLevel(logging.WARNING)
        return
    handler = _Stderr()
    handler.setFormatter(logging.Formatter("debug %(name)s: %(message)s  [%(relativeCreated).0f ms]"))
    for name in ("dockstage", "python_on_whales"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False  # nox's own root handler would print each line twice
        if not logger.handlers:
            logger.addHandler(handler)


def execute(
    root: Path,
    commands: Mapping[str, str],
    fail: Callable[[str, int], NoReturn],
    action: Callable[[Run], T],
    **overrides: object,
) -> T:
    """Load the settings, open the command's one Run, run `action` on it; a user-caused error
    becomes one line (no secret in it) and the exit status of the README's table.

    The last resort: a docker call no call site translated, or a parse error, is translated here,
    so neither ever ends in a traceback (DOCKSTAGE_DEBUG=1 shows what happened, secrets masked)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    if threading.current_thread() is threading.main_thread():
        # A stopped command (SIGTERM, e.g. `invoke logs --follow` ended by a supervisor) still
        # tears down and removes the files it generated, secrets included.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    secrets: list[str] = []
    debug = False
    try:
        settings = config.load(root, None, **given)
        debug = settings.debug
        configure_logging(debug)
        with Run.open(settings, commands) as run:
            try:
                return action(run)
            finally:
                secrets = run.secrets()
    except DockstageError as exc:
        error = exc
    # The last resort: what escaped every call site's translation (each such escape is a gap to close there).
    except DockerException as exc:
        error = from_docker(exc, f"`{docker_action(exc)}`", unforeseen=True)
    except tuple(PARSE_ERRORS) as exc:
        what = next(what for kind, what in PARSE_ERRORS.items() if isinstance(exc, kind))
        error = Unexpected(what, traceback.format_exc())
    if debug and error.detail:
        print(redact(error.detail, secrets), file=sys.stderr)
    fail(redact(error.one_line(commands), secrets), error.return_code)
