"""The official-image path end to end, on this machine with no Docker Hub: the stand-ins served
under Docker Hub's names by a registry on 127.0.0.1 (DOCKSTAGE_HUB_MIRROR), then
`DOCKSTAGE_FLAVOUR=official nox -s pipeline` as a user types it.

A name the mirror lacks fails in one line naming the image and the registry's reason; once it is
there the pipeline pulls it (docker's progress shown) and goes green; a second run pulls nothing.
The proxy image of `invoke release` comes through the mirror too.
The engine then holds images under the official names, which would turn every concurrent run's
`auto` flavour official: the test asks for `official_names`, so it runs alone after the others
(tests/conftest.py's SWARM_FIXTURES), and removes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage import STAGES
from dockstage.core.config import Settings
from dockstage.core.report import Reporter
from dockstage.flows.run import Run
from dockstage.images import bases, services
from dockstage.swarm import registry
from dockstage.swarm.options import SwarmOptions
from tests.conftest import cli_env, free_port, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]
QUIET = Reporter(quiet=True)
NAMES = {"python": bases.OFFICIAL.python, "mysql": bases.OFFICIAL.mysql, "proxy": bases.OFFICIAL.proxy}


@pytest.fixture
def official_names(docker_client: DockerClient) -> Iterator[dict[str, str]]:
    """The official names this test gives the engine, removed afterwards; an engine that has one
    already (someone's own image) is not touched: skipped."""
    present = [name for name in NAMES.values() if docker_client.image.exists(name)]
    if present:
        pytest.skip(f"this engine has {', '.join(present)} of its own: not touched")
    try:
        yield NAMES
    finally:
        for name in NAMES.values():
            with suppress(DockerException):
                docker_client.image.remove(name)  # the tag: the stand-in keeps its own


def test_the_official_names_through_a_hub_mirror_pull_once_and_go_green(
    official_names: dict[str, str], docker_client: DockerClient, suite_settings: Settings, tmp_path: Path
) -> None:
    settings = suite_settings.with_(
        image=f"{suite_settings.image}-official",
        project=f"{suite_settings.project}-official",
        web_port=free_port(),
        env_file=str(tmp_path / ".env"),
    )
    stand_ins = Run(settings.with_(flavour="bookworm"), QUIET, docker_client)
    served = {"python": stand_ins.provided_bases().python, "mysql": stand_ins.bases().mysql}
    served["proxy"] = stand_ins.proxy_image()
    options = SwarmOptions(registry_port=free_port(), stack=f"{settings.project}-x")
    mirror = registry.up(Run(settings, QUIET, docker_client), options)
    env = cli_env(settings, DOCKSTAGE_FLAVOUR="official", DOCKSTAGE_HUB_MIRROR=mirror.address)

    def serve(role: str) -> None:
        """The stand-in of `role` in the mirror under its Docker Hub path (library/<name>)."""
        pushed = registry.push(docker_client, served[role], mirror.address, f"library/{official_names[role]}")
        docker_client.image.remove(pushed.ref)  # the local tag: the engine must pull it

    try:
        serve("python")
        serve("proxy")
        lacking = run_cli(["nox", "-s", "pipeline"], env, timeout=900)
        said = lacking.stdout + lacking.stderr
        assert lacking.returncode != 0, said[-3000:]
        last = said.strip().splitlines()[-1]  # the one line it ends in (the doctor's table says it too)
        assert last.startswith("nox > Session pipeline failed: engine: "), said[-3000:]
        assert f"base image mysql:8.4 (as {mirror.address}/library/mysql:8.4) could not be pulled (" in last
        assert "manifest unknown" in last and "DOCKSTAGE_FLAVOUR=bookworm" in last, last
        assert lacking.returncode == 3  # the engine's exit code: the registry said no
        assert "Traceback" not in said
        assert f"pulling python:3.12-slim from {mirror.address}" in said  # pulled before mysql was tried

        serve("mysql")
        first = run_cli(["nox", "-s", "pipeline"], env, timeout=1500)
        out = first.stdout + first.stderr
        assert first.returncode == 0 and "Session pipeline was successful" in out, out[-4000:]
        assert f"pulling mysql:8.4 from {mirror.address}" in out
        assert f"Status: Downloaded newer image for {mirror.address}/library/mysql:8.4" in out, out[-4000:]
        assert "pulling python:3.12-slim" not in out  # the first run's pull is kept
        for stage in STAGES:
            labels = docker_client.image.inspect(settings.tag(stage)).config.labels or {}
            assert labels["dockstage.flavour"] == "official", stage
            assert labels["org.opencontainers.image.base.name"] == "python:3.12-slim", stage
        again = run_cli(["nox", "-s", "pipeline"], env, timeout=1500)
        out = again.stdout + again.stderr
        assert again.returncode == 0 and "Session pipeline was successful" in out, out[-4000:]
        assert "pulling" not in out and "Downloaded newer image" not in out, out[-4000:]

        # `invoke release` and `invoke registry` choose their proxy and registry images the same way.
        with suppress(DockerException):
            docker_client.image.remove(services.PROXY.official)
        assert services.resolve(docker_client, services.PROXY, QUIET, mirror.address) == services.PROXY.official
        assert docker_client.image.exists(services.PROXY.official)  # pulled through the mirror, under its own name
        assert not docker_client.image.exists(f"{mirror.address}/library/{services.PROXY.official}")
    finally:
        run_cli(["invoke", "down", "--volumes", "--yes"], env, timeout=300)
        registry.down(Run(settings, QUIET, docker_client), volumes=True, yes=True)
        for stage in STAGES:
            with suppress(DockerException):
                docker_client.image.remove(settings.tag(stage), force=True)
        for name in official_names.values():
            with suppress(DockerException):
                docker_client.image.remove(f"{mirror.address}/library/{name}")
