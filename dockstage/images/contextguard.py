"""Database dumps never enter an image, whatever they are called.

The ignore file beside the Dockerfile leaves out dumps by name (`*.sql*`, `*.dump`, `backups/`);
a dump saved as `app/dump.gz` or `app/db-backup` has no such name. Before a build the context is
scanned for files that read as a MySQL/MariaDB dump (plain, gzip, xz or bzip2) and, when there
are any, the build uses a copy of the Dockerfile whose ignore file also names those files.

The project's own .dockerignore is honoured the same way: BuildKit reads only the ignore file beside
the Dockerfile, so the copy's ignore file starts with the project's rules.

In a git checkout, what git ignores stays out too (a local secrets.json or local_settings.py, a
media/ folder): the images hold what the checkout tracks, so a build on a developer's machine gets
what CI's clean clone gets, and a file kept out of git for its secrets never enters a layer.
"""

from __future__ import annotations

import bz2
import lzma
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from dockstage.core import files, gitinfo

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
STAGED_DIR = ".dockstage/build"
"""What the build stages for the Dockerfile (buildfiles.STAGED), re-included after the project's rules."""
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


def git_ignored(context: Path, needs: Iterable[Path] = ()) -> list[Path]:
    """What git ignores under `context` (untracked files matching the checkout's ignore rules; a
    folder a rule names as the folder), relative to it, sorted; [] outside a git checkout or
    without git. A path the suite's build needs (`needs`, the staged files), or a folder holding
    one, is not in the list; nor is the context itself when git ignores it whole."""
    prefix = gitinfo.git(context, "rev-parse", "--show-prefix")
    # `status`, not `ls-files --directory`: git 2.39's ls-files fails ("directory entry not superset
    # of prefix") in a folder whose ignored subfolders it collapses. `matching`: a folder a rule names
    # is listed without being walked (the default mode walked .nox's venvs: 0.25 s a call here, 6 ms
    # now), files a rule names one by one. No index lock is taken.
    listed = gitinfo.git(
        context,
        "--no-optional-locks",
        "status",
        "--porcelain=v1",
        "-z",
        "--ignored=matching",
        "--ignore-submodules=all",
        "--",
        ".",
    )
    if prefix is None or not listed:
        return []
    found = [
        Path(entry[3:].removeprefix(prefix))
        for entry in listed.split("\0")
        if entry.startswith("!! ") and entry[3:].startswith(prefix) and entry[3:] != prefix
    ]
    return left_out(found, needs)


def left_out(ignored: Iterable[Path], needs: Iterable[Path] = ()) -> list[Path]:
    """Of the paths git ignores, sorted, those a build leaves out: not one the suite's build needs
    (`needs`, the staged files), nor a folder holding one."""
    kept = [Path(STAGED_DIR), *needs]
    return sorted(path for path in ignored if not any(need == path or path in need.parents for need in kept))


def worth_saying(ignored: Iterable[Path]) -> list[Path]:
    """Of the git-ignored paths, those a user may miss in an image: not what no image ever holds
    anyway (caches, virtualenvs, .env files, compiled or sqlite files, logs) nor packaging or
    coverage output (build/, dist/, *.egg-info, htmlcov/)."""
    noise = (".pyc", ".pyo", ".sqlite3", ".log", ".egg-info")
    tool_dirs = {"build", "dist", "htmlcov", ".idea", ".vscode"}
    return [
        path
        for path in ignored
        if not SKIPPED_DIRS.intersection(path.parts)
        and not path.name.startswith((".env", ".coverage"))
        and not path.name.endswith(noise)
        and path.parts[0] not in tool_dirs
    ]


def _pattern(relative: Path) -> str:
    """An ignore-file line that matches exactly this path."""
    return "/" + re.sub(r"([*?\[\]\\!#])", r"\\\1", relative.as_posix())


