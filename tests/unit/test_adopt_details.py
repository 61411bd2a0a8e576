"""Issue 15's adoption details on generated projects, the parts that are pure logic: the first .env,
requirement includes, the test environment, no lint session, the Python hint, workers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dockstage.adopt import cli
from dockstage.core import config
from dockstage.core.errors import ConfigError, StageBuildFailed
from dockstage.core.report import Reporter
from dockstage.images import bases, buildfiles
from dockstage.stack import envfile, workers
from tests.unit.test_adopt_inspect import startproject

SETTINGS = """\
import os
SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = os.environ.get("DEBUG", "") == "true"
WSGI_APPLICATION = "mysite.wsgi.application"
DATABASES = {"default": {"HOST": os.environ["DB_HOST"], "PASSWORD": os.environ["DB_PASSWORD"]}}
"""
OLD_EXAMPLE = (
    "DJANGO_SECRET_KEY=\nMYSQL_PASSWORD=\nMYSQL_ROOT_PASSWORD=\nDOCKSTAGE_FLAVOUR=auto\nDOCKSTAGE_WEB_PORT=8000\n"
)


def adopted(tmp_path: Path, pyproject_extra: str = "", **files: str) -> Path:
    """A startproject-shaped project, `dockstage init` run on it, then lines added to [tool.dockstage]."""
    root = startproject(tmp_path / "site", SETTINGS, {"requirements.txt": "Django>=5.2,<6\n", **files})
    cli.init(root)
    if pyproject_extra:
        text = (root / "pyproject.toml").read_text()
        (root / "pyproject.toml").write_text(
            text.replace("[tool.dockstage]\n", f"[tool.dockstage]\n{pyproject_extra}", 1)
        )
    return root


def test_first_env_carries_secrets_only_and_pyproject_keeps_its_settings(tmp_path: Path) -> None:
    root = adopted(tmp_path, 'web-port = 18123\nflavour = "trixie"\n')
    settings = envfile.ensure(config.load(root, environ={}), Reporter(quiet=True))
    written = config.read_env_file(root / ".env")
    assert set(written) == {"DJANGO_SECRET_KEY", "MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD"}
    again = config.load(root, environ={})  # the second run: pyproject's values still hold
    assert (again.web_port, again.flavour, again.overridden) == (18123, "trixie", ())
    assert settings.value("DJANGO_SECRET_KEY") == written["DJANGO_SECRET_KEY"]


def test_an_example_with_suite_settings_gives_them_commented_out(tmp_path: Path) -> None:
    root = adopted(tmp_path, "web-port = 18123\n")
    (root / ".env.example").write_text(OLD_EXAMPLE)  # an old or hand-made example
    envfile.ensure(config.load(root, environ={}), Reporter(quiet=True))
    text = (root / ".env").read_text()
    assert "# DOCKSTAGE_WEB_PORT=8000" in text and "[tool.dockstage] keeps its say" in text
    assert not any(key.startswith("DOCKSTAGE_") for key in config.read_env_file(root / ".env"))
    assert config.load(root, environ={}).web_port == 18123
    (root / ".env").write_text(text.replace("# DOCKSTAGE_WEB_PORT=8000", "DOCKSTAGE_WEB_PORT=8000"))
    assert config.load(root, environ={}).overridden == (  # uncommented by the user: said on every command
        "DOCKSTAGE_WEB_PORT=8000 in .env overrides web-port = 18123 in [tool.dockstage] "
        "(.env wins; remove the line to use pyproject's)",
    )


def test_requirement_includes_up_the_tree_are_staged(tmp_path: Path) -> None:
    root = adopted(tmp_path)
    (root / "requirements").mkdir()
    (root / "requirements/base.txt").write_text("-r ../requirements.txt\n-c ../constraints.txt\n")
    (root / "constraints.txt").write_text("Django<6\n")
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(
        text.replace('requirements = ["requirements.txt"]', 'requirements = ["requirements/base.txt"]')
    )
    settings = config.load(root, environ={})
    assert settings.app.requirements == ("requirements/base.txt",)
    buildfiles.build_args(settings, bases.stand_in("bookworm"))
    staged = root / ".dockstage/build/requirements/runtime"
    assert sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file()) == [
        "args",
        "constraints.txt",
        "requirements.txt",
        "requirements/base.txt",
    ]
    assert (staged / "args").read_text().splitlines()[:2] == ["-r", "requirements/base.txt"]


def test_test_env_beats_the_suites_debug_off(tmp_path: Path) -> None:
    root = adopted(tmp_path)
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(
        text.replace("[tool.dockstage.test-env]\n", '[tool.dockstage.test-env]\nDEBUG = "true"\nFEATURE = "on"\n')
    )
    (root / ".env").write_text("DJANGO_SECRET_KEY=k\nMYSQL_PASSWORD=p\nMYSQL_ROOT_PASSWORD=r\n")
    settings = config.load(root, environ={})
    assert envfile.app_env(settings, "prod")["DEBUG"] == "false" and "FEATURE" not in envfile.app_env(settings)
    test = envfile.app_env(settings, "test")
    assert (test["DEBUG"], test["FEATURE"]) == ("true", "on")


def test_the_adopted_noxfile_has_no_lint_session(tmp_path: Path) -> None:
    """The suite's strict ruff rules lint the suite (its own noxfile), never an adopted app."""
    root = adopted(tmp_path)
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "-l"], cwd=root, capture_output=True, text=True, timeout=120, check=False
    )
    assert listed.returncode == 0, listed.stderr
    sessions = {line.split()[1] for line in listed.stdout.splitlines() if line.startswith(("* ", "- "))}
    assert {"pipeline", "build_prod", "test_image", "smoke_prod"} <= sessions
    assert not sessions & {"lint", "typecheck", "tests", "bench"}
    assert "[tool.ruff]" not in (root / "pyproject.toml").read_text()


