"""Issue 20's build items on one generated project, adopted with zero hand-set keys and no edits.

The project is laid out as real ones are: a uv.lock (Django pinned to an older patch, a test group
whose tools would pull a newer one), npm assets built by package.json's script, a view importing a
helper from the app's `tests/` package, a management command named `send_tests.py`, an app that
INSTALLED_APPS adds by a computed name, django-statici18n (its catalogue compiled before the tests),
a migration writing /var/tmp, settings that open a lock file in /tmp at import (collectstatic
makes it as root at build time). The installed wheel's `dockstage init` adopts it and its
`nox -s pipeline` goes green as is (tests/integration/wheelenv.py); then what must fail: a prune
pattern that drops a module only a computed import names (`nox -s build_prod` from the wheel, and
the prod image's import check in-process), a 5xx on a parameterless URL (the flows in-process). The module owns its images and
compose projects and removes them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from python_on_whales import DockerClient

from dockstage.core import cabundle, config
from dockstage.core.config import Settings
from dockstage.core.errors import ImageCheckFailed, SmokeCheckFailed
from dockstage.flows import pipeline
from dockstage.flows.run import Run
from dockstage.images import imagechecks
from tests.conftest import TEST_FLAVOUR, free_port
from tests.integration.projects import mysite_files, new_name, owned_environ, remove_owned, settings_py, write_files
from tests.integration.wheelenv import WheelEnv

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SETTINGS = settings_py(
    apps='[\n    "django.contrib.contenttypes",\n    "django.contrib.staticfiles",\n    "statici18n",\n    "shop",\n]'
    ' + ["shop." + name for name in EXTRA_APPS]',
    name="shop",
    db="DATABASE_",
    debug="DJANGO_DEBUG",
    hosts="DJANGO_ALLOWED_HOSTS",
    at_import=(
        "# As a library's file lock does: made at import by whoever imports first (root at build time), and\n"
        "# opened for writing by every later import (the non-root user in prod).\n"
        'with open("/tmp/shop-settings.lock", "a"):\n'
        "    pass\n"
        'EXTRA_APPS = ["extras"]\n'
    ),
    extra='STATIC_URL = "/static/"\nSTATIC_ROOT = BASE_DIR / "staticfiles"\n',
)
VIEWS = """\
import os

from django.db import connection
from django.http import HttpResponse, JsonResponse

from shop.tests.factories import sample_names


def healthz(request):
    connection.ensure_connection()
    return JsonResponse({"status": "ok"})


def names(request):
    return HttpResponse(" ".join(sample_names()))


def report(request):
    if os.environ.get("SHOP_REPORT_BROKEN") == "1":
        raise RuntimeError("report-broken-marker")
    return HttpResponse("report")
"""
MIGRATION = """\
from pathlib import Path

from django.db import migrations


def scratch(apps, schema_editor):
    # As real migrations do (a library unpacking data): a file in /var/tmp, on a read-only root.
    Path("/var/tmp/shop-migration.txt").write_text("done")


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunPython(scratch, migrations.RunPython.noop)]
"""
APP_TESTS = """\
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.db import connection


def test_the_django_of_the_tests_is_the_locked_one_of_prod():
    assert django.VERSION[:3] == (5, 2, 1)  # the lock's, though the test tools accept newer ones
    assert django.__file__.startswith("/opt/venv/")  # one copy: the runtime venv's


def test_test_setup_compiled_the_javascript_catalogue():
    assert list(Path(settings.STATIC_ROOT).glob("jsi18n/**/djangojs.js"))


@pytest.mark.django_db
def test_the_database_is_mysql():
    assert connection.vendor == "mysql"
"""
BUILD_JS = """\
const fs = require("fs");
const isNumber = require("is-number");
fs.mkdirSync("shop/static/shop", { recursive: true });
fs.writeFileSync("shop/static/shop/app.css", `body { color: teal } /* built by npm: ${isNumber(7)} */\\n`);
"""
URLS = """\
from django.urls import path

from shop import views

