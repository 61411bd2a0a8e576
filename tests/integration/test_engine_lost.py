"""The engine going away mid-command, or a container removed under it: one line, the README's
exit code, no traceback, for every nox session and invoke task that touches the engine.

The shared engine is never stopped: each command runs as a user types it, from a checkout-like
project, with DOCKER_HOST on an EngineGate (tests/integration/enginegate.py) that forwards to the
real engine and is cut at a chosen request. A container is removed for real, by this test, at the
moment the command asks the engine about it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from python_on_whales import DockerClient

from dockstage.core import errors
from dockstage.core.config import Settings
from dockstage.flows.run import Run
from dockstage.flows.stackops import ps_rows
from dockstage.stack.compose import failing_services, service_of, still_there
from tests.conftest import ROOT, cli_env, free_port, project_stack
from tests.integration.enginegate import EngineGate, after_preflight

pytestmark = pytest.mark.integration
XDIST_SPLIT = 2  # 45 quick tests on a copied checkout and one db: two workers share them (tests/conftest.py)

NOXFILE = '''"""The nox sessions of dockstage, as an adopted project has them."""

from pathlib import Path

from dockstage.frontends import noxsessions

noxsessions.register(Path(__file__).parent)
'''
DUMP = "-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB\nCREATE TABLE t (id int);\n-- Dump completed on 2026-12-04\n"


def at_start(method: str, path: str) -> bool:
    """Cut at once: the engine is not there for this command at all."""
    return True


def at(*paths: str) -> Callable[[str, str], bool]:
    """Cut at the first request for one of `paths` (after the API version)."""
    return lambda method, path: any(path.startswith(p) for p in paths)


# Every command that can touch the engine, as typed, and where the engine goes away: right after
# the preflight passed. The registry and release tasks run no preflight: theirs goes at their first
# call after the API version ping. The deploy tasks ask the engine for its swarm state first (this
# engine is no swarm manager, and the test makes none), so theirs goes at once.
NOX = [
    "doctor",
    "bases",
    "build_dev",
    "build_test",
    "build_stage",
    "build_prod",
    "test_image",
    "smoke_prod",
    "pipeline",
]
INVOKE: list[tuple[list[str], Callable[[str, str], bool]]] = [
    (["dev", "--detach"], after_preflight),
    (["watch"], after_preflight),
    (["up"], after_preflight),
    (["down"], after_preflight),
    (["ps"], after_preflight),
    (["logs"], after_preflight),
    (["build"], after_preflight),
    (["test"], after_preflight),
    (["smoke"], after_preflight),
    (["shell"], after_preflight),
    (["manage", "--", "showmigrations"], after_preflight),
    (["migrate"], after_preflight),
    (["makemigrations"], after_preflight),
    (["db-shell"], after_preflight),
    (["db-dump"], after_preflight),
    (["db-restore", "{dump}"], after_preflight),
    (["clean"], after_preflight),
    (["doctor"], after_preflight),
    (["bases"], after_preflight),
    (["registry"], after_preflight),  # no preflight
    (["registry", "--stop"], after_preflight),  # no preflight
    (["release", "--version", "v2"], after_preflight),  # no preflight
    (["sbom"], after_preflight),
    (["deploy"], at_start),
    (["rollback"], at_start),
    (["stack-ps"], at_start),
    (["stack-logs"], at_start),
    (["undeploy"], at_start),
]
# Later cuts, on the paths that escaped as tracebacks: compose ps (ps, Stack.url), compose down,
# compose logs, the image prune, a dump looking for its db container.
LATER: list[tuple[list[str], Callable[[str, str], bool]]] = [
    (["ps"], at("/containers/json")),
    (["down"], at("/containers/json")),
    (["logs", "--service", "db"], at("/containers/json")),
    (["clean"], at("/images/json")),
    (["db-dump"], at("/containers/json")),
]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory, suite_settings: Settings) -> Settings:
    """A project like a user's checkout (its own noxfile and tasks.py), with a recorded release
    (so deploy and rollback reach the engine) and a dump file for db-restore."""
    root = tmp_path_factory.mktemp("checkout")
    for name in ("app", "compose", "docker"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "staticfiles"))
    for name in ("pyproject.toml", "tasks.py", ".env.example", ".dockerignore"):
        shutil.copy2(ROOT / name, root / name)
    (root / "noxfile.py").write_text(NOXFILE, encoding="utf-8")
    settings = suite_settings.with_(  # its own image name: a copy without .git builds other labels
        root=root,
        image=f"{suite_settings.image}-gone",
        project=f"{suite_settings.project}-gone{free_port()}",
        web_port=free_port(),
        flavour="bookworm",
    )
    release = {
        "version": "v1", "image": settings.image, "ref": f"127.0.0.1:5999/{settings.image}:v1",
        "digest": "sha256:" + "0" * 64, "source": settings.tag("prod"), "source_id": "sha256:" + "1" * 64,
        "commit": "", "dirty": False, "created": "2026-12-04T00:00:00Z",
        "images": {role: f"{settings.image}:v1@sha256:{'0' * 64}" for role in ("web", "mysql", "proxy")},
    }  # fmt: skip
    state = root / settings.state_dir
    state.mkdir(parents=True)
    (state / "releases.json").write_text(json.dumps({"releases": [release]}), encoding="utf-8")
    (root / "backup.sql").write_text(DUMP, encoding="utf-8")
    return settings


def run(front_end: str, args: list[str], settings: Settings, gate: EngineGate) -> subprocess.CompletedProcess[str]:
    """`nox -s X` / `invoke X` as a user runs it in the checkout, its engine behind the gate."""
    args = [arg.replace("{dump}", str(settings.root / "backup.sql")) for arg in args]
    command = (
        [sys.executable, "-m", "nox", "-s", *args] if front_end == "nox" else [sys.executable, "-m", "invoke", *args]
    )
    env = cli_env(settings, DOCKER_HOST=gate.host, DOCKSTAGE_FLAVOUR="bookworm")
    env.pop("DOCKER_CONTEXT", None)
    return subprocess.run(command, cwd=settings.root, env=env, capture_output=True, text=True, timeout=300, check=False)


def one_line(result: subprocess.CompletedProcess[str], label: str, *needles: str) -> str:
    """Exit code of `label`, no traceback, and exactly one line saying it (with every needle)."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-3000:]
    assert result.returncode == errors.EXIT_CODES[label], (result.returncode, output[-3000:])
    lines = [line for line in output.splitlines() if f"{label}: " in line]
    assert len(lines) == 1, output[-3000:]
    assert all(needle in lines[0] for needle in needles), lines[0]
    print(f"RELIABILITY-LINE: exit {result.returncode}: {lines[0].strip()}")
    return lines[0]


