"""The project's own Python files, read once each for what init looks for in their text."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_FILES = 5000  # a project's own code; a vendored tree beyond that is not read
MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class Use:
    """One place a pattern matched: the file (relative to the project root), its line, the match's
    first group (or the whole match)."""

    path: str
    line: int
    text: str


def matches(root: Path, app: Path, skip: set[str], pattern: re.Pattern[str]) -> Iterator[Use]:
    """Where `pattern` matches in the .py files under `app`, in path order; dirs named in `skip`
    (virtualenvs, node_modules, .git) are not entered, and at most MAX_FILES files of at most
    MAX_BYTES are read."""
    read = 0
    for top, dirs, files in os.walk(app):
        dirs[:] = sorted(d for d in dirs if d not in skip)
        for name in sorted(files):
            if not name.endswith(".py") or read >= MAX_FILES:
                continue
            path = Path(top, name)
            read += 1
            try:
                if path.stat().st_size > MAX_BYTES:
                    continue
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                yield Use(path.relative_to(root).as_posix(), line, match.group(1) if pattern.groups else match.group(0))
