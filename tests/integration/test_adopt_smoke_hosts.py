"""What real projects tripped on once adopted, on the real engine: hosts, static manifest, 5xx pages.

One project made on the spot with `django-admin startproject` (settings read DATABASES from the
environment, nothing else changed by hand beyond what real projects do):
- ALLOWED_HOSTS hard-codes 127.0.0.1 and a domain, not localhost (the Host the suite sends):
  `init` overlays allowed-hosts and the prod HEALTHCHECK passes;
- STORAGES uses ManifestStaticFilesStorage and a test renders {% static %}: init puts collectstatic
  in test-setup and the tests pass;
- one URL answers 500: smoke-urls names it in one line with the page's title, the hint names
  smoke-skip, and the traceback is in web's log (no LOGGING in the settings); with smoke-skip the
  smoke passes;
- without the overlay, the HEALTHCHECK's 400 ends the wait at once, in a line that says
  DisallowedHost/ALLOWED_HOSTS;
- a migration that crashes while the test database is made: the tests "did not start", and why.
The test owns its image names and compose projects and removes them.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.integration.projects import DATABASES_FROM_ENV
from tests.integration.test_adopt_startproject import owned
from tests.integration.wheelenv import WheelEnv

__all__ = ["owned"]  # the fixture: the test's own image and compose names

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SETTINGS_TAIL = (
    DATABASES_FROM_ENV
    + """SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only")
DEBUG = os.environ.get("DJANGO_DEBUG", "False") == "True"
ALLOWED_HOSTS = [".railway.example", "127.0.0.1"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
"""
)
VIEWS = """from django.shortcuts import render


def page(request):
    return render(request, "pages/page.html")


def broken(request):
    raise RuntimeError("dockstage-smoke-boom")
"""
URLS = """from django.contrib import admin
from django.urls import path

from pages import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("page/", views.page, name="page"),
    path("broken/now/", views.broken, name="broken"),
]
"""
TEMPLATE = """{% load static %}<html><head><title>A page</title>
<link rel="stylesheet" href="{% static 'pages/site.css' %}"></head><body>hello</body></html>
"""
TESTS = """from django.test import TestCase


class PageTests(TestCase):
    def test_the_page_links_its_hashed_css(self):
        answer = self.client.get("/page/")
        self.assertEqual(answer.status_code, 200)
        self.assertRegex(answer.content.decode(), r"/static/pages/site\\.[0-9a-f]{12}\\.css")
"""

CRASHING_MIGRATION = """from django.db import migrations


def crash(apps, schema_editor):
    raise RuntimeError("dockstage-migration-boom")


class Migration(migrations.Migration):
    operations = [migrations.RunPython(crash)]
"""


def make_project(bin_dir: Path, root: Path) -> Path:
    root.mkdir()
    subprocess.run([bin_dir / "django-admin", "startproject", "mysite", "."], cwd=root, check=True)
    subprocess.run([bin_dir / "python", "manage.py", "startapp", "pages"], cwd=root, check=True)
    (root / "pages/views.py").write_text(VIEWS)
    (root / "pages/tests.py").write_text(TESTS)
    (root / "pages/templates/pages").mkdir(parents=True)
    (root / "pages/templates/pages/page.html").write_text(TEMPLATE)
    (root / "pages/static/pages").mkdir(parents=True)
    (root / "pages/static/pages/site.css").write_text("body { color: #333; }\n")
    (root / "mysite/urls.py").write_text(URLS)
    settings = root / "mysite/settings.py"
    text = settings.read_text().replace("from pathlib import Path\n", "import os\nfrom pathlib import Path\n", 1)
    apps = "    'django.contrib.staticfiles',\n"
    text = text.replace(apps, apps + "    'pages',\n")
    for name in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"):
        text = re.sub(rf"^{name} = .*$", "", text, flags=re.MULTILINE)
    start = text.index("DATABASES = {")
    settings.write_text(text[:start] + SETTINGS_TAIL + text[text.index("}\n}\n", start) + 4 :])
    (root / "requirements.txt").write_text("Django>=5.2,<6\n")
    return root


def run(wheel_env: WheelEnv, args: list[str], cwd: Path, env: dict[str, str], expect: int = 0) -> str:
    """A program of the installed wheel's venv in the project; its output, the exit status checked."""
    done = wheel_env.call(args, cwd, env, timeout=1500)
    output = done.stdout + done.stderr
    assert done.returncode == expect, output[-4000:]
    return output


