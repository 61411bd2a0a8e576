"""db-restore cannot reach the live data before a dump has loaded somewhere else; db-dump files are private.

One prod-like stack (`invoke up` on a project of its own) is shared by the module. Notes are
written and read through the real HTTP API; tables are listed inside the db container. Every
refusal is checked for what the user sees (exit code, one line, no traceback) and for what it
must not have done (the same note ids and texts, the same tables, no rehearsal server left).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from python_on_whales import DockerClient
from python_on_whales.exceptions import NoSuchContainer

from dockstage.core.config import Settings, read_env_file
from dockstage.images import stages
from tests.conftest import ROOT, cli_env, free_port, run_cli
from tests.integration.test_failures import one_line

pytestmark = [pytest.mark.integration, pytest.mark.slow]

_ROOT_SQL = 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" "$(command -v mariadb || command -v mysql)" -uroot --batch --skip-column-names --default-character-set=utf8mb4'
_DUMP = 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" "$(command -v mariadb-dump || command -v mysqldump)" -uroot --single-transaction --routines --triggers --default-character-set=utf8mb4 --no-tablespaces'
TRAILER = "-- Dump completed"


@dataclass
class Stack:
    settings: Settings
    env: dict[str, str]
    docker: DockerClient
    url: str
    token: str

    def db(self, script: str) -> str:
        """A shell script in the live db container, found by its compose labels (every CLI run
        removes the compose env file it generated, so compose commands from here could fail)."""
        project = ("label", f"com.docker.compose.project={self.settings.project}")
        (container,) = self.docker.container.list(filters=[project, ("label", "com.docker.compose.service=db")])
        return str(self.docker.container.execute(container, ["sh", "-c", script]) or "")

    def sql(self, statement: str, database: str = '"$MYSQL_DATABASE"') -> str:
        """One statement as root in the live db container; its rows, tab-separated."""
        quoted = statement.replace("'", "'\"'\"'")
        return self.db(f"{_ROOT_SQL} {database} -e '{quoted}'")

    def databases_dump(self, *flags: str) -> str:
        """`mariadb-dump --databases app` (mysqldump on MySQL): holds CREATE DATABASE and USE `app`."""
        text = self.db(f'{_DUMP} {" ".join(flags)} --databases "$MYSQL_DATABASE"')
        assert "USE `" in text and "CREATE DATABASE" in text and TRAILER in text[-300:], text[-500:]
        return text if text.endswith("\n") else text + "\n"


def http(method: str, url: str, body: dict[str, Any] | None = None, token: str = "") -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", "Host": "localhost"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - http://127.0.0.1, built here
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - same URL
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def post_note(stack: Stack, text: str) -> int:
    status, body = http("POST", f"{stack.url}/api/notes/", {"text": text}, stack.token)
    assert status == 201, body
    return int(body["id"])


def notes(stack: Stack) -> list[tuple[int, str]]:
    """Every note as (id, text), through the API."""
    found: list[tuple[int, str]] = []
    page = 1
    while True:
        status, body = http("GET", f"{stack.url}/api/notes/?page_size=100&page={page}")
        assert status == 200, body
        found += [(int(n["id"]), str(n["text"])) for n in body["results"]]
        if page >= body["pages"]:
            return sorted(found)
        page += 1


def tables(stack: Stack) -> list[str]:
    return sorted(stack.sql("SHOW TABLES").split())


def rehearsal_containers(stack: Stack) -> list[str]:
    """This stack's rehearsal containers still there (another run's, removed between the listing and
    the look at its name, is not: CI saw NoSuchContainer there once)."""
    found = stack.docker.container.list(all=True, filters=[("label", "dockstage.role=restore-rehearsal")])
    names = []
    for container in found:
        with contextlib.suppress(NoSuchContainer):
            names.append(container.name)
    return [name for name in names if name.startswith(f"{stack.settings.project}-")]


def before_trailer(text: str, extra: str) -> str:
    """The dump with `extra` just before its `-- Dump completed` line: after every table and row."""
    at = text.rindex(TRAILER)
    return text[:at] + extra + text[at:]


@pytest.fixture(scope="module")
def stack(docker_client: DockerClient, built_images: list[stages.Built], suite_settings: Settings) -> Iterator[Stack]:
    settings = suite_settings.with_(project=f"{suite_settings.project}-rs", web_port=free_port())
    env = cli_env(settings)
    try:
        result = run_cli(["invoke", "up"], env, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        token = read_env_file(settings.path(settings.env_file))["API_TOKEN"]
        stack = Stack(settings, env, docker_client, f"http://127.0.0.1:{settings.web_port}", token)
        for text in ("first note", "emoji 🐳 and accents éàü", "it's; a note -- with SQL-ish text"):
            post_note(stack, text)
        yield stack
    finally:
        down = run_cli(["invoke", "down", "--volumes", "--yes"], env, timeout=300)
        for safety in settings.path("backups").glob(f"{settings.project}-before-restore-*.sql"):
            safety.unlink()  # the safety dumps this module's restores kept
        assert down.returncode == 0, down.stdout + down.stderr


@contextlib.contextmanager
def nothing_changes(stack: Stack) -> Iterator[None]:
    """What runs inside must leave every note, every table and no rehearsal server behind."""
    before_notes, before_tables = notes(stack), tables(stack)
    assert "notes_note" in before_tables
    yield
    assert notes(stack) == before_notes
    assert tables(stack) == before_tables
    assert rehearsal_containers(stack) == []


def restore(stack: Stack, path: Path) -> tuple[Any, float]:
    started = time.monotonic()
    result = run_cli(["invoke", "db-restore", str(path)], stack.env, timeout=600)
    return result, time.monotonic() - started


# --- Refusals that must not touch the live database ---------------------------------------------
def test_databases_dump_with_a_late_syntax_error_is_refused(stack: Stack, tmp_path: Path) -> None:
    """Before the fix: `USE app` sent the rehearsal to the live database, which got the dump's rows."""
    text = stack.databases_dump()
    post_note(stack, "written after the dump: a partial restore would lose me")
    path = tmp_path / "late-error.sql"
    path.write_text(before_trailer(text, "INSERT INTO notes_note VALUES (1, 'late') and garbage;\n"), encoding="utf-8")
    with nothing_changes(stack):
        result, seconds = restore(stack, path)
    line = one_line(result, "does not load", "ERROR 1064", "the database was not touched")
    assert re.search(r"at line \d+", line)
    print(f"refused in {seconds:.1f} s")


