"""Shared fixtures for the app's tests."""

from typing import Any

import pytest

API_TOKEN = "test-token-not-a-secret"


@pytest.fixture(autouse=True)
def _test_settings(settings: Any) -> None:
    """Set a known API token; turn SSL redirect off (tests talk plain HTTP)."""
    settings.API_TOKEN = API_TOKEN
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def auth_headers() -> dict[str, str]:
    """Headers carrying the valid bearer token."""
    return {"Authorization": f"Bearer {API_TOKEN}"}
