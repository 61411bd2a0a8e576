"""Database operations inside the db container: interactive shell, consistent dump, safe restore.

A restore never rehearses on the live server. The dump is parsed just enough to find the
statements that choose a database (`USE`, `CREATE`/`DROP`/`ALTER DATABASE`, also inside the
`/*!NNNNN ... */` comments mysqldump writes); a dump naming more than one database is refused,
and those statements are taken out so the file can only apply to the app's database. The file
then loads on a throwaway server (same image as the db service, data on tmpfs, no network,
random root password, removed afterwards); only when that succeeds is it applied to the live
database. Both loads use the client's `--binary-mode`, so the only client command left in the
file is DELIMITER: what this module parses is what the client executes.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import re
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from python_on_whales import Container, DockerClient
from python_on_whales.components.compose.cli_wrapper import ComposeCLI
from python_on_whales.exceptions import DockerException

from dockstage.core import files
from dockstage.core.errors import DatabaseError, DockstageError, docker_errors, swallowed

if TYPE_CHECKING:
    from dockstage.stack.compose import Stack

log = logging.getLogger("dockstage.db")

_CLIENT = "$(command -v mariadb || command -v mysql)"
_DUMP = "$(command -v mariadb-dump || command -v mysqldump)"
_ADMIN = "$(command -v mariadb-admin || command -v mysqladmin)"
DUMP_HEADERS = (b"-- MariaDB dump", b"-- MySQL dump")
DUMP_TRAILER = b"-- Dump completed"
DUMP_MODE = 0o600  # like .env: a dump holds every row, password hashes of the app's users included
REHEARSAL_TIMEOUT = 240.0  # seconds for the throwaway server to accept connections (MySQL 8 inits slowly)
REHEARSAL_LABEL = "dockstage.role"
PROJECT_LABEL = "dockstage.project"  # the compose project a rehearsal server belongs to (not compose's own label)
# Client flags for both loads: binary mode turns off every client command but DELIMITER (and \C),
# so `use x`, `\u x`, `connect`, `source` or `system` lines in a file cannot act behind the parser.
_LOAD_FLAGS = "--binary-mode --default-character-set=utf8mb4"


# --- The dump's statements ------------------------------------------------------------------------
@dataclass(frozen=True)
class Statement:
    """One statement of a dump: where it is in the text and its code (comments out, `/*!` opened)."""

    start: int
    end: int  # just past its delimiter
    code: str  # at most _CODE_KEPT characters: enough to classify it
    delimiter: str  # the delimiter that ended it ("" at the end of the file)


@dataclass(frozen=True)
class Plan:
    """What a restore will load: the text with the database-choosing statements taken out."""

    text: str
    databases: tuple[str, ...]  # every database the dump names, in order of appearance
    removed: int  # statements taken out (USE, CREATE/DROP DATABASE) or rewritten (ALTER DATABASE)
    definers: int = 0  # DEFINER clauses taken out: the objects belong to the app user, who loads them


_CODE_KEPT = 4096
_QUOTED = {
    "'": re.compile(r"'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'", re.S),
    '"': re.compile(r'"[^"\\]*(?:(?:\\.|"")[^"\\]*)*"', re.S),
    "`": re.compile(r"`[^`]*(?:``[^`]*)*`", re.S),
}
_DELIMITER_COMMAND = re.compile(r"delimiter[ \t]+(\S+)[^\n]*(?:\n|\Z)", re.I)
_BLANKS = re.compile(r"\s*")
_EXEC_COMMENT = re.compile(r"/\*M?!(\d*)")
_NEVER = 999999  # `/*M!999999\- enable the sandbox mode */`: a client directive no server runs
_IDENT = r"(?:`(?:[^`]|``)+`|[A-Za-z0-9_$\u0080-\uffff]+)"
_USE = re.compile(rf"USE\s+(?P<name>{_IDENT})\s*\Z", re.I)
_DATABASE = re.compile(
    rf"(?P<verb>CREATE|DROP|ALTER)\s+(?:DATABASE|SCHEMA)\s+(?P<if>IF\s+(?:NOT\s+)?EXISTS\s+)?(?P<name>{_IDENT})(?P<rest>.*)\Z",
    re.I | re.S,
)
_ALTER_OPTIONS = {"default", "character", "charset", "collate", "encryption", "read", "comment", "upgrade"}
_ACCOUNT = r"(?:`(?:[^`]|``)*`|'(?:[^'\\]|\\.)*'|[A-Za-z0-9_.%$-]+)"
_DEFINER = re.compile(rf"\bDEFINER\s*=\s*(?:{_ACCOUNT}\s*@\s*{_ACCOUNT}|CURRENT_USER(?:\s*\(\s*\))?)", re.I)
_SERVER_ONLY = re.compile(r"SET\s+@@(?:SESSION\.|GLOBAL\.)?(?:SQL_LOG_BIN|GTID_PURGED)\b", re.I)
"""MySQL's GTID lines: they need a privilege the app user has not, and mean nothing to one database."""


