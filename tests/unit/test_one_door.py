"""Settings is the only door to the environment: no other module of the suite reads it.

dockstage/data/ is not the suite: those scripts (gunicorn config, healthcheck, build steps) run
inside the images and read their container's environment by design.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "dockstage"


def reads_environment(path: Path) -> list[int]:
    """Lines where the module touches os.environ or os.getenv (code only, not text)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        is_os = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"
        if is_os and node.attr in ("environ", "getenv"):  # type: ignore[attr-defined]
            found.append(node.lineno)
    return found


def test_only_config_reads_the_environment() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): lines
        for path in PACKAGE.rglob("*.py")
        if "data" not in path.relative_to(PACKAGE).parts and (lines := reads_environment(path))
    }
    assert offenders == {"core/config.py": offenders.get("core/config.py", [])}
    assert offenders["core/config.py"]  # the door itself is found, so the check can see a read


def test_only_config_reads_the_dotenv_file() -> None:
    callers = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "read_env_file(" in path.read_text(encoding="utf-8") and path.name != "config.py"
    ]
    assert callers == []
