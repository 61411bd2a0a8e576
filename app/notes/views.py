"""JSON API views for notes (plain Django, no DRF)."""

import hmac
import json
import math
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from notes.models import Note

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Characters; 4 bytes each in utf8mb4 stays well inside MySQL TEXT (64 KiB).
MAX_TEXT_LENGTH = 10_000


def json_response(data: dict[str, Any], status: int = 200) -> JsonResponse:
    """Return a UTF-8 JSON response (non-ASCII characters kept as-is)."""
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def json_error(message: str, status: int) -> JsonResponse:
    """Return ``{"error": message}`` with the given status."""
    return json_response({"error": message}, status=status)


def method_not_allowed(allowed: list[str]) -> JsonResponse:
    """Return a 405 JSON response with an Allow header."""
    response = json_error("method not allowed", 405)
    response["Allow"] = ", ".join(allowed)
    return response


def is_authorized(request: HttpRequest) -> bool:
    """Check ``Authorization: Bearer <API_TOKEN>``; an empty API_TOKEN refuses all."""
    expected = getattr(settings, "API_TOKEN", "") or ""
    if not expected:
        return False
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


def parse_positive_int(raw: str | None, default: int) -> int | None:
    """Parse a positive integer query parameter; ``None`` means invalid."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 1 else None


def list_notes(request: HttpRequest) -> JsonResponse:
    """GET /api/notes/: newest first, paginated."""
    page = parse_positive_int(request.GET.get("page"), 1)
    if page is None:
        return json_error("page must be a positive integer", 400)
    page_size = parse_positive_int(request.GET.get("page_size"), DEFAULT_PAGE_SIZE)
    if page_size is None:
        return json_error("page_size must be a positive integer", 400)
    page_size = min(page_size, MAX_PAGE_SIZE)

    notes = Note.objects.all()
    count = notes.count()
    pages = max(1, math.ceil(count / page_size))
    if page > pages:
        return json_error(f"page {page} does not exist (pages: {pages})", 404)
    start = (page - 1) * page_size
    results = [note.to_dict() for note in notes[start : start + page_size]]
    return json_response({"count": count, "page": page, "pages": pages, "results": results})


def create_note(request: HttpRequest) -> JsonResponse:
    """POST /api/notes/: create a note from ``{"text": "..."}`` (bearer token required)."""
    if not is_authorized(request):
        response = json_error("missing or invalid bearer token", 401)
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    if request.content_type != "application/json":
        return json_error("content type must be application/json", 415)
    try:
        payload = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return json_error("request body is not valid JSON", 400)
    if not isinstance(payload, dict):
        return json_error("request body must be a JSON object", 400)
    text = payload.get("text")
    if not isinstance(text, str):
        return json_error("'text' is required and must be a string", 400)
    if not text.strip():
        return json_error("'text' must not be empty", 400)
    if len(text) > MAX_TEXT_LENGTH:
        return json_error(f"'text' must be at most {MAX_TEXT_LENGTH} characters", 400)
    note = Note.objects.create(text=text)
    note.refresh_from_db()
    return json_response(note.to_dict(), status=201)


@csrf_exempt
def note_list(request: HttpRequest) -> JsonResponse:
    """Dispatch /api/notes/ by method."""
    if request.method in ("GET", "HEAD"):
        return list_notes(request)
    if request.method == "POST":
        return create_note(request)
    return method_not_allowed(["GET", "HEAD", "POST"])


@csrf_exempt
def note_detail(request: HttpRequest, pk: int) -> JsonResponse:
    """GET /api/notes/<id>/."""
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed(["GET", "HEAD"])
    note = Note.objects.filter(pk=pk).first()
    if note is None:
        return json_error(f"note {pk} not found", 404)
    return json_response(note.to_dict())