def _tokens(delimiter: str) -> re.Pattern[str]:
    return re.compile(r"['\"`#]|--(?=\s|\Z)|/\*|\*/|" + re.escape(delimiter))


def statements(text: str) -> Iterator[Statement]:
    """The statements of a dump as the mysql/mariadb client in binary mode splits them.

    Quotes, backquotes, `#`/`-- `/`/* */` comments and DELIMITER are followed; the text of
    executable comments (`/*!40101 ... */`, `/*M!100100 ... */`) counts as code, as it does for
    the server.
    """
    delimiter = ";"
    tokens = _tokens(delimiter)
    pos, start, code, kept, in_exec = 0, -1, [], 0, False

    def keep(piece: str) -> None:
        nonlocal kept
        if kept < _CODE_KEPT:
            code.append(piece[: _CODE_KEPT - kept])
            kept += len(code[-1])

    while pos < len(text):
        if start < 0:  # between statements: skip blanks, obey DELIMITER
            pos = _BLANKS.match(text, pos).end()  # type: ignore[union-attr]  # \s* always matches
            command = _DELIMITER_COMMAND.match(text, pos)
            if command:
                delimiter = command.group(1)
                tokens = _tokens(delimiter)
                pos = command.end()
                continue
        found = tokens.search(text, pos)
        stop = found.start() if found else len(text)
        if start < 0 and text[pos:stop].strip():
            start = pos
        keep(text[pos:stop])
        if not found:
            pos = len(text)
            break
        lexeme, pos = found.group(), found.end()
        if lexeme in _QUOTED:
            quoted = _QUOTED[lexeme].match(text, stop)
            end = quoted.end() if quoted else len(text)  # an unterminated string runs to the end
            if start < 0:
                start = stop
            keep(text[stop:end])
            pos = end
        elif lexeme in ("#", "--"):
            newline = text.find("\n", pos)
            pos = len(text) if newline < 0 else newline + 1
            keep(" ")
        elif lexeme == "/*":
            opened = _EXEC_COMMENT.match(text, stop)
            if opened and int(opened.group(1) or 0) < _NEVER:
                if start < 0:
                    start = stop
                in_exec, pos = True, opened.end()
                keep(" ")
            else:
                close = text.find("*/", pos)
                pos = len(text) if close < 0 else close + 2
                keep(" ")
        elif lexeme == "*/":
            if in_exec:
                in_exec = False
                keep(" ")
            else:
                if start < 0:
                    start = stop
                keep(lexeme)
        else:  # the delimiter
            if start >= 0:
                yield Statement(start, pos, "".join(code).strip(), lexeme)
            start, code, kept = -1, [], 0
    if start >= 0:
        yield Statement(start, len(text), "".join(code).strip(), "")


def _name(ident: str) -> str:
    return ident[1:-1].replace("``", "`") if ident.startswith("`") else ident


