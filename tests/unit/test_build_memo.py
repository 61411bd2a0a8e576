"""The build memo: a stage is answered without a build only when nothing its build reads changed."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dockstage.core import resources
from dockstage.images import buildmemo

SUITE_IGNORE = resources.path(resources.DOCKERFILE).with_name("Dockerfile.dockerignore").read_text(encoding="utf-8")


def project(root: Path) -> Path:
    for relative, text in {
        "app/views.py": "VIEW = 1\n",
        "app/__pycache__/views.cpython-311.pyc": "bytecode",
        "app/venv/lib.py": "a nested venv is in the context: the ignore names venv at the top only\n",
        ".venv/lib.py": "the top one is not\n",
        ".dockstage/reports/junit.xml": "<testsuite/>",
        ".dockstage/build/requirements/runtime/requirements.txt": "Django\n",
        "local_settings.py": "SECRET = 1\n",
    }.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def digest(root: Path, ignore: str = SUITE_IGNORE, options: dict[str, object] | None = None) -> str:
    """The inputs' digest of a build of `root` with a Dockerfile outside it (as the suite's is)."""
    dockerfile = root.parent / "dockerfile" / "Dockerfile"
    dockerfile.parent.mkdir(exist_ok=True)
    if not dockerfile.is_file():
        dockerfile.write_text("FROM scratch\n", encoding="utf-8")
    (dockerfile.parent / "Dockerfile.dockerignore").write_text(ignore, encoding="utf-8")
    return buildmemo.inputs_digest(root, dockerfile, options or {"target": "dev"}, [Path("local_settings.py")])


def touch_later(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def test_the_context_lines_leave_out_only_what_the_ignore_file_and_git_leave_out(tmp_path: Path) -> None:
    root = project(tmp_path / "site")
    paths = [line.split("\0")[0] for line in buildmemo.context_lines(root, SUITE_IGNORE, [Path("local_settings.py")])]
    assert "app/views.py" in paths and "app/venv/lib.py" in paths
    assert ".dockstage/build/requirements/runtime/requirements.txt" in paths  # taken back by the ignore file
    assert not [p for p in paths if "__pycache__" in p or p.startswith((".venv", ".dockstage/reports"))]
    assert "local_settings.py" not in paths  # git ignores it: the build leaves it out
    walked_whole = [line.split("\0")[0] for line in buildmemo.context_lines(root, "")]  # a project's own ignore
    assert ".venv/lib.py" in walked_whole and ".dockstage/reports/junit.xml" in walked_whole


def test_the_digest_changes_with_what_the_build_reads_and_only_with_it(tmp_path: Path) -> None:
    root = project(tmp_path / "site")
    first = digest(root)
    assert digest(root) == first
    touch_later(root / "app/__pycache__/views.cpython-311.pyc", "other bytecode")
    touch_later(root / ".dockstage/reports/junit.xml", "<testsuite tests='2'/>")
    touch_later(root / "local_settings.py", "SECRET = 2\n")
    assert digest(root) == first  # none of them is in the context
    touch_later(root / "app/views.py", "VIEW = 2\n")  # same size, later time
    second = digest(root)
    assert second != first
    staged = root / ".dockstage/build/requirements/runtime/requirements.txt"
    mtime = staged.stat().st_mtime_ns
    staged.write_text("Django\n", encoding="utf-8")  # staged again, the same content: the same inputs
    os.utime(staged, ns=(mtime + 5_000_000, mtime + 5_000_000))
    assert digest(root) == second
    staged.write_text("flask\n", encoding="utf-8")
    os.utime(staged, ns=(mtime, mtime))  # other content, the old time: still seen
    third = digest(root)
    assert third != second
    assert digest(root, options={"target": "prod"}) != third
    assert digest(root, ignore=SUITE_IGNORE + "docs\n") != third
    (root.parent / "dockerfile" / "Dockerfile").write_text("FROM scratch\nLABEL a=b\n", encoding="utf-8")
    assert digest(root) != third
    (root / "app/new.py").write_text("", encoding="utf-8")
    assert len({first, second, third, digest(root)}) == 4


def test_a_tag_is_recalled_for_its_inputs_only_and_an_unreadable_memo_recalls_nothing(tmp_path: Path) -> None:
    buildmemo.keep(tmp_path, "site:dev", "inputs-1", "sha256:aa")
    buildmemo.keep(tmp_path, "site:prod", "inputs-2", "sha256:bb")
    assert buildmemo.recall(tmp_path, "site:dev", "inputs-1") == "sha256:aa"
    assert buildmemo.recall(tmp_path, "site:dev", "inputs-2") is None
    assert buildmemo.recall(tmp_path, "site:test", "inputs-1") is None
    buildmemo.keep(tmp_path, "site:dev", "inputs-3", "sha256:cc")
    assert buildmemo.recall(tmp_path, "site:dev", "inputs-1") is None
    assert buildmemo.recall(tmp_path, "site:dev", "inputs-3") == "sha256:cc"
    for i in range(buildmemo.KEPT + 2):
        buildmemo.keep(tmp_path, f"site{i}:dev", "x", "sha256:dd")
    assert len(json.loads((tmp_path / buildmemo.MEMO_FILE).read_text(encoding="utf-8"))) == buildmemo.KEPT
    (tmp_path / buildmemo.MEMO_FILE).write_text("{not json", encoding="utf-8")
    assert buildmemo.recall(tmp_path, f"site{buildmemo.KEPT + 1}:dev", "x") is None
    blocked = tmp_path / "state"
    blocked.write_text("a file where the state dir would be", encoding="utf-8")
    buildmemo.keep(blocked, "site:dev", "x", "sha256:aa")  # not an error: the stage builds next time
    assert buildmemo.recall(blocked, "site:dev", "x") is None


def test_another_commands_write_in_progress_is_not_an_input(tmp_path: Path) -> None:
    """A CI worker hashed the staged `.args.yr1n185f` (files.write_private's temporary) as another
    worker renamed it over `args`: FileNotFoundError, and 15 tests errored on setup."""
    staged = tmp_path / ".dockstage/build/requirements/runtime"
    staged.mkdir(parents=True)
    (staged / "args").write_text("-r requirements.txt\n")
    before = buildmemo.context_lines(tmp_path, ".dockstage/*\n")
    (staged / ".args.yr1n185f").write_text("half written")
    assert buildmemo.context_lines(tmp_path, ".dockstage/*\n") == before
    (staged / ".coveragerc").write_text("[run]\n")  # a staged dotfile of the project's own still counts
    assert buildmemo.context_lines(tmp_path, ".dockstage/*\n") != before
