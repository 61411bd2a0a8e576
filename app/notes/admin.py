"""Admin registration for notes."""

from django.contrib import admin

from notes.models import Note


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    """Admin for Note."""

    list_display = ("id", "text", "created_at", "updated_at")
    search_fields = ("text",)
    readonly_fields = ("created_at", "updated_at")
