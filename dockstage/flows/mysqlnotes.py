"""What MySQL refuses and SQLite lets pass: the app's failed tests whose failure says so, counted.

A project moving its tests from SQLite to the suite's MySQL meets these first (fair_scoring_site:
15 tests stopped on fixtures whose titles are longer than their column; programer-orest's todo
list: tests that expect the first row of each test to have id 1). Each code is MySQL's own error
number, as MySQLdb raises it: `(1406, "Data too long for column 'title' at row 1")`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
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
IDS = (
    "an id compared with a number: InnoDB does not roll its AUTO_INCREMENT back with each test's transaction, "
    "so ids do not start at 1 again in every test as on SQLite; compare with the object's own pk "
    "(or set reset_sequences = True on a TransactionTestCase)"
)

_ERROR = re.compile(r"\((\d{4}),\s*[\"']")
_NUMBERS_DIFFER = re.compile(r"AssertionError: '?\d+'? != '?\d+'?|\bassert \d+ == \d+")
_AN_ID = re.compile(r"(?:\b|_)(?:id|pk)\b")
_UNITTEST_BLOCK = re.compile(r"^={20,}\n(?=(?:FAIL|ERROR): )", re.MULTILINE)


def differences(failed: Iterable[str]) -> list[str]:
    """One line per known difference from SQLite the failed tests (their texts: `failures`) hit: how
    many tests, what it means; most tests first."""
    return count_lines([line for line in _said(text) if line != KEY_WITH_TABLE] for text in failed)


def standin_differences(failed: Iterable[str]) -> list[str]:
    """As differences(), for what the MariaDB stand-in does unlike MySQL 8."""
    return count_lines([line for line in _said(text) if line == KEY_WITH_TABLE] for text in failed)


KEY_WITH_TABLE = (
    "MySQL error 1062's words: MySQL 8 names the key with its table ('bank_bank.code'), MariaDB without it "
    "('code'), and the tests compare MySQL 8's words: on the official mysql image (the official flavour) they "
    "pass; or compare the key's own name"
)
_EXPECTED_TABLE_KEY = re.compile(r"AssertionError: [^\n]*?(\w+)\.(\w+)[\\'\"]* not found in ([^\n]*)")


def _key_with_table(text: str) -> bool:
    """A test that expects MySQL 8's duplicate-key message ("for key 'bank_bank.code'") and got
    MariaDB's ("for key 'code'"): edgardoalz/docker-django's assertRaisesMessage on unique fields."""
    for found in _EXPECTED_TABLE_KEY.finditer(text):
        key, actual = found.group(2), found.group(3)
        if "1062" in actual and re.search(r"for key \\?'" + re.escape(key), actual):
            return True
    return False


def _said(text: str) -> list[str]:
    if _key_with_table(text):  # the duplicate was the test's own: only the words differ
        return [KEY_WITH_TABLE]
    codes = sorted({int(code) for code in _ERROR.findall(text)} & KNOWN.keys())
    said = [f"MySQL error {code}, {KNOWN[code]}" for code in codes]
    if _NUMBERS_DIFFER.search(text) and _AN_ID.search(text):
        said.append(IDS)
    return said


def count_lines(per_test: Iterable[list[str]]) -> list[str]:
    """'N tests: line' for each line the tests' failures said, most tests first."""
    found: dict[str, int] = {}
    for said in per_test:
        for line in said:
            found[line] = found.get(line, 0) + 1
    ordered = sorted(found.items(), key=lambda item: -item[1])
    return [f"{count} test{'s' * (count != 1)}: {line}" for line, count in ordered]


def failures(report: Path, output: str = "") -> list[str]:
    """The text of each failed test: from the junit `report`'s failures, or, when it holds no test
    cases (a runner such as `manage.py test`, whose report has the counts only), from the runner's
    `output`."""
    try:
        root = ET.parse(report).getroot()  # noqa: S314 - written by our own test run in the test image
    except (OSError, ET.ParseError):
        root = None
    cases = list(root.iter("testcase")) if root is not None else []
    if not cases:  # unittest's blocks: "=====\nFAIL: test (...)\n-----\nTraceback ... AssertionError: 3 != 1"
        return _UNITTEST_BLOCK.split(output)[1:]
    return [
        " ".join(f"{part.get('message', '')} {part.text or ''}" for part in case if part.tag in ("failure", "error"))
        for case in cases
        if any(part.tag in ("failure", "error") for part in case)
    ]