urlpatterns = [
    path("healthz", views.healthz),
    path("names/", views.names, name="names"),
    path("report/", views.report, name="report"),
    path("item/<int:pk>/", views.names, name="item"),
]
"""
FILES = {
    **mysite_files(SETTINGS, URLS),
    "pyproject.toml": """\
        [project]
        name = "shop"
        version = "1.0"
        requires-python = ">=3.11"
        dependencies = ["Django==5.2.1", "django-statici18n>=2.5"]

        [dependency-groups]
        test = ["pytest", "pytest-django", "django-debug-toolbar>=4"]

        [tool.pytest.ini_options]
        DJANGO_SETTINGS_MODULE = "mysite.settings"
        """,
    "package.json": '{"name": "shop-assets", "version": "1.0.0", "private": true, '
    '"scripts": {"build": "node build.js"}, "dependencies": {"is-number": "7.0.0"}}\n',
    "build.js": BUILD_JS,
    "shop/__init__.py": "",
    "shop/views.py": VIEWS,
    "shop/migrations/__init__.py": "",
    "shop/migrations/0001_initial.py": MIGRATION,
    "shop/management/__init__.py": "",
    "shop/management/commands/__init__.py": "",
    "shop/management/commands/send_tests.py": """\
        from django.core.management.base import BaseCommand


        class Command(BaseCommand):
            def handle(self, *args, **options):
                self.stdout.write("send-tests-ran")
        """,
    "shop/extras/__init__.py": "",
    "shop/extras/apps.py": """\
        from django.apps import AppConfig


        class ExtrasConfig(AppConfig):
            name = "shop.extras"
            label = "shop_extras"
        """,
    "shop/tests/__init__.py": "",
    "shop/tests/factories.py": "def sample_names():\n    return ['ada', 'grace']\n",
    "shop/tests/test_shop.py": APP_TESTS,
}


@dataclass(frozen=True)
class Shop:
    """The adopted project: its root, its settings (this module's names) and what init and the pipeline said."""

    root: Path
    settings: Settings
    environ: dict[str, str]  # what init and the pipeline ran with (the module's image and project)
    init_output: str
    pipeline_output: str


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        pytest.skip(f"{name} is not installed on this machine (the fixture locks the project with it)")
    return found


@pytest.fixture(scope="module")
def shop(docker_client: DockerClient, wheel_env: WheelEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """The project written and locked (uv lock, npm's package-lock), then the installed wheel's
    `dockstage init` and `nox -s pipeline` run in it."""
    root = write_files(tmp_path_factory.mktemp("build") / "shop", FILES)
    # uv reads no pip config: hand it the CA bundle pip uses (a TLS-intercepting proxy's), as the build does
    bundle = cabundle.find(os.environ)
    uv_env = {**os.environ, "SSL_CERT_FILE": str(bundle)} if bundle else None
    subprocess.run([tool("uv"), "lock", "-q"], cwd=root, check=True, timeout=300, env=uv_env)
    subprocess.run([tool("npm"), "install", "--package-lock-only", "-s"], cwd=root, check=True, timeout=300)
    name = new_name("build")
    environ = owned_environ(name, "site", DOCKSTAGE_WEB_PORT=str(free_port()), DOCKSTAGE_FLAVOUR=TEST_FLAVOUR)
    try:
        init = wheel_env.run(["dockstage", "init"], root, environ)
        output = wheel_env.run(["nox", "-s", "pipeline"], root, environ)
        settings = config.load(
            root,
            environ={k: v for k, v in environ.items() if not k.startswith("DOCKSTAGE_")},
            image=f"{name}/site",
            project=name,
            web_port=free_port(),
            flavour=TEST_FLAVOUR,
            quiet=True,
        )
        yield Shop(root, settings, environ, init, output)
    finally:
        remove_owned(docker_client, name)
        remove_owned(docker_client, f"{name}-pruned")


def test_init_learns_the_lock_the_assets_and_the_test_setup(shop: Shop) -> None:
    """Nothing hand-set: the lock's sets, the npm build, compilejsi18n before the tests, the URL smoke."""
    app = shop.settings.app
    assert (app.requirements, app.test_requirements) == (("uv.lock",), ("uv.lock:test",))
    assert app.assets_command == ("npm", "run", "build") and app.smoke_urls
    assert app.test_setup == (("python", "manage.py", "compilejsi18n"),)
    assert "uv.lock found: the build installs its exact versions" in shop.init_output


def test_the_pipeline_is_green_with_the_projects_own_shape(shop: Shop, docker_client: DockerClient) -> None:
    """The lock exported in the build, tests on the locked Django (the app's tests say so), the
    migration writing /var/tmp on the read-only root, every parameterless URL answered."""
    out = shop.pipeline_output
    exported = str(
        docker_client.run(
            shop.settings.tag("test"),
            ["-c", "cat /tmp/requirements/runtime/locked.txt; echo @@; cat /tmp/requirements/test/locked.txt"],
            entrypoint="sh",
            remove=True,
        )
    )
    runtime, test = exported.split("@@")
    assert "django==5.2.1" in runtime and "pytest" not in runtime  # `uv export` of the lock, no groups
    assert "django==5.2.1" in test and "django-debug-toolbar==" in test  # the test group, with the app's Django
    assert re.search(r"app tests \(`[^`]+`\): 3 tests, 0 failed, .* on MySQL at db", out)  # proven on the stack's db
    assert "test-setup: python manage.py compilejsi18n" in out
    assert "smoke urls: 3 URLs without parameters, no 5xx: 3x 200" in out  # /healthz, /names/, /report/
    assert "every installed app and the URLconf import (3 URLs without parameters)" in out


def test_prod_has_the_built_assets_the_imported_helpers_and_no_node(shop: Shop, docker_client: DockerClient) -> None:
    """npm's output reached collectstatic; the imported tests/factories.py and the send_tests
    command stayed, the real tests did not; node never reached prod; Django is the lock's."""
    listing = str(
        docker_client.run(
            shop.settings.tag("prod"),
            [
                "-c",
                "echo tmp-files: $(find /tmp /var/tmp -mindepth 1 | wc -l); "
                "cd /app && find . -type f -not -path './staticfiles/admin/*' | sort; cat staticfiles/shop/app.css; "
                "python manage.py send_tests; python -c 'import django; print(django.get_version())'; "
                "command -v node npm || echo no-node",
            ],
            entrypoint="sh",
            envs={"DJANGO_SECRET_KEY": "x"},
            remove=True,
        )
    )
    assert "built by npm: true" in listing and "./staticfiles/shop/app.css" in listing
    assert "./shop/tests/factories.py" in listing and "./shop/tests/test_shop.py" not in listing
    assert "send-tests-ran" in listing and "5.2.1" in listing and "no-node" in listing
    assert "./node_modules" not in listing and "./package.json" in listing
    assert "tmp-files: 0" in listing  # the build steps' /tmp/shop-settings.lock (root's) is gone


def test_a_5xx_on_a_parameterless_url_fails_the_smoke(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    app = shop.settings.app
    settings = shop.settings.with_(
        app=dataclasses.replace(app, env_values={**app.env_values, "SHOP_REPORT_BROKEN": "1"})
    )
    with Run.open(settings) as run, pytest.raises(SmokeCheckFailed) as caught:
        pipeline.smoke_stack(run)
    line = caught.value.one_line()
    assert "smoke check 'urls' failed: 1 of " in line and "gave a 5xx or no answer: /report/" in line
    assert "smoke-skip" in line and "<!doctype" not in line.lower()  # one line: no page dumped
    shown = capsys.readouterr().out
    assert "smoke urls: GET /report/ gave 500" in shown
    assert "ok   smoke urls" not in shown and '"GET /report/ HTTP/1.1" 500' in shown  # web's log below the FAIL


def test_a_prune_that_drops_imported_code_is_named(
    shop: Shop, wheel_env: WheelEnv, docker_client: DockerClient, tmp_path: Path
) -> None:
    """A pattern dropping the app INSTALLED_APPS names by a computed string (no scan can see it), set
    in a copy of the project's [tool.dockstage]: the installed wheel's `nox -s build_prod` fails in
    collectstatic naming the left-out path and the key; so does the prod image's import check on an
    image pruned that way (built here in-process without its build steps' Django)."""
    root = shutil.copytree(shop.root, tmp_path / "shop")
    pyproject = root / "pyproject.toml"
    excluded = [*tomllib.loads(pyproject.read_text())["tool"]["dockstage"]["prod-exclude"], "shop/extras/"]
    text, replaced = re.subn(
        r"(?m)^prod-exclude = .*$", lambda _: f"prod-exclude = {json.dumps(excluded)}", pyproject.read_text()
    )
    assert replaced == 1, text
    pyproject.write_text(text)
    image = f"{shop.settings.project}-pruned/site"
    done = wheel_env.call(["nox", "-s", "build_prod"], root, {**shop.environ, "DOCKSTAGE_IMAGE": image})
    shown = done.stdout + done.stderr
    assert done.returncode != 0, shown[-4000:]
    assert "No module named 'shop.extras': the prune left out shop/extras/" in shown, shown[-4000:]
    assert "take the pattern matching shop/extras/ out of prod-exclude in [tool.dockstage]" in shown
    settings = shop.settings.with_(
        app=dataclasses.replace(shop.settings.app, prod_exclude=tuple(excluded), collectstatic=False), image=image
    )
    with Run.open(settings) as run:
        run.build("prod")
    with pytest.raises(ImageCheckFailed) as found:
        imagechecks.check_imports(docker_client, settings.tag("prod"), settings)
    assert "No module named 'shop.extras': the prune left out shop/extras/" in found.value.one_line()
    assert "prod-exclude" in found.value.one_line()
