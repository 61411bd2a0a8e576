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


def add_imported(requirements: Requirements, root: Path, app: Path) -> None:
    """Add to init's own runtime set (the project lists no requirements) the known packages
    (PACKAGE_OF) its code imports, and name the imports no known package provides."""
    if not requirements.made:
        return
    unknown: list[Use] = []
    for module, use in third_party(root, app).items():
        package = PACKAGE_OF.get(module)
        if package is None:
            unknown.append(use)
        elif not requirements.mentions(package):
            requirements.runtime.append(package)
            requirements.texts.append(package)
            requirements.notes.append(f"{package} is in the runtime set: {use.path}:{use.line} imports {module}")
    if unknown:
        shown = ", ".join(f"{u.text} ({u.path}:{u.line})" for u in unknown[:UNKNOWN_SHOWN])
        more = f" and {len(unknown) - UNKNOWN_SHOWN} more" if len(unknown) > UNKNOWN_SHOWN else ""
        requirements.notes.append(
            f"the code imports {shown}{more}, which no requirement installs and init knows no package for: "
            "add the packages that provide them to requirements"
        )
