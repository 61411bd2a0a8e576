"""Shared fixtures: one engine probe per session, one isolated project per test run.

Tests are marked by the fixtures they use (as python-on-whales' conftest does): any test that
asks for the engine is `integration`; one that asks for built images is also `slow`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from python_on_whales import DockerClient, docker
from python_on_whales.exceptions import DockerException

from dockstage.core import config, engine, loopback
from dockstage.core.config import Settings
from dockstage.core.errors import DockstageError
from dockstage.flows.run import Run
from dockstage.images import stages
from dockstage.stack.compose import Stack

ROOT = Path(__file__).resolve().parent.parent
RUN_ID = uuid.uuid4().hex[:8]
# This run's own state dir in the checkout (reports, generated env files, release records): runs side
# by side (pytest-xdist's workers, a developer's `invoke up`) never read each other's.
STATE_DIR = f".dockstage/it-{RUN_ID}"
TEST_FLAVOUR = os.environ.get("DOCKSTAGE_TEST_FLAVOUR", "auto")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-engine",
        action="store_true",
        default=bool(os.environ.get("CI")),
        help="fail (instead of skip) integration tests when no Docker engine is usable (default on when CI is set)",
    )
    parser.addoption(
        "--engine-wide",
        choices=("all", "skip", "only", "host", "node"),
        default="all",
        help="the tests that switch the engine into swarm mode and out: run them too (all), leave them out "
        "(skip: for pytest-xdist's workers), or run only them (only: alone, after the rest); with an engine node "
        "(harness/enginenode.py), NODE_MODULES go with them: all but those (host), or only those (node)",
    )


ENGINE_FIXTURES = {"docker_client", "built_images"}
# adopted_site: tests/integration/test_adopt_details.py; wheel_env: tests/integration/wheelenv.py;
# fleet: tests/integration/test_standin_mysql.py (a dozen MariaDB servers, each initialising its data dir);
# swarm_mode and official_names (SWARM_FIXTURES): a swarm deploy of a project built from nothing (106 s
# on a fresh machine, which `-m "not slow"` ran, alone, for lack of images in its fixtures) and the pull
# through a hub mirror
SLOW_FIXTURES = {"built_images", "adopted_site", "wheel_env", "fleet", "swarm_mode", "official_names"}


GROUP_MARKS = {
    "test_adopt_": "adopt",
    "test_installed_wheel": "adopt",
    "test_swarm": "swarm",
    "test_zero_downtime": "swarm",
    "test_standin_": "standin",
}
"""Marks by module name (`nox -s tests -- -m adopt`): the groups a developer runs on their own."""


LONGEST_FIRST = (
    "test_frontends",
    "test_restore_safety",
    "test_standin_mysql",
    "test_adopt_build",
    "test_failures",
    "test_adopt_probe",
    "test_daily_tasks",
    "test_adopt_smoke_hosts",
    "test_adopt_details",
    "test_zero_downtime",
    "test_durability",
    "test_adopt_context",
    "test_dev_watch",
    "test_engine_lost",
    "test_swarm",
    "test_adopt_startproject",
    "test_first_minutes",
)
"""Integration modules, longest first as measured on a fresh machine (their seconds in the junit
report, e.g. test_frontends 237 s, test_first_minutes 35 s): handed to pytest-xdist's workers in this
order (`--no-loadscope-reorder`; its default sorts groups by their count of tests), so no worker
starts a long module while the others have nothing left (the longest-first order of scheduling).
The other integration modules follow in pytest's order, then LAST, then the unit tests."""

LAST = ("test_installed_wheel",)
"""Integration modules that change what the others build on, handed out after them: the installed
wheel's `bases -- --force` replaces the engine's stand-in images, so every build after it misses
the cache once (run early, it cost the later adoption builds their cached layers) and the stand-in
tags name new images (tests/integration/test_images.py reads the base from the stage's labels)."""


def module_of(item: pytest.Item) -> str:
    """The test's module name (its file name without .py)."""
    return item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")


