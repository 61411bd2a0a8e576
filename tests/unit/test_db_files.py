"""db-restore refuses files before anything touches the database."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from dockstage.core.errors import DatabaseError
from dockstage.stack import db

DUMP = b"-- MariaDB dump 10.19\nCREATE TABLE t (x int);\nINSERT INTO t VALUES (1);\n-- Dump completed on 2026-11-24\n"


def test_accepts_plain_and_gzip(tmp_path: Path) -> None:
    plain, packed = tmp_path / "a.sql", tmp_path / "a.sql.gz"
    plain.write_bytes(DUMP)
    packed.write_bytes(gzip.compress(DUMP))
    assert db.read_dump(plain) == DUMP
    assert db.read_dump(packed) == DUMP


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        (DUMP[:-40], "is truncated"),
        (b"hello, not sql\n-- Dump completed\n", "is not a MySQL/MariaDB dump"),
        (b"\x1f\x8b\x08garbage", "is a damaged gzip file"),
        (b"-- MySQL dump\n\xff\xfe\n-- Dump completed\n", "is not valid UTF-8"),
    ],
    ids=["missing", "truncated", "not-sql", "bad-gzip", "not-utf8"],
)
def test_refuses_bad_files(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "dump.sql"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DatabaseError, match=message):
        db.read_dump(path)