def project_ignore(dockerfile: Path, context: Path) -> Path | None:
    """The project's own .dockerignore when the build would otherwise not read it (the Dockerfile
    has its own ignore file beside it, which BuildKit reads instead)."""
    own = dockerfile.with_name(dockerfile.name + ".dockerignore")
    project = context / ".dockerignore"
    if own.is_file() and project.is_file() and own.resolve() != project.resolve():
        return project
    return None


def module_files(context: Path, app_dir: str, modules: Iterable[str], python_path: Iterable[str] = ()) -> list[Path]:
    """The files of dotted modules (`pkg.settings`, `pkg.wsgi:application`) under the app dir (or a
    python-path folder of it) that exist, relative to `context`."""
    app = context / app_dir.strip("/")
    roots = [app, *(app / p.strip("/") for p in python_path)]
    found: list[Path] = []
    for module in modules:
        parts = module.split(":", 1)[0].strip().split(".")
        if not all(parts):
            continue
        for root in roots:
            for candidate in (root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")):
                if candidate.is_file():
                    found.append(candidate.relative_to(context))
    return list(dict.fromkeys(found))


def ignore_text(
    suite: str, project: str, needs: Iterable[Path], dumps: Iterable[Path], ignored: Iterable[Path] = ()
) -> str:
    """The ignore file of a guarded build: the project's rules first (what it keeps out of its own
    images stays out of every stage), then the suite's (secrets, caches and dumps stay out whatever
    the project's rules re-include), then what git ignores, then what the suite's build needs (its
    staged files, manage.py, the settings and wsgi modules) re-included, then the dumps found by
    their content."""
    parts: list[str] = []
    if project:
        parts.append(f"# The project's own .dockerignore (dockstage honours it)\n{project.rstrip()}\n")
    parts.append(suite.rstrip() + "\n")
    ignored_lines = "".join(f"{_pattern(path)}\n" for path in ignored)
    if ignored_lines:
        parts.append(f"# What git ignores: the images hold what the checkout tracks (dockstage)\n{ignored_lines}")
    if project:
        lines = "".join(f"!{_pattern(path)}\n" for path in [Path(STAGED_DIR), *needs])
        parts.append(f"# What the suite's build needs, whatever the project's rules leave out (dockstage)\n{lines}")
    dump_lines = "".join(f"{_pattern(path)}\n" for path in dumps)
    if dump_lines:
        parts.append(f"# Database dumps found in the context by their content (dockstage)\n{dump_lines}")
    return "".join(parts)


def guarded_dockerfile(
    dockerfile: Path,
    context: Path,
    state_dir: Path,
    needs: Iterable[Path] = (),
    variant: str = "",
    ignored: Iterable[Path] | None = None,
) -> tuple[Path, list[Path]]:
    """The Dockerfile to build with, and the dumps it leaves out of the context.

    No dump, no project .dockerignore to honour and nothing git ignores: the Dockerfile itself.
    Otherwise a copy under
    `state_dir`, beside an ignore file made by `ignore_text` (`needs`: context-relative files the
    build uses that the project's rules must not leave out; `variant`: a folder of its own, for a
    target whose needs differ; `ignored`: what git ignores in the context, when the caller read it
    once for several stages)."""
    needs = list(needs)
    found = dumps_in(context)
    project = project_ignore(dockerfile, context)
    ignored = git_ignored(context, needs) if ignored is None else left_out(ignored, needs)
    if not found and project is None and not ignored:
        return dockerfile, []
    own = dockerfile.with_name(dockerfile.name + ".dockerignore")
    base = own if own.is_file() else context / ".dockerignore"
    suite = base.read_text(encoding="utf-8") if base.is_file() else ""
    rules = project.read_text(encoding="utf-8", errors="replace") if project else ""
    folder = state_dir / "dockerfile" / variant if variant else state_dir / "dockerfile"
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / dockerfile.name
    files.write_if_changed(copy, dockerfile.read_text(encoding="utf-8"))
    files.write_if_changed(folder / f"{dockerfile.name}.dockerignore", ignore_text(suite, rules, needs, found, ignored))
    return copy, found
