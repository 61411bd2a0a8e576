"""Code of a project that runs on PostgreSQL only, read from its text: `dockstage init` says so
before the build does (the suite's stacks run MySQL).

django.contrib.postgres' fields, lookups, aggregates and search, and pgvector's vector fields,
import a PostgreSQL driver and make columns and SQL MySQL has not: UCL/frrant's models import
StringAgg (its collectstatic stopped on the driver), Andrlu75/triz's import pgvector.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

_IMPORT = re.compile(r"^[ \t]*(?:from|import)[ \t]+(django\.contrib\.postgres(?:\.\w+)*|pgvector(?:\.\w+)*)\b", re.M)
MAX_FILES = 5000  # a project's own code; a vendored tree beyond that is not read
MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class Use:
    """One import of PostgreSQL-only code: where, and what."""

    path: str  # relative to the project root
    line: int
    module: str


def uses(root: Path, app: Path, skip: set[str]) -> list[Use]:
    """Every import of django.contrib.postgres or pgvector in the .py files under `app`, in path
    order; dirs named in `skip` (virtualenvs, node_modules, .git) are not entered."""
    found: list[Use] = []
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
            for match in _IMPORT.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(Use(path.relative_to(root).as_posix(), line, match.group(1)))
    return found


def note(found: list[Use]) -> str:
    """The init note for them ('' when there are none): the first place, how many more."""
    if not found:
        return ""
    first = found[0]
    files = len({use.path for use in found})
    more = f" (and {files - 1} more file{'s' * (files > 2)})" if files > 1 else ""
    return (
        f"PostgreSQL-only code: {first.path}:{first.line} imports {first.module}{more}; its fields, lookups "
        "and aggregates run on PostgreSQL only, and the suite's stacks run MySQL: their migrations or "
        "queries fail there (a driver it imports must be installed too). Use portable ones, or keep "
        "them behind a check of connection.vendor"
    )
