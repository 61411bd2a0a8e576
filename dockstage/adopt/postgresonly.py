"""Code of a project that runs on PostgreSQL only, read from its text: `dockstage init` says so
before the build does (the suite's stacks run MySQL).

django.contrib.postgres' fields, lookups, aggregates and search, and pgvector's vector fields,
import a PostgreSQL driver and make columns and SQL MySQL has not: UCL/frrant's models import
StringAgg (its collectstatic stopped on the driver), Andrlu75/triz's import pgvector.
"""

from __future__ import annotations

import re
from pathlib import Path

from dockstage.adopt.sourcewalk import Use, matches

_IMPORT = re.compile(r"^[ \t]*(?:from|import)[ \t]+(django\.contrib\.postgres(?:\.\w+)*|pgvector(?:\.\w+)*)\b", re.M)


def uses(root: Path, app: Path, skip: set[str]) -> list[Use]:
    """Every import of django.contrib.postgres or pgvector in the .py files under `app` (sourcewalk)."""
    return list(matches(root, app, skip, _IMPORT))


def note(found: list[Use]) -> str:
    """The init note for them ('' when there are none): the first place, how many more."""
    if not found:
        return ""
    first = found[0]
    files = len({use.path for use in found})
    more = f" (and {files - 1} more file{'s' * (files > 2)})" if files > 1 else ""
    return (
        f"PostgreSQL-only code: {first.path}:{first.line} imports {first.text}{more}; its fields, lookups "
        "and aggregates run on PostgreSQL only, and the suite's stacks run MySQL: their migrations or "
        "queries fail there (a driver it imports must be installed too). Use portable ones, or keep "
        "them behind a check of connection.vendor"
    )
