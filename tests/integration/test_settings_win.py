"""Item 7 of issue 19: a value passed as a setting beats a conflicting shell variable inside compose.

Compose interpolates `${DOCKSTAGE_IMAGE}` from its process environment before any env file; the
suite removes the names it resolved from that environment, so a test (or a user) passes settings
without deleting variables. Checked on compose's own merged model of the stack."""

from __future__ import annotations

import pytest
from python_on_whales import DockerClient

from dockstage.core.config import Settings
from dockstage.flows.run import Run


def test_a_settings_override_beats_the_shell_in_compose(
    docker_client: DockerClient, suite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKSTAGE_IMAGE", "shell/must-not-win")
    monkeypatch.setenv("DOCKSTAGE_PUBLISH_PORT", "1")
    settings = suite_settings.with_(image=f"{suite_settings.image}-override")
    with Run.open(settings) as run:
        model = run.stack("test").compose.config(return_json=True)
    services = model["services"]
    assert services["web"]["image"] == f"{settings.image}:prod"
    assert [p["published"] for p in services["web"]["ports"]] == [str(settings.web_port)]
