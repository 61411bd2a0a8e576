"""Every failure a user can cause ends in one clear line, a non-zero exit and no traceback.

Each test runs the real front-end (`invoke ...` / `nox -s ...`) against the run's isolated
project (its own compose project, image name, .env and port) and, where relevant, checks that
nothing was lost. The line each one shows is printed as `RELIABILITY-LINE:` (see docs/RELIABILITY.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage.core import errors
from dockstage.core.config import Settings
from dockstage.core.errors import CheckFailed
from dockstage.core.report import Reporter
from dockstage.flows import pipeline
from dockstage.flows.run import Run
from dockstage.images import bases, stages
from dockstage.stack import envfile
from tests.conftest import ROOT, cli_env, free_port, project_stack, run_cli

pytestmark = pytest.mark.integration

NO_ENGINE = "unix:///nonexistent.sock"


def one_line(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The command failed, printed no traceback, and one line holds every needle (returned)."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"expected a failure, got exit 0:\n{output}"
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if all(n.lower() in line.lower() for n in needles)]
    assert lines, f"no line mentions {needles}:\n{output}"
    print(f"RELIABILITY-LINE: {lines[0].strip()}")
    return lines[0]


@pytest.fixture
def scoped(suite_settings: Settings) -> Iterator[Settings]:
    """A project of its own for one test; whatever compose made for it is removed afterwards."""
    settings = suite_settings.with_(project=f"{suite_settings.project}-f{free_port()}", web_port=free_port())
    try:
        yield settings
    finally:
        if settings.path(settings.env_file).exists():
            with project_stack(settings):
                pass  # brings down whatever compose made for the project


# 1. no engine -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [["nox", "-s", "doctor"], ["nox", "-s", "build_prod"], ["invoke", "up"]],
    ids=["nox-doctor", "nox-build_prod", "invoke-up"],
)
def test_no_engine_one_line(suite_settings: Settings, args: list[str]) -> None:
    started = time.monotonic()
    result = run_cli(args, cli_env(suite_settings, DOCKER_HOST=NO_ENGINE), timeout=30)
    assert time.monotonic() - started < 30
    one_line(
        result,
        f"no Docker engine answers at {NO_ENGINE}",
        f"DOCKER_HOST is {NO_ENGINE}: point it at a running engine or unset it",
    )


def test_official_bases_pull_failure_one_line(suite_settings: Settings, docker_client: DockerClient) -> None:
    """DOCKSTAGE_FLAVOUR=official with no official image present and no registry reachable:
    doctor tries the pull and names the image and the registry's reason."""
    missing = bases.missing(bases.OFFICIAL, docker_client)
    if not missing:
        pytest.skip("the official images are present on this engine")
    try:
        docker_client.image.pull(missing[0], quiet=True)
        pytest.skip("a registry is reachable from this engine")
    except DockerException as exc:
        reason = bases.pull_reason(exc)
    env = cli_env(suite_settings, DOCKSTAGE_FLAVOUR="official")
    result = run_cli(["nox", "-s", "doctor"], env, timeout=120)
    line = one_line(result, f"base image {missing[0]} could not be pulled", reason[:60], "DOCKSTAGE_FLAVOUR=bookworm")
    assert result.returncode == errors.EXIT_CODES["engine"], line
    assert f"pulling {missing[0]}" in result.stdout  # the pull was really tried, with progress


# 2. no buildx / no compose v2 -------------------------------------------------------------------
def shadowing_config(tmp_path: Path, plugin: str) -> Path:
    """A DOCKER_CONFIG whose cli-plugins/ holds an invalid plugin that shadows the real one."""
    config = tmp_path / "docker-config"
    (config / "cli-plugins").mkdir(parents=True)
    fake = config / "cli-plugins" / f"docker-{plugin}"
    fake.write_text("#!/bin/sh\necho not-a-plugin\n", encoding="utf-8")
    fake.chmod(0o755)
    return config


@pytest.mark.parametrize(
    ("plugin", "args", "needles"),
    [
        ("buildx", ["nox", "-s", "doctor"], ("buildx is missing or unusable", "install the docker-buildx plugin")),
        ("buildx", ["invoke", "build"], ("buildx is missing or unusable", "install the docker-buildx plugin")),
        ("compose", ["invoke", "up"], ("compose v2 is missing", "install the docker-compose v2 plugin")),
    ],
    ids=["no-buildx-nox-doctor", "no-buildx-invoke-build", "no-compose-invoke-up"],
)
def test_missing_plugin_one_line(
    docker_client: DockerClient,
    built_images: list[stages.Built],
    scoped: Settings,
    tmp_path: Path,
    plugin: str,
    args: list[str],
    needles: tuple[str, ...],
) -> None:
    config = shadowing_config(tmp_path, plugin)
    broken = DockerClient(config=config)
    with pytest.raises(DockerException):  # the simulation really hides the plugin
        broken.buildx.version() if plugin == "buildx" else broken.compose.version()
    result = run_cli(args, cli_env(scoped, DOCKER_CONFIG=str(config)), timeout=300)
    one_line(result, *needles)


