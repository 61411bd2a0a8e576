"""DOCKSTAGE_HUB_MIRROR: Docker Hub's images pulled from a registry that serves them, by their own names."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockstage.core import config
from dockstage.core.errors import ConfigError
from dockstage.images import bases


@pytest.mark.parametrize(
    ("ref", "mirror", "source"),
    [
        ("python:3.12-slim", "", "python:3.12-slim"),
        ("python:3.12-slim", "127.0.0.1:5099", "127.0.0.1:5099/library/python:3.12-slim"),
        ("mysql:8.4", "registry.example.com/dockerhub/", "registry.example.com/dockerhub/library/mysql:8.4"),
        ("bitnami/redis:7.2", "127.0.0.1:5099", "127.0.0.1:5099/bitnami/redis:7.2"),
        ("nginx", "hub.local", "hub.local/library/nginx"),
    ],
)
def test_an_image_is_pulled_from_the_mirror_as_the_hub_keeps_it(ref: str, mirror: str, source: str) -> None:
    assert bases.through(ref, mirror) == source


def test_the_mirror_comes_from_the_environment_and_must_be_an_address(tmp_path: Path) -> None:
    assert config.load(tmp_path, environ={"DOCKSTAGE_HUB_MIRROR": "127.0.0.1:5099"}).hub_mirror == "127.0.0.1:5099"
    assert config.load(tmp_path, environ={}).hub_mirror == ""
    with pytest.raises(ConfigError, match="is not a registry address") as caught:
        config.load(tmp_path, environ={"DOCKSTAGE_HUB_MIRROR": "http://127.0.0.1:5099"})
    assert "without a scheme" in caught.value.one_line()
