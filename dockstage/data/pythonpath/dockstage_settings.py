"""dockstage's settings overlay: the project's settings, plus the values they do not read.

DOCKSTAGE_BASE_SETTINGS names the project's module (imported whole, as `from ... import *` would,
underscore names too); DOCKSTAGE_OVERLAY lists what to set from the suite's environment:
database (DATABASES['default'] on the stack's MySQL; a MySQL entry keeps its OPTIONS but PostgreSQL's
sslmode), secret-key, allowed-hosts (added to the project's), debug, static-root, static-storage,
compress-offline, proxy-ssl-header, log-console, mail-local, redis-service (dockstage_redis.py). The
project's files are never edited.
"""

import importlib
import os
import sys

# Out of sys.modules while the project's module imports: a project package that sets Django up on
# import (bubaley's core/__init__.py imports its Celery app, which calls django.setup() and reads
# CELERY_BROKER_URL) would otherwise get this module half made, and Django its settings without
# theirs. Django then imports a whole copy of it; this one puts itself back (or keeps that copy).
_this = sys.modules.pop(__name__)
try:
    _base = importlib.import_module(os.environ["DOCKSTAGE_BASE_SETTINGS"])
finally:
    sys.modules.setdefault(__name__, _this)
globals().update({k: v for k, v in vars(_base).items() if not k.startswith("__")})
_overlay = {v.strip() for v in os.environ.get("DOCKSTAGE_OVERLAY", "").split(",") if v.strip()}

if "database" in _overlay:
    _databases = dict(globals().get("DATABASES") or {})
    _default = dict(_databases.get("default") or {})
    if not str(_default.get("ENGINE", "")).endswith("mysql"):
        _default = {k: v for k, v in _default.items() if k in ("ATOMIC_REQUESTS", "CONN_MAX_AGE", "TIME_ZONE")}
    _default.update(
        ENGINE="django.db.backends.mysql",
        HOST=os.environ["DOCKSTAGE_DATABASE_HOST"],
        PORT=os.environ["DOCKSTAGE_DATABASE_PORT"],
        NAME=os.environ["DOCKSTAGE_DATABASE_NAME"],
        USER=os.environ["DOCKSTAGE_DATABASE_USER"],
        PASSWORD=os.environ["DOCKSTAGE_DATABASE_PASSWORD"],
    )
    # sslmode is libpq's (dj-database-url's ssl_require sets it whatever the engine): mysqlclient refuses it
    _default["OPTIONS"] = {k: v for k, v in (_default.get("OPTIONS") or {}).items() if k != "sslmode"}
    _default["OPTIONS"].setdefault("charset", "utf8mb4")
    _databases["default"] = _default
    DATABASES = _databases
if "secret-key" in _overlay:
    SECRET_KEY = os.environ["DOCKSTAGE_SECRET_KEY"]
if "allowed-hosts" in _overlay:
    _hosts = [h.strip() for h in os.environ["DOCKSTAGE_ALLOWED_HOSTS"].split(",") if h.strip()]
    ALLOWED_HOSTS = [*globals().get("ALLOWED_HOSTS", []), *_hosts]
if "debug" in _overlay:
    DEBUG = os.environ["DOCKSTAGE_DEBUG"] == "true"
if "static-root" in _overlay:
    STATIC_ROOT = os.environ["DOCKSTAGE_STATIC_ROOT"]
if "static-storage" in _overlay:  # a cloud bucket's (S3, Azure): on disk, collected at build time
    _local = "django.contrib.staticfiles.storage.StaticFilesStorage"
    if "STATICFILES_STORAGE" in globals():  # the older setting; Django refuses both set
        STATICFILES_STORAGE = _local
    else:
        STORAGES = {**(globals().get("STORAGES") or {}), "staticfiles": {"BACKEND": _local}}
    # served from here now: a bucket's URL (shark's f"{S3_PUBLIC_URL}{S3_BUCKET_STATIC}/"), or one
    # that its names' blank defaults made MEDIA_URL's too, becomes a path of this site
    _url = str(globals().get("STATIC_URL") or "")
    if not _url.startswith("/") or _url.startswith("//") or _url == str(globals().get("MEDIA_URL") or ""):
        STATIC_URL = "/static/"
if "compress-offline" in _overlay:  # prod's root is read-only: the files `compress` made at build time
    COMPRESS_OFFLINE = True
if "proxy-ssl-header" in _overlay:  # SECURE_SSL_REDIRECT behind the proxy, which says the client's scheme
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if "mail-local" in _overlay:  # a throwaway stack: a page that sends mail (the smoke crawl GETs them) keeps it here
    _memory = "django.core.mail.backends.locmem.EmailBackend"
    if "MAILERS" in globals():  # Django 6.1's setting: it refuses the deprecated EMAIL_BACKEND beside it (healthchecks)
        MAILERS = {_alias: {"BACKEND": _memory} for _alias in (globals()["MAILERS"] or {"default": {}})}
    else:
        EMAIL_BACKEND = _memory
if "log-console" in _overlay:  # a file handler whose folder this process cannot write (prod's read-only root)
    _logging = globals().get("LOGGING")
    if isinstance(_logging, dict) and isinstance(_logging.get("handlers"), dict):
        _handlers = {}
        for _name, _handler in _logging["handlers"].items():
            _file = _handler.get("filename") if isinstance(_handler, dict) else None
            if _file and not os.access(os.path.dirname(os.path.abspath(str(_file))), os.W_OK):
                _kept = ("level", "formatter", "filters")
                _handler = {"class": "logging.StreamHandler", **{k: v for k, v in _handler.items() if k in _kept}}
            _handlers[_name] = _handler
        LOGGING = {**_logging, "handlers": _handlers}
if "redis-service" in _overlay:  # a redis at a fixed loopback address: the stack's redis (dockstage_redis.py)
    import dockstage_redis

    globals().update(dockstage_redis.moved({k: v for k, v in globals().items() if not k.startswith("_")}))