# 3. web port taken ------------------------------------------------------------------------------
def test_port_taken_one_line(docker_client: DockerClient, built_images: list[stages.Built], scoped: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", scoped.web_port))
        taken.listen(1)
        result = run_cli(["invoke", "up"], cli_env(scoped), timeout=300)
    one_line(result, f"port {scoped.web_port}", "already in use", "DOCKSTAGE_WEB_PORT")
    with project_stack(scoped) as stack:
        assert not stack.compose.ps(all=True)  # nothing was started


# 4. malformed .env ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("replacement", "needles"),
    [
        ("DOCKSTAGE_WEB_PORT=abc", ("DOCKSTAGE_WEB_PORT", "'abc'", "not a number", "whole number")),
        ("THIS LINE HAS NO EQUALS SIGN", ("is not KEY=VALUE", "fix or remove that line")),
    ],
    ids=["port-abc", "line-without-equals"],
)
@pytest.mark.parametrize("args", [["invoke", "up"], ["nox", "-s", "build_prod"]], ids=["invoke-up", "nox-build_prod"])
def test_malformed_env_one_line(
    suite_settings: Settings, tmp_path: Path, replacement: str, needles: tuple[str, ...], args: list[str]
) -> None:
    envfile.ensure(suite_settings, Reporter(quiet=True))
    original = suite_settings.path(suite_settings.env_file)
    text = original.read_text(encoding="utf-8")
    lines = [replacement if line.startswith("DOCKSTAGE_WEB_PORT=") else line for line in text.splitlines()]
    if not any(line == replacement for line in lines):
        lines.append(replacement)
    copy = tmp_path / ".env"
    copy.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = cli_env(suite_settings, DOCKSTAGE_ENV_FILE=str(copy))
    del env["DOCKSTAGE_WEB_PORT"]  # the value under test is the one in the file
    one_line(run_cli(args, env, timeout=60), *needles)
    assert original.read_text(encoding="utf-8") == text  # the real .env is untouched


@pytest.mark.parametrize(
    ("broken", "needles"),
    [
        (lambda token: f'API_TOKEN="{token}'.encode(), ("line", "(API_TOKEN)", "quote that is never closed")),
        (lambda token: f"API_TOKEN={token}".encode() + b"\xe9", ("line", "(API_TOKEN)", "not UTF-8")),
    ],
    ids=["unterminated-quote", "not-utf8"],
)
@pytest.mark.parametrize("args", [["invoke", "ps"], ["nox", "-s", "build_prod"]], ids=["invoke-ps", "nox-build_prod"])
def test_unreadable_env_names_line_and_key_never_the_token(
    suite_settings: Settings, tmp_path: Path, broken: Callable[[str], bytes], needles: tuple[str, ...], args: list[str]
) -> None:
    """Compose would print the whole token in a traceback; the suite's parser names line and key."""
    envfile.ensure(suite_settings, Reporter(quiet=True))
    original = suite_settings.path(suite_settings.env_file)
    text = original.read_text(encoding="utf-8")
    token = next(line for line in text.splitlines() if line.startswith("API_TOKEN=")).partition("=")[2]
    assert len(token) > 10  # the generated one: what must never be printed
    lines = [broken(token) if line.startswith("API_TOKEN=") else line.encode() for line in text.splitlines()]
    copy = tmp_path / ".env"
    copy.write_bytes(b"\n".join(lines) + b"\n")
    result = run_cli(args, cli_env(suite_settings, DOCKSTAGE_ENV_FILE=str(copy)), timeout=60)
    one_line(result, *needles)
    assert result.returncode == errors.EXIT_CODES["config"]
    assert token not in result.stdout + result.stderr


# 5. unknown stage -------------------------------------------------------------------------------
def test_unknown_stage_invoke_one_line(suite_settings: Settings) -> None:
    result = run_cli(["invoke", "build", "--stage", "nope"], cli_env(suite_settings), timeout=60)
    one_line(result, "unknown stage 'nope'", ", ".join(stages.STAGES))


def test_unknown_stage_nox_one_line(suite_settings: Settings) -> None:
    """nox has one session per stage; an unknown one is nox's own one-line refusal."""
    result = run_cli(["nox", "-s", "build_nope"], cli_env(suite_settings), timeout=60)
    one_line(result, "build_nope")


# 6. missing secret key in prod ------------------------------------------------------------------
def test_prod_without_secret_key_refuses(
    docker_client: DockerClient,
    built_images: list[stages.Built],
    suite_settings: Settings,
    capfd: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(DockerException) as failed:
        docker_client.run(
            suite_settings.tag("prod"),
            envs={"DJANGO_ALLOWED_HOSTS": "localhost", "GUNICORN_WORKERS": "1"},
            remove=True,
        )
    captured = capfd.readouterr()  # the container's stderr goes straight to this process's
    output = f"{failed.value.stdout or ''}\n{failed.value.stderr or ''}\n{captured.out}\n{captured.err}"
    assert failed.value.return_code != 0
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if "DJANGO_SECRET_KEY is not set" in line]
    assert len(lines) == 1, output
    print(f"RELIABILITY-LINE: {lines[0].strip()} (exit {failed.value.return_code})")


