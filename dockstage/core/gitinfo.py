"""What git says of a checkout: the commit, its time, whether tracked files changed, the remote.

The one place dockstage runs git (a subprocess: there is no Docker in it). Outside a checkout,
or without git, every answer is None.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dockstage.core.report import log


def git(root: Path, *args: str) -> str | None:
    """`git -C root args...`'s output, stripped; None when git is missing or says no."""
    try:
        result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        log.debug("git is not installed: no provenance from %s", root)
        return None
    if result.returncode != 0:
        log.debug("git %s in %s said (exit %d): %s", " ".join(args), root, result.returncode, result.stderr.strip())
        return None
    return result.stdout.strip()


def public_url(remote: str) -> str:
    """A remote as a browsable https URL with no credentials in it (git@host:owner/repo.git and
    https://user:token@host/owner/repo.git both become https://host/owner/repo)."""
    scp = re.fullmatch(r"[\w.-]+@([\w.-]+):(.+)", remote)
    url = f"https://{scp[1]}/{scp[2]}" if scp else remote
    url = re.sub(r"^(\w+://)[^/@]*@", r"\1", url)  # user:token@
    url = re.sub(r"^ssh://([\w.-]+)(:\d+)?/", r"https://\1/", url)
    return url.removesuffix(".git")


@dataclass(frozen=True)
class Commit:
    """HEAD of a checkout."""

    sha: str
    short: str
    time: str  # committer date, ISO 8601 strict
    source: str  # origin's URL, browsable, "" when there is none


def head(root: Path) -> Commit | None:
    """The checkout's HEAD as it is now (None outside a checkout with a commit)."""
    found = git(root, "log", "-1", "--format=%H %h %cI")
    if not found:
        return None
    sha, short, time = found.split(" ", 2)
    remote = git(root, "config", "--get", "remote.origin.url") or ""
    return Commit(sha, short, time, public_url(remote) if remote else "")


def dirty(root: Path) -> bool | None:
    """Whether tracked files have uncommitted changes (None outside a checkout)."""
    status = git(root, "status", "--porcelain", "--untracked-files=no")
    return None if status is None else bool(status)


def ignores(root: Path, path: Path) -> bool:
    """Whether git ignores `path` (untracked and matching the checkout's ignore rules); False
    outside a checkout or without git."""
    return git(root, "check-ignore", "--", str(path)) is not None