def test_dump_with_an_unknown_collation_is_refused(stack: Stack, tmp_path: Path) -> None:
    """A MySQL 8 collation on MariaDB: before the fix `DROP TABLE notes_note` ran on the live data."""
    known = stack.sql("SHOW COLLATION LIKE 'utf8mb4_0900_ai_ci'").strip()
    collation = "utf8mb4_dockstage_unknown_ci" if known else "utf8mb4_0900_ai_ci"  # MySQL 8 / MariaDB >= 11.4.5
    text = stack.databases_dump()
    start = text.index("CREATE TABLE `notes_note`")
    end = text.index(";", start)
    create = re.sub(r"COLLATE[= ]\w+", f"COLLATE={collation}", text[start:end])
    assert collation in create
    path = tmp_path / "collation.sql"
    path.write_text(text[:start] + create + text[end:], encoding="utf-8")
    with nothing_changes(stack):
        result, _ = restore(stack, path)
    if known:
        one_line(result, "does not load", "Unknown collation", collation, "the database was not touched")
    else:  # MariaDB 10.11: says where the dump comes from and how to convert it
        one_line(result, "comes from MySQL 8 and this server is MariaDB", collation, "not touched", "sed -i")


def test_dump_naming_two_databases_is_refused(stack: Stack, tmp_path: Path) -> None:
    text = stack.databases_dump()
    other = "\nCREATE DATABASE /*!32312 IF NOT EXISTS*/ `other_app`;\nUSE `other_app`;\nCREATE TABLE t (x int);\n"
    path = tmp_path / "two-databases.sql"
    path.write_text(before_trailer(text, other), encoding="utf-8")
    with nothing_changes(stack):
        result, seconds = restore(stack, path)
    one_line(result, "holds 2 databases", "`other_app`", "the live database was not touched")
    assert "other_app" not in stack.sql("SHOW DATABASES", database="")
    assert seconds < 30  # refused from the file alone, no server started
    print(f"refused in {seconds:.1f} s")


