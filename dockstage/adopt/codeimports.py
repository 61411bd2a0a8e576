"""What the project's own code imports, for the runtime set init makes when it lists no requirements.

The probe imports the settings and the URLconf, and stops at the first module missing; a view that
imports stripe (joseluis-gc/Django-Mysql-Ecommerce-Site) or linebot (TibaMe-Catcher/LineBot-Django-MySQL)
was only found by the build's collectstatic or the test image, after a whole build. Reading every
import of the code finds them all at once.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from dockstage.adopt.requirements import Requirements
from dockstage.adopt.sourcewalk import Use, matches
from dockstage.core.distributions import PACKAGE_OF
from dockstage.core.files import SKIP_DIRS

_IMPORT = re.compile(r"^[ \t]*(?:from|import)[ \t]+([A-Za-z_]\w*)", re.MULTILINE)
_TEST_FILE = re.compile(r"(^|/)(tests?/|test_[^/]*\.py$|tests\.py$|conftest\.py$)")
UNKNOWN_SHOWN = 5


def own_modules(app: Path) -> set[str]:
    """The names the project's own code can be imported by: each .py file's stem and each folder."""
    names: set[str] = set()
    for _top, dirs, files in os.walk(app):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        names.update(dirs)
        names.update(f.removesuffix(".py") for f in files if f.endswith(".py"))
    return names


def third_party(root: Path, app: Path) -> dict[str, Use]:
    """The top-level modules the code outside its tests imports that are neither the standard
    library's, Django's nor the project's own, each with its first import."""
    skip = {*sys.stdlib_module_names, "django", "__future__", *own_modules(app)}
    first: dict[str, Use] = {}
    for use in matches(root, app, SKIP_DIRS, _IMPORT):
        if use.text not in skip and not _TEST_FILE.search(use.path):
            first.setdefault(use.text, use)
    return first


def named_in_settings(settings_text: str) -> list[str]:
    """The known packages' modules the settings name in strings, in order: an app list's entries
    ('simpleui' in INSTALLED_APPS or THIRD_PARTY_APPS) and dotted paths anywhere (a cache's
    'django_redis.cache.RedisCache'); Django imports them only when it starts. A bare word elsewhere
    is no module (CRISPY_TEMPLATE_PACK = 'bootstrap4')."""
    apps = " ".join(_APP_LIST.findall(settings_text))
    named = [m.group(1) for m in _QUOTED_MODULE.finditer(apps)]
    named += [m.group(1) for m in _QUOTED_MODULE.finditer(settings_text) if m.group(2)]
    return list(dict.fromkeys(m for m in named if m in PACKAGE_OF))


_APP_LIST = re.compile(r"^\s*\w*APPS\s*\+?=\s*[\[(]([^\])]*)", re.MULTILINE)
_QUOTED_MODULE = re.compile(r"""["']([A-Za-z_]\w*)(\.[\w.]+)?["']""")


def add_imported(requirements: Requirements, root: Path, app: Path, settings_text: str = "") -> None:
    """Add to init's own runtime set (the project lists no requirements) the known packages
    (PACKAGE_OF) its code imports or its settings name, and name the imports no known package
    provides."""
    if not requirements.made:
        return
    unknown: list[Use] = []
    wanted: dict[str, str] = {}  # package -> where the project needs it
    for module, use in third_party(root, app).items():
        if module in PACKAGE_OF:
            wanted.setdefault(PACKAGE_OF[module], f"{use.path}:{use.line} imports {module}")
        else:
            unknown.append(use)
    for module in named_in_settings(settings_text):
        wanted.setdefault(PACKAGE_OF[module], f"the settings name {module}")
    for package, why in wanted.items():
        if not requirements.mentions(package):
            requirements.add_made(package, why)
    if unknown:
        shown = ", ".join(f"{u.text} ({u.path}:{u.line})" for u in unknown[:UNKNOWN_SHOWN])
        more = f" and {len(unknown) - UNKNOWN_SHOWN} more" if len(unknown) > UNKNOWN_SHOWN else ""
        requirements.notes.append(
            f"the code imports {shown}{more}, which no requirement installs and init knows no package for: "
            "add the packages that provide them to requirements"
        )
