"""Build helper (stage): copy the app dir into prod minus what prod does not need, never code it imports.

`python prune.py SRC DST [LIST]` with PROD_EXCLUDE, a JSON list of patterns matched against each path
relative to SRC: `*` and `?` stay within one directory, a leading `**/` matches at any depth, a
trailing `/` matches directories only. Everything else is copied (templates, static sources, data
files, a CHANGELOG read at import).

A pattern never drops code that is used: every kept Python file is read (its imports, absolute and
relative, and its dotted string literals such as INSTALLED_APPS entries and `include("x.urls")`)
and an excluded module they name is kept, with the packages above it; the kept modules are read in
turn. A string naming a package (an INSTALLED_APPS entry such as "tests", or its "x.apps.XConfig")
keeps the app's own files (not its sub-packages, not the Python files the patterns drop inside it:
its tests): Django imports an app's models and admin, and finds its templates/<label>/ by their
place. Files Django finds by their place (migrations, management commands, template tags) are never
dropped. The build log lists what was left out and what was kept because it is used; LIST, when
given, receives the left-out paths one per line (the prod image's import check names them).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import sys
from pathlib import Path

DISCOVERED = re.compile(r"(?:^|/)(?:migrations|management/commands|templatetags)/[^/]+\.py\Z")
"""Modules Django imports by where they are, not by name: never left out."""
NOT_CODE_DIRS = {"node_modules", "__pycache__"}
"""Directories (with dot-directories) a pattern drops without reading them: they hold no app code."""
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


def compile_pattern(pattern: str) -> tuple[re.Pattern[str], bool]:
    """A pattern as a regex over relative paths, and whether it matches directories only."""
    directory = pattern.endswith("/")
    text, out, i = pattern.rstrip("/"), "", 0
    while i < len(text):
        if text.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif text.startswith("**", i):
            out, i = out + ".*", i + 2
        elif text[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif text[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(text[i]), i + 1
    return re.compile(out + r"\Z"), directory


def excluded_paths(files: list[str], patterns: list[str]) -> dict[str, str]:
    """Each file a pattern leaves out -> the excluded path that matched (the file, or a directory above it)."""
    rules = [compile_pattern(p) for p in patterns]
    out: dict[str, str] = {}
    for relative in files:
        parts = relative.split("/")
        for depth in range(1, len(parts) + 1):
            prefix, is_dir = "/".join(parts[:depth]), depth < len(parts)
            if any(rx.match(prefix) and (is_dir or not dirs_only) for rx, dirs_only in rules):
                out[relative] = prefix + ("/" if is_dir else "")
                break
    return out


def module_name(relative: str) -> str:
    """The dotted module of a .py path relative to the app dir ('' for other files)."""
    if not relative.endswith(".py"):
        return ""
    parts = relative[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) if all(p.isidentifier() for p in parts) else ""


_NAMING_CALLS = {"append", "insert", "include", "import_module", "__import__"}
"""Calls whose string argument names a module even without a dot: INSTALLED_APPS.append("tests")."""


def _spelled(node: ast.AST) -> list[str]:
    """The strings `node` spells as module names: dotted literals anywhere, plain identifiers where
    they are items of a list, tuple or set (INSTALLED_APPS = [..., "tests"]) or a naming call's argument."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _DOTTED.fullmatch(node.value):
        return [node.value]
    items: list[ast.expr] = []
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = node.elts
    elif isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        items = node.args if name in _NAMING_CALLS else []
    return [
        item.value
        for item in items
        if isinstance(item, ast.Constant) and isinstance(item.value, str) and item.value.isidentifier()
    ]


def _parsed(source: str) -> ast.AST | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def names_spelled(tree: ast.AST | None) -> set[str]:
    """The module names a parsed module spells as strings (see _spelled)."""
    return {name for node in ast.walk(tree) for name in _spelled(node)} if tree else set()


def names_used(source: str, module: str, is_package: bool) -> set[str]:
    """The dotted names a module's source imports or spells as strings (relative imports resolved)."""
    return _names_used(_parsed(source), module, is_package)