# --- A good --databases dump restores into the app's database -------------------------------------
@pytest.mark.parametrize("name", ["databases", "add-drop-database", "renamed"])
def test_good_databases_dump_restores_into_the_app_database(stack: Stack, tmp_path: Path, name: str) -> None:
    """add-drop-database: `/*!40000 DROP DATABASE IF EXISTS app*/` is taken out too (nothing drops the
    live database); renamed: a dump of a database called something else lands in the app's database."""
    post_note(stack, f"kept by the {name} dump")
    before = notes(stack)
    text = stack.databases_dump(*(["--add-drop-database"] if name == "add-drop-database" else []))
    if name == "add-drop-database":
        assert "DROP DATABASE IF EXISTS" in text
    if name == "renamed":
        database = re.search(r"^USE `([^`]+)`;", text, re.M)
        assert database
        name = re.escape(f"`{database.group(1)}`")  # the database's name only, not a column called the same
        text = re.sub(
            rf"^(USE |CREATE DATABASE .*?|-- Current Database: ){name}", r"\1`staging_copy`", text, flags=re.M
        )
    path = tmp_path / f"{name}.sql"
    path.write_text(text, encoding="utf-8")
    stack.sql("DELETE FROM notes_note WHERE MOD(id, 2) = 1")
    assert notes(stack) == [(i, t) for i, t in before if i % 2 == 0] != before
    result, seconds = restore(stack, path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "restored the database" in output and "Traceback" not in output
    assert notes(stack) == before
    assert "notes_note" in tables(stack)
    assert "staging_copy" not in stack.sql("SHOW DATABASES", database="")
    assert rehearsal_containers(stack) == []
    rehearsal = re.search(r"rehearsal passed in ([\d.]+) s", output)
    assert rehearsal, output
    for line in output.splitlines():
        if "rehears" in line or "restored the database" in line or "restoring it into" in line:
            print(f"RELIABILITY-LINE: {line.strip()}")
    print(f"RESTORE-TIME: {name}: rehearsal {rehearsal.group(1)} s, whole `invoke db-restore` {seconds:.1f} s")


# --- db-dump writes private files and never leaves a .partial -------------------------------------
@pytest.mark.parametrize("name", ["backup.sql", "backup.sql.gz"])
def test_dump_is_private_and_leaves_no_partial(stack: Stack, tmp_path: Path, name: str) -> None:
    path = tmp_path / "new-dir" / name
    result = run_cli(["invoke", "db-dump", "--output", str(path)], stack.env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [name]


def test_dump_to_a_directory_gives_one_line(stack: Stack, tmp_path: Path) -> None:
    target = tmp_path / "backups"
    target.mkdir()
    (target / "older.sql").write_text("kept\n", encoding="utf-8")
    result = run_cli(["invoke", "db-dump", "--output", str(target)], stack.env, timeout=120)
    one_line(result, str(target), "is a directory", "--output")
    assert sorted(p.name for p in target.iterdir()) == ["older.sql"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backups"]


def test_no_dump_enters_the_build_context(docker_client: DockerClient, tmp_path: Path) -> None:
    """A dump saved under app/ (or its .partial, or a backups/ folder) is not in what a build sees."""
    context = tmp_path / "context"
    shutil.copytree(ROOT / "app", context / "app", ignore=shutil.ignore_patterns("__pycache__", "staticfiles"))
    shutil.copy(ROOT / ".dockerignore", context / ".dockerignore")
    dumps = [
        "app/backup.sql",
        "app/backup.sql.gz",
        "app/notes/x.sql.partial",
        "app/backups/any.txt",
        "app/notes/backups/y",
    ]
    for name in dumps:
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        (context / name).write_text("-- MariaDB dump\n", encoding="utf-8")
    (context / "Dockerfile.context").write_text("FROM scratch\nCOPY . /\n", encoding="utf-8")
    seen = tmp_path / "seen"
    docker_client.buildx.build(
        context, file=context / "Dockerfile.context", output={"type": "local", "dest": str(seen)}, progress=False
    )  # exported as files: no image is made
    assert (seen / "app" / "manage.py").is_file()
    assert [name for name in dumps if (seen / name).exists()] == []


@pytest.mark.parametrize(
    ("args", "needles", "code"),
    [
        (["db-restore", "/dev/null"], ("/dev/null is not a regular file", "db-dump"), 6),
        (["db-restore", "DIR"], ("is a directory", "db-dump"), 6),
        (["logs", "--service", "nope"], ("no service 'nope'", "db", "web"), 2),
    ],
    ids=["restore-dev-null", "restore-directory", "logs-unknown-service"],
)
def test_a_wrong_argument_is_one_line_with_the_readmes_code(
    stack: Stack, tmp_path: Path, args: list[str], needles: tuple[str, ...], code: int
) -> None:
    with nothing_changes(stack):
        result = run_cli(["invoke", *[str(tmp_path) if a == "DIR" else a for a in args]], stack.env, timeout=300)
    one_line(result, *needles)
    assert result.returncode == code


def test_db_and_web_come_back_by_themselves(stack: Stack) -> None:
    """A crashed server restarts without `invoke up`: both live services have a restart policy."""
    project = ("label", f"com.docker.compose.project={stack.settings.project}")
    for service in ("db", "web"):
        (container,) = stack.docker.container.list(
            filters=[project, ("label", f"com.docker.compose.service={service}")]
        )
        assert container.host_config.restart_policy.name == "unless-stopped", service


def test_a_dump_under_app_by_any_name_never_enters_an_image(stack: Stack, docker_client: DockerClient) -> None:
    """`invoke db-dump --output app/dump.gz` (and a plain copy named app/db-backup): the next prod
    build leaves both out, found by their content, and says so; db-dump warned where it wrote."""
    gz, plain = ROOT / "app/dump.gz", ROOT / "app/db-backup"
    try:
        dumped = run_cli(["invoke", "db-dump", "--output", "app/dump.gz"], stack.env, timeout=300)
        assert dumped.returncode == 0, dumped.stdout + dumped.stderr
        assert "inside the project" in dumped.stdout + dumped.stderr
        plain.write_bytes(gzip.decompress(gz.read_bytes()))
        built = run_cli(["invoke", "build", "--stage", "prod"], stack.env, timeout=900)
        output = built.stdout + built.stderr
        assert built.returncode == 0, output
        assert "database dumps left out of the prod image: app/db-backup, app/dump.gz" in output
        listing = docker_client.run(
            stack.settings.tag("prod"), ["-c", "import os; print(os.listdir('/app'))"], entrypoint="python", remove=True
        )
        assert "manage.py" in str(listing)
        assert "dump.gz" not in str(listing) and "db-backup" not in str(listing)
    finally:
        gz.unlink(missing_ok=True)
        plain.unlink(missing_ok=True)


# --- All or nothing on live (issue 21) --------------------------------------------------------------
def checksums(stack: Stack) -> dict[str, str]:
    """Every table of the app database with its CHECKSUM TABLE value: rows and their order."""
    names = tables(stack)
    rows = stack.sql("CHECKSUM TABLE " + ", ".join(f"`{name}`" for name in names)).splitlines()
    return {row.split("\t")[0]: row.split("\t")[1] for row in rows}


def app_dump(stack: Stack, tmp_path: Path) -> str:
    """A dump made by `invoke db-dump`, as text."""
    path = tmp_path / "good.sql"
    result = run_cli(["invoke", "db-dump", "--output", str(path)], stack.env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return path.read_text(encoding="utf-8")


@contextlib.contextmanager
def exactly_as_before(stack: Stack) -> Iterator[None]:
    """Every table of the app database, by checksum, and every note as they were; no rehearsal left."""
    before, before_notes = checksums(stack), notes(stack)
    yield
    assert checksums(stack) == before
    assert notes(stack) == before_notes
    assert rehearsal_containers(stack) == []


def test_a_collision_with_a_live_only_object_is_refused_in_the_rehearsal(stack: Stack, tmp_path: Path) -> None:
    """A good dump plus a trigger whose name a live-only table's trigger already holds: an empty
    rehearsal server would pass it; one holding a copy of live refuses it, live untouched."""
    text = app_dump(stack, tmp_path)
    post_note(stack, "written after the dump: a restore would lose me")
    stack.sql("CREATE TABLE live_only (id INT)")
    stack.sql("CREATE TRIGGER note_audit BEFORE INSERT ON live_only FOR EACH ROW SET NEW.id = NEW.id")
    try:
        trigger = "DELIMITER ;;\nCREATE TRIGGER note_audit BEFORE INSERT ON notes_note FOR EACH ROW SET NEW.text = NEW.text;;\nDELIMITER ;\n"
        path = tmp_path / "collides.sql"
        path.write_text(before_trailer(text, trigger), encoding="utf-8")
        with exactly_as_before(stack):
            result, _ = restore(stack, path)
        one_line(result, "does not load", "already exists", "the database was not touched", "copy of the live data")
        assert result.returncode == 6
    finally:
        stack.sql("DROP TABLE live_only")


def test_a_write_outside_the_app_database_is_refused(stack: Stack, tmp_path: Path) -> None:
    text = app_dump(stack, tmp_path)
    path = tmp_path / "sys.sql"
    path.write_text(before_trailer(text, "CREATE TABLE sys.t (x INT);\nINSERT INTO sys.t VALUES (1);\n"), "utf-8")
    sys_before = stack.sql("SHOW TABLES", database="sys")
    with exactly_as_before(stack):
        result, _ = restore(stack, path)
    one_line(result, "reaches outside the app database", "denied", "the database was not touched")
    assert stack.sql("SHOW TABLES", database="sys") == sys_before


def test_a_live_load_that_fails_after_a_clean_rehearsal_puts_live_back(stack: Stack, tmp_path: Path) -> None:
    """The live server's max_allowed_packet, set at runtime, is not the rehearsal's: a dump with
    one big row passes the rehearsal, then fails on live after dropping and reloading tables.
    Live must come back exactly as before, from the safety dump the message names."""
    post_note(stack, "a note that must survive a failed restore")
    text = app_dump(stack, tmp_path)
    big = "x" * 300_000
    extra = f"CREATE TABLE big_rows (body LONGTEXT);\nINSERT INTO big_rows VALUES ('{big}');\n"
    path = tmp_path / "big.sql"
    path.write_text(before_trailer(text, extra), encoding="utf-8")
    stack.sql("DELETE FROM notes_note WHERE text = 'first note'")  # live differs from the dump
    original = stack.sql("SELECT @@GLOBAL.max_allowed_packet").strip()
    stack.sql("SET GLOBAL max_allowed_packet = 131072")
    try:
        with exactly_as_before(stack):
            result, _ = restore(stack, path)
    finally:
        stack.sql(f"SET GLOBAL max_allowed_packet = {original}")
    line = one_line(result, "failed after a clean rehearsal", "live restored to its state before the restore")
    safety = re.search(r"safety dump (\S+?\.sql)", line)
    assert safety and Path(safety.group(1)).is_file(), line
    assert result.returncode == 6
    assert "big_rows" not in tables(stack)


def test_a_restore_of_data_older_than_the_code_says_to_migrate(stack: Stack, tmp_path: Path) -> None:
    """The API would answer 500 while /healthz says ok: the restore says to run `invoke migrate`."""
    text = app_dump(stack, tmp_path)
    older = tmp_path / "older.sql"
    # The last migration's record gone (no column named: the `renamed` dump test renames `app` everywhere).
    older.write_text(before_trailer(text, "DELETE FROM django_migrations ORDER BY id DESC LIMIT 1;\n"), "utf-8")
    result, _ = restore(stack, older)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "the restored data lacks migrations the running code has: run `invoke migrate`" in output
    current = tmp_path / "current.sql"
    current.write_text(text, encoding="utf-8")
    result, _ = restore(stack, current)  # back to data the code fits: no word about migrations
    assert result.returncode == 0 and "lacks migrations" not in result.stdout + result.stderr


def test_a_killed_restore_leaves_nothing_after_down(stack: Stack, tmp_path: Path) -> None:
    """kill -9 of `invoke db-restore` while it rehearses, then `invoke down`: no rehearsal server, no
    generated env file (it holds the secrets) left. Last of the module's stack tests: it stops the stack."""
    path = tmp_path / "good.sql"
    path.write_text(app_dump(stack, tmp_path), encoding="utf-8")
    command = [sys.executable, "-m", "invoke", "db-restore", str(path)]
    restoring = subprocess.Popen(command, cwd=ROOT, env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not rehearsal_containers(stack) and time.monotonic() < deadline and restoring.poll() is None:
        time.sleep(0.2)  # polling for the rehearsal server to exist, bounded by the deadline
    assert rehearsal_containers(stack), "the restore never started its rehearsal"
    restoring.kill()
    restoring.wait(timeout=30)
    state = stack.settings.path(stack.settings.state_dir)
    left = sorted(state.glob(f"{stack.settings.project}-{restoring.pid}-*.env"))
    assert left, "the killed command's generated env file should exist until the next command"
    down = run_cli(["invoke", "down"], stack.env, timeout=300)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "rehearsal server(s) left by a killed db-restore" in down.stdout + down.stderr
    assert rehearsal_containers(stack) == []
    assert [p for p in left if p.exists()] == []