# 8. a failing app test --------------------------------------------------------------------------
FAILING_TEST = '''"""Added by dockstage's reliability suite to a temporary copy: it must fail."""


def test_reliability_deliberate_failure():
    assert 1 + 1 == 3, "deliberate failure"
'''


def test_failing_app_test_fails_the_run(
    docker_client: DockerClient, built_images: list[stages.Built], suite_settings: Settings, tmp_path: Path
) -> None:
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT / "app", copy / "app", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "staticfiles"))
    for name in (".dockerignore", "pyproject.toml", ".env.example"):
        shutil.copy2(ROOT / name, copy / name)
    (copy / "app" / "tests" / "test_reliability_deliberate.py").write_text(FAILING_TEST, encoding="utf-8")
    settings = suite_settings.with_(
        root=copy, image=f"{suite_settings.image}-failing", project=f"{suite_settings.project}-failing"
    )
    try:
        with pytest.raises(CheckFailed) as failed, Run.open(settings) as run:
            pipeline.test_image(run, ("-p", "no:randomly"))
        junit = copy / settings.state_dir / "reports" / "junit-app.xml"
        assert "pytest exited 1" in failed.value.one_line()
        assert "test_reliability_deliberate_failure" in junit.read_text(encoding="utf-8")
        assert pipeline.junit_counts(junit)["failures"] == 1
        print(f"RELIABILITY-LINE: {failed.value.one_line()}")
    finally:
        for stage in ("dev", "test"):
            with contextlib.suppress(DockerException):
                docker_client.image.remove(settings.tag(stage), force=True)


def test_a_db_that_never_starts_stops_the_pipeline_and_its_waiting_tests(
    built_images: list[stages.Built], scoped: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The pipeline starts the app's tests while db initialises (their connections wait for it): a
    db that exits instead is the one error said, and the tests waiting on it are stopped, not left
    to wait out their DOCKSTAGE_DB_WAIT."""
    override = tmp_path / "db-broken.yaml"
    override.write_text('services:\n  db:\n    command: ["--no-such-option-dockstage"]\n', encoding="utf-8")
    settings = scoped.with_(app=dataclasses.replace(scoped.app, compose_files=(str(override),)), quiet=False)
    with pytest.raises(errors.ServiceFailed) as failed, Run.open(settings) as run:
        pipeline.pipeline(run)
    line = failed.value.one_line()
    shown = capsys.readouterr().out
    assert line.startswith("stack: starting db: "), line
    assert "no-such-option-dockstage" in shown  # db's log, with the option it refused
    assert "stopped: db did not become healthy" in shown  # the tests' row: not a failure of their own
    print(f"RELIABILITY-LINE: {line}")


# The README's exit-code table, honoured by both front-ends ------------------------------------
def _bad_port_env(settings: Settings, directory: Path) -> dict[str, str]:
    env_file = directory / ".env"
    env_file.write_text("DOCKSTAGE_WEB_PORT=abc\n", encoding="utf-8")
    env = cli_env(settings, DOCKSTAGE_ENV_FILE=str(env_file))
    del env["DOCKSTAGE_WEB_PORT"]
    return env


@pytest.mark.parametrize(
    ("failure", "nox_args", "invoke_args", "label"),
    [
        ("no-engine", ["nox", "-s", "doctor"], ["invoke", "doctor"], "engine"),
        ("no-engine", ["nox", "-s", "build_prod"], ["invoke", "build", "--stage", "prod"], "engine"),
        ("bad-env", ["nox", "-s", "build_prod"], ["invoke", "build", "--stage", "prod"], "config"),
        ("bad-env", ["nox", "-s", "smoke_prod"], ["invoke", "smoke"], "config"),
    ],
    ids=["no-engine-doctor", "no-engine-build", "bad-env-build", "bad-env-smoke"],
)
def test_both_front_ends_exit_with_the_readmes_code(
    suite_settings: Settings, tmp_path: Path, failure: str, nox_args: list[str], invoke_args: list[str], label: str
) -> None:
    env = (
        cli_env(suite_settings, DOCKER_HOST=NO_ENGINE)
        if failure == "no-engine"
        else _bad_port_env(suite_settings, tmp_path)
    )
    lines = []
    for args in (nox_args, invoke_args):
        result = run_cli(args, env, timeout=120)
        assert result.returncode == errors.EXIT_CODES[label], (args, result.stdout[-800:], result.stderr[-800:])
        lines.append(one_line(result, f"{label}: "))
    print(f"RELIABILITY-LINE: exit {errors.EXIT_CODES[label]} under both: {lines[1]}")
