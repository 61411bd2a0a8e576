"""The engine node's plumbing: its commands and the gate's upstream follow the node's socket."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import enginenode
from tests.integration import enginegate


def test_a_command_runs_in_the_nodes_network_namespace_with_its_socket() -> None:
    node = enginenode.EngineNode("dockstage-engine-node-1", Path("/tmp/node-1"), 4242)
    assert node.host == "unix:///tmp/node-1/docker.sock"
    assert node.command(["pytest", "-x"]) == ["nsenter", "--target=4242", "--net", "--", "pytest", "-x"]


@pytest.mark.parametrize(
    ("docker_host", "socket"),
    [
        ("unix:///tmp/node-1/docker.sock", "/tmp/node-1/docker.sock"),
        ("", "/var/run/docker.sock"),
        ("tcp://127.0.0.1:2375", "/var/run/docker.sock"),
    ],
)
def test_the_engine_gate_forwards_to_docker_hosts_socket(
    monkeypatch: pytest.MonkeyPatch, docker_host: str, socket: str
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    assert enginegate.engine_socket() == socket


def test_main_without_a_command_says_how_to_call_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert enginenode.main(["--"]) == 2
    assert "usage: python -m harness.enginenode -- COMMAND" in capsys.readouterr().err


def test_the_node_is_opt_in_and_needs_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(enginenode.OPT_IN, raising=False)
    assert enginenode.why_not(workers=True) == (
        "DOCKSTAGE_ENGINE_NODE=1 runs them beside the others, on an engine node of their own"
    )
    monkeypatch.setenv(enginenode.OPT_IN, "1")
    assert enginenode.why_not(workers=False) == "the tests run serially (DOCKSTAGE_TEST_WORKERS=0)"
    assert enginenode.why_not(workers=True) == enginenode.unusable()  # root and nsenter, or why not
