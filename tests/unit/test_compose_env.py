"""Settings beat the shell inside compose: the names the suite resolved reach compose from its env file only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from python_on_whales import DockerClient

from dockstage.stack.compose import compose_view

pytestmark = pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is not installed")


def test_resolved_names_are_removed_from_compose_environment(tmp_path: Path) -> None:
    env_file = tmp_path / "generated.env"
    env_file.write_text("DOCKSTAGE_IMAGE=settings/wins\n")
    view = compose_view(
        DockerClient(),
        files=[tmp_path / "compose.yaml"],
        project="p",
        directory=tmp_path,
        env_files=[env_file, tmp_path / "missing.env"],
        resolved={"DOCKSTAGE_IMAGE": "settings/wins", "DOCKSTAGE_UID": "1000"},
    )
    call = [str(part) for part in view.client_config.get_client_call_with_path()]
    assert Path(call[0]).name == "env" and Path(call[-1]).name == "docker"
    assert call[1:-1] == ["-u", "DOCKSTAGE_IMAGE", "-u", "DOCKSTAGE_UID"]
    assert view.client_config.compose_env_files == [env_file]  # a missing file is not passed


def test_nothing_resolved_leaves_the_call_alone(tmp_path: Path) -> None:
    docker = DockerClient()
    view = compose_view(docker, files=[], project="p", directory=tmp_path, env_files=[])
    assert view.client_config.get_client_call_with_path() == docker.client_config.get_client_call_with_path()
