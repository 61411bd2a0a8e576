"""Project-level tests: migrations, admin, settings parsing."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client

# isort: split
from project_playground.settings import env_bool

APP_DIR = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_no_missing_migrations() -> None:
    """Models and migrations agree."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_admin_login_page(client: Client, settings: Any) -> None:
    """The admin login page renders; /admin/ redirects anonymous users."""
    # The manifest storage needs collectstatic output; use plain storage here.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_env_bool(monkeypatch: pytest.MonkeyPatch) -> None:
    """DJANGO_DEBUG-style booleans accept 1/true/yes/on and 0/false/no/off."""
    for value in ("1", "true", "YES", " on "):
        monkeypatch.setenv("X_BOOL", value)
        assert env_bool("X_BOOL", False) is True
    for value in ("0", "false", "No", "off", ""):
        monkeypatch.setenv("X_BOOL", value)
        assert env_bool("X_BOOL", True) is False
    monkeypatch.delenv("X_BOOL")
    assert env_bool("X_BOOL", True) is True
    monkeypatch.setenv("X_BOOL", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("X_BOOL", False)


def test_prod_refuses_to_start_without_secret_key() -> None:
    """With DEBUG off and no DJANGO_SECRET_KEY, manage.py fails with the clear message."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "DJANGO_DEBUG")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=APP_DIR,
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
