"""The suite's nox sessions, registered from the package: `dockstage.frontends.noxsessions.register()`.

A project's noxfile.py is two lines (see the README); every session is one call into the core.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import nox

from dockstage import STAGES
from dockstage.flows import pipeline as flows
from dockstage.flows.run import Run
from dockstage.frontends.common import NOX_COMMANDS, execute

T = TypeVar("T")


def bases_args(posargs: list[str]) -> tuple[str, bool]:
    """`nox -s bases -- [bookworm|trixie|all] [--force]` -> (flavour, force)."""
    return next((a for a in posargs if not a.startswith("-")), "bookworm"), "--force" in posargs


def quiet_and_rest(posargs: list[str]) -> tuple[bool, tuple[str, ...]]:
    """`--quiet` (the suite's) apart from the rest (pytest's, for test_image)."""
    return "--quiet" in posargs, tuple(a for a in posargs if a != "--quiet")


def run_action(session: nox.Session, root: Path, action: Callable[[Run], T]) -> T:
    """Run one core action for a session: its Run, its errors as one line and the README's exit code."""

    def fail(line: str, code: int) -> NoReturn:
        nox.logger.logger.error(f"Session {session.name} failed: {line}")
        raise SystemExit(code)

    quiet, _ = quiet_and_rest(list(session.posargs))
    return execute(root, NOX_COMMANDS, fail, action, quiet=quiet or None)


def _without_uv_lookup_note(record: logging.LogRecord) -> bool:
    """nox looks for uv before every session, even one with python=False (its venv backend list),
    and logs "uv binary not found." when there is none: no session here uses a venv, so it is noise."""
    return record.getMessage() != "uv binary not found."


def register(root: Path) -> None:
    """Register the Docker sessions (doctor, bases, build_*, test_image, smoke_prod, pipeline)."""
    if _without_uv_lookup_note not in nox.logger.logger.filters:
        nox.logger.logger.addFilter(_without_uv_lookup_note)

    def core(session: nox.Session, action: Callable[[Run], T]) -> T:
        return run_action(session, root, action)

    @nox.session(python=False)
    def doctor(session: nox.Session) -> None:
        """Check the engine, buildx, compose v2, disk and base images; one line each."""
        core(session, flows.doctor)

    @nox.session(python=False)
    def bases(session: nox.Session) -> None:
        """Build the stand-in base images (posargs: bookworm, trixie or all; --force)."""
        flavour, force = bases_args(list(session.posargs))
        core(session, lambda run: flows.build_bases(run, flavour, force))

    for stage in STAGES:
        _register_build(stage, core)

    @nox.session(python=False)
    def test_image(session: nox.Session) -> None:
        """Run the app's tests in the test image against MySQL (posargs go to pytest)."""
        _, args = quiet_and_rest(list(session.posargs))
        core(session, lambda run: flows.test_image(run, args))

    @nox.session(python=False)
    def smoke_prod(session: nox.Session) -> None:
        """Check the prod image, start db + web from it and check it over real HTTP."""
        core(session, flows.smoke_prod)

    @nox.session(python=False)
    def pipeline(session: nox.Session) -> None:
        """doctor, build all four stages, test_image, smoke_prod, then a summary."""
        core(session, flows.pipeline)


_BUILD_DOCS = {
    "dev": "Build the dev stage.",
    "test": "Build dev, then the test stage.",
    "stage": "Build dev, then the stage stage; run its check --deploy.",
    "prod": "Build dev, stage, then the prod stage; check the stage and prod images.",
}


def _register_build(stage: str, core: Callable[[nox.Session, Callable[[Run], object]], object]) -> None:
    def build(session: nox.Session) -> None:
        core(session, lambda run: flows.build(run, stage))

    build.__doc__ = _BUILD_DOCS[stage]
    nox.session(python=False, name=f"build_{stage}")(build)
