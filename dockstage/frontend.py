"""Shared by noxfile.py and tasks.py: load settings once, turn DockstageError into one line."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from dockstage import config
from dockstage.config import Settings
from dockstage.errors import DockstageError

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
DEBUG = os.environ.get("DOCKSTAGE_DEBUG", "") not in ("", "0")

# python-on-whales logs every docker argv at DEBUG; show it only when asked (DOCKSTAGE_DEBUG=1).
logging.getLogger("python_on_whales").setLevel(logging.DEBUG if DEBUG else logging.WARNING)


def settings(**overrides: object) -> Settings:
    """Settings for the checkout this package lives in, with explicit overrides."""
    given = {key: value for key, value in overrides.items() if value is not None}
    loaded = config.load(ROOT)
    return loaded.with_(**given) if given else loaded


def attempt(action: Callable[[], T], fail: Callable[[str, int], object]) -> T:
    """Run a core call; on a user-caused error call fail(one line, exit code) (which must raise)."""
    try:
        return action()
    except DockstageError as exc:
        if DEBUG and exc.detail:
            print(exc.detail, file=sys.stderr)
        fail(exc.one_line(), exc.return_code)
        raise AssertionError("fail() must raise") from exc