def longest_first(item: pytest.Item) -> int:
    """Sort key: the integration module's place in LONGEST_FIRST, the other integration modules
    after them, then LAST, then the unit tests."""
    name = module_of(item)
    if "integration/" not in item.nodeid.split("::")[0]:
        return len(LONGEST_FIRST) + 2
    if name in LAST:
        return len(LONGEST_FIRST) + 1
    return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)


def group_marks(module_name: str) -> list[str]:
    """The GROUP_MARKS of a test module (its file name without .py)."""
    return sorted({mark for prefix, mark in GROUP_MARKS.items() if module_name.startswith(prefix)})


SWARM_FIXTURES = {"swarm_mode", "official_names"}
"""Tests that change the engine for every other test, so they run apart (`nox -s tests` runs them
alone after the rest, or with DOCKSTAGE_ENGINE_NODE=1 beside the rest on an engine of their own,
harness/enginenode.py): swarm_mode switches it into swarm mode and out (tests/integration/test_swarm.py; a
compose network's DNS answered "Unknown server host 'db'" in a stack of another pytest-xdist worker);
official_names gives it images under the official names (python:3.12-slim...), which turn every
other run's `auto` flavour official (tests/integration/test_official_path.py)."""


def xdist_group(item: pytest.Item, index: int = 0) -> str:
    """The pytest-xdist group of a test (`--dist loadgroup`): its module, so a module's stacks are
    made once, on one worker. A module of many quick tests on cheap fixtures says XDIST_SPLIT = n:
    its tests go round n groups (`index` is the test's place in the module), each making the
    module's fixtures once, so one module does not hold one worker while the others are done."""
    module = getattr(item, "module", None)
    if module is None:
        return item.nodeid.split("::")[0]
    split = int(getattr(module, "XDIST_SPLIT", 1))
    return f"{module.__name__}-{index % split}" if split > 1 else module.__name__


NODE_MODULES: tuple[str, ...] = ()
"""Modules that would also go to the engine node (DOCKSTAGE_ENGINE_NODE=1, `--engine-wide=node`),
before the engine-wide tests, which reuse the images they built; they need nothing of this engine's
but its bases (and the checkout and temp dir, which the node sees at their paths). None now: with
test_restore_safety there (20 passed), a fresh-machine CI's workers took 1209 s and the node 1300 s
after its start-up, 1706 s in all, against 1571 s with no node at all."""


def engine_wide(item: pytest.Item) -> bool:
    """Whether the test changes the engine for every other test (it asks for a SWARM_FIXTURES fixture)."""
    return bool(set(getattr(item, "fixturenames", ())) & SWARM_FIXTURES)


