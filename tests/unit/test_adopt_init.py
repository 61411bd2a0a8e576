"""`dockstage init` writing a project's files, and the settings they give the suite."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest

from dockstage.adopt import cli
from dockstage.core import config, resources
from dockstage.core.appconfig import SmokeCheck, parse_app
from dockstage.core.errors import ConfigError
from dockstage.core.report import Reporter
from dockstage.images import bases, buildfiles
from dockstage.stack import envfile
from tests.unit.test_adopt_inspect import startproject

ROOT = Path(__file__).resolve().parents[2]

SETTINGS = """\
import os
SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = os.environ.get("DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "").split(",")
WSGI_APPLICATION = "mysite.wsgi.application"
STATIC_ROOT = "/app/static"
DATABASES = {"default": {"HOST": os.environ["DB_HOST"], "PASSWORD": os.environ["DB_PASSWORD"],
    "ENGINE": os.environ.get("DB_ENGINE"), "NAME": os.environ["DB_NAME"]}}
"""


def project(tmp_path: Path) -> Path:
    return startproject(tmp_path / "my_site", SETTINGS, {"requirements.txt": "Django>=5.2,<6\nmysqlclient\n"})


def test_init_writes_what_the_suite_reads(tmp_path: Path) -> None:
    root = project(tmp_path)
    _, said = cli.init(root)
    assert {line.split()[1] for line in said} >= {"[tool.dockstage]", ".env.example", "noxfile.py", "tasks.py"}
    settings = config.load(root, environ={})
    app = settings.app
    assert (settings.image, settings.project, settings.app_dir) == ("my-site", "my-site", ".")
    assert (app.settings_module, app.wsgi, app.requirements) == (
        "mysite.settings",
        "mysite.wsgi:application",
        ("requirements.txt",),
    )
    assert app.test_requirements == ("pytest", "pytest-django") and app.collectstatic
    assert dict(app.env) == {
        "secret-key": ("SECRET_KEY",),
        "debug": ("DEBUG",),
        "allowed-hosts": ("ALLOWED_HOSTS",),
        "database-host": ("DB_HOST",),
        "database-password": ("DB_PASSWORD",),
        "database-name": ("DB_NAME",),
    }
    assert dict(app.env_values) == {"DB_ENGINE": "django.db.backends.mysql"}
    assert [c.path for c in app.smoke] == [""]  # the health check: no path of its own
    assert [c.path for c in app.smoke_checks] == ["/admin/login/"] and app.deploy_check == "ERROR"
    assert settings.dockerfile == str(resources.path(resources.DOCKERFILE))  # the package's, not ejected
    example = (root / ".env.example").read_text()
    assert "DJANGO_SECRET_KEY=\n" in example and "DOCKSTAGE_" not in example.replace("DOCKSTAGE_*", "")
    assert "noxsessions.register(ROOT)" in (root / "noxfile.py").read_text()
    assert "lint" not in (root / "noxfile.py").read_text()


def test_the_app_environment_uses_the_apps_names(tmp_path: Path) -> None:
    root = project(tmp_path)
    cli.init(root)
    (root / ".env").write_text("DJANGO_SECRET_KEY=s3cret-value-123\nMYSQL_PASSWORD=pw\nSENTRY_DSN=x\n")
    settings = config.load(root, environ={})
    env = envfile.app_env(settings, "prod")
    assert (env["SECRET_KEY"], env["DB_HOST"], env["DB_PASSWORD"], env["DB_NAME"]) == (
        "s3cret-value-123",
        "db",
        "pw",
        "app",
    )
    assert (env["DEBUG"], env["DB_ENGINE"], env["SENTRY_DSN"]) == ("false", "django.db.backends.mysql", "x")
    assert "MYSQL_PASSWORD" not in env  # the suite's own keys stay out
    assert envfile.app_env(settings, "dev")["DEBUG"] == "true"
    assert "SECRET_KEY" in buildfiles.placeholders(settings.app)
    assert "s3cret" not in json.dumps(buildfiles.placeholders(settings.app))


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "pyproject.toml").write_text('[tool.ruff]\nline-length = 99\n\n[tool.dockstage]\nimage = "mine"\n')
    (root / "noxfile.py").write_text("# mine\n")
    (root / ".env.example").write_text("THEIRS=1\n")
    _, said = cli.init(root)
    assert "kept   [tool.dockstage] in pyproject.toml (exists; --force replaces it)" in said
    assert (root / "noxfile.py").read_text() == "# mine\n" and (root / ".env.example").read_text() == "THEIRS=1\n"
    assert (root / ".env.dockstage.example").is_file()  # the project's own example is left alone
    cli.init(root, force=True)
    table = tomllib.loads((root / "pyproject.toml").read_text())
    assert table["tool"]["ruff"] == {"line-length": 99}  # other tools' tables kept
    assert table["tool"]["dockstage"]["image"] == "my-site"
    assert table["tool"]["dockstage"]["env-example"] == ".env.dockstage.example"
    assert (root / "noxfile.py").read_text() == "# mine\n"  # the project's own, even with --force
    assert "noxsessions" in (root / "noxfile.dockstage.py").read_text()


def test_init_force_keeps_apt_packages_set_by_hand(tmp_path: Path) -> None:
    """init's own message says to add what a build needs to apt-build and run init --force: that
    must not write the list back to what init found (held-out yadsapp: psycopg needs libpq-dev)."""
    root = project(tmp_path)
    cli.init(root)
    text = (root / "pyproject.toml").read_text()
    table = tomllib.loads(text)["tool"]["dockstage"]
    assert table["apt-build"] == [] and table["apt-runtime"] == []
    text = text.replace("apt-build = []", 'apt-build = ["libxmlsec1-dev"]')
    (root / "pyproject.toml").write_text(text.replace("apt-runtime = []", 'apt-runtime = ["libxmlsec1"]'))
    found, _ = cli.init(root, force=True)
    table = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["dockstage"]
    assert (table["apt-build"], table["apt-runtime"]) == (["libxmlsec1-dev"], ["libxmlsec1"])
    assert "apt-build keeps libxmlsec1-dev from the [tool.dockstage] it replaces" in found.notes


def test_eject_copies_the_suites_files_and_points_at_them(tmp_path: Path) -> None:
    root = project(tmp_path)
    cli.init(root, do_eject=True)
    settings = config.load(root, environ={})
    assert settings.path(settings.dockerfile) == root / "docker/dockstage/Dockerfile"
    assert (root / "docker/dockstage/compose/compose.yaml").is_file()
    assert (root / "docker/dockstage/Dockerfile.dockerignore").is_file()
    (root / "docker/dockstage/healthcheck.py").write_text("# the project's own\n")
    buildfiles.stage(settings, root)
    assert (root / ".dockstage/build/support/healthcheck.py").read_text() == "# the project's own\n"
    _, said = cli.init(root, force=False, do_eject=True)
    assert any(line.startswith("kept   docker/dockstage/") for line in said)


def test_staged_requirements_follow_includes(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "requirements").mkdir()
    (root / "requirements/base.txt").write_text("Django>=5.2\n")
    (root / "requirements.txt").write_text("-r requirements/base.txt\n-c constraints.txt\n")
    (root / "constraints.txt").write_text("Django<6\n")
    cli.init(root)
    settings = config.load(root, environ={})
    args = buildfiles.build_args(settings, bases.stand_in("bookworm"))
    staged = root / ".dockstage/build/requirements/runtime"
    assert sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file()) == [
        "args",
        "constraints.txt",
        "requirements.txt",
        "requirements/base.txt",
    ]
    assert (staged / "args").read_text() == "-r\nrequirements.txt\ngunicorn\nmysqlclient\n"
    assert (root / ".dockstage/build/requirements/test/args").read_text() == "pytest\npytest-django\n"
    assert json.loads(args["TEST_COMMAND"]) == ["pytest"] and args["APP_DIR"] == "."
    assert args["PYTHON_IMAGE"] == "dockstage/python:3.11-bookworm"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"python": "three"}, "neither a version nor a specifier"),
        ({"deploy_check": "LOUD"}, "is not a level"),
        ({"wsgi": "mysite.wsgi"}, "has no ':'"),
        ({"env": {"database-hostname": "DB_HOST"}}, "unknown suite value 'database-hostname'"),
        ({"smoke": [{"name": "x"}]}, "smoke check 1 has no path"),
        ({"health_path": "healthz"}, "start it with /"),
    ],
    ids=["python", "deploy-check", "wsgi", "env-value", "smoke-path", "health-path"],
)
def test_bad_app_values_say_what_and_how(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_app(raw)


def test_neutral_defaults_the_bundled_app_in_pyproject_and_python_choice() -> None:
    app = parse_app({})  # what a project gets before `dockstage init`: nothing of the bundled app
    assert (app.settings_module, app.wsgi, dict(app.env), app.secrets) == ("", "", {}, ())
    assert app.smoke_checks == (SmokeCheck("/healthz", name="health", follow=True),)
    bundled = config.load(ROOT, environ={}).app  # this repository's [tool.dockstage]
    assert bundled.settings_module == "project_playground.settings" and bundled.secrets == ("API_TOKEN",)
    assert bundled.env["database-host"] == ("DATABASE_HOST",)
    assert [c.name for c in bundled.smoke][:2] == ["health", "notes create"]
    assert bundled.smoke[1].body == {"text": "smoke 🐳 note ✓"} and bundled.smoke[1].auth == "API_TOKEN"
    assert bases.decide("bookworm", None, None, ">=3.11").python == "dockstage/python:3.11-bookworm"  # type: ignore[arg-type]
    assert bases.decide("trixie", None, None, ">=3.12").python == "dockstage/python:3.13-trixie"  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as caught:
        bases.decide("bookworm", None, None, ">=3.12")  # type: ignore[arg-type]
    assert caught.value.fix.startswith("set DOCKSTAGE_FLAVOUR=trixie")
    with pytest.raises(ConfigError, match="no stand-in fits"):
        bases.decide("trixie", None, None, "3.12")  # type: ignore[arg-type]


def test_first_env_is_written_once_when_steps_race(tmp_path: Path) -> None:
    """Pipeline steps run side by side may all find no .env: one writes it, all read that one."""
    import threading

    (tmp_path / ".env.example").write_text("DJANGO_SECRET_KEY=\nMYSQL_PASSWORD=\n")
    settings = config.load(tmp_path, environ={})
    seen: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: seen.append(envfile.ensure(settings, Reporter(quiet=True)).value("MYSQL_PASSWORD"))
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    on_disk = config.read_env_file(tmp_path / ".env")["MYSQL_PASSWORD"]
    assert seen == [on_disk] * 8
    assert oct((tmp_path / ".env").stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".env.")] == [".env.example"]  # no temporary left


def test_env_file_beating_pyproject_is_said(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dockstage]\nweb-port = 9000\nflavour = "trixie"\n')
    (tmp_path / ".env").write_text("DOCKSTAGE_WEB_PORT=9100\nDOCKSTAGE_FLAVOUR=trixie\n")
    settings = config.load(tmp_path, environ={})
    assert settings.web_port == 9100
    assert settings.overridden == (
        "DOCKSTAGE_WEB_PORT=9100 in .env overrides web-port = 9000 in [tool.dockstage] (.env wins; remove the line to use pyproject's)",
    )  # the same value (flavour) is no override; a shell variable is the user's own choice
    assert config.load(tmp_path, environ={"DOCKSTAGE_WEB_PORT": "9200"}).overridden == ()


def test_a_project_with_its_own_env_example_keeps_its_env_for_itself(tmp_path: Path) -> None:
    """bakerydemo: its own .env.example, no .env yet (its readme says `cp .env.example .env`)."""
    root = project(tmp_path)
    (root / ".env.example").write_text("# CSP_DEFAULT_SRC=\"'self'\"\n")
    (root / ".gitignore").write_text(".env\n*.pyc\n")
    found, _ = cli.init(root)
    settings = config.load(root, environ={})
    assert (settings.env_example, settings.env_file) == (".env.dockstage.example", ".env.dockstage")
    assert not (root / ".env").exists()
    assert "add .env.dockstage and .dockstage/ to .gitignore (secrets; the suite's state)" in found.notes
    envfile.ensure(settings, Reporter(quiet=True))
    assert not (root / ".env").exists() and "DJANGO_SECRET_KEY=" in (root / ".env.dockstage").read_text()
    (root / ".env").write_text((root / ".env.example").read_text())  # the project's own setup, later
    assert config.load(root, environ={}).env["DJANGO_SECRET_KEY"]  # the suite's secrets are untouched
    cli.init(root, force=True)  # init again: the choice stays
    assert config.load(root, environ={}).env_file == ".env.dockstage"


def test_migrations_git_ignores_are_said(tmp_path: Path) -> None:
    """test-tech-for-companies/sis_CRUD_with_django hides `applications/*/migrations` from git: its
    custom user model's app has none in any checkout, and the pipeline's migrate failed on it."""
    root = project(tmp_path)
    (root / "applications/users/models").mkdir(parents=True)
    (root / "applications/users/models/__init__.py").write_text("")
    (root / "applications/shop").mkdir()
    (root / "applications/shop/models.py").write_text("")
    (root / ".gitignore").write_text(".env\n.dockstage/\napplications/users/migrations\n")
    found, _ = cli.init(root)
    assert not [n for n in found.notes if "migrations" in n]  # not a checkout: git says nothing
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    found, _ = cli.init(root, force=True)
    hidden = [n for n in found.notes if n.startswith("git ignores the migrations of")]
    assert hidden == [
        "git ignores the migrations of applications/users: no checkout, no CI run and no image has them (the "
        "images hold what git tracks), so migrate there makes none of their tables: stop ignoring them in "
        ".gitignore, make them (`invoke makemigrations`) and commit them"
    ]


def test_a_requirements_file_git_ignores_is_said(tmp_path: Path) -> None:
    """ericwburden/django-compose-app's .gitignore says `requirements.txt`, which also hides the
    requirements of its own deploy/prod/: a checkout without it force-added fails every build on it."""
    root = project(tmp_path)
    (root / ".gitignore").write_text(".env\n.dockstage/\nrequirements.txt\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    found, _ = cli.init(root)
    assert (
        "git ignores requirements.txt and does not track it: no build has it (the images hold what git tracks): "
        "commit it (`git add -f`), or stop ignoring it in .gitignore"
    ) in found.notes
    subprocess.run(["git", "-C", str(root), "add", "-f", "requirements.txt"], check=True)  # tracked: in every build
    found, _ = cli.init(root, force=True)
    assert not [n for n in found.notes if n.startswith("git ignores requirements.txt")]


def test_an_env_the_suite_made_stays_the_suites(tmp_path: Path) -> None:
    """No example of the project's own: .env is the suite's, and init again keeps it so."""
    root = project(tmp_path)
    cli.init(root)
    settings = config.load(root, environ={})
    envfile.ensure(settings, Reporter(quiet=True))
    assert settings.env_file == ".env" and (root / ".env").is_file()
    cli.init(root, force=True)
    assert config.load(root, environ={}).env_file == ".env"


@pytest.mark.parametrize(
    ("gitignore", "entry", "expected"),
    [
        (".env\n", ".env", True),
        (".env\n", ".env.dockstage", False),
        (".env*\n", ".env.dockstage", True),
        ("/.dockstage/\n", ".dockstage/", True),
        (".dockstage\n", ".dockstage/", True),
        ("# .env\n!.env\n", ".env", False),
        ("build/\n", "build", False),  # a directory pattern does not ignore a file
    ],
)
def test_gitignore_lines_are_matched_as_patterns(gitignore: str, entry: str, expected: bool) -> None:
    assert cli.ignored(gitignore, entry) is expected


def test_init_says_the_project_dockerignore_is_honoured(tmp_path: Path) -> None:
    root = project(tmp_path)
    _, said = cli.init(root)
    assert not [line for line in said if line.startswith("ignore ")]
    (root / ".dockerignore").write_text("*\n!/mysite\n!/manage.py\n")
    _, said = cli.init(root, force=True)
    assert [line for line in said if line.startswith("ignore ")] == [
        "ignore the project's .dockerignore is honoured in every stage: its rules, then dockstage's "
        "(secrets, caches, dumps stay out); manage.py and the settings and wsgi modules always go in"
    ]


MANAGE_UNDER_ANOTHER_NAME = """\
import os, sys
if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.development_settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
"""


def test_init_errors_are_one_line_each_with_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A path that is no folder, no manage.py (and a script that runs Django's commands under another
    name: gwcloud_db_search's development-manage.py), a pyproject.toml that does not parse: one
    line each, exit 2 (config), nothing written."""
    missing = tmp_path / "nowhere"
    assert cli.main(["init", str(missing), "--no-probe"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"config: {missing} is not a folder: run `dockstage init` in the Django project, "
        "or give its folder: dockstage init PATH"
    )

    renamed = tmp_path / "renamed"
    (renamed / "src").mkdir(parents=True)
    (renamed / "src" / "development-manage.py").write_text(MANAGE_UNDER_ANOTHER_NAME)
    (renamed / "src" / "setup-manager.py").write_text("print('not a manage script')\n")
    assert cli.main(["init", str(renamed), "--no-probe"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        f"config: no manage.py under {renamed} (looked 4 levels deep): src/development-manage.py runs"
    )
    assert "cp src/development-manage.py src/manage.py" in err and "setup-manager" not in err
    assert sorted(p.name for p in renamed.rglob("*")) == ["development-manage.py", "setup-manager.py", "src"]

    (tmp_path / "empty").mkdir()
    assert cli.main(["init", str(tmp_path / "empty"), "--no-probe"]) == 2
    assert "the folder with manage.py, or above it" in capsys.readouterr().err

    root = project(tmp_path)
    (root / "pyproject.toml").write_text("[project\nname = 'x'\n")
    assert cli.main(["init", str(root), "--no-probe", "--no-ci"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"config: {root / 'pyproject.toml'} is not valid TOML (")
    assert err.endswith("fix it (or move it aside) and run `dockstage init` again") and "\n" not in err
    assert (root / "pyproject.toml").read_text() == "[project\nname = 'x'\n"
    assert not (root / ".env.example").exists() and not (root / "noxfile.py").exists()


def test_a_diagnosed_dev_build_is_tried_again_with_its_fix_once_each() -> None:
    """The Python a requirement needs first, then the Debian packages a source build lacked; a fix
    already taken is not taken again (init stops building)."""
    from dockstage.adopt.inspect import Findings

    found = Findings(root=Path("."), app_dir=".")
    said: list[str] = []
    found.needs_python, found.needs_apt = ">=3.12", ["libffi-dev"]
    assert cli.retried(found, said) and found.python == ">=3.12"
    found.needs_python = ">=3.12"  # the next build said the same: the apt fix comes now
    assert cli.retried(found, said) and found.requirements.apt_build == ["libffi-dev"]
    assert not cli.retried(found, said)  # both taken
    assert said == [
        "python >=3.12: a requirement needs it (the dev build said so); building again with it",
        "apt-build libffi-dev: a requirement's source build needs it (the dev build said so); building again with it",
    ]
    assert not cli.retried(Findings(root=Path("."), app_dir="."), said)
