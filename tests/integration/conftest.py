"""Fixtures shared by the integration tests (beside tests/conftest.py's engine and images).

Defined here, once, so a session-scoped fixture is built once per session whichever modules use it
(a fixture imported into several test modules would be one fixture per module)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.wheelenv import wheel_env

__all__ = ["gate_dir", "wheel_env"]  # wheel_env: the installed wheel's venv, outside the repository (wheelenv.py)


@pytest.fixture
def gate_dir() -> Iterator[Path]:
    """A short directory for an EngineGate's socket (a unix socket path has at most 107 bytes)."""
    directory = Path(tempfile.mkdtemp(prefix="dsgate-", dir="/tmp"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)
