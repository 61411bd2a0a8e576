"""A command killed before it removed its generated env file (secrets inside): the next one does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dockstage.core import config
from dockstage.flows.run import Run, remove_stale_env_files


def test_the_run_id_names_its_process() -> None:
    assert Run.__dataclass_fields__["id"].default_factory().startswith(f"{os.getpid()}-")  # type: ignore[misc]


def test_only_files_of_dead_commands_of_this_project_are_removed(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dockstage]\nproject = "shop"\n')
    settings = config.load(tmp_path, environ={})
    state = tmp_path / ".dockstage"
    state.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(gone.stdout)
    names = [
        f"shop-{dead}-abc123.env",
        f"shop-{dead}-abc123.test.env",
        f"shop-{os.getpid()}-def456.env",  # a command still running
        f"shopfront-{dead}-abc123.env",  # another project
        "shop-notes.env",  # not a generated name
    ]
    for name in names:
        (state / name).write_text("SECRET=x\n")
    removed = remove_stale_env_files(settings)
    assert sorted(p.name for p in removed) == sorted(names[:2])
    assert sorted(p.name for p in state.iterdir()) == sorted(names[2:])