def _choice(statement: Statement, path: Path) -> tuple[str, str | None] | None:
    """(database named, replacement or None to drop it) when the statement chooses a database."""
    if not re.match(r"USE\b|(?:CREATE|DROP|ALTER)\s+(?:DATABASE|SCHEMA)\b", statement.code, re.I):
        return None
    use = _USE.match(statement.code)
    if use:
        return _name(use.group("name")), None
    database = _DATABASE.match(statement.code)
    if database and database.group("verb").upper() == "ALTER":
        if not database.group("if") and database.group("name").lower() in _ALTER_OPTIONS:
            return None  # no name: it applies to the database being restored
        if len(statement.code) >= _CODE_KEPT:
            database = None
        else:
            rest = database.group("rest").strip()
            return _name(database.group("name")), f"ALTER DATABASE {rest}{statement.delimiter}"
    if database:
        return _name(database.group("name")), None
    raise DatabaseError(
        f"{path} has a statement choosing a database that cannot be read ({statement.code[:60]!r}); "
        "the live database was not touched",
        "give a file made by `{db_dump}`",
    )


def plan_restore(text: str, path: Path) -> Plan:
    """The dump without its USE / CREATE DATABASE / DROP DATABASE; refused if it names 2+ databases.

    Removed statements leave their newlines behind, so the client's "at line N" still points
    into the user's file. `ALTER DATABASE name ...` (mysqldump writes it around routines) loses
    only its name: without one it applies to the database being restored.
    """
    names: list[str] = []
    pieces: list[str] = []
    done = removed = 0
    definers = 0
    for statement in statements(text):
        original = text[statement.start : statement.end]
        if _SERVER_ONLY.match(statement.code):
            pieces += [text[done : statement.start], "\n" * original.count("\n")]
            done = statement.end
            removed += 1
            continue
        if re.match(r"(?:CREATE|ALTER)\b", statement.code, re.I) and _DEFINER.search(statement.code):
            rewritten, count = _DEFINER.subn("", original)
            pieces += [text[done : statement.start], rewritten]
            done = statement.end
            definers += count
            continue
        choice = _choice(statement, path)
        if choice is None:
            continue
        name, replacement = choice
        names.append(name)
        pieces += [text[done : statement.start], replacement or "", "\n" * original.count("\n")]
        done = statement.end
        removed += 1
    distinct = tuple(dict.fromkeys(names))
    if len(distinct) > 1:
        shown = ", ".join(f"`{n}`" for n in distinct[:4]) + (", ..." if len(distinct) > 4 else "")
        raise DatabaseError(
            f"{path} holds {len(distinct)} databases ({shown}); the live database was not touched",
            "restore one database at a time: give a dump of the app's database only (`{db_dump}`)",
        )
    pieces.append(text[done:])
    return Plan("".join(pieces), distinct, removed, definers)


# --- The project ----------------------------------------------------------------------------------
Target: TypeAlias = "DockerClient | Stack"
"""A DockerClient configured for the compose project, or the run's Stack (a compose view + the client)."""


@dataclass(frozen=True)
class _Project:
    compose: ComposeCLI  # the db service
    docker: DockerClient  # containers outside the project: the rehearsal server
    name: str
    say: Callable[[str], None]


def _project(target: Target) -> _Project:
    if isinstance(target, DockerClient):
        name = target.client_config.compose_project_name or "dockstage"
        return _Project(target.compose, target, name, lambda text: log.info("%s", text))
    return _Project(target.compose, target.docker, target.project, target.reporter.info)


def _db_container(project: _Project) -> Container:
    for container in project.compose.ps(services=["db"]):
        if container.state.running:
            return container
    raise DatabaseError("the db service is not running", "start the stack first: `{up}` (or `{dev}`)")


def _sh(project: _Project, script: str, *, tty: bool = False) -> str:
    """Run a shell script in the db service; passwords come from the container's own env."""
    return project.compose.execute("db", ["sh", "-c", script], tty=tty) or ""


# --- Shell and dump -------------------------------------------------------------------------------


def _last_line(exc: DockerException) -> str:
    lines = (exc.stderr or "").strip().splitlines()
    return lines[-1][:200] if lines else f"exit code {exc.return_code}"


def shell(docker: Target) -> None:
    """An interactive client as the app user on the app's database (utf8mb4)."""
    project = _project(docker)
    _db_container(project)
    script = (
        f'MYSQL_PWD="$MYSQL_PASSWORD" exec {_CLIENT} --default-character-set=utf8mb4 -u"$MYSQL_USER" "$MYSQL_DATABASE"'
    )
    with docker_errors(
        "running the database shell",
        otherwise=lambda exc: DatabaseError(
            f"the database shell exited with {exc.return_code}", "check `{logs} --service db`"
        ),
    ):
        _sh(project, script, tty=True)


