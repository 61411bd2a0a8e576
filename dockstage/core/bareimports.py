"""A bare import of a module the project holds in one of its folders.

`from models import CustomUser` in books/tests.py finds books/models.py only when Python runs from
books/ (or has it on its path); from the app dir, as every image runs, it is "No module named
'models'". JamesSullivan/akasaka's sec/query.py and wufking's books/tests.py do this. The images'
build steps say it themselves (data/buildsteps.py misimported_cause); init and the app's tests use
this.
"""

from __future__ import annotations

import re
from pathlib import Path

from dockstage.core.absentfiles import IN_IMAGE
from dockstage.core.files import SKIP_DIRS

_NO_MODULE = re.compile(r"No module named '(\w+)'")
_APP_FRAME = re.compile(r'File "' + IN_IMAGE + r'([^"]+\.py)", line (\d+)')


def nested(app: Path, top: str) -> list[str]:
    """The project's modules `top` one or two folders below the app dir ('sec/models.py')."""
    hits = (p.relative_to(app) for pattern in (f"*/{top}.py", f"*/*/{top}.py") for p in sorted(app.glob(pattern)))
    return [h.as_posix() for h in hits if not SKIP_DIRS.intersection(h.parts[:-1])]


def dotted(path: str) -> str:
    """'sec/models.py' -> 'sec.models'."""
    return path.removesuffix(".py").replace("/", ".")


def hint(output: str, app: Path) -> str:
    """'books/tests.py:41 imports models bare; the project's own is books/models.py: import it as
    books.models' from a run's output whose last traceback ends on such an import, else ''."""
    last = output.rsplit("Traceback (most recent call last):", 1)[-1]
    missing = _NO_MODULE.findall(last)
    if not missing:
        return ""
    top = missing[-1]
    frames = _APP_FRAME.findall(last)
    importer = frames[-1] if frames else None
    beside = (app / importer[0]).parent / f"{top}.py" if importer else None
    found = [beside.relative_to(app).as_posix()] if beside and beside.is_file() else nested(app, top)
    if not found:
        return ""
    where = f"{importer[0]}:{importer[1]} imports {top} bare" if importer else f"{top} is imported bare"
    return f"{where}; the project's own is {found[0]}: import it as {dotted(found[0])} (or `from .{top} import ...`)"
