"""What MySQL refuses and SQLite lets pass: the app's failed tests whose error says so, counted.

A project moving its tests from SQLite to the suite's MySQL meets these first (fair_scoring_site:
12 tests stopped on fixtures whose titles are longer than their column). Each code is MySQL's
own error number, as MySQLdb raises it: `(1406, "Data too long for column 'title' at row 1")`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

KNOWN: dict[int, str] = {
    1406: "a value longer than its column (SQLite never checks max_length): shorten the data, or raise max_length",
    1366: "a string the column's character set cannot hold (a table an old migration made utf8 or latin1)",
    1062: (
        "a duplicate in a unique column: MySQL's collation compares case-insensitively ('a' = 'A'), SQLite's does not"
    ),
    1452: "a foreign key to a row not there (yet): InnoDB checks it at once, SQLite at the transaction's end",
    1264: "a number beyond its column's range (MySQL's INT holds 32 bits, SQLite stores 64)",
    1071: "an index longer than MySQL allows (3072 bytes, 4 per utf8mb4 character): a unique CharField too long",
}
"""MySQL error number -> what it means here, and what to change."""

_ERROR = re.compile(r"\((\d{4}),\s*[\"']")


def differences(report: Path) -> list[str]:
    """One line per known MySQL error the failed tests of the junit `report` hit: how many tests,
    the error, what it means; most tests first. None when the report is missing or unreadable."""
    try:
        root = ET.parse(report).getroot()  # noqa: S314 - written by our own test run in the test image
    except (OSError, ET.ParseError):
        return []
    tests: dict[int, int] = {}
    for case in root.iter("testcase"):
        text = " ".join(
            f"{part.get('message', '')} {part.text or ''}" for part in case if part.tag in ("failure", "error")
        )
        for code in {int(found) for found in _ERROR.findall(text)} & KNOWN.keys():
            tests[code] = tests.get(code, 0) + 1
    ordered = sorted(tests.items(), key=lambda item: (-item[1], item[0]))
    return [f"{count} test{'s' * (count != 1)}: MySQL error {code}, {KNOWN[code]}" for code, count in ordered]