def assert_engine_lost(result: subprocess.CompletedProcess[str], gate: EngineGate, mid_way: bool) -> None:
    assert gate.cut_at is not None, f"the command never reached the engine: {result.stdout + result.stderr}"
    if mid_way:  # the preflight went through: the engine was there when the command started
        assert ("GET", "/version") in gate.requests[: gate.requests.index(gate.cut_at)], gate.requests
    line = one_line(result, "engine")
    # The socket gone: no engine at DOCKER_HOST; a request cut short: the engine stopped answering.
    assert (
        f"no Docker engine answers at {gate.host}: DOCKER_HOST is {gate.host}: point it at a running engine" in line
        or "the Docker engine stopped answering while" in line
    ), line


@pytest.mark.parametrize("session", NOX)
def test_nox_session_with_the_engine_gone_mid_way(checkout: Settings, gate_dir: Path, session: str) -> None:
    with EngineGate(gate_dir / "d.sock") as gate:
        result = run("nox", [session], checkout, gate)
    assert_engine_lost(result, gate, mid_way=True)


@pytest.mark.parametrize(("args", "cut"), INVOKE, ids=[" ".join(a) for a, _ in INVOKE])
def test_invoke_task_with_the_engine_gone(
    checkout: Settings, gate_dir: Path, args: list[str], cut: Callable[[str, str], bool]
) -> None:
    with EngineGate(gate_dir / "d.sock", cut) as gate:
        result = run("invoke", args, checkout, gate)
    assert_engine_lost(result, gate, mid_way=cut is after_preflight and args[0] not in ("registry", "release"))


@pytest.mark.parametrize(("args", "cut"), LATER, ids=[" ".join(a) for a, _ in LATER])
def test_invoke_task_with_the_engine_gone_later(
    checkout: Settings, gate_dir: Path, args: list[str], cut: Callable[[str, str], bool]
) -> None:
    with EngineGate(gate_dir / "d.sock", cut) as gate:
        result = run("invoke", args, checkout, gate)
    assert_engine_lost(result, gate, mid_way=True)


