"""The house's floors are folders and its arrows run down: no module imports a floor above its own.

Floors, from the ground up: core (settings, errors, report, engine, resources), images (bases, stand-ins,
build files, stages, image checks), stack (compose stack, env file, workers, db, smoke), flows (the
command's Run, the pipeline, daily tasks), swarm (registry, releases, deploys), frontends (nox, invoke),
adopt (`dockstage init`). A module may import its own floor and the floors below it, never one above.
Function-level and TYPE_CHECKING imports count: an arrow is an arrow wherever it is written.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "dockstage"
FLOORS = ("core", "images", "stack", "flows", "swarm", "frontends", "adopt")


def floor_of(module: str) -> str | None:
    """`dockstage.images.stages` -> "images"; the package's face and data/ have no floor."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "dockstage" and parts[1] in FLOORS else None


def imported_modules(path: Path) -> set[str]:
    """Every dockstage module the file imports, at any depth of the code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("dockstage")}


def upward_arrows() -> set[tuple[str, str]]:
    arrows = set()
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] not in FLOORS:
            continue
        own = FLOORS.index(rel.parts[0])
        for module in imported_modules(path):
            target = floor_of(module)
            if target is not None and FLOORS.index(target) > own:
                arrows.add((rel.as_posix(), target))
    return arrows


def test_every_module_lives_on_a_floor() -> None:
    loose = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert loose == [], "put each module in the folder of its floor"
    folders = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    assert set(folders) <= {*FLOORS, "data"}


def test_no_module_imports_a_floor_above_its_own() -> None:
    assert upward_arrows() == set()


def test_the_check_sees_an_upward_arrow(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from dockstage.flows.run import Run\n")
    assert floor_of("dockstage.flows.run") == "flows"
    assert "dockstage.flows.run" in imported_modules(module)
