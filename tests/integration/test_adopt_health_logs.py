"""A startproject whose URLs are under i18n_patterns with the admin at its own prefix and whose
LOGGING writes a file under the app dir and one in its root, adopted from the installed wheel with
no key set by hand: init resolves the health path in the dev image (`/` does not resolve there; the
admin's login, language prefix included, does), learns the log dir as a writable dir and sends the
root's file to the console in prod (overlay log-console); the smoke stack (read-only root, the app
user, a tmpfs on logs/) then passes.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.integration.projects import startproject
from tests.integration.test_adopt_startproject import owned
from tests.integration.wheelenv import WheelEnv

__all__ = ["owned"]  # the fixture: the test's own image and compose names

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LOGS_AND_LANGUAGES = """

import os  # noqa: E402

os.makedirs(BASE_DIR / "logs", exist_ok=True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "file": {"class": "logging.FileHandler", "filename": BASE_DIR / "logs" / "site.log"},
        "beside": {"class": "logging.FileHandler", "filename": BASE_DIR / "debug.log"},
    },
    "root": {"handlers": ["file", "beside"], "level": "INFO"},
}
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
                  "django.middleware.locale.LocaleMiddleware")
"""
I18N_URLS = """\
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import path

urlpatterns = i18n_patterns(path("office/", admin.site.urls))
"""


def test_health_path_resolved_and_log_dir_writable(wheel_env: WheelEnv, tmp_path: Path, owned: dict[str, str]) -> None:
    root = startproject(wheel_env.bin, tmp_path / "i18nlogs", polls=False)
    settings = root / "mysite/settings.py"
    settings.write_text(settings.read_text() + LOGS_AND_LANGUAGES)
    (root / "mysite/urls.py").write_text(I18N_URLS)
    found = wheel_env.run(["dockstage", "init"], root, owned)
    assert "found  health-path /en/office/login/: the admin's login page" in found, found
    assert "passed over: / does not resolve" in found
    assert "writable-dirs: logs (LOGGING: handler 'file' writes /app/logs/site.log" in found
    table = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["dockstage"]
    assert table["health-path"] == "/en/office/login/" and table["writable-dirs"] == ["logs"]
    assert "log-console" in table["overlay"]  # debug.log at the app root: prod logs it to the console
    out = wheel_env.run(["nox", "-s", "smoke_prod"], root, owned)  # read-only root: logs/ is a tmpfs
    assert "cannot write" not in out and "Permission denied" not in out
    assert "smoke health: GET /en/office/login/ gave 200" in out
    assert "Session smoke_prod was successful" in out
