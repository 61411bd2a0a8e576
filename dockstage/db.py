"""Database operations inside the db container: interactive shell, consistent dump, safe restore."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage import report
from dockstage.errors import DatabaseError

SCRATCH_DB = "test_dockstage_restore"
_CLIENT = "$(command -v mariadb || command -v mysql)"
_DUMP = "$(command -v mariadb-dump || command -v mysqldump)"
DUMP_HEADERS = (b"-- MariaDB dump", b"-- MySQL dump")
DUMP_TRAILER = b"-- Dump completed"


def _db_container(docker: DockerClient) -> str:
    for container in docker.compose.ps(services=["db"]):
        if container.state.running:
            return container.name
    raise DatabaseError("the db service is not running", "start the stack first: `invoke up` (or `invoke dev`)")


def _sh(docker: DockerClient, script: str, *, tty: bool = False) -> str:
    """Run a shell script in the db service; passwords come from the container's own env."""
    return docker.compose.execute("db", ["sh", "-c", script], tty=tty) or ""


def shell(docker: DockerClient) -> None:
    """An interactive client as the app user on the app's database (utf8mb4)."""
    _db_container(docker)
    script = (
        f'MYSQL_PWD="$MYSQL_PASSWORD" exec {_CLIENT} --default-character-set=utf8mb4 -u"$MYSQL_USER" "$MYSQL_DATABASE"'
    )
    try:
        _sh(docker, script, tty=True)
    except DockerException as exc:
        raise DatabaseError(f"the database shell exited with {exc.return_code}", "check `invoke logs db`") from None


def dump(docker: DockerClient, output: Path) -> Path:
    """A consistent dump (single transaction, routines, utf8mb4) of the app database to a file."""
    _db_container(docker)
    script = (
        f'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" {_DUMP} -uroot --single-transaction --routines --triggers '
        '--default-character-set=utf8mb4 --no-tablespaces "$MYSQL_DATABASE"'
    )
    try:
        text = _sh(docker, script)
    except DockerException as exc:
        raise DatabaseError(
            f"the dump failed ({(exc.stderr or '').strip()[-200:]})", "check `invoke logs db`"
        ) from None
    data = (text if text.endswith("\n") else text + "\n").encode("utf-8")
    if DUMP_TRAILER not in data[-200:]:
        raise DatabaseError("the dump is incomplete (no completion line)", "check free disk space and `invoke logs db`")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.write_bytes(gzip.compress(data) if output.suffix == ".gz" else data)
    partial.replace(output)
    return output


def read_dump(path: Path) -> bytes:
    """The dump's bytes, refused unless it is a complete mysqldump/mariadb-dump file."""
    if not path.is_file():
        raise DatabaseError(f"{path} does not exist", "give the path of a file made by `invoke db-dump`")
    raw = path.read_bytes()
    try:
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError):
        raise DatabaseError(f"{path} is a damaged gzip file", "make a new dump with `invoke db-dump`") from None
    if not any(header in data[:512] for header in DUMP_HEADERS):  # MariaDB may put a sandbox line first
        raise DatabaseError(f"{path} is not a MySQL/MariaDB dump", "give a file made by `invoke db-dump`")
    if DUMP_TRAILER not in data[-300:]:
        raise DatabaseError(
            f"{path} is truncated (no '-- Dump completed' line)", "make a new dump with `invoke db-dump`"
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise DatabaseError(f"{path} is not valid UTF-8", "give a file made by `invoke db-dump`") from None
    return data


def restore(docker: DockerClient, path: Path) -> None:
    """Load a dump: checked first, rehearsed in a scratch database, then applied to the app's."""
    data = read_dump(path)
    container = _db_container(docker)
    remote = f"/tmp/dockstage-restore-{int(time.time())}.sql"  # noqa: S108 - inside the db container
    local = path.with_name(f".{path.name}.restore.sql")
    local.write_bytes(data)
    try:
        docker.container.copy(local, (container, remote))
    finally:
        local.unlink(missing_ok=True)
    root = f'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" {_CLIENT} -uroot --default-character-set=utf8mb4'
    rehearse = (
        f"{root} -e 'DROP DATABASE IF EXISTS {SCRATCH_DB}; CREATE DATABASE {SCRATCH_DB} CHARACTER SET utf8mb4' "
        f"&& {root} {SCRATCH_DB} < {remote}; rc=$?; {root} -e 'DROP DATABASE IF EXISTS {SCRATCH_DB}'; exit $rc"
    )
    try:
        report.info("rehearsing the restore in a scratch database")
        _sh(docker, rehearse)
    except DockerException as exc:
        _sh(docker, f"rm -f {remote}")
        raise DatabaseError(
            f"{path} does not load ({((exc.stderr or '').strip().splitlines() or [''])[-1][:200]}); "
            "the database was not touched",
            "fix the file or make a new dump with `invoke db-dump`",
        ) from None
    try:
        _sh(docker, f'{root} "$MYSQL_DATABASE" < {remote}; rc=$?; rm -f {remote}; exit $rc')
    except DockerException as exc:
        raise DatabaseError(
            f"the restore failed ({(exc.stderr or '').strip()[-200:]})", "check `invoke logs db`"
        ) from None
