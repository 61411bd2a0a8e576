"""A stage whose build inputs are unchanged since its image was built is not built again.

BuildKit answers such a build from its cache, but only after a buildx process, a context upload
and a walk of every step: 0.6 s for dev and 1.8 s for the three after it on two cores, the warm
pipeline's longest part. The inputs are what BuildKit's cache keys on, read more strictly: the
Dockerfile and the ignore file it is built with, every build argument, label, secret name and the
target, and every file of the context (path, size, mode, modification time; the files the suite
stages by their content). The base image is in the labels (its digest, or a stand-in's id). When
all are what they were when the tag's image was built, and the tag still names that image, the
build is skipped. Over-counting a file only costs a build (BuildKit's cache then answers it);
nothing the build reads is left out.

The memo is a file of the state dir (MEMO_FILE); removing it builds every stage again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from dockstage.core import memofile

MEMO_FILE = "build-inputs.json"
KEPT = 40  # the newest tags kept (stages of a few images, across projects' checkouts of one state dir)
STAGED_DIR = Path(".dockstage/build")
_WRITING = threading.Lock()  # stages built side by side write the one file

ANYWHERE = {"__pycache__": "**/__pycache__", ".pytest_cache": "**/.pytest_cache", "node_modules": "**/node_modules"}
"""Folders the suite's ignore file leaves out at any depth (its line for each)."""
AT_ROOT = frozenset({".git", ".hg", ".svn", ".venv", "venv", ".nox", ".tox", ".mypy_cache", ".ruff_cache"})
"""Folders it leaves out at the context's top (its line is the folder's name)."""


def _skipped(ignore_text: str) -> tuple[set[str], set[str]]:
    """The folder names (anywhere, at the top) the build's ignore file leaves out: only those its
    lines name, so a project's own Dockerfile and ignore file are walked whole."""
    lines = {line.strip() for line in ignore_text.splitlines()}
    anywhere = {name for name, line in ANYWHERE.items() if line in lines}
    top = {name for name in AT_ROOT if name in lines}
    if ".dockstage/*" in lines:
        top.add(".dockstage")  # but .dockstage/build, which the ignore file takes back
    return anywhere, top


def _stat_line(path: Path, relative: str) -> str:
    info = path.lstat()
    if stat.S_ISREG(info.st_mode) and Path(relative).is_relative_to(STAGED_DIR):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()  # rewritten by every build's staging
        return f"{relative}\0{info.st_mode:o}\0{digest}"
    return f"{relative}\0{info.st_mode:o}\0{info.st_size}\0{info.st_mtime_ns}"


def context_lines(context: Path, ignore_text: str, left_out: Iterable[Path] = ()) -> list[str]:
    """One line per file and folder of the build context, sorted: what the build can read.
    `left_out`: paths the ignore file names one by one (what git ignores)."""
    anywhere, top = _skipped(ignore_text)
    gone = {path.as_posix() for path in left_out}
    lines: list[str] = []
    for folder, dirs, names in os.walk(context):
        here = Path(folder)
        relative_dir = here.relative_to(context)
        kept = []
        for name in dirs:
            relative = (relative_dir / name).as_posix()
            if name in anywhere or relative in gone or (relative_dir == Path(".") and name in top):
                if relative == ".dockstage":  # left out but what the suite staged for the build
                    lines += _staged_lines(context)
                continue
            kept.append(name)
            lines.append(_stat_line(here / name, relative) if (here / name).is_symlink() else f"{relative}/")
        dirs[:] = [name for name in kept if not (here / name).is_symlink()]
        for name in names:
            relative = (relative_dir / name).as_posix()
            if relative not in gone:
                lines.append(_stat_line(here / name, relative))
    return sorted(lines)


_WRITE_IN_PROGRESS = re.compile(r"\..+\.[a-z0-9_]{8}")
"""tempfile.mkstemp's name for files.write_private's temporary: the prefix `.<name>.`, 8 random characters."""


def _staged_lines(context: Path) -> list[str]:
    """The lines of the staged build files, which the ignore file takes back into the context.
    Another command's write in progress (files.write_private's temporary, `.<name>.<8 characters>`,
    renamed over its file a moment later) is left out, as is a file gone while it was read: a CI
    run's worker hashed `.args.yr1n185f` as another worker renamed it, and 24 tests errored."""
    found = []
    for path in sorted((context / STAGED_DIR).rglob("*")):
        if _WRITE_IN_PROGRESS.fullmatch(path.name):
            continue
        relative = path.relative_to(context).as_posix()
        try:
            found.append(f"{relative}/" if path.is_dir() and not path.is_symlink() else _stat_line(path, relative))
        except FileNotFoundError:
            continue
    return found


def inputs_digest(context: Path, dockerfile: Path, options: Mapping[str, object], left_out: Iterable[Path]) -> str:
    """The digest of everything a build of `dockerfile` in `context` with `options` reads."""
    ignore = dockerfile.with_name(dockerfile.name + ".dockerignore")
    ignore = ignore if ignore.is_file() else context / ".dockerignore"
    ignore_text = ignore.read_text(encoding="utf-8", errors="replace") if ignore.is_file() else ""
    digest = hashlib.sha256()
    head = {"dockerfile": dockerfile.read_text(encoding="utf-8", errors="replace"), "ignore": ignore_text}
    digest.update(json.dumps({**head, "options": options}, sort_keys=True, default=str).encode("utf-8"))
    for line in context_lines(context, ignore_text, left_out):
        digest.update(line.encode("utf-8", errors="surrogateescape") + b"\n")
    return digest.hexdigest()


def recall(state_dir: Path, tag: str, inputs: str) -> str | None:
    """The image id `tag` was built as from exactly these inputs, or None."""
    entry = memofile.read(state_dir / MEMO_FILE).get(tag)
    if isinstance(entry, dict) and entry.get("inputs") == inputs and isinstance(entry.get("image"), str):
        return str(entry["image"])
    return None


def keep(state_dir: Path, tag: str, inputs: str, image_id: str) -> None:
    """Remember that `tag` was built as `image_id` from `inputs` (the newest KEPT tags stay)."""
    memofile.keep(state_dir / MEMO_FILE, tag, {"inputs": inputs, "image": image_id}, KEPT, _WRITING)
