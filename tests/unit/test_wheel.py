"""The wheel holds everything the package asks for at run time, and nothing of the harness.

The wheel is built here from a copy of the package's sources (offline: no build isolation, no
dependencies), then read as the zip it is. tests/integration/test_installed_wheel.py installs one
and runs the pipeline from it.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dockstage.core import resources

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dockstage"
DATA = "dockstage/data/"


def build_wheel(into: Path) -> Path:
    """The wheel of a clean copy of the sources (a checkout's build/ or bytecode never leaks in)."""
    source = into / "src"
    shutil.copytree(PACKAGE, source / "dockstage", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(into), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
    (wheel,) = into.glob("dockstage-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def members(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {name for name in archive.namelist() if not name.endswith("/")}


def checkout_data() -> set[str]:
    data = resources.path(resources.SUPPORT)
    return {
        f"{DATA}{p.relative_to(data).as_posix()}"
        for p in data.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def test_the_wheel_ships_every_data_file(members: set[str]) -> None:
    shipped = {name for name in members if name.startswith(DATA)}
    assert shipped == checkout_data()


@pytest.mark.parametrize("name", resources.SERVED)
def test_every_name_the_door_serves_is_in_the_wheel(members: set[str], name: str) -> None:
    member = DATA if name == resources.SUPPORT else f"{DATA}{name}"
    if resources.path(name).is_dir():
        assert any(m.startswith(member.rstrip("/") + "/") for m in members), f"no file under {member}"
    else:
        assert member in members


def suite_modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "data" not in p.relative_to(PACKAGE).parts]


def door_names(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, name) of each door constant a module refers to (resources.STANDINS...)."""
    return [
        (node.lineno, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "resources"
        and node.attr.isupper()
    ]


def literal_door_calls(tree: ast.AST) -> list[int]:
    """Lines calling the door with a string literal instead of one of its constants."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "resources"
        and any(isinstance(arg, ast.Constant) for arg in node.args)
    ]


def test_the_code_asks_the_door_only_for_names_it_serves() -> None:
    asked: dict[str, str] = {}  # module:line:constant -> the name it serves
    for module in suite_modules():
        tree = ast.parse(module.read_text(encoding="utf-8"))
        where = str(module.relative_to(ROOT))
        assert literal_door_calls(tree) == [], f"{where}: name a constant of core/resources.py"
        if module.name != "resources.py":
            asked.update({f"{where}:{line}:{name}": getattr(resources, name) for line, name in door_names(tree)})
    assert asked, "no use of the door found: the scan cannot see them"
    assert set(asked.values()) <= set(resources.SERVED), asked
    # and the door serves nothing the code never asks for (the stand-ins' folder comes with their Dockerfiles)
    assert set(resources.SERVED) - set(asked.values()) <= {resources.STANDINS}


def test_no_module_reaches_files_through_its_own_location() -> None:
    offenders = []
    for module in suite_modules():
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "__file__":
                offenders.append(f"{module.relative_to(ROOT)}:{node.lineno} uses __file__")
            if isinstance(node, ast.ImportFrom) and node.module == "importlib" and module.name != "resources.py":
                offenders.append(f"{module.relative_to(ROOT)}:{node.lineno} imports importlib (use core.resources)")
    assert offenders == []


def test_standin_build_contexts_are_complete_in_the_wheel(members: set[str], wheel: Path) -> None:
    dockerfiles = sorted(m for m in members if m.startswith(f"{DATA}standins/") and m.endswith(".Dockerfile"))
    assert [Path(m).name for m in dockerfiles] == sorted(
        Path(name).name
        for name in resources.SERVED
        if name.startswith(f"{resources.STANDINS}/") and name.endswith(".Dockerfile")
    )
    copied = []
    with zipfile.ZipFile(wheel) as archive:
        for dockerfile in dockerfiles:
            text = archive.read(dockerfile).decode()
            for source in re.findall(r"^COPY\s+(?!--from)(?:--\S+\s+)*(\S+)\s+\S+$", text, flags=re.MULTILINE):
                assert f"{DATA}standins/{source}" in members, f"{dockerfile} copies {source}, not in the wheel"
                copied.append(source)
    assert "mariadb-entrypoint.sh" in copied and "proxy-nginx.conf" in copied  # the pattern sees the COPY lines


def test_no_harness_or_bench_in_the_wheel(members: set[str]) -> None:
    tops = {name.split("/")[0] for name in members}
    assert "dockstage" in tops and all(t == "dockstage" or t.endswith(".dist-info") for t in tops), tops
    assert [m for m in members if re.search(r"(^|/)(harness|bench|benchmarks)(/|\.py$)", m)] == []
    assert [m for m in members if m.startswith(("tests/", "app/"))] == []


def test_the_door_gives_real_paths_from_the_zipped_wheel(wheel: Path) -> None:
    """Imported straight from the wheel (a zip): build contexts and configs come out as real files."""
    probe = f"""
import json, sys
sys.path.insert(0, {str(wheel)!r})
from dockstage.core import resources as r
context, dockerfile = r.build_context(r.PYTHON_STANDIN)
print(json.dumps({{
    "module": r.__file__,
    "context": sorted(p.name for p in context.iterdir()),
    "dockerfile": dockerfile.is_file() and dockerfile.parent == context,
    "proxy_conf": r.path(r.PROXY_CONF).read_text(),
    "compose": sorted(p.name for p in r.path(r.COMPOSE).iterdir()),
    "swarm": r.path(r.SWARM_COMPOSE).is_file(),
    "dockerfile_of_app": r.path(r.DOCKERFILE).read_text().count("FROM "),
}}))
"""
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe], capture_output=True, text=True, timeout=60, check=False, cwd=wheel.parent
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    assert seen["module"].startswith(str(wheel))  # the door itself came from the zip
    assert seen["context"] == sorted(p.name for p in resources.path(resources.STANDINS).iterdir())
    assert seen["dockerfile"] is True
    assert seen["proxy_conf"] == resources.path(resources.PROXY_CONF).read_text()
    assert {"compose.yaml", "compose.swarm.yaml", "mysql-init"} <= set(seen["compose"])
    assert seen["swarm"] is True and seen["dockerfile_of_app"] >= 4


def test_the_door_refuses_a_name_it_does_not_serve() -> None:
    with pytest.raises(ValueError, match="not a resource of dockstage"):
        resources.path("docker/offline/python.Dockerfile")
