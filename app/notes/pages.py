"""Server-rendered pages of the notes app: the home page at /."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from notes.models import Note

HOME_NOTES = 10


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """GET /: the newest notes (newest first) and where to go next: admin, API, health."""
    notes = list(Note.objects.order_by("-created_at", "-id")[:HOME_NOTES])
    return render(request, "notes/home.html", {"notes": notes, "count": Note.objects.count()})
