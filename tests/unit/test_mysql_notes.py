"""The failed tests whose MySQL error SQLite would not have raised, counted from the junit report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dockstage.core import errors, resources
from dockstage.flows import mysqlnotes, pipeline, workdirnote

REPORT = """\
<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="3" skipped="0" tests="5">
<testcase classname="apps.fair_projects.tests.TestResultsPage" name="test_no_link" time="0.1">
<error message="failed on setup with &quot;django.db.utils.DataError: Problem installing fixture
'/app/apps/fair_projects/fixtures/projects_small.json': Could not load fair_projects.Project(pk=1036):
(1406, &quot;Data too long for column 'title' at row 1&quot;)&quot;">traceback</error></testcase>
<testcase classname="apps.rubrics.tests.ChoiceTests" name="test_zero_weight" time="0.2">
<failure message="django.db.utils.DataError: (1406, &quot;Data too long for column 'key' at row 1&quot;)">
MySQLdb.DataError: (1406, "Data too long for column 'key' at row 1")</failure></testcase>
<testcase classname="accounts.tests.SignupTests" name="test_two_cases" time="0.1">
<failure message="IntegrityError">django.db.utils.IntegrityError: (1062, "Duplicate entry 'ann' for key 'username'")
</failure></testcase>
<testcase classname="accounts.tests.SignupTests" name="test_server_gone" time="0.1">
<failure message="OperationalError: (2013, 'Lost connection to server during query')">x</failure></testcase>
<testcase classname="accounts.tests.SignupTests" name="test_passes" time="0.1"/>
</testsuite></testsuites>
"""


def test_known_mysql_errors_are_counted_by_test_most_first(tmp_path: Path) -> None:
    report = tmp_path / "junit-app.xml"
    report.write_text(REPORT)
    assert mysqlnotes.differences(mysqlnotes.failures(report)) == [
        "2 tests: MySQL error 1406, a value longer than its column (SQLite never checks max_length): "
        "shorten the data, or raise max_length",
        "1 test: MySQL error 1062, a duplicate in a unique column: MySQL's collation compares "
        "case-insensitively ('a' = 'A'), SQLite's does not",
    ]  # 2013 (the server went away) is no SQLite difference: not said


def test_no_report_or_an_unreadable_one_says_nothing(tmp_path: Path) -> None:
    assert mysqlnotes.differences(mysqlnotes.failures(tmp_path / "missing.xml")) == []
    (tmp_path / "cut.xml").write_text(REPORT[:200])
    assert mysqlnotes.differences(mysqlnotes.failures(tmp_path / "cut.xml")) == []


UNITTEST_OUTPUT = """\
Creating test database for alias 'default'...
....F.....F.F
======================================================================
FAIL: test_login (accounts.tests.AccountsTests.test_login)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/app/accounts/tests.py", line 45, in test_login
    self.assertEqual(self.client.session["_auth_user_id"], "1")
AssertionError: '5' != '1'
- 5
+ 1


======================================================================
FAIL: test_get_todolist (api.tests.TodoListTests.test_get_todolist)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/app/api/tests.py", line 63, in test_get_todolist
    self.assertEqual(todolist_id, 1)
AssertionError: 3 != 1

======================================================================
FAIL: test_get_when_not_logged_in (api.tests.TodoListTests.test_get_when_not_logged_in)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/app/api/tests.py", line 80, in test_get_when_not_logged_in
    self.assertEqual(response.status_code, 200)
AssertionError: 404 != 200

----------------------------------------------------------------------
Ran 13 tests in 2.1s

FAILED (failures=3)
"""
"""programer-orest/Docker_compose's todo list under `manage.py test` (its junit holds the counts only)."""


def test_a_runner_without_test_cases_in_its_report_is_read_from_its_output(tmp_path: Path) -> None:
    counts_only = tmp_path / "junit-app.xml"
    counts_only.write_text(
        '<testsuites><testsuite name="manage.py test" tests="13" failures="3" errors="0" skipped="0">'
        "</testsuite></testsuites>"
    )
    assert mysqlnotes.differences(mysqlnotes.failures(counts_only, UNITTEST_OUTPUT)) == [
        f"2 tests: {mysqlnotes.IDS}"
    ]  # not the 404


