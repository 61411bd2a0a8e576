"""A file the app looked for in the image and the checkout does not have.

yakir3/jiracdflow reads config/config.yaml when its URLconf loads; git ignores that file and the
project copies config/config.yaml.default to it where it deploys. In the image the read fails, the
app prints `[Errno 2] No such file or directory: '/app/config/config.yaml'`, goes on with None, and
fails later on `None['Email']` (a TypeError that names no file). This names the file and its template.
"""

from __future__ import annotations

import re
from pathlib import Path

IN_IMAGE = "/app/"
"""Where the images hold the app dir."""
_NO_FILE = re.compile(r"No such file or directory: ['\"](/app/[^'\"]+)['\"]")
_TEMPLATE_WORDS = re.compile(r"default|example|sample|template|dist|tpl", re.IGNORECASE)


def templates_of(path: Path) -> list[str]:
    """Names beside `path` that read as its template: its stem, then a template word
    (config.yaml.default, config.example.yaml; pinry's local_settings.example.py)."""
    if not path.parent.is_dir():
        return []
    return sorted(
        p.name
        for p in path.parent.iterdir()
        if p.name.startswith(path.stem) and p.name != path.name and _TEMPLATE_WORDS.search(p.name[len(path.stem) :])
    )


def absent_file_fix(output: str, app: Path) -> str:
    """The fix when a process in the image looked for a file of the app dir (`app` on the host) that
    the checkout lacks, the last such file named: '' when there is none, or the file is there."""
    for found in reversed(_NO_FILE.findall(output)):
        relative = found.removeprefix(IN_IMAGE)
        if not relative or (app / relative).exists():
            continue
        templates = templates_of(app / relative)
        kept = f"; the project keeps {templates[0]} beside it, made into it where it deploys" if templates else ""
        return (
            f"the app looked for {relative}, which the checkout and so the images lack{kept}: read what it holds "
            "from the environment (.env gives it to every stack), or have a build command make it (build-commands "
            "in [tool.dockstage]) when it holds no secret"
        )
    return ""
