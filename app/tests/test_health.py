"""Tests of /healthz."""

from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import Client


@pytest.mark.django_db
def test_health_ok(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def _broken_cursor(*args: Any, **kwargs: Any) -> Any:
    raise OperationalError(2003, "Can't connect to MySQL server on 'db:3306' (111)")


@pytest.mark.django_db(transaction=True)
def test_health_db_down_503_then_recovers(client: Client) -> None:
    with mock.patch.object(connection, "cursor", _broken_cursor):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "unavailable"
    assert body["reason"].startswith("OperationalError")
    assert "password" not in body["reason"].lower()
    # DB "comes back": the next check reconnects and succeeds.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_health_exempt_from_ssl_redirect(client: Client, settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/notes/").status_code == 301


@pytest.mark.django_db
def test_health_no_trailing_slash_needed(client: Client) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz/").status_code == 404
