"""What both front-ends share: one run per command, and one way from an error to an exit."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NoReturn, TypeVar

from dockstage.core import config
from dockstage.core.errors import DockstageError, redact
from dockstage.flows.run import Run

T = TypeVar("T")

NOX_COMMANDS: Mapping[str, str] = {
    "build": "nox -s build_prod",
    "bases": "nox -s bases",
    "doctor": "nox -s doctor",
    "up": "invoke up",
    "ps": "invoke ps",
    "logs": "invoke logs",
}
INVOKE_COMMANDS: Mapping[str, str] = {
    "build": "invoke build",
    "bases": "invoke bases",
    "doctor": "invoke doctor",
    "up": "invoke up",
    "ps": "invoke ps",
    "logs": "invoke logs",
}
"""The command a fix names, per front-end (`{build}` in a fix becomes one of these)."""


def configure_logging(debug: bool) -> None:
    """Debug lines (dockstage's and python-on-whales' docker argv) on stderr, only when asked."""
    if not debug:
        for name in ("dockstage", "python_on_whales"):
            logging.getLogger(name).setLevel(logging.WARNING)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("debug %(name)s: %(message)s"))
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
    becomes one line (no secret in it) and the exit status of the README's table."""
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
        with Run.open(settings) as run:
            try:
                return action(run)
            finally:
                secrets = run.secrets()
    except DockstageError as exc:
        if debug and exc.detail:
            print(redact(exc.detail, secrets), file=sys.stderr)
        fail(redact(exc.one_line(commands), secrets), exc.return_code)
