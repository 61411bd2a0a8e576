"""Failed tests that open a file by a path relative to where they were run, and the folder it is in.

The test image runs the tests from the app dir. A project whose own CI runs them from a folder
below it (encouragemint: `cd backend && python ../manage.py test`) has tests that open
`tests/unit_tests/.../plant_search_many_matches.json`: from the app dir that file is not there,
and 17 tests stopped on FileNotFoundError. The note names the folder, and the fix that works from
anywhere: a path made from the test file's own.
"""

from __future__ import annotations

import re
from pathlib import Path

_MISSING = re.compile(r"FileNotFoundError: \[Errno 2\] No such file or directory: '([^'/][^']*)'")
_SKIPPED = ("node_modules", "__pycache__", "site-packages")
DEPTH = 2  # folders below the app dir looked in


def _folder_holding(app_dir: Path, relative: str) -> str:
    """The folder under `app_dir` (at most DEPTH below it) that holds `relative`, or ''."""
    level = [app_dir]
    for _ in range(DEPTH):
        level = [
            sub
            for folder in level
            for sub in sorted(folder.iterdir())
            if sub.is_dir() and not sub.name.startswith(".") and sub.name not in _SKIPPED
        ]
        for folder in level:
            if (folder / relative).is_file():
                return folder.relative_to(app_dir).as_posix()
    return ""


def notes(failures: list[str], app_dir: Path) -> list[str]:
    """'N tests: ...' per folder the failed tests' relative paths are found under, most tests first."""
    tests: dict[str, int] = {}
    example: dict[str, str] = {}
    for text in failures:
        for relative in dict.fromkeys(_MISSING.findall(text)):
            folder = _folder_holding(app_dir, relative)
            if folder:
                tests[folder] = tests.get(folder, 0) + 1
                example.setdefault(folder, relative)
                break  # one per test: its first missing file says it
    return [
        f"{count} test{'s' * (count != 1)}: open files by paths relative to the working directory that are "
        f"under {folder}/ (e.g. {example[folder]}): the tests run from the app dir, and were written to run "
        f"from {folder}/; make such paths from the test file's own (Path(__file__).parent / ...)"
        for folder, count in sorted(tests.items(), key=lambda item: -item[1])
    ]
