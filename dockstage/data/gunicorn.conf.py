"""gunicorn settings for the prod image; every knob can be set from the environment.

The app comes from the image: DOCKSTAGE_WSGI ([tool.dockstage] wsgi) and DJANGO_SETTINGS_MODULE
([tool.dockstage] settings-module), both baked in by the Dockerfile.
"""

import os

from gunicorn.glogging import Logger


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# An app given on the command line (`docker run IMAGE other.wsgi:application`) still wins.
wsgi_app = os.environ["DOCKSTAGE_WSGI"]  # the prod image's ENV, from [tool.dockstage] wsgi
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1)
# Threads > 1 selects the gthread worker: keep-alive connections and I/O overlap per process.
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 30)
# Below compose's stop_grace_period (30 s), so in-flight requests finish before a SIGKILL.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 0)
# Heartbeat files in memory: works with a read-only root filesystem.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/dev/shm")  # noqa: S108 - gunicorn's advice for heartbeats
# The container's own passing health probes (every 2 s) stay out of the access log: logger_class.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Trust X-Forwarded-* only from the proxy in front (comma-separated addresses, or "*").
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
proc_name = os.environ.get("GUNICORN_PROC_NAME") or wsgi_app.split(".")[0]
# gunicorn >= 25 opens a control socket under $HOME; the app user has none and / is read-only.
# Off unless GUNICORN_CONTROL_SOCKET names a writable path (e.g. /tmp/gunicorn.ctl).
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket

# Keep in step with USER_AGENT in healthcheck.py (beside this file).
HEALTHCHECK_USER_AGENT = "dockstage-healthcheck"
HEALTH_PATH = os.environ.get("DOCKSTAGE_HEALTH_PATH", "/healthz")


class QuietHealthchecks(Logger):
    """gunicorn's logger, minus the access lines of the HEALTHCHECK's passing probes.

    A line is dropped only when all of these hold, so nobody outside can hide a request by copying
    the User-Agent, and a failing probe still shows: GET of the health path, from loopback inside the
    container (published ports arrive from the bridge gateway), that User-Agent, a 2xx status.
    Error logging and every other access line are untouched.
    """

    def access(self, resp: object, req: object, environ: dict[str, object], request_time: object) -> None:
        status = str(getattr(resp, "status", "") or "")
        if (
            environ.get("HTTP_USER_AGENT") == HEALTHCHECK_USER_AGENT
            and environ.get("PATH_INFO") == HEALTH_PATH.split("?")[0]
            and environ.get("REQUEST_METHOD") == "GET"
            and environ.get("REMOTE_ADDR") in ("127.0.0.1", "::1")
            and status.startswith("2")
        ):
            return
        super().access(resp, req, environ, request_time)


# A class, not a dotted path: this file is not importable as a module. Note that it replaces the
# statsd logger gunicorn would pick by itself if statsd_host were set.
logger_class = QuietHealthchecks


def on_starting(server: object) -> None:
    """Load Django's settings once in the master: a misconfiguration ends gunicorn with one line
    (exit 3, like a worker boot failure) instead of a traceback from every worker."""
    import sys

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", wsgi_app.split(".")[0] + ".settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.INSTALLED_APPS  # noqa: B018 - the attribute access imports the settings module
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"gunicorn: the app is not configured: {exc}\n")
        sys.exit(3)


def post_worker_init(worker: object) -> None:
    """A 5xx's traceback reaches the container log whatever the settings' LOGGING does with it
    (pythonpath/dockstage_errorlog.py): Django's default sends it to mail_admins only, a project's
    own may send it to a file in the container."""
    from django.conf import settings

    if settings.DEBUG:
        return  # Django's debug console shows it
    import dockstage_errorlog

    dockstage_errorlog.errors_to_console()
