"""Database dumps never enter an image, whatever they are called.

The ignore file beside the Dockerfile leaves out dumps by name (`*.sql*`, `*.dump`, `backups/`);
a dump saved as `app/dump.gz` or `app/db-backup` has no such name. Before a build the context is
scanned for files that read as a MySQL/MariaDB dump (plain, gzip, xz or bzip2) and, when there
are any, the build uses a copy of the Dockerfile whose ignore file also names those files.
"""

from __future__ import annotations

import bz2
import lzma
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

from dockstage.core import files

SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", ".nox", ".tox", "node_modules", "__pycache__", ".dockstage"}
    | {".pytest_cache", ".mypy_cache", ".ruff_cache", "staticfiles", "backups"}
)
"""Folders the ignore file leaves out already (or that never hold the app's code)."""
CODE_SUFFIXES = frozenset(
    [
        ".py",
        ".pyi",
        ".pyc",
        ".html",
        ".htm",
        ".txt",
        ".md",
        ".rst",
        ".js",
        ".mjs",
        ".ts",
        ".tsx",
        ".jsx",
        ".css",
        ".scss",
        ".sass",
        ".less",
        ".json",
        ".yml",
        ".yaml",
        ".toml",
        ".ini",
        ".cfg",
        ".po",
        ".mo",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".svg",
        ".ico",
        ".webp",
        ".woff",
        ".woff2",
        ".ttf",
        ".eot",
        ".map",
        ".lock",
    ]
)
"""Suffixes of code and assets: a dump is never named so, and reading them all would slow every build."""
SNIFF_BYTES = 4096
_DUMP_TEXT = re.compile(
    rb"^(-- (MySQL|MariaDB) dump|/\*!\d{5} SET |/\*M!\d+|-- Host: .*Database: )|^(CREATE TABLE|INSERT INTO) `",
    re.MULTILINE,
)
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _head(path: Path) -> bytes:
    """The first bytes of the file's content, uncompressed when it is gzip, xz or bzip2."""
    with path.open("rb") as stream:
        raw = stream.read(SNIFF_BYTES * 4)
    try:
        if raw[:2] == b"\x1f\x8b":
            return zlib.decompressobj(wbits=31).decompress(raw, SNIFF_BYTES)
        if raw[:6] == b"\xfd7zXZ\x00":
            return lzma.LZMADecompressor().decompress(raw, SNIFF_BYTES)
        if raw[:3] == b"BZh":
            return bz2.BZ2Decompressor().decompress(raw, SNIFF_BYTES)
    except (zlib.error, lzma.LZMAError, OSError, EOFError):
        return b""
    return raw[:SNIFF_BYTES]


def is_dump(path: Path) -> bool:
    """Whether the file reads as a SQL dump (zstd, which Python cannot open, by its magic alone)."""
    try:
        head = _head(path)
        if head[:4] == _ZSTD_MAGIC:
            return True
    except OSError:
        return False
    return bool(_DUMP_TEXT.search(head))


def _files(root: Path) -> Iterator[Path]:
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        for name in names:
            if Path(name).suffix.lower() in CODE_SUFFIXES:
                continue
            path = Path(folder, name)
            if not path.is_symlink() and path.is_file():
                yield path


def dumps_in(context: Path) -> list[Path]:
    """Every file under `context` that is a database dump, relative to it, sorted."""
    return sorted(path.relative_to(context) for path in _files(context) if is_dump(path))


def _pattern(relative: Path) -> str:
    """An ignore-file line that matches exactly this path."""
    return "/" + re.sub(r"([*?\[\]\\!#])", r"\\\1", relative.as_posix())


def guarded_dockerfile(dockerfile: Path, context: Path, state_dir: Path) -> tuple[Path, list[Path]]:
    """The Dockerfile to build with, and the dumps it leaves out of the context.

    No dump: the Dockerfile itself. Otherwise a copy under `state_dir`, beside an ignore file that
    is the Dockerfile's own (or the context's .dockerignore) plus one line per dump."""
    found = dumps_in(context)
    if not found:
        return dockerfile, []
    own = dockerfile.with_name(dockerfile.name + ".dockerignore")
    base = own if own.is_file() else context / ".dockerignore"
    ignore = base.read_text(encoding="utf-8") if base.is_file() else ""
    lines = "".join(f"{_pattern(path)}\n" for path in found)
    folder = state_dir / "dockerfile"
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / dockerfile.name
    files.write_if_changed(copy, dockerfile.read_text(encoding="utf-8"))
    files.write_if_changed(
        folder / f"{dockerfile.name}.dockerignore",
        f"{ignore.rstrip()}\n# Database dumps found in the context by their content (dockstage)\n{lines}",
    )
    return copy, found
