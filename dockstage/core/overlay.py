"""The suite's settings overlay: values the project's settings do not read, set without editing them.

When [tool.dockstage] overlay (or test-overlay, for the test service) names values, the app's
DJANGO_SETTINGS_MODULE becomes `dockstage_settings` (data/pythonpath/, on the images' PYTHONPATH):
it does `from <the project's module> import *` and sets exactly those values from the
DOCKSTAGE_* names below, in every stage, stack and test run. `dockstage init` decides the list
by probing the settings (adopt/learn.py) and says why in a comment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

OVERLAY_VALUES = (
    "database",
    "secret-key",
    "allowed-hosts",
    "debug",
    "static-root",
    "static-storage",
    "compress-offline",
    "proxy-ssl-header",
    "log-console",
    "redis-service",
)
"""What the overlay can set: DATABASES['default'], SECRET_KEY, ALLOWED_HOSTS (extended), DEBUG, STATIC_ROOT,
the static files' storage (Django's StaticFilesStorage in place of a cloud bucket's),
COMPRESS_OFFLINE = True (django-compressor reads the manifest `compress` wrote at build time),
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") (SECURE_SSL_REDIRECT behind a proxy),
LOGGING's file handlers whose folder the process cannot write (prod's read-only app root) to the console,
a redis the settings name at a fixed loopback address (`redis://127.0.0.1:6379/1`, a channel layer's
("localhost", 6379)) at the stack's redis service (`services = ["redis"]`) instead."""
THROWAWAY_OVERLAY = ("mail-local",)
"""What the overlay sets in the app services of a throwaway stack (the pipeline's smoke stack, the
tests'), whatever [tool.dockstage] says: EMAIL_BACKEND is Django's locmem one, so a page that sends
mail on a GET (fair_scoring_site's /admin/auth/user/teacher-notify), which the smoke crawl requests,
sends nothing to anyone. The test service has it from the test runner already."""
OVERLAY_MODULE = "dockstage_settings"
STATIC_ROOT = "/app/staticfiles"


def overlay_env(overlay: Sequence[str], base_module: str, values: Mapping[str, str], debug_on: bool) -> dict[str, str]:
    """The environment that turns the overlay on: the module, the project's module under it, and
    the suite's values (`values`: suite value -> value, as envfile.suite_values gives them)."""
    if not overlay:
        return {}
    env = {
        "DJANGO_SETTINGS_MODULE": OVERLAY_MODULE,
        "DOCKSTAGE_BASE_SETTINGS": base_module,
        "DOCKSTAGE_OVERLAY": ",".join(overlay),
    }
    if "database" in overlay:
        for part in ("host", "port", "name", "user", "password"):
            env[f"DOCKSTAGE_DATABASE_{part.upper()}"] = values[f"database-{part}"]
    if "secret-key" in overlay:
        env["DOCKSTAGE_SECRET_KEY"] = values["secret-key"]
    if "allowed-hosts" in overlay:
        env["DOCKSTAGE_ALLOWED_HOSTS"] = values["allowed-hosts"]
    if "debug" in overlay:
        env["DOCKSTAGE_DEBUG"] = "true" if debug_on else "false"
    if "static-root" in overlay:
        env["DOCKSTAGE_STATIC_ROOT"] = STATIC_ROOT
    return env