def _write_private(output: Path, data: bytes) -> None:
    """Write output (mode 0600) whole and synced, or not at all (a temporary file beside it never
    outlives a failure)."""
    try:
        files.write_private(output, data, durable=True, mode=DUMP_MODE)
    except OSError as exc:
        raise DatabaseError(
            f"cannot write {output} ({exc.strerror or exc})", "give --output a file path you can write"
        ) from None


def _dump_bytes(project: _Project) -> bytes:
    """A consistent dump of the app database (single transaction, routines, triggers, events, utf8mb4)."""
    script = (
        f'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" {_DUMP} -uroot --single-transaction --routines --triggers --events '
        '--default-character-set=utf8mb4 --no-tablespaces "$MYSQL_DATABASE"'
    )
    with docker_errors(
        "dumping the database",
        otherwise=lambda exc: DatabaseError(
            f"the dump failed ({_last_line(exc)})", "check `{logs} --service db`", detail=exc.stderr or ""
        ),
    ):
        text = _sh(project, script)
    data = (text if text.endswith("\n") else text + "\n").encode("utf-8")
    if DUMP_TRAILER not in data[-200:]:
        raise DatabaseError(
            "the dump is incomplete (no completion line)", "check free disk space and `{logs} --service db`"
        )
    return data


def dump(docker: Target, output: Path) -> Path:
    """A consistent dump (single transaction, routines, utf8mb4) of the app database to a file (0600)."""
    if output.is_dir():
        raise DatabaseError(
            f"{output} is a directory",
            f"give --output a file name, e.g. `{{db_dump}} --output {output / 'app.sql'}`",
        )
    project = _project(docker)
    _db_container(project)
    data = _dump_bytes(project)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(
            f"cannot create {output.parent} ({exc.strerror or exc})", "give --output a file path you can write"
        ) from None
    _write_private(output, gzip.compress(data) if output.suffix == ".gz" else data)
    return output


def read_dump(path: Path) -> bytes:
    """The dump's bytes, refused unless it is a complete mysqldump/mariadb-dump file."""
    if not path.exists():
        raise DatabaseError(f"{path} does not exist", "give the path of a file made by `{db_dump}`")
    if path.is_dir():
        raise DatabaseError(f"{path} is a directory", "give the path of a file made by `{db_dump}` inside it")
    if not path.is_file():
        raise DatabaseError(f"{path} is not a regular file", "give the path of a file made by `{db_dump}`")
    raw = path.read_bytes()
    try:
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError):
        raise DatabaseError(f"{path} is a damaged gzip file", "make a new dump with `{db_dump}`") from None
    if not any(header in data[:512] for header in DUMP_HEADERS):  # MariaDB may put a sandbox line first
        raise DatabaseError(f"{path} is not a MySQL/MariaDB dump", "give a file made by `{db_dump}`")
    if DUMP_TRAILER not in data[-300:]:
        raise DatabaseError(f"{path} is truncated (no '-- Dump completed' line)", "make a new dump with `{db_dump}`")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise DatabaseError(f"{path} is not valid UTF-8", "give a file made by `{db_dump}`") from None
    return data


# --- Restore --------------------------------------------------------------------------------------
def _env(container: Container, key: str) -> str:
    for entry in container.config.env or []:
        name, _, value = entry.partition("=")
        if name == key:
            return value
    return ""


@dataclass(frozen=True)
class Rehearsal:
    """The throwaway server and the account that loads the dump there (the live app user's name)."""

    server: Container
    user: str
    password: str


def _sql(docker: DockerClient, container: Container, statements: str) -> str:
    """Statements as root in a db container (passed in the environment: no shell quoting)."""
    script = f'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" {_CLIENT} -uroot --batch --skip-column-names -e "$DOCKSTAGE_SQL"'
    return str(docker.container.execute(container, ["sh", "-c", script], envs={"DOCKSTAGE_SQL": statements}) or "")


