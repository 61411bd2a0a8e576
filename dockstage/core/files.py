"""The one private file writer: 0600 whatever the umask, written whole or not at all.

Env files, generated compose files, releases, dumps and secret values all go through it: a
temporary file beside the target, renamed over it (or linked, when the target must not exist
yet), so a reader never sees half a file and two writers never mix theirs. Beside it, the reader
of the text files a project wrote in whatever encoding its editor chose (requirements files).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

PRIVATE = 0o600
SKIP_DIRS = {".git", ".hg", ".venv", "venv", "env", "node_modules", ".nox", ".tox", ".dockstage", "site-packages"}
"""Folders of a project that hold no code of its own (VCS data, virtualenvs, tools' state): never read."""


def write_private(
    path: Path, data: str | bytes, *, exclusive: bool = False, durable: bool = False, mode: int = PRIVATE
) -> bool:
    """Write `path` atomically with `mode` (0600: only the owner reads it).

    `exclusive`: keep a file already there (False is returned, nothing written); `durable`:
    fsync before the rename (a dump the user relies on). True when this call wrote the file."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(content)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if not exclusive:
            os.replace(temporary, path)
            return True
        try:
            os.link(temporary, path)  # atomic, and refused when the file is already there
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)  # gone already after a rename; after a link, the second name


def write_if_changed(path: Path, data: str | bytes, *, mode: int = PRIVATE) -> bool:
    """write_private, unless `path` already holds exactly `data` (readers of it may be running)."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    if path.is_file() and path.read_bytes() == content:
        return False
    return write_private(path, content, mode=mode)


def read_text_any(path: Path) -> str:
    """A text file as its byte-order mark says (UTF-16 from Windows' `pip freeze >` in PowerShell,
    UTF-8 with a BOM), else UTF-8; undecodable bytes are replaced, never fatal."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8-sig", errors="replace")


@contextlib.contextmanager
def one_at_a_time(path: Path, waiting: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Hold an exclusive lock on `path` (made if missing) while the body runs: two processes of
    this machine doing the same work (two commands building the stand-ins on a fresh machine) do
    it once, one after the other. `waiting` is called when another process holds it. Where the
    platform has no fcntl (Windows), the body runs unlocked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: nothing to serialise against here
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle: IO[bytes] = open(path, "a+b")  # noqa: SIM115 - closed below
    except PermissionError:  # another user's lock file: a lock on a read-only handle holds too
        handle = open(path, "rb")  # noqa: SIM115
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
