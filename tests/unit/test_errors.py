"""The error family: one translation from docker's failures, fix hints per front-end, exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from python_on_whales.exceptions import DockerException

from dockstage.core import errors
from dockstage.frontends.common import INVOKE_COMMANDS, NOX_COMMANDS

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-Value-That-Must-Not-Leak-42"


def docker_failure(stderr: str, code: int = 1) -> DockerException:
    """A real python-on-whales DockerException, as a failed docker call raises it."""
    return DockerException(["docker", "compose", "up"], code, b"", stderr.encode())


@pytest.mark.parametrize(
    ("stderr", "kind", "needle"),
    [
        ("Error: Bind for 127.0.0.1:8000 failed: port is already allocated", errors.PortInUse, "already in use"),
        ("required variable API_TOKEN is missing a value: API_TOKEN is not set", errors.MissingSetting, "API_TOKEN"),
        ("Error response from daemon: No such image: project-playground:prod", errors.ImageMissing, "is missing"),
        (
            'container dsit-migrate-1 exited (1)\nservice "migrate" didn\'t complete successfully: exit 1',
            errors.ServiceFailed,
            "did not become healthy",
        ),
        (
            "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?",
            errors.NoEngine,
            "no Docker engine",
        ),
        ("something nobody foresaw", errors.StackError, "docker exit 1"),
    ],
    ids=["port", "missing-variable", "missing-image", "service-failed", "no-engine", "unknown"],
)
def test_docker_failures_translate_to_one_error(stderr: str, kind: type[errors.DockstageError], needle: str) -> None:
    error = errors.from_docker(docker_failure(f"{stderr}\nsecret was {SECRET}"), "starting the stack", port=8000)
    assert type(error) is kind
    assert needle in error.one_line()
    assert SECRET not in error.one_line()  # docker's output stays in the debug detail
    assert SECRET in error.detail and "docker compose up" in error.detail


def test_a_failed_service_is_named() -> None:
    error = errors.from_docker(docker_failure("container app-migrate-1 exited (1)"), "starting web")
    assert isinstance(error, errors.ServiceFailed)


@pytest.mark.parametrize(
    ("commands", "expected"),
    [(NOX_COMMANDS, "build it first (`nox -s build_prod`)"), (INVOKE_COMMANDS, "build it first (`invoke build`)")],
    ids=["nox", "invoke"],
)
def test_fix_hints_name_the_front_end_in_use(commands: dict[str, str], expected: str) -> None:
    assert expected in errors.ImageMissing("starting the stack").one_line(commands)


def test_every_fix_placeholder_is_known_to_both_front_ends() -> None:
    source = (ROOT / "dockstage" / "core" / "errors.py").read_text()
    placeholders = set(re.findall(r"`\{(\w+)\}`", source))
    assert placeholders  # the hints really use them
    assert placeholders <= set(NOX_COMMANDS) and placeholders <= set(INVOKE_COMMANDS)


def test_redact_replaces_every_secret() -> None:
    text = f"password {SECRET} and token abcdefgh12 and short x"
    assert errors.redact(text, [SECRET, "abcdefgh12", "x"]) == "password *** and token *** and short x"


def test_pull_failure_names_image_and_reason() -> None:
    error = errors.BasePullFailed("mysql:8.4", "dial tcp: lookup registry: no such host")
    assert error.one_line().startswith("engine: base image mysql:8.4 could not be pulled (dial tcp: lookup")
    assert error.return_code == 3


def test_exit_codes_match_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    table = dict(re.findall(r"^\| (\d) \| `(\w+)` \|", readme, flags=re.MULTILINE))
    assert table.pop("0") == "ok"
    assert {label: int(code) for code, label in table.items()} == errors.EXIT_CODES
    for kind in (errors.ConfigError, errors.EngineError, errors.BuildError, errors.StackError):
        assert kind("x", "y").return_code == errors.EXIT_CODES[kind.label]
