"""gitinfo: HEAD, dirty and the remote of a real (temporary) git checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dockstage.core import gitinfo


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("git@github.com:acme/shop.git", "https://github.com/acme/shop"),
        ("https://user:s3cret@gitlab.example/acme/shop.git", "https://gitlab.example/acme/shop"),
        ("ssh://git@git.example:2222/acme/shop.git", "https://git.example/acme/shop"),
        ("https://github.com/acme/shop", "https://github.com/acme/shop"),
    ],
)
def test_a_remote_becomes_a_url_without_credentials(remote: str, url: str) -> None:
    assert gitinfo.public_url(remote) == url


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout.strip()


def test_head_dirty_and_source_of_a_checkout(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "one")
    _git(tmp_path, "remote", "add", "origin", "git@github.com:acme/shop.git")
    commit = gitinfo.head(tmp_path)
    assert commit is not None
    assert commit.sha == _git(tmp_path, "rev-parse", "HEAD") and commit.sha.startswith(commit.short)
    assert commit.time == _git(tmp_path, "log", "-1", "--format=%cI")
    assert commit.source == "https://github.com/acme/shop"
    assert gitinfo.dirty(tmp_path) is False
    (tmp_path / "a.txt").write_text("two\n")
    assert gitinfo.dirty(tmp_path) is True
    (tmp_path / "untracked.txt").write_text("not counted\n")
    (tmp_path / "a.txt").write_text("one\n")
    assert gitinfo.dirty(tmp_path) is False


def test_outside_a_checkout_nothing_is_known(tmp_path: Path) -> None:
    assert gitinfo.head(tmp_path / "nowhere") is None
    assert gitinfo.dirty(tmp_path / "nowhere") is None
