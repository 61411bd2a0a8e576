"""DOCKSTAGE_DB_WAIT: the pipeline starts the app's tests while db still initialises, and the image's
sitecustomize has Django try a connection again while the server does not answer yet.

Real interpreters with the image's sitecustomize on their path and this venv's Django; the server
that does not answer yet is a backend whose first connections fail as MySQL's client fails then."""

from __future__ import annotations

import os
import subprocess
import sys

from dockstage.core import resources

PYTHONPATH = resources.path(resources.SUPPORT) / "pythonpath"
SCRIPT = """
import sys, time
import django
from django.conf import settings
settings.configure(DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}})
django.setup()
from django.db import connection
real, tries = connection.get_new_connection, []

class OperationalError(Exception):
    pass

def get_new_connection(params):
    tries.append(time.monotonic())
    if len(tries) <= int(sys.argv[2]):
        raise OperationalError(int(sys.argv[1]), "Can't connect to MySQL server on 'db' (111)")
    return real(params)

connection.get_new_connection = get_new_connection
try:
    connection.ensure_connection()
    print("connected after", len(tries))
except Exception as exc:
    print("gave up after", len(tries), type(exc).__name__)
"""


def _connect(code: int, failures: int, wait: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKSTAGE_")}
    env["PYTHONPATH"] = str(PYTHONPATH)
    if wait is not None:
        env["DOCKSTAGE_DB_WAIT"] = wait
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(code), str(failures)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_server_not_answering_yet_is_tried_again() -> None:
    assert _connect(2003, 3, "30") == "connected after 4"
    assert _connect(2013, 1, "30") == "connected after 2"  # lost at the handshake: still starting


def test_without_the_variable_the_first_failure_stands() -> None:
    assert _connect(2003, 3, None) == "gave up after 1 OperationalError"


def test_an_answer_that_is_an_error_is_raised_at_once() -> None:
    assert _connect(1045, 3, "30") == "gave up after 1 OperationalError"  # access denied: the app's own


def test_the_wait_ends_at_its_deadline() -> None:
    assert _connect(2003, 1000, "0.5").startswith("gave up after ")