def kept_by(choice: str, item: pytest.Item) -> bool:
    """Whether --engine-wide=`choice` runs the test (all: every test)."""
    apart = engine_wide(item)
    if choice in ("host", "node"):
        apart = apart or module_of(item) in NODE_MODULES
    return choice == "all" or apart == (choice in ("only", "node"))


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by the fixtures it uses: the engine makes it integration, images make it slow;
    and by its pytest-xdist group. --engine-wide keeps or leaves out the swarm-mode tests."""
    seen: dict[str, int] = {}
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & ENGINE_FIXTURES:
            item.add_marker(pytest.mark.integration)
        if used & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
        for mark in group_marks(module_of(item)):
            item.add_marker(getattr(pytest.mark, mark))
        path = item.nodeid.split("::")[0]
        seen[path] = place = seen.get(path, -1) + 1
        item.add_marker(pytest.mark.xdist_group(xdist_group(item, place)))
    items.sort(key=longest_first)  # stable: a module's tests stay together and in order
    choice = config.getoption("--engine-wide")
    if choice == "node":  # the engine-wide tests last (NODE_MODULES)
        items.sort(key=engine_wide)
    if choice != "all":
        kept = [item for item in items if kept_by(choice, item)]
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


def pytest_collection_finish(session: pytest.Session) -> None:
    """On a pytest-xdist worker of `--dist loadgroup`: stop when the groups did not apply (pytest-xdist
    3.8 renames each test to `<id>@<group>`, which pytest 9.2 ignores: every test then ran alone, a
    module's fixtures were made on both workers, and its BuildKit steps raced)."""
    if getattr(session.config.option, "loadgroup", False) and any("@" not in i.nodeid for i in session.items):
        raise pytest.UsageError(
            f"pytest-xdist's --dist loadgroup did not group the tests under pytest {pytest.__version__}: "
            "install the pytest the test extra pins (pip install -e '.[test]')"
        )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    return loopback.free_port()


@pytest.fixture(scope="session")
def docker_client(request: pytest.FixtureRequest) -> DockerClient:
    """The engine, probed once; its absence skips (or fails, with --require-engine) the test."""
    probe_settings = config.load(ROOT, environ=dict(os.environ))
    failing = [c for c in engine.run_checks(docker, probe_settings, ("engine", "buildx", "compose")) if not c.passed]
    if failing:
        reason = f"no usable Docker engine: {failing[0].error}"
        if request.config.getoption("--require-engine"):
            pytest.fail(reason)
        pytest.skip(reason)
    return docker


@pytest.fixture(scope="session")
def suite_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of an isolated project: own image name, compose project, .env and web port.

    Passed as settings, they win over a developer's DOCKSTAGE_* in the shell, inside compose too
    (stack.compose.compose_view): nothing needs deleting from the environment."""
    env_dir = tmp_path_factory.mktemp("env")
    return config.load(
        ROOT,
        image=f"dockstage-it-{RUN_ID}/project-playground",
        project=f"dsit-{RUN_ID}",
        env_file=str(env_dir / ".env"),
        web_port=free_port(),
        flavour=TEST_FLAVOUR,
        state_dir=STATE_DIR,
        quiet=True,
    )


@pytest.fixture(scope="session", autouse=True)
def _own_state_dir() -> Iterator[None]:
    """The run's state dir goes with the run (a failed run's stays for a look until the next one)."""
    yield
    shutil.rmtree(ROOT / STATE_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def built_images(docker_client: DockerClient, suite_settings: Settings) -> Iterator[list[stages.Built]]:
    """All four stages built once for the run under the run's own image name; removed afterwards
    (also the stages a failed build did make)."""
    try:
        with Run.open(suite_settings) as run:
            built = run.build()
        yield built
    finally:
        for stage in stages.STAGES:
            with suppress(DockerException):
                docker_client.image.remove(suite_settings.tag(stage), force=True)


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for running `invoke`/`nox` as a user would, pointed at the run's project."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKSTAGE_")}
    env.update(
        DOCKSTAGE_IMAGE=settings.image,
        DOCKSTAGE_PROJECT=settings.project,
        DOCKSTAGE_ENV_FILE=str(settings.path(settings.env_file)),
        DOCKSTAGE_WEB_PORT=str(settings.web_port),
        DOCKSTAGE_FLAVOUR=settings.flavour,
        DOCKSTAGE_STATE_DIR=settings.state_dir,
        PYTHONUNBUFFERED="1",
        NO_COLOR="1",
    )
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run a front-end command (`invoke ...`, `nox ...`) from the project root, capturing output."""
    tool = {"invoke": [sys.executable, "-m", "invoke"], "nox": [sys.executable, "-m", "nox"]}[args[0]]
    return subprocess.run(
        [*tool, *args[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@contextmanager
def project_stack(settings: Settings, variant: str = "prod") -> Iterator[Stack]:
    """One compose project, owned: its containers, networks and volumes are removed afterwards. Its
    base images are made first, as a command would (a db-only stack needs the MariaDB stand-in,
    which no other test may have built yet on this engine)."""
    with Run.open(settings) as run:
        run.provided_bases()
        stack = run.stack(variant)
        try:
            yield stack
        finally:
            with suppress(DockerException, DockstageError):  # Stack.down translates docker's failures
                stack.down(volumes=True)
            stack.forget()
