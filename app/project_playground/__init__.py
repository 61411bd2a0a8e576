"""The project_playground Django project."""
