"""Issue 15's adoption details on one generated project, built once, on the real engine.

The project is written here as a real one is laid out: `requirements/base.txt` includes
`../requirements.txt`, the settings read CHANGELOG.md at import, a template, a data file, tests
inside the package, two management-command workers. `dockstage init` (the installed wheel's: tests/integration/wheelenv.py) adopts it and
[tool.dockstage] is adjusted (configuration only); the suite's own flows then build it, run its
tests with a test environment, smoke-test it (a 5xx shows its body and web's log), start the
workers with `up`, and fail a build on the base image's Python with the version to set.
The module owns its images and compose projects and removes them.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from python_on_whales import DockerClient

from dockstage.adopt.render import toml
from dockstage.core import config
from dockstage.core.appconfig import SmokeCheck
from dockstage.core.config import Settings
from dockstage.core.errors import ServiceFailed, SmokeCheckFailed, StageBuildFailed
from dockstage.flows import pipeline, stackops
from dockstage.flows.run import Run
from tests.conftest import TEST_FLAVOUR, free_port
from tests.integration.projects import (
    mysite_files,
    new_name,
    owned_environ,
    remove_owned,
    settings_py,
    write_files,
)
from tests.integration.wheelenv import WheelEnv

SETTINGS = settings_py(
    apps='["django.contrib.contenttypes", "notes"]',
    name="site",
    template_dirs='[BASE_DIR / "templates"]',
    at_import=(
        "# Read at import, as the real project's settings did: prod needs the file.\n"
        'VERSION = (BASE_DIR / "CHANGELOG.md").read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()\n'
    ),
)
VIEWS = """\
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

NAMES = Path(__file__).resolve().parent / "data" / "names.csv"


def healthz(request):
    connection.ensure_connection()
    return JsonResponse({"status": "ok"})


def home(request):
    return render(request, "home.html", {"version": settings.VERSION, "names": NAMES.read_text().split()})


def boom(request):
    print("boom-marker-in-log: this view fails on purpose", flush=True)
    return HttpResponse("boom-body-marker: the answer of a failing view", status=500)
"""
WORKER = """\
import signal
import sys
import time

from django.core.management.base import BaseCommand
from django.db import connection


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name, **options):
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        self.stdout.write(f"worker {name} ready on {connection.vendor}")
        self.stdout.flush()
        while True:
            time.sleep(1)
"""
APP_TESTS = """\
import os

import pytest
from django.db import connection


def test_the_test_environment_is_the_projects():
    assert os.environ["DEBUG"] == "true"  # [tool.dockstage.test-env] beats the suite's debug off
    assert os.environ["FEATURE_FLAG"] == "on"


@pytest.mark.django_db
def test_the_database_is_mysql():
    assert connection.vendor == "mysql"
"""
URLS = """\
from django.urls import path

from notes import views

