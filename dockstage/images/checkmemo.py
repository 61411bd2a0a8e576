"""The image checks an unchanged image has passed: a warm pipeline does not run them again.

A check's verdict is a function of the image, of what the suite hands the check's container (the
app's placeholder environment, its tmpfs paths, the deploy-check level, the test tools its
requirements ask for) and of the checks' own code; the memo's key holds all of them. Only passes
are kept: a failing image is checked again every time. The memo is a file of the state dir
(MEMO_FILE); removing it runs every check again.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from dockstage.core import memofile, resources
from dockstage.core.report import log

MEMO_FILE = "image-checks.json"
KEPT = 40  # the newest passes kept: a few images of each stage, across branches
_WRITING = threading.Lock()  # stages checked side by side write the one file


@functools.cache
def _code() -> str:
    """A digest of the checks' own code (and of the installed version): a changed check is not
    answered by an old verdict, also while the suite itself is being worked on."""
    from dockstage.images import buildfiles, imagechecks

    digest = hashlib.sha256(resources.version().encode("utf-8"))
    for module in (imagechecks, buildfiles, sys.modules[__name__]):
        try:
            digest.update(inspect.getsource(module).encode("utf-8"))
        except (OSError, TypeError):  # no source shipped (a compiled-only install): the version says it
            log.debug("no source of %s for the image checks' memo key", module.__name__)
    return digest.hexdigest()


def key(image_id: str, stage: str, inputs: Mapping[str, object]) -> str:
    """The memo key of one stage's checks on one image with these inputs."""
    text = json.dumps({"image": image_id, "stage": stage, "inputs": inputs, "code": _code()}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def recall(state_dir: Path, memo_key: str) -> list[str] | None:
    """The lines of a pass kept under `memo_key`, or None (never checked with these inputs)."""
    lines = memofile.read(state_dir / MEMO_FILE).get(memo_key)
    return lines if isinstance(lines, list) and all(isinstance(line, str) for line in lines) else None


def keep(state_dir: Path, memo_key: str, lines: list[str]) -> None:
    """Remember a pass (the newest KEPT stay)."""
    memofile.keep(state_dir / MEMO_FILE, memo_key, lines, KEPT, _WRITING)
