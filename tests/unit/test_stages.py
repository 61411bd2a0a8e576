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
    # uvtool: uv in its own venv, beside runtime's apt; runtime: the runtime venv stage copies; devdeps: runtime plus the dev tools, dev minus the app,
    # the base of dev and test; no-assets/node-assets and `assets` (the one of the two ASSETS names)
    # feed stage: none is built or tagged on its own
    found = re.findall(r"^FROM \S+ AS ([\w-]+)$", text, flags=re.MULTILINE)
    assert [s for s in found if s in STAGES] == list(STAGES)
    assert [s for s in found if s not in STAGES] == [
        "uvtool", "runtime", "devdeps", "no-assets", "node-assets", "assets",
    ]  # fmt: skip
    assert re.search(r"^ARG ASSETS=no-assets$", text, flags=re.MULTILINE)  # global: before the first FROM
    assert not re.search(r"^#\s*syntax=", text, flags=re.MULTILINE)


def test_every_stage_declares_its_label() -> None:
    text = resources.path(resources.DOCKERFILE).read_text()
    for stage in STAGES:
        assert f'dockstage.stage="{stage}"' in text