def _names_used(tree: ast.AST | None, module: str, is_package: bool) -> set[str]:
    if tree is None:
        return set()
    package = module if is_package else module.rpartition(".")[0]
    used: set[str] = names_spelled(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            used.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join([*parts, *([base] if base else [])])
            if base:
                used.add(base)
                used.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return used


def named_app(name: str, by_module: dict[str, str]) -> str:
    """The package directory ("shop/") a string names as an app: the package itself, or its
    `apps` module's config ("shop.apps.ShopConfig"); '' otherwise."""
    parts = name.split(".")
    for depth in range(len(parts), 0, -1):
        module = ".".join(parts[:depth])
        target = by_module.get(module, "")
        if target.endswith("__init__.py") and (depth == len(parts)):
            return target[: -len("__init__.py")]
        if parts[depth - 1] == "apps" and depth > 1 and target and not target.endswith("__init__.py"):
            parent = by_module.get(".".join(parts[: depth - 1]), "")
            return parent[: -len("__init__.py")] if parent.endswith("__init__.py") else ""
        if target:
            return ""
    return ""


def _in_subpackage(relative: str, folder: str, files: dict[str, str]) -> bool:
    """Whether `relative` lies in a package below the app's `folder` (another module, kept only if used)."""
    parts = relative[len(folder) :].split("/")[:-1]
    return any(f"{folder}{'/'.join(parts[: i + 1])}/__init__.py" in files for i in range(len(parts)))


def decide(files: dict[str, str], patterns: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Which files to leave out: (left out -> matching excluded path, kept although matched -> why).

    `files` maps each relative path to its text (Python files; others may map to '')."""
    dropped = excluded_paths(sorted(files), patterns)
    kept: dict[str, str] = {}
    for relative in list(dropped):
        if DISCOVERED.search(relative):
            kept[relative] = "Django finds it by its place"
            del dropped[relative]
    by_module = {module_name(r): r for r in files if module_name(r)}
    pending = [r for r in files if r not in dropped and module_name(r)]
    while pending:
        relative = pending.pop()
        module = module_name(relative)
        tree = _parsed(files[relative])  # read once: the apps it names, then what it imports or names
        for name in sorted(names_spelled(tree)):  # an app named: its own files, not its tests
            folder = named_app(name, by_module)
            inside = [d for d in dropped if folder and d.startswith(folder) and not _in_subpackage(d, folder, files)]
            own_tests = excluded_paths([d[len(folder) :] for d in inside if d.endswith(".py")], patterns)
            for target in [d for d in inside if d[len(folder) :] not in own_tests]:
                kept[target] = f"{relative} names the app {name}"
                del dropped[target]
                if module_name(target):
                    pending.append(target)
        for name in sorted(_names_used(tree, module, relative.endswith("__init__.py"))):
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):  # the module and every package above it
                target = by_module.get(".".join(parts[:depth]))
                if target in dropped:
                    kept[target] = f"{relative} uses {name}"
                    del dropped[target]
                    pending.append(target)
    return dropped, kept


def prune(src: Path, dst: Path, patterns: list[str]) -> tuple[int, list[str], dict[str, str]]:
    """Copy src to dst without the excluded paths nothing uses; (files copied, paths left out, kept -> why)."""
    files: dict[str, str] = {}
    skipped: list[str] = []
    for here, dirnames, filenames in os.walk(src):
        base = Path(here).relative_to(src).as_posix()
        for name in sorted(dirnames):  # never code: not read at all when a pattern drops them
            relative = f"{name}" if base == "." else f"{base}/{name}"
            if (name in NOT_CODE_DIRS or name.startswith(".")) and excluded_paths([f"{relative}/x"], patterns):
                dirnames.remove(name)
                skipped.append(f"{relative}/")
        for name in filenames:
            path = Path(here) / name
            relative = path.relative_to(src).as_posix()
            text = path.read_text(encoding="utf-8", errors="replace") if name.endswith(".py") else ""
            files[relative] = text
    dropped, kept = decide(files, patterns)
    copied = 0
    for relative in sorted(files):
        if relative in dropped:
            continue
        target = dst / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / relative, target, follow_symlinks=False)
        copied += 1
    left_out = sorted({*dropped.values(), *skipped})
    return copied, left_out, kept


if __name__ == "__main__":
    source, destination = Path(sys.argv[1]), Path(sys.argv[2])
    count, left, used = prune(source, destination, json.loads(os.environ.get("PROD_EXCLUDE", "[]")))
    print(f"dockstage: {count} files of the app copied into prod; left out: {', '.join(left) or 'nothing'}")
    for path, why in sorted(used.items()):
        print(f"dockstage: kept {path} although prod-exclude matches it: {why}")
    if len(sys.argv) > 3:
        Path(sys.argv[3]).parent.mkdir(parents=True, exist_ok=True)
        Path(sys.argv[3]).write_text("".join(f"{p}\n" for p in left), encoding="utf-8")