def test_a_python_conflict_in_the_build_names_the_version_to_set() -> None:
    log = (
        "#14 3.21   x No solution found when resolving dependencies:\n"
        "#14 3.21   ╰─▶ Because the current Python version (3.11.2) does not satisfy Python>=3.12 ...\n"
        '#14 3.22 dockstage: a requirement needs Python >=3.12 and this base image has 3.11.2: set python = ">=3.12" '
        "in [tool.dockstage] (the trixie stand-ins have 3.13; official bases any version)\n"
        "#14 ERROR: process did not complete successfully: exit code: 1\n"
    )
    error = StageBuildFailed("dev", 1, log)
    assert error.one_line() == (
        "build: building stage 'dev' failed: a requirement needs Python >=3.12, the base image has 3.11.2: "
        'set python = ">=3.12" in [tool.dockstage] (the trixie stand-ins have 3.13; official bases any version)'
    )
    assert StageBuildFailed("dev", 1, "#9 ERROR: other\n").fix.startswith("read the build output above")
    with pytest.raises(ConfigError) as caught:  # python set, flavour pinned to one without it: the flavour to set
        bases.decide("bookworm", None, None, ">=3.12")  # type: ignore[arg-type]
    assert caught.value.fix.startswith("set DOCKSTAGE_FLAVOUR=trixie")


@pytest.mark.parametrize(
    ("python", "official"),
    [
        ("==3.9.12", "3.9"),  # andrekovac/django-poetry-rest-api's Poetry python: "no official python image"
        ("~=3.10.4", "3.10"),
        (">=3.8,<3.10", "3.9"),
        (">=3.11", "3.12"),  # the suite's default first
        ("==3.7.1", None),  # older than any base the helpers run on
    ],
)
def test_a_python_pinned_to_a_patch_release_gets_its_minors_base(python: str, official: str | None) -> None:
    assert bases.official_python(python) == official
    assert bases.allows("==3.11.4", "3.11") and not bases.allows("==3.11.4", "3.13")


def with_workers(root: Path, lines: str) -> None:
    """Fill the [tool.dockstage.workers] table init wrote (empty, with an example in a comment)."""
    text = (root / "pyproject.toml").read_text()
    assert "[tool.dockstage.workers]\n" in text
    (root / "pyproject.toml").write_text(
        text.replace("[tool.dockstage.workers]\n", f"[tool.dockstage.workers]\n{lines}")
    )


def test_workers_become_compose_services_of_the_prod_image(tmp_path: Path) -> None:
    root = adopted(tmp_path)
    with_workers(root, 'mailer = "python manage.py send_mail --loop"\nbeat = ["python", "-m", "x"]\n')
    settings = config.load(root, environ={})
    assert not (root / ".dockstage").exists()  # loading the settings writes nothing
    (root / ".env").write_text("DJANGO_SECRET_KEY=s3cret-value-1234\nMYSQL_PASSWORD=p\nMYSQL_ROOT_PASSWORD=r\n")
    path = workers.write(envfile.ensure(settings, Reporter(quiet=True)))
    assert path == root / ".dockstage/compose.generated.yaml"
    services = json.loads(path.read_text().split("\n", 1)[1])["services"]
    assert list(services) == ["mailer", "beat"]
    assert (services["mailer"]["entrypoint"], services["mailer"]["command"]) == (
        ["python"],
        ["manage.py", "send_mail", "--loop"],
    )
    assert services["beat"]["image"] == "${DOCKSTAGE_IMAGE:-project-playground}:prod"
    assert services["beat"]["healthcheck"]["test"] == ["CMD", "true"] and services["beat"]["read_only"] is True
    assert "s3cret" not in path.read_text()  # no secret: the environment comes from the app env file
    assert settings.app.compose_files == ()  # the workers' file is the stack's, not a setting


@pytest.mark.parametrize(
    ("table", "message"),
    [('web = "python manage.py x"', "'web' is not a service name"), ('mailer = ""', "mailer has no command")],
    ids=["suite-name", "empty"],
)
def test_bad_workers_say_what_and_how(tmp_path: Path, table: str, message: str) -> None:
    root = adopted(tmp_path)
    with_workers(root, f"{table}\n")
    with pytest.raises(ConfigError, match=message):
        config.load(root, environ={})


def test_workers_and_suite_services_share_one_health_interval() -> None:
    """db, web, the dev web and every worker are probed at ${DOCKSTAGE_HEALTH_INTERVAL}, which the
    generated env file sets from core.timing (500 ms in a throwaway stack)."""
    from dockstage.core import timing
    from dockstage.core.appconfig import App

    app = App(workers={"mailer": ("python", "x")})
    assert json.loads(workers.render(app).split("\n", 1)[1])["services"]["mailer"]["healthcheck"]["interval"] == (
        workers.INTERVAL
    )
    compose = Path(__file__).resolve().parents[2] / "dockstage" / "data" / "compose"
    texts = {name: (compose / name).read_text() for name in ("compose.yaml", "compose.dev.yaml")}
    assert [text.count("interval: ${DOCKSTAGE_HEALTH_INTERVAL:?") for text in texts.values()] == [2, 1]
    assert all(
        " interval: " not in line or "DOCKSTAGE_HEALTH_INTERVAL" in line
        for t in texts.values()
        for line in t.splitlines()
    )
    assert (timing.health_interval(), timing.health_interval(throwaway=True)) == ("2s", "500ms")