def test_pytest_ids_compared_with_a_number_are_counted_from_the_report(tmp_path: Path) -> None:
    report = tmp_path / "junit-app.xml"
    report.write_text(
        '<testsuites><testsuite tests="2" failures="2"><testcase name="test_first">'
        '<failure message="assert 4 == 1">    def test_first(note):\n&gt;       assert note.id == 1\n'
        "E       assert 4 == 1</failure></testcase>"
        '<testcase name="test_count"><failure message="assert 2 == 3">&gt; assert len(rows) == 3</failure>'
        "</testcase></testsuite></testsuites>"
    )
    assert mysqlnotes.differences(mysqlnotes.failures(report, "ignored: the report has the cases")) == [
        f"1 test: {mysqlnotes.IDS}"
    ]


ENCOURAGEMINT = """\
======================================================================
ERROR: test_lookup_plants_many_results (backend.tests.unit_tests.interfaces.trefle.test_trefle.TestTrefle)
----------------------------------------------------------------------
Traceback (most recent call last):
FileNotFoundError: [Errno 2] No such file or directory: 'tests/unit_tests/trefle/many.json'
======================================================================
ERROR: test_search_plants_no_results (backend.tests.unit_tests.interfaces.trefle.test_trefle.TestTrefle)
----------------------------------------------------------------------
FileNotFoundError: [Errno 2] No such file or directory: 'tests/unit_tests/trefle/none.json'
======================================================================
ERROR: test_elsewhere (backend.tests.test_x.T)
----------------------------------------------------------------------
FileNotFoundError: [Errno 2] No such file or directory: 'nowhere/at-all.json'
----------------------------------------------------------------------
Ran 34 tests in 0.5s
"""


def test_files_a_test_opens_relative_to_another_folder_name_that_folder(tmp_path: Path) -> None:
    """encouragemint's CI runs its tests from backend/; from the app dir 17 of them met
    FileNotFoundError on tests/unit_tests/... paths, which are under backend/."""
    for name in ("many.json", "none.json"):
        (tmp_path / "backend/tests/unit_tests/trefle" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "backend/tests/unit_tests/trefle" / name).write_text("{}")
    failed = mysqlnotes.failures(tmp_path / "no-report.xml", ENCOURAGEMINT)
    assert len(failed) == 3
    (line,) = workdirnote.notes(failed, tmp_path)
    assert line.startswith("2 tests: open files by paths relative to the working directory that are under backend/")
    assert "(e.g. tests/unit_tests/trefle/many.json)" in line and "Path(__file__).parent" in line
    assert workdirnote.notes(failed, tmp_path / "backend") == []  # run from there, nothing is elsewhere


DB_SETUP_CONFTEST = """\
import pytest


@pytest.fixture(scope="session")
def django_db_setup():
    raise RuntimeError("(1072, \\"Key column 'encuentro_id' doesn't exist in table\\")")


@pytest.fixture
def db(django_db_setup):
    return None
"""


