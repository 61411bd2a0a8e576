"""Dumps found by their content, and the ignore file that keeps them out of a build."""

from __future__ import annotations

import bz2
import gzip
import lzma
import subprocess
from pathlib import Path

import pytest

from dockstage.core.appconfig import parse_app
from dockstage.core.config import Settings
from dockstage.images import contextguard, stages

DUMP = b"-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB\n--\n-- Host: localhost    Database: app\n"
MYSQL = b"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\nCREATE TABLE `t` (id int);\n"


@pytest.mark.parametrize(
    ("content", "dump"),
    [
        (DUMP, True),
        (MYSQL, True),
        (gzip.compress(DUMP + b"x" * 100_000), True),
        (lzma.compress(DUMP), True),
        (bz2.compress(DUMP), True),
        (b"\x28\xb5\x2f\xfd" + b"\x00" * 20, True),
        (gzip.compress(b'[{"model": "notes.note", "pk": 1}]'), False),  # a compressed fixture stays
        (b"# -- MariaDB dump is mentioned in a comment\nprint(1)\n", False),
        (b"\x1f\x8b broken gzip", False),
        (b"", False),
    ],
    ids=["mariadb", "mysql", "gzip", "xz", "bz2", "zstd", "json-fixture-gz", "python", "bad-gzip", "empty"],
)
def test_is_dump_by_content(tmp_path: Path, content: bytes, dump: bool) -> None:
    path = tmp_path / "file"
    path.write_bytes(content)
    assert contextguard.is_dump(path) is dump


