"""pipeline.beside: a step in a thread while the body runs (the database beside the build)."""

from __future__ import annotations

import threading

import pytest

from dockstage.core.errors import ConfigError
from dockstage.core.report import Reporter
from dockstage.flows.pipeline import Summary, beside
from dockstage.flows.run import Run


def _run() -> Run:
    return Run(settings=None, reporter=Reporter(quiet=True), docker=None)  # type: ignore[arg-type]


def test_the_step_runs_while_the_body_does_and_gets_its_row() -> None:
    summary, both = Summary(), threading.Barrier(2, timeout=5)

    def step(branch: Run) -> str:
        both.wait()  # returns only once the body waits too: they run at the same time
        return "db started"

    with beside(_run(), "db beside the build", step, summary):
        both.wait()
        summary.add("build", "4 stages", 1.0)
    assert [(row[0], row[1]) for row in summary.rows] == [
        ("build", "4 stages"),
        ("db beside the build", "db started"),
    ]


def test_the_steps_error_is_raised_after_the_body() -> None:
    summary, body_done = Summary(), []

    def step(branch: Run) -> str:
        raise ConfigError("no db for you", "fix it")

    with pytest.raises(ConfigError, match="no db for you"), beside(_run(), "db", step, summary):
        body_done.append(True)
    assert body_done == [True]
    assert summary.rows[-1][:2] == ("db", "FAILED: no db for you")


def test_the_bodys_error_wins_and_the_step_is_waited_for() -> None:
    summary, ended = Summary(), threading.Event()

    def step(branch: Run) -> str:
        ended.wait(1)
        raise ConfigError("second", "")

    def build() -> None:
        with beside(_run(), "db", step, summary):
            ended.set()
            raise RuntimeError("build broke")

    with pytest.raises(RuntimeError, match="build broke"):
        build()
    assert summary.rows[-1][:2] == ("db", "FAILED: second")
