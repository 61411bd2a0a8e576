"""Names Django removed, and the release that removed each: an old project whose requirements let
the newest Django in fails on them at its first import (wurscht/audiowurscht names `Django`
unpinned and imports django.conf.urls.url, gone in 4.0)."""

from __future__ import annotations

import re

REMOVED: dict[str, str] = {
    "django.core.urlresolvers": "2.0",
    "django.utils.six": "3.0",
    "django.utils.encoding.python_2_unicode_compatible": "3.0",
    "django.utils.lru_cache": "3.0",
    "django.conf.urls.url": "4.0",
    "django.utils.translation.ugettext": "4.0",
    "django.utils.translation.ugettext_lazy": "4.0",
    "django.utils.translation.ugettext_noop": "4.0",
    "django.utils.translation.ungettext": "4.0",
    "django.utils.translation.ungettext_lazy": "4.0",
    "django.utils.encoding.force_text": "4.0",
    "django.utils.encoding.smart_text": "4.0",
    "django.utils.http.urlquote": "4.0",
    "django.utils.http.urlquote_plus": "4.0",
    "django.utils.http.urlunquote": "4.0",
    "django.utils.http.is_safe_url": "4.0",
    "django.utils.timezone.utc": "5.0",
    "django.utils.datetime_safe": "5.0",
}
"""module.name -> the Django release that removed it (Django's release notes, "Features removed")."""

TAG_LIBRARIES: dict[str, str] = {"staticfiles": "3.0", "admin_static": "3.0"}
"""Template tag libraries Django removed ({% load static %} took their place) -> the release."""

_FRAME = re.compile(r'File "[^"]+", line \d+')
_INSTALLED_FRAME = re.compile(r'File "[^"]*/site-packages/(?P<package>[A-Za-z_]\w*)/')
"""A traceback frame in an installed package (the importer, when it is the last frame before the error)."""
_LIBRARY = re.compile(r"'(\w+)' is not a registered tag library")
_IMPORT = re.compile(
    r"cannot import name '(?P<name>\w+)' from '(?P<module>django[\w.]*)'"
    r"|No module named '(?P<missing>django[\w.]*)'"
    r"|module '(?P<owner>django[\w.]*)' has no attribute '(?P<attribute>\w+)'"
)


def removed(text: str) -> str:
    """The fix when `text` (a traceback's last line, or a log) fails on a name or a template tag
    library Django removed, else ''."""
    for library in _LIBRARY.findall(text):
        if library in TAG_LIBRARIES:
            return _pin(f"{{% load {library} %}} (now {{% load static %}})", TAG_LIBRARIES[library])
    for found in _IMPORT.finditer(text):
        name = found.group("missing") or (
            f"{found.group('module')}.{found.group('name')}"
            if found.group("module")
            else f"{found.group('owner')}.{found.group('attribute')}"
        )
        if name in REMOVED:
            return _pin(name, REMOVED[name], _importer(text[: found.start()]))
    return ""


def _importer(before: str) -> str:
    """The installed package (not Django) whose code met the removed name: the last frame of the
    traceback before the error, when that frame is in site-packages ('' for the project's own code)."""
    frames = _FRAME.findall(before.rsplit("Traceback (most recent call last):", 1)[-1])
    found = _INSTALLED_FRAME.search(frames[-1]) if frames else None
    return found.group("package") if found and found.group("package") != "django" else ""


LAST_BEFORE = {"2.0": "1.11", "3.0": "2.2", "4.0": "3.2", "5.0": "4.2", "6.0": "5.2"}
"""A removing release -> the last release of the series before it (its long-term one)."""
NOW_AT = {"django.core.urlresolvers": "django.urls"}
"""A removed module -> where its names are now (the port is a changed import)."""


def _pin(name: str, release: str, package: str = "") -> str:
    """The fix: port the code (or, when an installed `package` meets the name, a newer `package`) or pin Django."""
    if package:  # signofthefour/django_mysql_webapp: django-composite-foreignkey imports ugettext_lazy
        said, port = (
            f" (installed package {package} uses it)",
            f"raise the pin of the package providing {package} to a release made for Django {release}",
        )
    else:
        said, port = "", f"import it from {NOW_AT[name]}" if name in NOW_AT else "port the code"
    return (
        f"{name} went in Django {release}{said} and the requirements let a newer Django in: {port}, or pin "
        f"Django<{release} (e.g. Django~={LAST_BEFORE[release]}, that series' last release)"
    )
