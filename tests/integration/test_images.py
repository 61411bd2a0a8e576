"""What each built stage holds: labels, the prod image's size over its base, its contents."""

from __future__ import annotations

import pytest
from python_on_whales import DockerClient

from dockstage import STAGES, offline, smoke, stages
from dockstage.config import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MAX_PROD_OVER_BASE_BYTES = 90 * 1000 * 1000


def test_each_stage_is_labelled_with_its_stage_and_base(
    built_images: list[stages.Built], suite_settings: Settings, docker_client: DockerClient
) -> None:
    bases = offline.resolve(suite_settings.flavour, docker_client)
    assert [b.stage for b in built_images] == list(STAGES)
    for stage in STAGES:
        labels = docker_client.image.inspect(suite_settings.tag(stage)).config.labels or {}
        assert labels.get("dockstage.stage") == stage
        assert labels.get("org.opencontainers.image.base.name") == bases.python
        assert labels.get("dockstage.flavour") == bases.flavour


def test_prod_adds_at_most_90_mb_over_its_base(
    built_images: list[stages.Built], suite_settings: Settings, docker_client: DockerClient
) -> None:
    bases = offline.resolve(suite_settings.flavour, docker_client)
    base = docker_client.image.inspect(bases.python).size or 0
    prod = docker_client.image.inspect(suite_settings.tag("prod")).size or 0
    assert base > 0
    assert prod - base <= MAX_PROD_OVER_BASE_BYTES, f"prod adds {(prod - base) / 1e6:.1f} MB over {bases.python}"


def test_prod_image_holds_no_build_or_test_tools_and_links_mysql(
    built_images: list[stages.Built], suite_settings: Settings, docker_client: DockerClient
) -> None:
    lines = smoke.check_prod_image(docker_client, suite_settings.tag("prod"))
    assert any("uid=10001" in line for line in lines)


def test_dev_and_test_have_what_prod_lacks(
    built_images: list[stages.Built], suite_settings: Settings, docker_client: DockerClient
) -> None:
    """The probe is not vacuous: the same checks find the tools where they belong."""
    script = "command -v gcc && test -e /usr/include/mariadb && python -c 'import pytest, django, MySQLdb'"
    output = docker_client.run(suite_settings.tag("test"), ["-c", script], entrypoint="sh", remove=True)
    assert "gcc" in str(output)
