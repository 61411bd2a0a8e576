"""Poetry's `[tool.poetry.dependencies]` as pip requirement specs, for a project without a poetry.lock.

Poetry's own constraint forms are converted the way Poetry reads them: `^1.2.3` is `>=1.2.3,<2`,
`^0.2.3` is `>=0.2.3,<0.3`, `~1.2.3` is `>=1.2.3,<1.3`, a bare version is `==` it, `*` is any;
PEP 440 forms pass as they are. A table gives its extras, a git source becomes `name @ git+url@ref`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_PART = re.compile(r"^(\d+)")
_OPERATOR = re.compile(r"^(~=|==|!=|<=|>=|<|>|===)")


def _numbers(version: str) -> list[int]:
    out = []
    for part in version.split("."):
        match = _PART.match(part)
        if not match:
            break
        out.append(int(match.group(1)))
    return out


def _upper(numbers: list[int], at: int) -> str:
    return ".".join(str(n) for n in [*numbers[:at], numbers[at] + 1])


def caret(version: str) -> str:
    """`^version`: up to the next change of the first non-zero part (`^0.0` up to 0.1)."""
    numbers = _numbers(version)
    if not numbers:
        return ""
    at = next((i for i, n in enumerate(numbers) if n), len(numbers) - 1)
    return f">={version},<{_upper(numbers, at)}"


def tilde(version: str) -> str:
    """`~version`: up to the next minor (`~1` up to 2)."""
    numbers = _numbers(version)
    if not numbers:
        return ""
    return f">={version},<{_upper(numbers, 1 if len(numbers) > 1 else 0)}"


def specifier(constraint: str) -> str:
    """A Poetry version constraint as a PEP 440 specifier ('' for any version)."""
    if "||" in constraint:  # an either-or Poetry allows and pip does not: the widest is any version
        return ""
    out = []
    for part in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", constraint.strip()):
        part = part.replace(" ", "")
        if not part or part == "*":
            continue
        if part.startswith("^"):
            out.append(caret(part[1:]))
        elif part.startswith("~") and not part.startswith("~="):
            out.append(tilde(part[1:]))
        elif _OPERATOR.match(part):
            out.append(part)
        else:
            out.append(f"=={part}")
    return ",".join(p for p in out if p)


def requirement(name: str, constraint: object) -> str:
    """One dependency entry as a pip requirement line ('' for one pip cannot take: a local path,
    an optional one, which only an extra brings in)."""
    if isinstance(constraint, list):  # per-python alternatives: the first one
        constraint = constraint[0] if constraint else "*"
    if isinstance(constraint, str):
        return f"{name}{specifier(constraint)}"
    if not isinstance(constraint, Mapping) or constraint.get("optional") or "path" in constraint:
        return ""
    extras = constraint.get("extras") or []
    named = f"{name}[{','.join(str(e) for e in extras)}]" if extras else name
    if "git" in constraint:
        ref = next((str(constraint[k]) for k in ("rev", "tag", "branch") if k in constraint), "")
        url = str(constraint["git"])
        return f"{named} @ {url if url.startswith('git+') else 'git+' + url}{'@' + ref if ref else ''}"
    if "url" in constraint:
        return f"{named} @ {constraint['url']}"
    return f"{named}{specifier(str(constraint.get('version', '*')))}"


def requirements(dependencies: object) -> list[str]:
    """The pip requirement lines of a Poetry dependency table (without `python`)."""
    if not isinstance(dependencies, Mapping):
        return []
    lines = [requirement(str(name), value) for name, value in dependencies.items() if str(name).lower() != "python"]
    return [line for line in lines if line]


def python(dependencies: object) -> str:
    """The Python the table asks for, as requires-python would say it ('' when it does not)."""
    wanted = dependencies.get("python") if isinstance(dependencies, Mapping) else None
    return specifier(wanted) if isinstance(wanted, str) else ""