def test_no_dump_keeps_the_dockerfile(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app/models.py").write_text("x = 1\n")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    assert contextguard.guarded_dockerfile(dockerfile, tmp_path, tmp_path / ".dockstage") == (dockerfile, [])
    assert not (tmp_path / ".dockstage").exists()


def test_dumps_are_named_in_a_copy_of_the_ignore_file(tmp_path: Path) -> None:
    context, support = tmp_path / "project", tmp_path / "support"
    for name in ("app/dump.gz", "app/db backup[1]", "app/node_modules/x.sql.gz", "backups/old"):
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        (context / name).write_bytes(gzip.compress(DUMP) if name.endswith(".gz") else DUMP)
    support.mkdir()
    dockerfile = support / "Dockerfile"
    dockerfile.write_text("FROM scratch\nCOPY app/ /app/\n")
    (support / "Dockerfile.dockerignore").write_text(".env\n**/node_modules\n")
    used, found = contextguard.guarded_dockerfile(dockerfile, context, context / ".dockstage")
    assert found == [Path("app/db backup[1]"), Path("app/dump.gz")]  # skipped folders are not read
    assert used == context / ".dockstage/dockerfile/Dockerfile"
    assert used.read_text() == dockerfile.read_text()
    ignore = (used.parent / "Dockerfile.dockerignore").read_text().splitlines()
    assert ignore[:2] == [".env", "**/node_modules"]  # the Dockerfile's own rules first
    assert ignore[-2:] == ["/app/db backup\\[1\\]", "/app/dump.gz"]


LINKDING_IGNORE = """\
# Ignore everything
*

# Include files required for build or at runtime
!/bookmarks
!/manage.py
!/pyproject.toml
!/uv.lock

 # Remove dev settings
/bookmarks/settings/dev.py
"""


def test_the_project_dockerignore_is_honoured_with_the_suite_needs_re_included(tmp_path: Path) -> None:
    context, support = tmp_path / "project", tmp_path / "support"
    for name in ("manage.py", "bookmarks/settings/__init__.py", "bookmarks/settings/dev.py", "bookmarks/wsgi.py"):
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        (context / name).write_text("x = 1\n")
    (context / ".dockerignore").write_text(LINKDING_IGNORE)
    support.mkdir()
    dockerfile = support / "Dockerfile"
    dockerfile.write_text("FROM scratch\nCOPY . /app/\n")
    (support / "Dockerfile.dockerignore").write_text(".env\n**/*.sqlite3\n.dockstage/*\n!.dockstage/build\n")
    needs = [Path("manage.py"), *contextguard.module_files(context, ".", ["bookmarks.settings", "bookmarks.wsgi:app"])]
    assert needs == [Path("manage.py"), Path("bookmarks/settings/__init__.py"), Path("bookmarks/wsgi.py")]
    used, found = contextguard.guarded_dockerfile(dockerfile, context, context / ".dockstage", needs)
    assert found == [] and used == context / ".dockstage/dockerfile/Dockerfile"
    lines = [line for line in (used.parent / "Dockerfile.dockerignore").read_text().splitlines() if line]
    project = [line for line in LINKDING_IGNORE.splitlines() if line]
    start = lines.index(project[0])
    assert lines[start : start + len(project)] == project  # verbatim, in order
    suite = lines.index(".env")
    assert suite > start + len(project) - 1  # the suite's exclusions win over the project's `!` lines
    assert lines[-4:] == [
        "!/.dockstage/build",
        "!/manage.py",
        "!/bookmarks/settings/__init__.py",
        "!/bookmarks/wsgi.py",
    ]
    assert "!/bookmarks/settings/dev.py" not in lines  # the project's exclusion stands


def test_a_project_dockerignore_is_not_repeated_when_it_is_the_build_own(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("*.log\n")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    assert contextguard.project_ignore(dockerfile, tmp_path) is None  # BuildKit reads it itself
    assert contextguard.guarded_dockerfile(dockerfile, tmp_path, tmp_path / ".dockstage") == (dockerfile, [])


def test_the_suite_needs_what_its_stages_run(tmp_path: Path) -> None:
    for name in ("site/manage.py", "site/pyproject.toml", "site/package.json", "site/src/shop/settings.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "site/src/shop/wsgi").mkdir()
    (tmp_path / "site/src/shop/wsgi/__init__.py").write_text("")
    app = parse_app({"settings_module": "shop.settings", "wsgi": "shop.wsgi:application", "python_path": ["src"]})
    settings = Settings(root=tmp_path, app_dir="site", app=app)
    needs = ["site/manage.py", "site/pyproject.toml", "site/src/shop/settings.py", "site/src/shop/wsgi/__init__.py"]
    assert [p.as_posix() for p in stages.suite_needs(settings, tmp_path)] == needs
    with_assets = settings.with_(app=parse_app({"assets_command": "npm run build"}))
    assert [p.as_posix() for p in stages.suite_needs(with_assets, tmp_path)] == [*needs[:2], "site/package.json"]


def test_the_test_stage_needs_the_tests_settings_module_too(tmp_path: Path) -> None:
    for name in ("bookmarks/settings/__init__.py", "bookmarks/settings/dev.py", "bookmarks/wsgi.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    app = parse_app(
        {
            "settings_module": "bookmarks.settings",
            "wsgi": "bookmarks.wsgi:application",
            "test_env": {"DJANGO_SETTINGS_MODULE": "bookmarks.settings.dev"},
        }
    )
    settings = Settings(root=tmp_path, app_dir=".", app=app)
    assert Path("bookmarks/settings/dev.py") not in stages.suite_needs(settings, tmp_path, "prod")
    assert Path("bookmarks/settings/dev.py") in stages.suite_needs(settings, tmp_path, "test")


def git_checkout(root: Path, ignore: str, names: list[str]) -> Path:
    """A git checkout at `root` with this .gitignore and these files (nothing committed: git
    decides what it ignores from the rules alone)."""
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("{}\n")
    (root / ".gitignore").write_text(ignore)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_what_git_ignores_is_listed_folders_whole_and_the_suites_needs_kept(tmp_path: Path) -> None:
    context = git_checkout(
        tmp_path / "site",
        "secrets.json\nmedia/\nlocal_settings.py\n.dockstage/\n",
        [
            "manage.py",
            "shop/settings.py",
            "shop/secrets.json",
            "shop/local_settings.py",
            "media/a/b.png",
            ".dockstage/build/requirements/runtime/requirements.txt",
            ".dockstage/reports/junit.xml",
        ],
    )
    found = contextguard.git_ignored(context, [Path("shop/local_settings.py")])
    # .dockstage/ holds the staged build files: the suite's own rules handle it, not this list
    assert found == [Path("media"), Path("shop/secrets.json")]
    assert contextguard.git_ignored(tmp_path / "nowhere") == []  # not a checkout: nothing


def test_a_project_in_a_folder_of_a_checkout_gets_its_own_paths(tmp_path: Path) -> None:
    """git 2.39's `ls-files --directory` fails in such a folder once an ignored subfolder collapses."""
    git_checkout(tmp_path, "*.log\nscratch/\n", ["site/manage.py", "site/a.log", "site/logs/b.log", "scratch/x/y.py"])
    assert contextguard.git_ignored(tmp_path / "site") == [Path("a.log"), Path("logs/b.log")]  # each file a rule names
    assert contextguard.git_ignored(tmp_path / "scratch/x") == []  # the whole project ignored: nothing to leave out


def test_git_ignored_paths_go_in_the_guarded_ignore_file_after_the_suites_rules(tmp_path: Path) -> None:
    context = git_checkout(
        tmp_path / "site", "secrets*.json\n", ["manage.py", "shop/models.py", "shop/secrets [prod].json"]
    )
    dockerfile = tmp_path / "support" / "Dockerfile"
    dockerfile.parent.mkdir()
    dockerfile.write_text("FROM scratch\nCOPY . /app/\n")
    (dockerfile.parent / "Dockerfile.dockerignore").write_text(".env\n")
    used, found = contextguard.guarded_dockerfile(dockerfile, context, context / ".dockstage")
    assert found == [] and used == context / ".dockstage/dockerfile/Dockerfile"  # no dump, but a guarded copy
    lines = (used.parent / "Dockerfile.dockerignore").read_text().splitlines()
    assert lines[0] == ".env"
    assert lines[-1] == "/shop/secrets \\[prod\\].json"  # exactly this path, its brackets literal
    # read once by the caller for several stages: the same file, with each stage's needs kept in
    once = contextguard.git_ignored(context)
    assert contextguard.guarded_dockerfile(dockerfile, context, context / ".dockstage", ignored=once) == (used, [])
    assert (used.parent / "Dockerfile.dockerignore").read_text().splitlines() == lines
    needed = [Path("shop/secrets [prod].json")]
    # a needed file is not left out: nothing else is, so the build takes the Dockerfile as it is
    assert contextguard.guarded_dockerfile(dockerfile, context, context / ".dockstage", needed, ignored=once) == (
        dockerfile,
        [],
    )


def test_only_what_a_user_may_miss_is_said() -> None:
    ignored = [Path(p) for p in ("build", "dist", "shop.egg-info", ".env.local", "app.log", "venv", ".coverage")]
    kept = [Path("media"), Path("shop/local_settings.py"), Path("static/dist")]
    assert contextguard.worth_saying([*ignored, *kept]) == kept
