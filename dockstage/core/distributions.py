"""The package to install for a module a Django project imports, where the two names differ."""

from __future__ import annotations

PACKAGE_OF = {
    "MySQLdb": "mysqlclient",
    "pymysql": "PyMySQL",
    "decouple": "python-decouple",
    "environ": "django-environ",
    "dotenv": "python-dotenv",
    "dj_database_url": "dj-database-url",
    "yaml": "PyYAML",
    "PIL": "Pillow",
    "jwt": "PyJWT",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "slugify": "python-slugify",
    "magic": "python-magic",
    "sentry_sdk": "sentry-sdk",
    "rest_framework": "djangorestframework",
    "rest_framework_simplejwt": "djangorestframework-simplejwt",
    "django_filters": "django-filter",
    "corsheaders": "django-cors-headers",
    "debug_toolbar": "django-debug-toolbar",
    "crispy_forms": "django-crispy-forms",
    "storages": "django-storages",
    "allauth": "django-allauth",
    "import_export": "django-import-export",
    "taggit": "django-taggit",
    "mptt": "django-mptt",
    "compressor": "django-compressor",
    "widget_tweaks": "django-widget-tweaks",
    "social_django": "social-auth-app-django",
    "drf_yasg": "drf-yasg",
    "drf_spectacular": "drf-spectacular",
    "ckeditor": "django-ckeditor",
    "admin_honeypot": "django-admin-honeypot",
    "phonenumber_field": "django-phonenumber-field",
    "crispy_bootstrap4": "crispy-bootstrap4",
    "crispy_bootstrap5": "crispy-bootstrap5",
    "bootstrap4": "django-bootstrap4",
    "bootstrap5": "django-bootstrap-v5",
    "django_bootstrap5": "django-bootstrap5",
    "django_summernote": "django-summernote",
    "django_extensions": "django-extensions",
    "django_countries": "django-countries",
    "tinymce": "django-tinymce",
    "markdown": "Markdown",
    "six": "six",
    "requests": "requests",
    "whitenoise": "whitenoise",
    "graphene": "graphene",
    "graphene_django": "graphene-django",
    "channels": "channels",
    "channels_redis": "channels-redis",
    "django_redis": "django-redis",
    "celery": "celery",
    "django_celery_beat": "django-celery-beat",
    "django_celery_results": "django-celery-results",
    "oauth2_provider": "django-oauth-toolkit",
    "knox": "django-rest-knox",
    "dj_rest_auth": "dj-rest-auth",
    "djoser": "djoser",
    "guardian": "django-guardian",
    "polymorphic": "django-polymorphic",
    "simple_history": "django-simple-history",
    "django_tables2": "django-tables2",
    "imagekit": "django-imagekit",
    "sorl": "sorl-thumbnail",
    "easy_thumbnails": "easy-thumbnails",
    "modeltranslation": "django-modeltranslation",
    "rosetta": "django-rosetta",
    "constance": "django-constance",
    "cloudinary": "cloudinary",
    "cloudinary_storage": "django-cloudinary-storage",
    "markdownx": "django-markdownx",
    "autoslug": "django-autoslug",
}
"""Import name -> the package that provides it, for the common ones whose names differ, and a few
whose names agree that old projects import without listing them (six, requests: init's own runtime
set adds them when the probe's imports fail on them)."""


def provider(module: str) -> str:
    """What to add to the requirements for `module` (a dotted name: its top package counts):
    'python-decouple (it provides decouple)', or 'the package that provides X' when unknown."""
    top = module.split(".", 1)[0]
    known = PACKAGE_OF.get(top)
    return f"{known} (it provides {top})" if known else f"the package that provides {top}"
