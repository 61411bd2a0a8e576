"""The prod image's 5xx tracebacks reach the container log whatever the settings' LOGGING does
(dockstage/data/pythonpath/dockstage_errorlog.py, called by gunicorn.conf.py in each worker)."""

from __future__ import annotations

import importlib.util
import logging
import sys
import uuid
from pathlib import Path
from types import ModuleType

import pytest

from dockstage.core import resources


def errorlog() -> ModuleType:
    path = resources.path(resources.SUPPORT) / "pythonpath" / "dockstage_errorlog.py"
    spec = importlib.util.spec_from_file_location("dockstage_errorlog", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def loggers() -> tuple[logging.Logger, logging.Logger]:
    """A parent (as Django's "django") and its child (as "django.request"), names of this test's own."""
    parent = logging.getLogger(f"dstest{uuid.uuid4().hex[:8]}")
    return parent, logging.getLogger(f"{parent.name}.request")


def test_errors_sent_to_a_file_alone_get_a_console_handler_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """mrityunjaygr8/django-uv-knox-test's production LOGGING: django.request to an error file in the
    container, propagate False; its /health/ 500 left web's log silent."""
    _parent, request = loggers()
    theirs = logging.FileHandler(tmp_path / "errors.log")
    request.addHandler(theirs)
    request.propagate = False
    request.setLevel(logging.ERROR)
    module = errorlog()
    assert not module.reaches_console(request)
    assert module.errors_to_console(request.name) is True
    assert module.errors_to_console(request.name) is False  # reaches it now: never twice
    request.error("Internal Server Error: /health/")
    assert f"ERROR {request.name}: Internal Server Error: /health/" in capsys.readouterr().err
    theirs.close()
    assert "Internal Server Error: /health/" in (tmp_path / "errors.log").read_text()  # theirs still gets it


def test_errors_a_console_handler_already_shows_get_none(capsys: pytest.CaptureFixture[str]) -> None:
    parent, request = loggers()
    parent.addHandler(logging.StreamHandler(sys.stderr))  # a project's "console" on "django"
    module = errorlog()
    assert module.reaches_console(request) and module.errors_to_console(request.name) is False
    request.propagate = False  # the console is above, out of reach
    assert not module.reaches_console(request)


def test_a_filtered_or_quieter_console_is_no_console() -> None:
    """Django's own "console" handler has require_debug_true: with DEBUG off it writes nothing."""
    parent, request = loggers()
    filtered = logging.StreamHandler(sys.stderr)
    filtered.addFilter(lambda record: False)
    quiet = logging.StreamHandler(sys.stdout)
    quiet.setLevel(logging.CRITICAL)
    parent.handlers[:] = [filtered, quiet]
    parent.propagate = False
    assert not errorlog().reaches_console(request)
