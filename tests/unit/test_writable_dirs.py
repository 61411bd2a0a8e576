"""writable-dirs learned by the probe: an import that dies opening a file under a missing dir of
the app (huey's sqlite queue, a log file) is retried with the dir made, and the dir is written."""

from __future__ import annotations

from pathlib import Path

from dockstage.adopt import render
from dockstage.adopt.inspect import Findings
from dockstage.adopt.probe import apply
from tests.unit.test_adopt_probe import probe

HUEY_LIKE = """\
import sqlite3
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


class SqliteStorage:  # as huey's: the file is an attribute, the connection made at import
    def __init__(self, filename):
        self.filename = filename
        self.conn = self._create_connection()

    def _create_connection(self):
        return sqlite3.connect(self.filename)


HUEY = SqliteStorage(str(BASE_DIR / "data" / "tasks.sqlite3"))
LOG = open(BASE_DIR / "var" / "log" / "app.log", "a")
SECRET_KEY = "x"
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
"""

OUTSIDE = """\
import sqlite3
sqlite3.connect("/nonexistent-dockstage/tasks.sqlite3")
SECRET_KEY = "x"
"""


def test_a_missing_dir_under_the_app_is_made_and_learned(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": HUEY_LIKE}, [])
    assert result["ok"] is True
    assert result["writable_dirs"] == ["data", "var/log"]
    found = Findings(root=tmp_path, settings_module="proj.settings")
    apply(found, [result])
    assert found.writable_dirs == ["data", "var/log"]
    assert any(line.startswith("writable-dirs: data, var/log") for line in found.found)
    section = render.tool_section(found, env_example=".env.example", env_file=".env")
    assert 'writable-dirs = ["data", "var/log"]' in section


def test_a_missing_path_outside_the_app_is_not_learned(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": OUTSIDE}, [])
    assert result["ok"] is False and "unable to open database file" in str(result["error"])
    assert result["writable_dirs"] == []


APP_OPENS_AT_SETUP = """\
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "x"
INSTALLED_APPS = ["proj.queueapp"]
"""
QUEUE_APP = """\
import sqlite3
from pathlib import Path

from django.conf import settings


class Storage:  # huey.contrib.djhuey: the queue made when the app loads, its file under BASE_DIR
    def __init__(self, filename):
        self.filename = filename
        self.conn = sqlite3.connect(filename)


HUEY = Storage(str(Path(settings.BASE_DIR) / "data" / "tasks.sqlite3"))
"""


def test_a_dir_an_app_opens_when_loaded_is_learned_too(tmp_path: Path) -> None:
    result = probe(tmp_path, {"settings": APP_OPENS_AT_SETUP, "queueapp": QUEUE_APP}, [])[0]
    assert result["ok"] is True and result["writable_dirs"] == ["data"]


LOGS_IN_THE_APP = """\
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
os.makedirs(BASE_DIR / "logs", exist_ok=True)  # as DjangoBlog: the settings make it themselves
SECRET_KEY = "x"
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
LOGGING = {
    "version": 1,
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "log_file": {"class": "logging.handlers.RotatingFileHandler", "filename": BASE_DIR / "logs" / "site.log"},
        "scratch": {"class": "logging.FileHandler", "filename": "/tmp/scratch.log"},
        "beside": {"class": "logging.FileHandler", "filename": str(BASE_DIR / "debug.log")},
    },
}
"""


def test_the_dirs_of_logging_file_handlers_become_writable_dirs(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": LOGS_IN_THE_APP}, [])
    assert result["ok"] is True and result["writable_dirs"] == []  # the import made its dir itself
    found = Findings(root=tmp_path, settings_module="proj.settings")
    apply(found, [result])
    assert found.writable_dirs == ["logs"]
    assert any(line.startswith("writable-dirs: logs (LOGGING: handler 'log_file' writes") for line in found.found)
    assert "log-console" in found.overlay  # debug.log at the app root, which prod cannot write: the console
    assert any(r.startswith("LOGGING's handler 'beside' writes") and "console" in r for r in found.overlay_reasons)
    assert not any("scratch" in n for n in found.notes)  # /tmp is a tmpfs in prod already
    assert 'writable-dirs = ["logs"]' in render.tool_section(found)


def test_the_dirs_build_steps_make_are_named_static_files_aside() -> None:
    from tests.unit.test_adopt_helpers import helper

    steps = helper("buildsteps")
    before = {"blog", "blog/static"}
    after = before | {"logs", "logs/archive", "collectedstatic", "collectedstatic/CACHE", "media"}
    assert steps.made_dirs(before, after, ["collectedstatic", "collectedstatic"]) == ["logs", "media"]
    assert steps.made_dirs(before, after | {"var", "var/static"}, ["var/static"]) == [
        "collectedstatic",
        "logs",
        "media",
    ]


LOG_DIR_FROM_ENV = """\
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
LOG_DIR = os.environ.get("LOG_DIR", str(BASE_DIR / "data" / "logs"))  # as ephios: the app's own name
SITE_URL = os.environ["SITE_URL"]  # required: prod gets init's env-defaults value
os.makedirs(LOG_DIR, exist_ok=True)
SECRET_KEY = os.environ.get("SECRET_KEY", "x")
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
LOGGING = {
    "version": 1,
    "handlers": {"file": {"class": "logging.FileHandler", "filename": os.path.join(LOG_DIR, "app.log")}},
}
"""


def test_a_log_dir_from_an_app_name_is_learned_as_prod_makes_it(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": LOG_DIR_FROM_ENV}, [])
    found = Findings(root=tmp_path, settings_module="proj.settings")
    apply(found, [result])
    assert found.writable_dirs == ["data/logs"], found.found  # not the sentinel's path (LOG_DIR=ds1s)


LOGS_OUTSIDE_THE_APP = """\
SECRET_KEY = "x"
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
LOGGING = {
    "version": 1,
    "handlers": {"file": {"class": "logging.FileHandler", "filename": "/dockstage-test-logs/hci.log", "delay": True}},
}
"""


def test_a_log_dir_outside_the_app_becomes_a_tmpfs(tmp_path: Path) -> None:
    """hla-curation-interface's shape: prod settings log to /logs/hci.log; prod's root is read-only."""
    (result,) = probe(tmp_path, {"settings": LOGS_OUTSIDE_THE_APP}, [])
    found = Findings(root=tmp_path, settings_module="proj.settings")
    apply(found, [result])
    assert found.tmpfs == ["/dockstage-test-logs"], (found.found, found.notes)
    assert any(line.startswith("tmpfs: /dockstage-test-logs (LOGGING: handler 'file' writes") for line in found.found)
    assert 'tmpfs = ["/dockstage-test-logs"]' in render.tool_section(found)