@contextlib.contextmanager
def _throwaway_server(
    docker: DockerClient, project: str, live: Container, database: str, user: str
) -> Iterator[Rehearsal]:
    """A server from the live db's image: data on tmpfs, no network, random passwords; removed after.

    `user` gets what the live app user has on the app database and nothing else (no test_*
    databases), so a dump that writes anywhere else fails here."""
    name = f"{project}-restore-rehearsal-{secrets.token_hex(4)}"

    def not_started(exc: DockerException) -> DockstageError:
        return DatabaseError(
            f"the throwaway server for the rehearsal did not start ({_last_line(exc)}); the live database was not touched",
            "check `{doctor}` (disk, engine) and run the restore again",
            detail=exc.stderr or "",
        )

    try:
        # Also what the body does with the server: a docker failure there is the rehearsal's.
        with docker_errors("starting the rehearsal server", otherwise=not_started):
            server = docker.run(
                live.image,  # the image id: exactly the server the live data runs on
                list(live.config.cmd or []),  # the same server options, if compose set any
                name=name,
                detach=True,
                networks=["none"],
                tmpfs=["/var/lib/mysql"],  # no volume: the image's VOLUME is covered by the tmpfs
                envs={
                    "MYSQL_ROOT_PASSWORD": secrets.token_urlsafe(24),
                    "MYSQL_DATABASE": database,
                    "MYSQL_INITDB_SKIP_TZINFO": "1",
                },
                labels={REHEARSAL_LABEL: "restore-rehearsal", PROJECT_LABEL: project},
                healthcheck=False,  # readiness is polled below, over TCP, as root
                pull="never",
            )
            assert isinstance(server, Container)
            _wait_ready(docker, server)
            password = secrets.token_urlsafe(24)
            grant = (
                f"CREATE USER {_sql_str(user)}@'%' IDENTIFIED BY {_sql_str(password)}; "
                f"GRANT ALL ON {_grant_db(database)}.* TO {_sql_str(user)}@'%'"
            )
            _sql(docker, server, grant)
            yield Rehearsal(server, user, password)
    finally:
        # Safe: a server that never started has nothing to remove; one left behind holds only a
        # tmpfs and carries the project's label, so the next restore or `down` removes it.
        with swallowed("removing the rehearsal server"):
            docker.container.remove(name, force=True, volumes=True)


def remove_stale_rehearsals(docker: DockerClient, project: str) -> list[str]:
    """Rehearsal servers of `project` left by a killed restore; removed. Their names."""
    stale = docker.container.list(
        all=True,
        filters=[("label", f"{REHEARSAL_LABEL}=restore-rehearsal"), ("label", f"{PROJECT_LABEL}={project}")],
    )
    names = []
    for container in stale:
        # Safe: one removed meanwhile (its own restore ending) is what this wanted anyway.
        with swallowed("removing a rehearsal server that may be gone already"):
            names.append(container.name)  # read before the removal: the object inspects lazily
            docker.container.remove(container, force=True, volumes=True)
    return names


