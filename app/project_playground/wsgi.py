"""WSGI entry point (gunicorn target: project_playground.wsgi:application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project_playground.settings")

application = get_wsgi_application()