def run_pytest(folder: Path, junit: Path) -> subprocess.CompletedProcess[str]:
    """pytest run on `folder` as the test image runs it: the suite's plugin loaded, a junit report."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "dockstage_dbproof", "-p", "no:cacheprovider", f"--junitxml={junit}"],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(resources.path(resources.SUPPORT) / "pythonpath")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_test_database_that_cannot_be_set_up_ends_the_run_at_its_first_test(tmp_path: Path) -> None:
    """SISOC: its test database's migrations stopped on MariaDB, and each of 2955 tests errored on it,
    one after another, for 17 minutes. The suite's pytest plugin ends the run at the first (pytest-
    django's django_db_setup is the fixture that raised; a plain pytest here, with one by that name),
    and the summary names the one error, whose known fix follows."""
    (tmp_path / "conftest.py").write_text(DB_SETUP_CONFTEST)
    (tmp_path / "test_many.py").write_text(
        "def test_plain():\n    assert True\n\n"
        + "".join(f"def test_db_{n}(db):\n    assert True\n\n" for n in range(30))
    )
    junit = tmp_path / "junit.xml"
    done = run_pytest(tmp_path, junit)
    assert done.returncode == 2, done.stdout[-2000:]  # interrupted
    assert "the test database could not be set up: every test that needs it would fail the same way" in done.stdout
    counts = pipeline.junit_counts(junit)
    assert counts == {"tests": 2, "failures": 0, "errors": 1, "skipped": 0}, done.stdout[-2000:]
    error = pipeline.junit_setup_error(junit)
    assert error == "RuntimeError: (1072, \"Key column 'encuentro_id' doesn't exist in table\")"
    summary = pipeline.failed_summary(counts, "", error)
    assert summary == f"2 tests, 0 failed, 1 errors, 0 skipped; its error on setup: {error}"
    failed = errors.TestsFailed(2, summary, "junit-app.xml", database="MySQL at db")
    assert failed.fix.startswith("MariaDB, the stand-ins' database, refuses to drop the column encuentro_id")
    (tmp_path / "test_many.py").write_text("def test_plain():\n    assert True\n")
    done = run_pytest(tmp_path, junit)
    assert done.returncode == 0 and pipeline.junit_setup_error(junit) == ""


def test_a_test_file_that_does_not_import_is_named_in_the_summary(tmp_path: Path) -> None:
    """santhusuri/SECURE-VULNERABLE: a test file imports a model the app no longer has; pytest stops
    at collection, and the summary said only "1 tests, 0 failed, 1 errors"."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/__init__.py").write_text("")
    (tmp_path / "tests/test_gone.py").write_text("from json import PerformanceLog\n")
    (tmp_path / "tests/test_fine.py").write_text("def test_fine():\n    assert True\n")
    junit = tmp_path / "junit.xml"
    done = run_pytest(tmp_path, junit)
    assert done.returncode == 2, done.stdout[-2000:]
    summary = pipeline.failed_summary(pipeline.junit_counts(junit), "", pipeline.junit_setup_error(junit))
    assert summary.startswith(
        "1 tests, 0 failed, 1 errors, 0 skipped; pytest stopped as tests/test_gone.py did not import "
        "(ImportError: cannot import name 'PerformanceLog' from 'json'"
    ), summary


EDGARDO_BANK = (
    "E   AssertionError: \"Duplicate entry 'american_express' for key 'bank_bank.code'\" not found in "
    "'(1062, \"Duplicate entry \\'american_express\\' for key \\'code\\'\")'"
)
EDGARDO_CREDIT = (
    "E   AssertionError: 'credit_credittype.credit_credittype_tenant_id_name' not found in '(1062, \"Duplicate "
    "entry \\'014d-Infonavit\\' for key \\'credit_credittype_tenant_id_name_3f236e06_uniq\\'\")'"
)


def test_mysql_8s_words_for_a_duplicate_key_are_a_stand_in_difference_not_sqlites() -> None:
    """edgardoalz/docker-django: three tests expect MySQL 8's "for key 'table.key'" and the MariaDB
    stand-in says "for key 'key'"; the duplicate itself was the test's own, so the collation line
    (from SQLite) does not fit them."""
    plain = "django.db.utils.IntegrityError: (1062, \"Duplicate entry 'a' for key 'name'\")"
    failed = [EDGARDO_BANK, EDGARDO_CREDIT, plain]
    (standin,) = mysqlnotes.standin_differences(failed)
    assert standin.startswith("2 tests: MySQL error 1062's words: MySQL 8 names the key with its table"), standin
    assert mysqlnotes.differences(failed) == [f"1 test: MySQL error 1062, {mysqlnotes.KNOWN[1062]}"]
