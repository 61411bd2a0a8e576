"""Lock files as requirement sets: uv.lock (exported by uv inside the build) and poetry.lock (read here).

A requirements entry `uv.lock` is the runtime set of the lock (no dependency groups), `uv.lock:dev`
one group. uv itself exports it in the dev stage (`uv export --frozen`), so the build installs the
lock's exact versions and needs nothing on the host. `poetry.lock` (`poetry.lock:dev`) is turned into
pinned requirements here, from the lock alone: no poetry, no network. So is Pipenv's `Pipfile.lock`
(its `default` section; `Pipfile.lock:develop` its dev packages), with no pipenv.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

from dockstage.core.errors import ConfigError

LOCK_ENTRY = re.compile(r"^(?P<path>(?:.*/)?(?P<kind>uv|poetry|Pipfile)\.lock)(?::(?P<group>[\w.-]+))?$")
PIPENV_SECTIONS = ("default", "develop")
MAIN = "main"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pipenv_requirements(lock_text: str, section: str = "default") -> list[str]:
    """Pinned requirement lines of one section of a Pipfile.lock (`name[extras]==version; markers`,
    `name @ git+url@ref`); local paths (the project itself, editable) are left out."""
    if section not in PIPENV_SECTIONS:
        raise ConfigError(f"Pipfile.lock has no section {section!r}", "use Pipfile.lock or Pipfile.lock:develop")
    try:
        packages = json.loads(lock_text).get(section) or {}
    except (ValueError, AttributeError) as exc:
        raise ConfigError(f"Pipfile.lock is not valid JSON ({exc})", "run `pipenv lock` and commit it") from None
    lines = []
    for name, spec in sorted(packages.items()):
        if not isinstance(spec, dict):
            continue
        extras = f"[{','.join(spec['extras'])}]" if spec.get("extras") else ""
        markers = f"; {spec['markers']}" if spec.get("markers") else ""
        if spec.get("git"):
            ref = f"@{spec['ref']}" if spec.get("ref") else ""
            url = spec["git"] if spec["git"].startswith("git+") else f"git+{spec['git']}"
            lines.append(f"{name}{extras} @ {url}{ref}{markers}")
        elif spec.get("version"):
            lines.append(f"{name}{extras}{spec['version']}{markers}")
    return lines


def uv_export_args(group: str | None) -> list[str]:
    """`uv export` arguments for the runtime set (no groups) or one dependency group."""
    return ["--only-group", group] if group else ["--no-default-groups"]


def poetry_roots(pyproject: Mapping[str, Any], group: str) -> set[str]:
    """The names a poetry group depends on directly ([tool.poetry.dependencies] for main, PEP 621 too)."""
    poetry = pyproject.get("tool", {}).get("poetry", {})
    if group == MAIN:
        table: Iterable[str] = poetry.get("dependencies", {})
        project = pyproject.get("project", {}).get("dependencies", [])
        names = {canonical(n) for n in table if n.lower() != "python"}
        return names | {canonical(re.split(r"[\s\[<>=!~;(@]", d, maxsplit=1)[0]) for d in project}
    table = poetry.get("group", {}).get(group, {}).get("dependencies", {})
    if group == "dev" and not table:
        table = poetry.get("dev-dependencies", {})
    return {canonical(n) for n in table}


def _marker(package: Mapping[str, Any], group: str) -> str:
    markers = package.get("markers")
    if isinstance(markers, dict):
        markers = markers.get(group, "")
    return f" ; {markers}" if isinstance(markers, str) and markers else ""


_PYTHON_BOUND = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*(\d+(?:\.\d+)*)\s*$")


def _python_marker(constraint: str) -> str | None:
    """`python_version` marker of a dependency's poetry `python` key ("<3.9", ">=3.7,<3.11"), or
    None when it is not a plain comparison (a caret: read as no condition)."""
    parts = [_PYTHON_BOUND.match(part) for part in constraint.split(",")]
    if not all(parts):
        return None
    return " and ".join(f'python_version {m.group(1)} "{m.group(2)}"' for m in parts if m)


def _edge_marker(spec: object) -> str:
    """The condition of one dependency edge of a poetry.lock (its `markers`, its `python` key; a
    list of specs: any of them); '' when it has none (or one not read)."""
    alternatives = []
    for item in spec if isinstance(spec, list) else [spec]:
        if not isinstance(item, Mapping):
            return ""
        python = _python_marker(str(item["python"])) if item.get("python") else ""
        if python is None or re.search(r"\bextra\b", str(item.get("markers") or "")):
            return ""  # an extra's condition holds only where the dependent is installed with it
        both = [condition for condition in (str(item.get("markers") or ""), python) if condition]
        if not both:
            return ""
        alternatives.append(" and ".join(f"({c})" if len(both) > 1 else c for c in both))
    if len(alternatives) == 1:
        return alternatives[0]
    return " or ".join(f"({a})" for a in dict.fromkeys(alternatives))


def _edge_markers(name: str, chosen: set[str], packages: Mapping[str, Any], roots: Mapping[str, object]) -> str:
    """An old lock's condition for `name` (poetry < 1.5 records none per package): the conditions of
    the edges into it, from the chosen packages and the project's own table; none when an edge has
    none. django's `backports.zoneinfo = {markers = "python_version < '3.9'"}` (shynet's lock)."""
    edges = [spec for root, spec in roots.items() if canonical(root) == name]
    for dependent in chosen:
        edges += [spec for dep, spec in packages[dependent].get("dependencies", {}).items() if canonical(dep) == name]
    conditions = [_edge_marker(spec) for spec in edges]
    if not conditions or "" in conditions:
        return ""
    unique = list(dict.fromkeys(conditions))
    return f" ; {unique[0] if len(unique) == 1 else ' or '.join(f'({c})' for c in unique)}"


def _requirement(package: Mapping[str, Any]) -> str | None:
    name, version = package["name"], package["version"]
    source = package.get("source") or {}
    kind = source.get("type")
    if kind == "git":
        return f"{name} @ git+{source['url']}@{source.get('resolved_reference') or source.get('reference')}"
    if kind == "url":
        return f"{name} @ {source['url']}"
    if kind in ("directory", "file"):
        return None  # a path of the developer's machine: the app dir is copied whole anyway
    return f"{name}=={version}"


def poetry_requirements(lock_text: str, pyproject: Mapping[str, Any], group: str = MAIN) -> list[str]:
    """Pinned requirement lines of one group of a poetry.lock (its `groups`/`category` when the lock
    records them, else every package reachable from the group's direct dependencies)."""
    try:
        lock = tomllib.loads(lock_text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"poetry.lock is not valid TOML ({exc})", "run `poetry lock` and commit it") from None
    packages = {canonical(p["name"]): p for p in lock.get("package", [])}
    recorded = any("groups" in p or "category" in p for p in packages.values())
    if recorded:
        chosen = {n for n, p in packages.items() if group in (p.get("groups") or [p.get("category", MAIN)])}
    else:
        chosen, pending = set(), list(poetry_roots(pyproject, group))
        while pending:
            name = pending.pop()
            if name in chosen or name not in packages:
                continue
            chosen.add(name)
            pending += [canonical(d) for d in packages[name].get("dependencies", {})]
    lines = [_requirement(packages[n]) for n in sorted(chosen)]
    per_package = any("markers" in p for p in packages.values())  # poetry 1.5+: each package's own
    roots = _root_table(pyproject, group)

    def condition(name: str) -> str:
        return _marker(packages[name], group) if per_package else _edge_markers(name, chosen, packages, roots)

    return [f"{line}{condition(n)}" for n, line in zip(sorted(chosen), lines, strict=True) if line]


def _root_table(pyproject: Mapping[str, Any], group: str) -> Mapping[str, object]:
    """The project's own poetry table of `group` (name -> spec), for the conditions of its edges."""
    poetry = pyproject.get("tool", {}).get("poetry", {})
    if group == MAIN:
        return {n: spec for n, spec in poetry.get("dependencies", {}).items() if n.lower() != "python"}
    table = poetry.get("group", {}).get(group, {}).get("dependencies", {})
    return table or (poetry.get("dev-dependencies", {}) if group == "dev" else {})


_HEADER = re.compile(r"""^\[\[?\s*(?P<name>[A-Za-z0-9_\-."' ]+?)\s*\]\]?\s*(?:#.*)?$""")
_RESOLVER_TOOLS = ("uv", "poetry")
_RESOLVER_TABLES = ("project", "dependency-groups", "build-system")


def _keeps(header: str) -> bool:
    parts = [p.strip().strip("\"'") for p in header.split(".")]
    if parts[0] in _RESOLVER_TABLES:
        return True
    return parts[0] == "tool" and len(parts) > 1 and parts[1] in _RESOLVER_TOOLS


def _resolver_view(document: Mapping[str, Any]) -> dict[str, Any]:
    view = {key: document[key] for key in _RESOLVER_TABLES if key in document}
    tools = {key: value for key, value in document.get("tool", {}).items() if key in _RESOLVER_TOOLS}
    if tools:
        view["tool"] = tools
    return view


def resolver_pyproject(data: bytes) -> bytes:
    """The pyproject.toml a resolver reads, for staging into the build context: [project],
    [dependency-groups], [build-system], [tool.uv] and [tool.poetry], without [tool.dockstage] and
    other tools' tables, so editing those does not bust the dependency layers.

    The file as it is when it cannot be cut safely: unparsable, dependencies `dynamic` (the build
    backend's own tables are then needed), or a cut that does not parse back to the same tables.
    """
    text = data.decode("utf-8", errors="replace")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return data
    dynamic = document.get("project", {}).get("dynamic", [])
    if {"dependencies", "optional-dependencies"} & set(dynamic):
        return data
    kept: list[str] = []
    keep = False
    for line in text.splitlines():
        header = _HEADER.match(line.strip()) if line[:1] == "[" else None
        if header:
            keep = _keeps(header["name"])
        if keep:
            kept.append(line)
    cut = "".join(f"{line}\n" for line in kept)
    try:
        if tomllib.loads(cut) != _resolver_view(document):
            return data
    except tomllib.TOMLDecodeError:
        return data
    return cut.encode("utf-8")
