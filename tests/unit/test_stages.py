"""The stage graph: order, prerequisites, and the Dockerfile agreeing with STAGES."""

from __future__ import annotations

import re

import pytest

from dockstage import STAGES
from dockstage.core import resources
from dockstage.core.errors import ConfigError
from dockstage.images import stages


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        ((), ["dev", "test", "stage", "prod"]),
        (("dev",), ["dev"]),
        (("test",), ["dev", "test"]),
        (("stage",), ["dev", "stage"]),
        (("prod",), ["dev", "stage", "prod"]),
        (("prod", "test"), ["dev", "test", "stage", "prod"]),
    ],
    ids=["all", "dev", "test", "stage", "prod", "prod+test"],
)
def test_plan_builds_prerequisites_first(targets: tuple[str, ...], expected: list[str]) -> None:
    assert stages.plan(*targets) == expected


def test_unknown_stage_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        stages.plan("nope")
    assert caught.value.what == "unknown stage 'nope'"
    assert caught.value.fix == "use one of dev, test, stage, prod"


def test_dockerfile_stages_match_the_constant() -> None:
    text = resources.path(resources.DOCKERFILE).read_text()
    # devdeps: dev minus the app, the base of dev and test (never built or tagged on its own)
    assert tuple(re.findall(r"^FROM \S+ AS (\w+)$", text, flags=re.MULTILINE)) == ("devdeps", *STAGES)
    assert not re.search(r"^#\s*syntax=", text, flags=re.MULTILINE)


def test_every_stage_declares_its_label() -> None:
    text = resources.path(resources.DOCKERFILE).read_text()
    for stage in STAGES:
        assert f'dockstage.stage="{stage}"' in text