urlpatterns = [path("healthz", views.healthz), path("", views.home), path("boom/", views.boom)]
"""
FILES = {
    **mysite_files(SETTINGS, URLS),
    "CHANGELOG.md": "# release 1.4.2\n\n- the first one\n",
    "requirements.txt": "Django>=5.2,<6\n",
    "requirements/base.txt": "-r ../requirements.txt\n",
    "templates/home.html": "<p>{{ version }} with {{ names|length }} names</p>\n",
    "notes/__init__.py": "",
    "notes/views.py": VIEWS,
    "notes/data/names.csv": "ada grace linus\n",
    "notes/management/__init__.py": "",
    "notes/management/commands/__init__.py": "",
    "notes/management/commands/work.py": WORKER,
    "notes/tests/__init__.py": "",
    "notes/tests/test_env.py": APP_TESTS,
}
ADJUSTED = {  # what a user sets in [tool.dockstage] after reading init's output
    "requirements": ["requirements/base.txt"],
    "health-path": "/healthz",
}
TEST_ENV = {"DEBUG": "true", "FEATURE_FLAG": "on"}
WORKERS = {"mailer": "python manage.py work mailer", "digest": "python manage.py work digest"}
SMOKE = [
    {"name": "health", "path": "/healthz", "expect": {"status": "ok"}},
    {"name": "home", "path": "/", "contains": "release 1.4.2 with 3 names"},
]


def adjusted_pyproject(text: str) -> str:
    """init's [tool.dockstage] with the user's adjustments, written back as TOML."""
    table = tomllib.loads(text)["tool"]["dockstage"]
    table.update(ADJUSTED)
    tables = {name: table.pop(name, {}) for name in ("env", "env-values", "test-env", "workers")}
    tables["test-env"] = {**tables["test-env"], **TEST_ENV}
    tables["workers"] = {**tables["workers"], **WORKERS}
    table.pop("smoke", None)
    lines = ["[tool.dockstage]", *(f"{key} = {toml(value)}" for key, value in table.items())]
    for name, values in tables.items():
        lines += ["", f"[tool.dockstage.{name}]", *(f'"{key}" = {toml(value)}' for key, value in values.items())]
    for check in SMOKE:
        lines += ["", "[[tool.dockstage.smoke]]", *(f"{key} = {toml(value)}" for key, value in check.items())]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Site:
    """The generated, adopted project: its root, its settings (this module's names) and its built stages."""

    root: Path
    settings: Settings
    init_output: str


@pytest.fixture(scope="module")
def adopted_site(
    docker_client: DockerClient, wheel_env: WheelEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The project written, `dockstage init` run on it (the installed wheel's), [tool.dockstage]
    adjusted, all four stages built."""
    root = write_files(tmp_path_factory.mktemp("details") / "site", FILES)
    name = new_name("details")
    try:
        init = wheel_env.run(["dockstage", "init"], root, owned_environ(name, "site"))  # its probe: {name}/site:dev
        (root / "pyproject.toml").write_text(adjusted_pyproject((root / "pyproject.toml").read_text()))
        environ = {k: v for k, v in os.environ.items() if not k.startswith("DOCKSTAGE_")}
        settings = config.load(
            root, environ, image=f"{name}/site", project=name, web_port=free_port(), flavour=TEST_FLAVOUR, quiet=True
        )
        with Run.open(settings) as run:
            run.build()
        yield Site(root, settings, init)
    finally:
        remove_owned(docker_client, name)


def test_includes_up_the_tree_install_and_prod_gets_the_app_minus_tests(
    adopted_site: Site, docker_client: DockerClient
) -> None:
    """Items 2 and 3: `-r ../requirements.txt` installs Django; prod has the CHANGELOG the settings
    read, the template and the data file, and none of the package's tests or the tooling."""
    tag = adopted_site.settings.tag("prod")
    listing = str(
        docker_client.run(
            tag,
            ["-c", "cd /app && find . -type f -not -path './staticfiles/*' | sort && python -c 'import django'"],
            entrypoint="sh",
            remove=True,
        )
    ).split()
    assert {"./CHANGELOG.md", "./templates/home.html", "./notes/data/names.csv", "./manage.py"} <= set(listing)
    assert not [p for p in listing if "/tests/" in p or p.startswith(("./requirements", "./noxfile", "./tasks"))]


def test_the_test_environment_reaches_the_apps_tests(adopted_site: Site) -> None:
    """Item 4: [tool.dockstage.test-env] (debug on, a flag) is what the app's tests see in the test image."""
    with Run.open(adopted_site.settings) as run:
        counts = pipeline.test_image(run)
    assert counts == {"tests": 2, "failures": 0, "errors": 0, "skipped": 0}


def test_a_failing_smoke_check_shows_the_body_and_webs_log(
    adopted_site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    """Items 3 and 5: the project's pages answer from prod (CHANGELOG, template, data file); a 5xx
    says its body in the one line, and web's log (the view's own line) is shown above it."""
    app = adopted_site.settings.app
    settings = adopted_site.settings.with_(
        app=dataclasses.replace(app, smoke=(*app.smoke, SmokeCheck("/boom/", name="boom"))), quiet=False
    )
    with Run.open(settings) as run, pytest.raises(SmokeCheckFailed) as caught:
        pipeline.smoke_prod(run)
    shown = capsys.readouterr().out
    assert "ok   smoke home: GET / gave 200" in shown and "ok   smoke health" in shown
    started = next(line for line in shown.splitlines() if "starting db, migrate and web" in line)
    assert all(worker in started for worker in WORKERS)  # item 8: the smoke stack runs the workers too
    line = caught.value.one_line()
    assert "smoke check 'boom' failed: GET /boom/ gave 500, not 200: 'boom-body-marker" in line
    assert "logs above" in line and "invoke logs" not in line  # the throwaway stack is gone
    assert shown.index("FAIL smoke boom") < shown.index("boom-marker-in-log")  # then web's log


def test_a_failing_service_of_a_throwaway_stack_shows_its_log(
    adopted_site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 5: migrate failing in the smoke stack (a database that does not exist) is named, and its
    log is shown before the stack is removed: the one line points above, not at `invoke logs`."""
    app = adopted_site.settings.app
    settings = adopted_site.settings.with_(
        app=dataclasses.replace(app, env_values={**app.env_values, "DB_NAME": "no_such_db"})
    )
    with Run.open(settings) as run, pytest.raises(ServiceFailed) as caught:
        pipeline.smoke_prod(run)
    shown = capsys.readouterr().out
    line = caught.value.one_line()
    assert line.startswith("stack: migrating the smoke stack's database: migrate exited with 1")
    assert "its log is above" in line and "invoke logs" not in line
    assert "migrate-1" in shown and "no_such_db" in shown  # migrate's own log, with the cause


def test_up_starts_the_workers_beside_web(adopted_site: Site, docker_client: DockerClient) -> None:
    """Item 8: [tool.dockstage.workers] are services of the prod image, started by `up` after the
    migrations, each running its management command against the database."""
    with Run.open(adopted_site.settings) as run:
        try:
            url = stackops.up(run)
            stack = run.stack()
            seen = {
                str(c.config.labels["com.docker.compose.service"]): (
                    c.state.running,
                    c.state.health.status if c.state.health else None,
                    c.config.image,
                    c.host_config.readonly_rootfs,
                )
                for c in stack.compose.ps()
            }
            logs = str(stack.compose.logs(services=list(WORKERS)))
        finally:
            stackops.down(run, volumes=True, yes=True)
    assert url.startswith("http://127.0.0.1:")
    assert {"web", "mailer", "digest"} <= set(seen)
    for worker in WORKERS:
        assert seen[worker] == (True, "healthy", adopted_site.settings.tag("prod"), True)
        assert f"worker {worker} ready on mysql" in logs


def test_a_requirement_needing_another_python_names_the_version_to_set(adopted_site: Site) -> None:
    """Item 7: on a base image whose Python a requirement does not accept, the build fails with the fix."""
    settings = adopted_site.settings
    app = dataclasses.replace(settings.app, requirements=("Django>=6",), python=">=3.11")  # Django 6 needs 3.12
    with Run.open(settings.with_(app=app, flavour="bookworm")) as run, pytest.raises(StageBuildFailed) as caught:
        run.build("dev")
    line = caught.value.one_line()
    assert "a requirement needs Python >=3.12, the base image has 3.11" in line
    assert 'set python = ">=3.12" in [tool.dockstage]' in line
