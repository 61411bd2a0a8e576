"""Tests of the home page at /."""

import re
from typing import Any

import pytest
from django.test import Client

# isort: split
from notes.models import Note

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_static_storage(settings: Any) -> None:
    """The manifest storage needs collectstatic output (made in the stage image only)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def listed(html: str) -> list[str]:
    """The note texts on the page, in page order."""
    return re.findall(r"<li>\s*<p>(.*?)</p>", html, flags=re.DOTALL)


def test_home_lists_the_ten_newest_notes_newest_first(client: Client) -> None:
    for i in range(12):
        Note.objects.create(text=f"note {i}")
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert listed(html) == [f"note {i}" for i in range(11, 1, -1)]
    assert "The 10 newest of 12." in html


def test_home_escapes_note_text(client: Client) -> None:
    Note.objects.create(text='<script>alert("x")</script> & <b>bold</b>\nsecond line')
    html = client.get("/").content.decode()
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;<br>second line" in html


def test_home_links_to_admin_api_and_health(client: Client) -> None:
    html = client.get("/").content.decode()
    for href in ("/admin/", "/api/notes/", "/healthz"):
        assert f'href="{href}"' in html, href
    assert 'href="/static/playground/site.css"' in html
    assert "<script" not in html


def test_home_empty_says_how_to_add_a_note(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "No notes yet." in response.content.decode()
    assert listed(response.content.decode()) == []


def test_home_emoji_and_head(client: Client) -> None:
    Note.objects.create(text="note 🐳🚀 ✓")
    assert "note 🐳🚀 ✓".encode() in client.get("/").content
    assert client.head("/").status_code == 200


def test_home_is_read_only(client: Client) -> None:
    assert client.post("/").status_code == 405
    assert client.delete("/").status_code == 405
    assert Note.objects.count() == 0


def test_home_redirects_to_https_under_prod_settings(client: Client, settings: Any) -> None:
    """Like every page but /healthz, it follows SECURE_SSL_REDIRECT; behind TLS it answers."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/").status_code == 301
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
