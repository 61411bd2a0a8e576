"""The build context of an adopted project, from the installed wheel in a project outside this repository.

The project keeps a module out of its own images with an allow-list .dockerignore (as linkding
keeps `settings/dev.py` out, so its settings fall back to prod), opens a sqlite file under
`BASE_DIR/data` at import (as huey does; data/ is not in the repository), and lists its
dependencies in pyproject.toml. `dockstage init` and `nox -s pipeline` go green with zero keys
set by hand: every stage lacks the excluded module and the secrets file git ignores, the probe learned `writable-dirs = ["data"]`,
prod writes data/ on its read-only root, the pipeline's dev build reuses the probe's layers, and a
later [tool.dockstage] edit rebuilds no dependency layer. The module owns its images and compose
projects and removes them.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from python_on_whales import DockerClient

from tests.conftest import TEST_FLAVOUR, free_port
from tests.integration.projects import mysite_files, new_name, owned_environ, remove_owned, settings_py, write_files
from tests.integration.wheelenv import WheelEnv

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SETTINGS = settings_py(
    apps='[\n    "django.contrib.contenttypes",\n    "django.contrib.staticfiles",\n    "notes",\n]',
    name="notes",
    at_import=(
        "import sqlite3\n\n\n"
        "class SqliteStorage:  # as huey's: the file an attribute, the connection made at import\n"
        "    def __init__(self, filename):\n"
        "        self.filename = filename\n"
        "        self.conn = sqlite3.connect(self.filename)\n"
        '        self.conn.execute("create table if not exists task (id integer)")\n\n\n'
        'HUEY = SqliteStorage(str(BASE_DIR / "data" / "tasks.sqlite3"))\n'
    ),
    extra=(
        'STATIC_URL = "/static/"\nSTATIC_ROOT = BASE_DIR / "staticfiles"\n'
        'SETTINGS_FLAVOUR = "prod"\n'
        "try:  # as linkding's settings: the dev module when it is there (its .dockerignore removes it)\n"
        "    from .local import *  # noqa: F403\n"
        "except ImportError:\n"
        "    pass\n"
    ),
)
URLS = """\
from django.http import HttpResponse
from django.urls import path

from django.conf import settings


def flavour(request):
    return HttpResponse(settings.SETTINGS_FLAVOUR)


urlpatterns = [path("healthz", flavour), path("flavour/", flavour)]
"""
TESTS = """\
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection


def test_the_excluded_dev_module_is_not_in_the_test_image():
    assert settings.SETTINGS_FLAVOUR == "prod"


def test_the_writable_dir_is_there():
    assert (Path(settings.BASE_DIR) / "data" / "tasks.sqlite3").is_file()


@pytest.mark.django_db
def test_the_database_is_mysql():
    assert connection.vendor == "mysql"
"""
DOCKERIGNORE = """\
# Ignore everything
*

# Include files required for build or at runtime
!/mysite
!/notes
!/manage.py
!/pyproject.toml
!/.env

 # Remove dev settings
