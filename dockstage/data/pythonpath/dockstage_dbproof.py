"""Which database the tests used: a pytest plugin (`-p dockstage_dbproof`) and a wrapper for
`python -m dockstage_dbproof manage.py test ...`; both write DOCKSTAGE_DB_PROOF (JSON: vendor,
host, engine, settings module) when the run ends, for the pipeline to check it was the stack's MySQL.
Under pytest it also ends the run at the first test whose database could not be set up (pytest-django's
django_db_setup failed: a migration MySQL refuses): every later test that needs it would fail alike,
and SISOC's 2955 did, one after another, for 17 minutes.
"""

import atexit
import json
import os
import runpy
import sys


def record() -> None:
    path = os.environ.get("DOCKSTAGE_DB_PROOF")
    if not path:
        return
    found = {"vendor": None, "host": None, "engine": None, "settings": os.environ.get("DJANGO_SETTINGS_MODULE")}
    try:
        if "django.conf" in sys.modules:
            from django.conf import settings

            if settings.configured:
                from django.db import connections

                connection = connections["default"]
                found.update(
                    vendor=connection.vendor,
                    host=connection.settings_dict.get("HOST"),
                    engine=connection.settings_dict.get("ENGINE"),
                    settings=getattr(settings, "SETTINGS_MODULE", None),
                )
    except Exception as exc:  # noqa: BLE001 - the proof says what it could not read
        found["error"] = repr(exc)[:300]
    with open(path, "w", encoding="utf-8") as out:
        json.dump(found, out)


DB_SETUP_STOPPED = "the test database could not be set up: every test that needs it would fail the same way"


def pytest_runtest_makereport(item, call) -> None:
    """Stop the session when pytest-django's django_db_setup raised (the report is pytest's own)."""
    failed = call.excinfo if call.when == "setup" else None
    if failed is not None and any(entry.name == "django_db_setup" for entry in failed.traceback):
        item.session.shouldstop = DB_SETUP_STOPPED


def pytest_sessionfinish(session, exitstatus) -> None:
    record()


if __name__ == "__main__":
    atexit.register(record)
    sys.argv = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))
    runpy.run_path(sys.argv[0], run_name="__main__")
