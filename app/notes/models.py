"""Models of the notes app."""

from typing import Any

from django.db import models


class Note(models.Model):
    """A short text note."""

    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]  # noqa: RUF012 (Django Meta option)

    def __str__(self) -> str:
        """Return the start of the text."""
        return self.text[:50]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON representation used by the API."""
        return {
            "id": self.pk,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }
