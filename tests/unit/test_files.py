"""The one private file writer: 0600 whatever the umask, whole or not at all, nothing left beside it."""

from __future__ import annotations

import os
from pathlib import Path

from dockstage.core import files


def test_private_whatever_the_umask_and_nothing_left_beside(tmp_path: Path) -> None:
    path = tmp_path / "state" / "x.env"
    old = os.umask(0)
    try:
        assert files.write_private(path, "A=1\n")
    finally:
        os.umask(old)
    assert path.read_text() == "A=1\n" and oct(path.stat().st_mode & 0o777) == "0o600"
    assert files.write_private(path, b"A=2\n", durable=True)  # replaced whole
    assert path.read_text() == "A=2\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.env"]


def test_exclusive_keeps_the_first_writer(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    assert files.write_private(path, "first\n", exclusive=True)
    assert not files.write_private(path, "second\n", exclusive=True)
    assert path.read_text() == "first\n" and [p.name for p in tmp_path.iterdir()] == [".env"]


def test_write_if_changed_leaves_an_equal_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "f"
    assert files.write_if_changed(path, "x", mode=0o644)
    before = path.stat().st_ino
    assert not files.write_if_changed(path, "x", mode=0o644)
    assert path.stat().st_ino == before and oct(path.stat().st_mode & 0o777) == "0o644"
    assert files.write_if_changed(path, "y")
    assert path.read_text() == "y" and oct(path.stat().st_mode & 0o777) == "0o600"
