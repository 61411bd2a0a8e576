"""Root URL configuration."""

from django.contrib import admin
from django.urls import include, path
from notes import pages

from project_playground import views as project_views

urlpatterns = [
    path("", pages.home, name="home"),
    path("healthz", project_views.healthz, name="healthz"),
    path("api/", include("notes.urls")),
    path("admin/", admin.site.urls),
]
