"""DOCKSTAGE_DEBUG's log lines go to stderr as it is when they are written (a test runner, nox or
invoke may have swapped and closed the stream the handler first saw)."""

from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import Iterator

import pytest

from dockstage.frontends.common import configure_logging


@pytest.fixture
def restored() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in ("dockstage", "python_on_whales")]
    before = [(lg.level, lg.propagate, list(lg.handlers)) for lg in loggers]
    yield
    for logger, (level, propagate, handlers) in zip(loggers, before, strict=True):
        logger.setLevel(level)
        logger.propagate = propagate
        logger.handlers[:] = handlers


@pytest.mark.usefixtures("restored")
def test_debug_lines_follow_stderr_after_the_first_stream_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    logging.getLogger("python_on_whales").handlers.clear()
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging(debug=True)
    first.close()  # as a captured stream is, once its test is over
    later = io.StringIO()
    monkeypatch.setattr(sys, "stderr", later)
    logging.getLogger("python_on_whales").debug("Running command: %s", "docker ps")
    # The milliseconds since the process started end the line: a slow step shows as a gap between two.
    assert re.fullmatch(r"debug python_on_whales: Running command: docker ps  \[\d+ ms\]\n", later.getvalue())


@pytest.mark.usefixtures("restored")
def test_without_debug_nothing_below_a_warning_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging(debug=False)
    logging.getLogger("dockstage").info("quiet")
    assert stream.getvalue() == ""
