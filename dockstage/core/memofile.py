"""A memo of the state dir as one JSON object: read leniently, the newest entries kept.

The image checks' passes and the stages' build inputs are kept this way: a memo that is missing,
unreadable or not ours answers nothing (the work is done again), and one that cannot be written
is no error (the work is done again next time)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from dockstage.core import files
from dockstage.core.report import log


def read(path: Path) -> dict[str, object]:
    """The memo's entries, or {} when there is none yet or it is not a JSON object."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def keep(path: Path, key: str, value: object, kept: int, lock: threading.Lock) -> None:
    """Set `key` to `value` as the newest entry, the newest `kept` staying (`lock`: the memo's
    writers in this process, stages built or checked side by side)."""
    with lock:
        memo = {k: v for k, v in read(path).items() if k != key}
        memo[key] = value
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            files.write_private(path, json.dumps(dict(list(memo.items())[-kept:]), indent=1) + "\n")
        except OSError as exc:
            log.debug("memo not written to %s: %s", path, exc)
