"""Fixtures shared by the integration tests (beside tests/conftest.py's engine and images).

Defined here, once, so a session-scoped fixture is built once per session whichever modules use it
(a fixture imported into several test modules would be one fixture per module)."""

from tests.integration.wheelenv import wheel_env

__all__ = ["wheel_env"]  # the installed wheel's venv, outside the repository: tests/integration/wheelenv.py
