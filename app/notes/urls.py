"""URLs of the notes API (mounted under /api/)."""

from django.urls import path

from notes import views

app_name = "notes"

urlpatterns = [
    path("notes/", views.note_list, name="note-list"),
    path("notes/<int:pk>/", views.note_detail, name="note-detail"),
]
