"""How db-restore reads a dump before any server sees it: the statements that choose a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockstage.core.errors import DatabaseError
from dockstage.stack import db

MYSQLDUMP_HEAD = """-- MySQL dump 10.13  Distrib 8.4.3, for Linux (x86_64)
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
--
-- Current Database: `app`
--

/*!40000 DROP DATABASE IF EXISTS `app`*/;

CREATE DATABASE /*!32312 IF NOT EXISTS*/ `app` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci */ /*!80016 DEFAULT ENCRYPTION='N' */;

USE `app`;
INSERT INTO `notes_note` VALUES (1,'USE `other`; it\\'s -- not a comment','x'),(2,"/* nor this; */",'y');
-- USE `commented`;
# USE `commented`;
/* USE `commented`; */
DELIMITER ;;
ALTER DATABASE `app` CHARACTER SET latin1 COLLATE latin1_swedish_ci ;;
/*!50003 CREATE*/ /*!50020 DEFINER=`root`@`%`*/ /*!50003 PROCEDURE `p`() BEGIN SELECT 1; USE_ME: LOOP LEAVE USE_ME; END LOOP; END */;;
DELIMITER ;
ALTER DATABASE CHARACTER SET utf8mb4;
-- Dump completed on 2026-12-02 10:00:00
"""


def test_plan_takes_out_what_chooses_a_database_and_keeps_line_numbers() -> None:
    plan = db.plan_restore(MYSQLDUMP_HEAD, Path("dump.sql"))
    assert plan.databases == ("app",)
    assert plan.removed == 4  # DROP DATABASE, CREATE DATABASE, USE, the named ALTER DATABASE
    assert plan.text.count("\n") == MYSQLDUMP_HEAD.count("\n")
    assert "DROP DATABASE" not in plan.text and "CREATE DATABASE" not in plan.text
    assert "\nUSE `app`;" not in plan.text
    assert "ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci;;" in plan.text  # now the current one
    for kept in ("USE `other`; it", "-- USE `commented`;", "# USE `commented`;", "/* USE `commented`; */", "USE_ME"):
        assert kept in plan.text, kept


@pytest.mark.parametrize(
    "extra",
    [
        "USE other;\n",
        "use `other`;\n",
        "/*!40000 DROP DATABASE IF EXISTS `other`*/;\n",
        "CREATE SCHEMA IF NOT EXISTS other;\n",
        "DELIMITER //\nUSE other//\nDELIMITER ;\n",
    ],
)
def test_plan_refuses_a_second_database(extra: str) -> None:
    text = MYSQLDUMP_HEAD.replace("-- Dump completed", extra + "-- Dump completed")
    with pytest.raises(DatabaseError, match=r"holds 2 databases \(`app`, `other`\); the live database was not touched"):
        db.plan_restore(text, Path("dump.sql"))
