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


ROUTINES = """-- MySQL dump 10.13
SET @@SESSION.SQL_LOG_BIN= 0;
SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5';
INSERT INTO `t` VALUES ('DEFINER=`x`@`y` stays: it is data');
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`%`*/ /*!50003 TRIGGER `t_bi` BEFORE INSERT ON `t` FOR EACH ROW SET NEW.x = 1 */;;
CREATE DEFINER=`root`@`localhost` PROCEDURE `p`()
BEGIN SELECT 1; END ;;
DELIMITER ;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER='app'@'%' SQL SECURITY DEFINER */
/*!50001 VIEW `v` AS select 1 AS `one` */;
CREATE DEFINER = CURRENT_USER FUNCTION f() RETURNS INT RETURN 1;
-- Dump completed
"""


def test_plan_leaves_out_definers_and_gtid_lines_and_keeps_line_numbers() -> None:
    plan = db.plan_restore(ROUTINES, Path("dump.sql"))
    assert plan.definers == 4
    assert plan.removed == 2  # SQL_LOG_BIN and GTID_PURGED
    assert "SQL_LOG_BIN" not in plan.text and "GTID_PURGED" not in plan.text
    assert "DEFINER=`x`@`y` stays" in plan.text  # an INSERT's data is never rewritten
    assert "DEFINER=`root`" not in plan.text and "DEFINER='app'" not in plan.text and "CURRENT_USER" not in plan.text
    assert "SQL SECURITY DEFINER" in plan.text  # the view still runs with its owner's rights: the app user's
    assert plan.text.count("\n") == ROUTINES.count("\n")
    assert "/*!50003 TRIGGER `t_bi`" in plan.text and "PROCEDURE `p`()" in plan.text