# A container removed under a command ----------------------------------------------------------
@pytest.fixture(scope="module")
def running_db(docker_client: DockerClient, checkout: Settings) -> Iterator[Settings]:
    """The checkout's db service, started for real (the stand-in MariaDB; no app image needed)."""
    settings = checkout.with_(project=f"{checkout.project}-db")
    with project_stack(settings) as stack:
        stack.up(["db"], action="starting db")
        yield settings


def removing_db(docker_client: DockerClient, settings: Settings, paths: tuple[str, ...]) -> Callable[[str, str], None]:
    """A gate hook that removes the project's db container when the command first asks for one of `paths`."""

    def before(method: str, path: str) -> None:
        if path.startswith("/containers/") and path.endswith(paths):
            for container in docker_client.container.list(
                all=True, filters=[("label", f"com.docker.compose.project={settings.project}")]
            ):
                docker_client.container.remove(container, force=True)

    return before


@pytest.mark.parametrize(
    ("args", "paths", "label", "needles"),
    [
        (["db-dump"], ("/exec",), "stack", ("dumping the database: a container it needs was removed meanwhile",)),
        (["db-shell"], ("/exec",), "database", ("the database shell exited",)),
    ],
    ids=["db-dump", "db-shell"],
)
def test_a_container_removed_under_a_command(
    docker_client: DockerClient,
    running_db: Settings,
    gate_dir: Path,
    args: list[str],
    paths: tuple[str, ...],
    label: str,
    needles: tuple[str, ...],
) -> None:
    with Run.open(running_db) as started:
        started.stack().up(["db"], action="starting db")  # again: the previous case removed it
    hook = removing_db(docker_client, running_db, paths)
    with EngineGate(gate_dir / "d.sock", lambda method, path: False, hook) as gate:
        result = run("invoke", args, running_db, gate)
    one_line(result, label, *needles)


def test_the_debug_output_keeps_the_detail_and_masks_secrets(checkout: Settings, gate_dir: Path) -> None:
    """DOCKSTAGE_DEBUG=1 shows what docker said behind the one line, with no .env secret in it."""
    with EngineGate(gate_dir / "d.sock", at("/containers/json")) as gate:
        args = [sys.executable, "-m", "invoke", "ps"]
        env = cli_env(checkout, DOCKER_HOST=gate.host, DOCKSTAGE_FLAVOUR="bookworm", DOCKSTAGE_DEBUG="1")
        result = subprocess.run(
            args, cwd=checkout.root, env=env, capture_output=True, text=True, timeout=120, check=False
        )
    assert result.returncode == errors.EXIT_CODES["engine"] and "Traceback" not in result.stderr
    assert "Cannot connect to the Docker daemon" in result.stderr  # docker's own words, in the detail
    with Run.open(checkout) as probe:
        probe.ensure_env()
        secrets = probe.secrets()
    assert secrets and not any(secret in result.stdout + result.stderr for secret in secrets)


def test_no_gate_socket_is_left(gate_dir: Path) -> None:
    with EngineGate(gate_dir / "d.sock") as gate:
        assert gate.path.exists()
    assert not gate.path.exists()
    assert os.listdir(gate_dir) == []


def test_a_container_removed_between_compose_ps_and_the_look_is_left_out(
    docker_client: DockerClient, running_db: Settings
) -> None:
    """diary-workout-tracker's pipeline: its smoke branch failed (migrate) as the tests' one-off ended
    and was removed; naming the failing services read every container compose had listed and met
    NoSuchContainer ("a container it needs was removed meanwhile") instead of migrate's error."""
    with Run.open(running_db) as started:
        stack = started.stack()
        stack.up(["db"], action="starting db")  # again: a case before may have removed it
        db = stack.compose.ps(services=["db"])[0]
        one_off = docker_client.container.create(db.config.image, ["true"], labels={"dockstage.test": "one-off"})
        docker_client.container.remove(one_off, force=True, volumes=True)  # the db image declares a VOLUME
        assert still_there([one_off, db], service_of) == ["db"]
        assert failing_services(stack, ["migrate"]) == ["migrate"]  # nothing failed: the services asked
        assert ps_rows(stack)[0][:2] == (db.name, "running")
