"""A 5xx's traceback in the container log, whatever the settings' LOGGING does with it.

With DEBUG off, Django's own logging sends django.request's errors to mail_admins only; a project's
LOGGING may send them to a file inside the container alone (mrityunjaygr8/django-uv-knox-test's
error_file handler, propagate False: its /health/ answered 500 and web's log held no word of why,
while the suite's line said "its traceback is in web's log above"). gunicorn.conf.py calls
errors_to_console() in each worker once Django's logging is set up: a stderr handler for those
errors when nothing on their way up the loggers writes to the console already (no line twice).
Standard library only: it runs in the prod image.
"""

import logging
import sys

FORMAT = "%(levelname)s %(name)s: %(message)s"


def console(handler: logging.Handler) -> bool:
    """Whether `handler` writes an ERROR record to stdout or stderr, unfiltered (Django's own
    "console" handler has require_debug_true)."""
    return (
        isinstance(handler, logging.StreamHandler)
        and not isinstance(handler, logging.FileHandler)
        and getattr(handler, "stream", None) in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
        and handler.level <= logging.ERROR
        and not handler.filters
    )


def reaches_console(logger: logging.Logger) -> bool:
    """Whether an ERROR record of `logger` meets a console handler on its way up the loggers."""
    current: logging.Logger | None = logger
    while current is not None:
        if any(console(handler) for handler in current.handlers):
            return True
        if not current.propagate:
            return False
        current = current.parent
    return False


def errors_to_console(name: str = "django.request") -> bool:
    """Add a stderr handler for `name`'s errors unless they reach the console already; True when
    one was added."""
    logger = logging.getLogger(name)
    if reaches_console(logger):
        return False
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.ERROR)
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
    return True