/mysite/local.py
"""
FILES = {
    **mysite_files(SETTINGS, URLS),
    "mysite/local.py": 'SETTINGS_FLAVOUR = "dev"\nDEBUG = True\n',
    "notes/__init__.py": "",
    "notes/tests/__init__.py": "",
    "notes/tests/test_notes.py": TESTS,
    "pyproject.toml": """\
        [project]
        name = "notes"
        version = "1.0"
        requires-python = ">=3.11"
        dependencies = ["Django>=5.2,<6"]

        [dependency-groups]
        test = ["pytest", "pytest-django"]

        [tool.pytest.ini_options]
        DJANGO_SETTINGS_MODULE = "mysite.settings"
        """,
    ".dockerignore": DOCKERIGNORE,
    "README.md": "kept out by the project's own allow-list\n",
    # a developer's local secrets file: the allow-list takes mysite/ whole, git ignores this file
    "mysite/secrets.json": '{"SECRET_KEY": "only-on-this-machine"}\n',
    ".gitignore": "secrets.json\n.dockstage/\n.env\n",
}
INSTALLS = re.compile(r"^#(\d+) \[(?:runtime|devdeps) +\d+/\d+\] RUN .*install\.py", re.MULTILINE)


@dataclass(frozen=True)
class Notes:
    root: Path
    image: str
    environ: dict[str, str]
    init_output: str
    pipeline_output: str
    probe_layers: list[str]


DEV_STAGE_LAYERS = 2
"""The layers dev adds to devdeps (data/Dockerfile: the writable dirs' RUN, the app's COPY)."""


def devdeps_layers(docker_client: DockerClient, image: str) -> list[str]:
    """The layers of `image`:dev that devdeps made (the base's, the installs', the support files')."""
    return list(docker_client.image.inspect(f"{image}:dev").root_fs.layers)[:-DEV_STAGE_LAYERS]


def installs_cached(output: str, stage: str = "dev") -> list[bool]:
    """Whether each dependency install step (runtime, dev tools) of `stage`'s build was a cache hit;
    [] when the progress shows neither: BuildKit prints a step that another build running at the
    same time shares (a pytest-xdist worker's) in that build's progress only."""
    part = output.split(f"building {stage} -> ", 1)[1].split("==> building", 1)[0]
    found = []
    for match in INSTALLS.finditer(part):
        after = part[match.end() :]
        step = re.search(rf"^#{match[1]} (CACHED|DONE|ERROR)", after, re.MULTILINE)
        found.append(bool(step) and step[1] == "CACHED")  # type: ignore[index]
    return found


@pytest.fixture(scope="module")
def notes(
    docker_client: DockerClient, wheel_env: WheelEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Notes]:
    root = write_files(tmp_path_factory.mktemp("context") / "notes", FILES)
    subprocess.run(["git", "init", "-q", str(root)], check=True)  # a checkout: what git ignores stays out
    name = new_name("context")
    environ = owned_environ(name, "site", DOCKSTAGE_WEB_PORT=str(free_port()), DOCKSTAGE_FLAVOUR=TEST_FLAVOUR)
    try:
        init = wheel_env.run(["dockstage", "init"], root, environ)
        layers = devdeps_layers(docker_client, f"{name}/site")
        output = wheel_env.run(["nox", "-s", "pipeline"], root, environ)
        yield Notes(root, f"{name}/site", environ, init, output, layers)
    finally:
        remove_owned(docker_client, name)


def test_init_honours_the_dockerignore_and_learns_the_writable_dir(notes: Notes) -> None:
    section = tomllib.loads((notes.root / "pyproject.toml").read_text())["tool"]["dockstage"]
    assert section["writable-dirs"] == ["data"]
    assert "writable-dirs: data (the import opens a file there" in notes.init_output
    assert "the project's .dockerignore is honoured in every stage" in notes.init_output


def test_the_pipeline_is_green_and_the_dev_build_reuses_the_probes_layers(
    notes: Notes, docker_client: DockerClient
) -> None:
    out = notes.pipeline_output
    assert re.search(r"app tests \(`[^`]+`\): 3 tests, 0 failed, .* on MySQL at db", out), out[-3000:]
    assert installs_cached(out) in ([True, True], [])  # init's probe built them: the pipeline's dev build hits
    assert devdeps_layers(docker_client, notes.image) == notes.probe_layers  # the very layers init's probe built


def test_every_stage_lacks_what_the_project_ignores(notes: Notes, docker_client: DockerClient) -> None:
    script = "cd /app && ls -a; ls mysite; stat -c 'data %u' data"
    listings = {
        stage: str(docker_client.run(f"{notes.image}:{stage}", ["-c", script], entrypoint="sh", remove=True))
        for stage in ("dev", "test", "prod")
    }
    for stage, listing in listings.items():
        assert "local.py" not in listing and "README.md" not in listing, (stage, listing)
        assert "manage.py" in listing and "settings.py" in listing and "wsgi.py" in listing, (stage, listing)
        assert "noxfile.py" not in listing  # the project's allow-list applies to init's files too
        assert ".env" not in listing.split()  # the project's `!/.env` does not beat the suite's rule
        assert "secrets.json" not in listing, (stage, listing)  # git ignores it: no image holds it
    assert "data 10001" in listings["prod"]  # the app user's; a tmpfs on it in the prod services


def test_what_git_ignores_is_named_once_as_left_out(notes: Notes) -> None:
    line = "left out of the images, as git ignores them: mysite/secrets.json"
    assert notes.pipeline_output.count(line) == 1, notes.pipeline_output[-3000:]


def test_prod_serves_the_prod_module_and_writes_data_on_its_read_only_root(notes: Notes) -> None:
    assert "smoke urls: 2 URLs without parameters, no 5xx: 2x 200" in notes.pipeline_output
    assert "smoke health: GET /healthz gave 200" in notes.pipeline_output


def test_a_key_edit_rebuilds_no_dependency_layer(
    notes: Notes, wheel_env: WheelEnv, docker_client: DockerClient
) -> None:
    pyproject = notes.root / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(re.sub(r"(?m)^smoke-skip = .*$", 'smoke-skip = ["/nowhere/*"]', text))
    staged = notes.root / ".dockstage/build/requirements/runtime/pyproject.toml"
    before = staged.read_bytes()
    output = wheel_env.run(["nox", "-s", "build_dev"], notes.root, notes.environ)
    assert staged.read_bytes() == before and b"dockstage" not in before
    assert installs_cached(output) in ([True, True], [])
    assert devdeps_layers(docker_client, notes.image) == notes.probe_layers


def test_an_unchanged_stage_is_not_built_again_and_an_edit_is_seen(
    notes: Notes, wheel_env: WheelEnv, docker_client: DockerClient
) -> None:
    image = f"{notes.image}:dev"
    before = docker_client.image.inspect(image).id
    again = wheel_env.run(["nox", "-s", "build_dev"], notes.root, notes.environ)
    assert f"dev image {before.removeprefix('sha256:')[:12]} was built from these inputs, unchanged" in again
    assert "#1 " not in again and docker_client.image.inspect(image).id == before  # no buildx ran
    urls = notes.root / "mysite" / "urls.py"
    urls.write_text(urls.read_text() + "\n# an edit\n")
    edited = wheel_env.run(["nox", "-s", "build_dev"], notes.root, notes.environ)
    assert "was built from these inputs" not in edited
    assert docker_client.image.inspect(image).id != before
    shown = docker_client.run(image, ["cat", "/app/mysite/urls.py"], entrypoint="", remove=True)
    assert str(shown).rstrip().endswith("# an edit")