def set_key(root: Path, line: str, replaces: str) -> None:
    """Replace one `key = ...` line of [tool.dockstage] (a hand edit, as a user would make it)."""
    pyproject = root / "pyproject.toml"
    text = re.sub(rf"^{replaces} = .*$", line, pyproject.read_text(), count=1, flags=re.MULTILINE)
    pyproject.write_text(text)
    tomllib.loads(text)


def test_hosts_manifest_and_a_broken_url(wheel_env: WheelEnv, tmp_path: Path, owned: dict[str, str]) -> None:
    root = make_project(wheel_env.bin, tmp_path / "hosts_site")
    found = run(wheel_env, ["dockstage", "init", "--no-ci"], root, owned)
    assert "sets allowed-hosts" in found and "does not take localhost" in found
    assert "ManifestStaticFilesStorage: the tests' pages need the static manifest" in found
    assert 'smoke-skip = ["/path/*"]' in found and "smoke-urls is on" in found
    section = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["dockstage"]
    assert "allowed-hosts" in section["overlay"]
    assert section["test-setup"] == ["python manage.py collectstatic --noinput"]

    # The broken URL fails the smoke, named with its page's title; its traceback is in web's log.
    out = run(wheel_env, ["nox", "-s", "pipeline"], root, owned, expect=7)
    assert "app tests (`python manage.py test`): 1 tests, 0 failed, 0 errors, 0 skipped on MySQL at db" in out
    assert "smoke health: GET /admin/login/ gave 200" in out  # the HEALTHCHECK passed: web became healthy
    assert "smoke urls: GET /broken/now/ gave 500: Server Error (500)" in out
    assert "DOCTYPE" not in out and "smoke-skip" in out
    assert "RuntimeError: dockstage-smoke-boom" in out  # the traceback, from web's log

    set_key(root, 'smoke-skip = ["/broken/*"]', "smoke-skip")
    out = run(wheel_env, ["nox", "-s", "smoke_prod"], root, owned)
    assert "left out by smoke-skip, no 5xx" in out

    # Without the overlay's hosts, the HEALTHCHECK's 400 is named for what it is, as soon as two
    # probes in a row got it (not after the start period, the retries or the wait timeout).
    set_key(root, "overlay = []", "overlay")
    out = run(wheel_env, ["nox", "-s", "smoke_prod"], root, owned, expect=5)
    assert "web: its healthcheck got 400 twice in a row, which no wait changes; stopped waiting" in out
    assert "web did not become healthy (its healthcheck got 400: Django's DisallowedHost" in out
    assert 'add "allowed-hosts" to overlay in [tool.dockstage]' in out

    # A migration that crashes while the test database is made: no "0 tests, 0 failed".
    (root / "pages/migrations/0001_crash.py").write_text(CRASHING_MIGRATION)
    out = run(wheel_env, ["nox", "-s", "test_image"], root, owned, expect=7)
    assert "dockstage: the tests did not start (exit 1): RuntimeError: dockstage-migration-boom" in out
    assert "the tests did not start: RuntimeError: dockstage-migration-boom" in out.splitlines()[-1]
    assert "0 tests, 0 failed" not in out


def test_init_that_cannot_build_the_dev_image_is_partial(
    wheel_env: WheelEnv, tmp_path: Path, owned: dict[str, str]
) -> None:
    """A requirement no index has: the probe's dev build fails; init still writes what the text
    gave, but ends with a `partial:` line and the build's exit status, not like a success."""
    root = make_project(wheel_env.bin, tmp_path / "unbuildable")
    (root / "requirements.txt").write_text("Django>=5.2,<6\nno-such-package-dockstage-xyz==1.0\n")
    out = run(wheel_env, ["dockstage", "init", "--no-ci"], root, owned, expect=4)
    last = out.strip().splitlines()[-1]
    assert last.startswith("partial: settings not probed (the dev image did not build: build:")
    assert "dockstage init --force" in last and "no-such-package-dockstage-xyz" in out  # uv's reason above
    assert "next   `nox -s pipeline`" not in out
    assert "[tool.dockstage]" in (root / "pyproject.toml").read_text()