def _sql_str(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _grant_db(database: str) -> str:
    """The database as a grant names it: backquoted, `_` and `%` escaped (they are wildcards there)."""
    escaped = database.replace("`", "``").replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
    return f"`{escaped}`"


def _wait_ready(docker: DockerClient, server: Container) -> None:
    """Until the real server (not the init-time one, which has no TCP) answers a ping on 127.0.0.1."""
    ping = f'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" {_ADMIN} ping -h 127.0.0.1 -P 3306 -uroot --connect-timeout=2 --silent'
    deadline = time.monotonic() + REHEARSAL_TIMEOUT
    while True:
        # Safe: the ping fails until the server is up; the inspect below raises if the engine went away.
        with swallowed("pinging a server that is starting"):
            docker.container.execute(server, ["sh", "-c", ping])
            return
        running = docker.container.inspect(server.id).state.running
        if not running or time.monotonic() > deadline:
            logs = str(docker.container.logs(server, tail=30))
            what = "exited" if not running else f"was not ready in {REHEARSAL_TIMEOUT:.0f} s"
            raise DatabaseError(
                f"the throwaway server for the rehearsal {what}; the live database was not touched",
                "check `{doctor}` (disk, memory) and run the restore again",
                detail=logs,
            )
        time.sleep(0.2)  # a poll interval, not a guess at how long the server takes


def _databases(docker: DockerClient, server: Container) -> set[str]:
    return set(_sql(docker, server, "SHOW DATABASES").split())


@dataclass(frozen=True)
class _Account:
    """Who a load runs as: root (the suite's own safety dump) or the app user (the user's dump)."""

    user: str = "root"
    password_env: str = "MYSQL_ROOT_PASSWORD"  # noqa: S105 - a variable's name: the variable holding the password inside the container
    password: str = ""  # or the password itself (the rehearsal's account)


ROOT = _Account()


def _load(docker: DockerClient, container: Container, local: Path, remote: str, account: _Account = ROOT) -> None:
    """Copy the file into the container and load it into its MYSQL_DATABASE as `account`."""
    docker.container.copy(local, (container, remote))
    password = '"$DOCKSTAGE_PWD"' if account.password else f'"${account.password_env}"'
    script = (
        f'MYSQL_PWD={password} {_CLIENT} -u"$DOCKSTAGE_USER" {_LOAD_FLAGS} "$MYSQL_DATABASE" < {remote}; '
        f"rc=$?; rm -f {remote}; exit $rc"
    )
    envs = {"DOCKSTAGE_USER": account.user, **({"DOCKSTAGE_PWD": account.password} if account.password else {})}
    docker.container.execute(container, ["sh", "-c", script], envs=envs)


_DENIED = re.compile(r"ERROR (1142|1143|1044|1045|1227|1370|1419|1410)\b")
"""Access denied / command denied / SUPER needed: the dump reaches past the app database."""


def _load_failed(path: Path, exc: DockerException) -> DockstageError:
    last = _last_line(exc)
    if _DENIED.search(last):
        return DatabaseError(
            f"{path} reaches outside the app database or needs a privilege the app user has not ({last}); "
            "the database was not touched (rehearsed on a throwaway server as the app user)",
            "give a dump of the app's database only (`{db_dump}`)",
            detail=exc.stderr or "",
        )
    if "0900_" in last and "collation" in last.lower():
        return DatabaseError(
            f"{path} comes from MySQL 8 and this server is MariaDB ({last}); the database was not touched",
            "restore it into MySQL (DOCKSTAGE_FLAVOUR=official), or convert the file first: "
            "sed -i 's/utf8mb4_0900_ai_ci/utf8mb4_unicode_ci/g' <file>",
            detail=exc.stderr or "",
        )
    return DatabaseError(
        f"{path} does not load ({last}); the database was not touched (rehearsed on a throwaway server "
        "holding a copy of the live data)",
        "fix the file or make a new dump with `{db_dump}`",
        detail=exc.stderr or "",
    )


def _schema_options(docker: DockerClient, live: Container, database: str) -> tuple[str, str]:
    """The app database's default character set and collation (to recreate it exactly)."""
    row = _sql(
        docker,
        live,
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "  # noqa: S608
        f"WHERE SCHEMA_NAME = {_sql_str(database)}",  # a quoted literal
    ).split()
    return (row[0], row[1]) if len(row) == 2 else ("utf8mb4", "utf8mb4_unicode_ci")


def _put_back(docker: DockerClient, live: Container, database: str, safety: Path, remote: str) -> None:
    """Live as it was before the restore: the app database emptied (dropped and made again with
    its own character set; grants outlive a DROP) and the safety dump loaded as root."""
    charset, collation = _schema_options(docker, live, database)
    quoted = "`" + database.replace("`", "``") + "`"
    _sql(docker, live, f"DROP DATABASE {quoted}; CREATE DATABASE {quoted} CHARACTER SET {charset} COLLATE {collation}")
    _load(docker, live, safety, remote)


def restore(docker: Target, path: Path, safety_dir: Path) -> Path:
    """Load a dump into the app's database, all or nothing; returns the safety dump of live.

    The dump is checked, then rehearsed on a throwaway server holding a copy of the live data
    (the safety dump, taken first) as the app user, whose grants end at the app database. Only
    then is it loaded into live, as the app user; if that fails, live is put back from the
    safety dump."""
    plan = plan_restore(read_dump(path).decode("utf-8"), path)
    project = _project(docker)
    live = _db_container(project)
    client = project.docker
    database, user = _env(live, "MYSQL_DATABASE"), _env(live, "MYSQL_USER")
    if not database or not user:
        raise DatabaseError(
            "the db service has no MYSQL_DATABASE or MYSQL_USER; the live database was not touched",
            "set MYSQL_DATABASE and MYSQL_USER in .env (the defaults are app) and run `{up}`",
        )
    if plan.databases and plan.databases[0] != database:
        project.say(f"the dump is of database `{plan.databases[0]}`: restoring it into `{database}`")
    if plan.definers:
        project.say(
            f"the dump's DEFINER clauses ({plan.definers}) left out: its views, triggers and routines "
            f"will belong to `{user}`"
        )
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    safety = safety_dir / f"{project.name}-before-restore-{stamp}.sql"
    safety_dir.mkdir(parents=True, exist_ok=True)
    _write_private(safety, _dump_bytes(project))
    project.say(f"safety dump of the live database: {safety}")
    remote = f"/tmp/dockstage-restore-{secrets.token_hex(6)}.sql"  # noqa: S108 - inside the containers
    app_user = _Account(user, "MYSQL_PASSWORD")
    with tempfile.TemporaryDirectory(prefix="dockstage-restore-") as scratch:  # mode 0700
        local = Path(scratch) / "restore.sql"
        _write_private(local, plan.text.encode("utf-8"))
        started = time.monotonic()
        project.say("rehearsing the restore on a throwaway server (a copy of the live data, no network)")
        with _throwaway_server(client, project.name, live, database, user) as rehearsal:
            server = rehearsal.server
            before = _databases(client, server)
            with docker_errors(
                "copying the live data to the rehearsal server",
                otherwise=lambda exc: DatabaseError(
                    f"the live data did not load on the rehearsal server ({_last_line(exc)}); the live database "
                    "was not touched",
                    "check `{doctor}` (disk, memory) and run the restore again",
                    detail=exc.stderr or "",
                ),
            ):
                _load(client, server, safety, remote)
            with docker_errors("rehearsing the restore", otherwise=lambda exc: _load_failed(path, exc)):
                _load(client, server, local, remote, _Account(user, password=rehearsal.password))
            extra = sorted(_databases(client, server) - before)
            if extra:
                raise DatabaseError(
                    f"{path} creates other databases ({', '.join(extra[:4])}) besides the app's; "
                    "the database was not touched (rehearsed on a throwaway server)",
                    "give a dump of the app's database only (`{db_dump}`)",
                )
        project.say(f"rehearsal passed in {time.monotonic() - started:.1f} s; loading into `{database}`")
        try:
            with docker_errors("restoring the live database", engine_first=False, otherwise=_cause):
                _load(client, live, local, remote, app_user)
        except DockstageError as failed:
            raise _after_live_failure(client, live, database, safety, remote, failed) from None
    return safety


def _cause(exc: DockerException) -> DockstageError:
    """A failed load as its last line (the caller says what it means for the live data)."""
    return DatabaseError(_last_line(exc), "", detail=exc.stderr or "")


def _after_live_failure(
    docker: DockerClient, live: Container, database: str, safety: Path, remote: str, failed: DockstageError
) -> DatabaseError:
    """Put live back from the safety dump; the error says whether that worked."""
    cause = failed.what
    try:
        with docker_errors("putting the live database back", engine_first=False, otherwise=_cause):
            _put_back(docker, live, database, safety, remote)
    except DockstageError as also:
        return DatabaseError(
            f"the restore into the live database failed after a clean rehearsal ({cause}), and putting the "
            f"live data back failed too ({also.what}): the live database may be partly restored",
            f"once the db service runs (`{{logs}} --service db`), restore the safety dump: `{{db_restore}} {safety}`",
            detail=failed.detail,
        )
    return DatabaseError(
        f"the restore into the live database failed after a clean rehearsal ({cause}); "
        f"live restored to its state before the restore (from the safety dump {safety})",
        "check `{logs} --service db` and free disk space, then run the same `{db_restore}` again",
        detail=failed.detail,
    )
