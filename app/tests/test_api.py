"""Tests of the notes JSON API."""

import json
from datetime import datetime
from typing import Any

import pytest
from django.test import Client

# isort: split
from notes.models import Note

pytestmark = pytest.mark.django_db

URL = "/api/notes/"


def post_json(client: Client, body: Any, headers: dict[str, str] | None = None) -> Any:
    """POST ``body`` (JSON-encoded unless already a string) to the list endpoint."""
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", headers=headers or {})


def make_notes(n: int) -> list[Note]:
    """Create ``n`` notes, oldest first."""
    return [Note.objects.create(text=f"note {i}") for i in range(n)]


def test_list_empty(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"count": 0, "page": 1, "pages": 1, "results": []}


def test_list_newest_first_and_shape(client: Client) -> None:
    make_notes(3)
    data = client.get(URL).json()
    assert data["count"] == 3
    assert [n["text"] for n in data["results"]] == ["note 2", "note 1", "note 0"]
    note = data["results"][0]
    assert set(note) == {"id", "text", "created_at", "updated_at"}
    for key in ("created_at", "updated_at"):
        assert datetime.fromisoformat(note[key]).tzinfo is not None


def test_list_pagination(client: Client) -> None:
    make_notes(25)
    first = client.get(URL).json()
    assert (first["count"], first["page"], first["pages"]) == (25, 1, 2)
    assert len(first["results"]) == 20
    second = client.get(URL, {"page": 2}).json()
    assert second["page"] == 2 and len(second["results"]) == 5
    assert second["results"][-1]["text"] == "note 0"
    small = client.get(URL, {"page": 3, "page_size": 10}).json()
    assert (small["pages"], len(small["results"])) == (3, 5)


def test_page_size_capped_at_100(client: Client) -> None:
    make_notes(101)
    data = client.get(URL, {"page_size": 1000}).json()
    assert len(data["results"]) == 100 and data["pages"] == 2


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "0"},
        {"page": "-1"},
        {"page_size": "x"},
        {"page_size": "0"},
    ],
)
def test_list_invalid_params_400(client: Client, params: dict[str, str]) -> None:
    response = client.get(URL, params)
    assert response.status_code == 400
    assert "error" in response.json()


def test_list_page_past_end_404(client: Client) -> None:
    make_notes(2)
    response = client.get(URL, {"page": 2})
    assert response.status_code == 404
    assert "error" in response.json()


def test_detail(client: Client) -> None:
    note = Note.objects.create(text="hello")
    response = client.get(f"{URL}{note.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == note.pk
    assert response.json()["text"] == "hello"


def test_detail_missing_404(client: Client) -> None:
    response = client.get(f"{URL}999999/")
    assert response.status_code == 404
    assert "error" in response.json()


def test_create_with_token(client: Client, auth_headers: dict[str, str]) -> None:
    response = post_json(client, {"text": "created"}, auth_headers)
    assert response.status_code == 201
    body = response.json()
    assert body["text"] == "created"
    assert Note.objects.get(pk=body["id"]).text == "created"
    assert client.get(f"{URL}{body['id']}/").json() == body


def test_create_without_token_401(client: Client) -> None:
    response = post_json(client, {"text": "x"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "error" in response.json()
    assert Note.objects.count() == 0


@pytest.mark.parametrize("header", ["Bearer wrong", "Basic abc", "Bearer", "test-token-not-a-secret"])
def test_create_wrong_token_401(client: Client, header: str) -> None:
    response = post_json(client, {"text": "x"}, {"Authorization": header})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Note.objects.count() == 0


def test_create_refused_when_api_token_unset(client: Client, settings: Any) -> None:
    settings.API_TOKEN = ""
    response = post_json(client, {"text": "x"}, {"Authorization": "Bearer "})
    assert response.status_code == 401
    assert Note.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[1, 2]",
        '"text"',
        "{}",
        '{"text": ""}',
        '{"text": "   \\n\\t "}',
        '{"text": 5}',
        '{"text": null}',
        '{"text": ["a"]}',
    ],
)
def test_create_bad_body_400(client: Client, auth_headers: dict[str, str], body: str) -> None:
    response = post_json(client, body, auth_headers)
    assert response.status_code == 400
    assert "error" in response.json()
    assert Note.objects.count() == 0


def test_create_text_too_long_400(client: Client, auth_headers: dict[str, str]) -> None:
    response = post_json(client, {"text": "x" * 10_001}, auth_headers)
    assert response.status_code == 400


def test_create_wrong_content_type_415(client: Client, auth_headers: dict[str, str]) -> None:
    response = client.post(URL, data={"text": "x"}, headers=auth_headers)
    assert response.status_code == 415
    assert Note.objects.count() == 0


def test_other_methods_405(client: Client, auth_headers: dict[str, str]) -> None:
    note = Note.objects.create(text="x")
    assert client.put(URL, headers=auth_headers).status_code == 405
    assert client.delete(URL, headers=auth_headers).status_code == 405
    response = client.delete(f"{URL}{note.pk}/", headers=auth_headers)
    assert response.status_code == 405
    assert "GET" in response["Allow"]
    assert Note.objects.count() == 1


def test_emoji_round_trip(client: Client, auth_headers: dict[str, str]) -> None:
    text = "note 🐳🚀 ✓"
    response = post_json(client, {"text": text}, auth_headers)
    assert response.status_code == 201
    note_id = response.json()["id"]
    assert response.json()["text"] == text
    assert Note.objects.get(pk=note_id).text == text
    assert client.get(f"{URL}{note_id}/").json()["text"] == text
    assert client.get(URL).json()["results"][0]["text"] == text
    assert text.encode() in client.get(f"{URL}{note_id}/").content
