"""`dockstage init [PATH] [--force] [--eject] [--no-ci] [--gitlab]`: adopt the suite in a Django project.

Writes [tool.dockstage] (pyproject.toml, made when missing), .env.example, the thin noxfile.py
and tasks.py, and a GitHub Actions workflow running the nox sessions (not with --no-ci; a
.gitlab-ci.yml with --gitlab); prints what it found and what to check. A file that exists is
kept unless --force (the project's own .env.example or .env is never touched: the suite then
uses .env.dockstage*; a project with its own .env.example makes its .env from it, so the suite's
secrets go to .env.dockstage).
`--eject` copies the suite's Dockerfile, compose files and helpers into docker/dockstage/ and
points [tool.dockstage] at them: from then on the project's copies are used.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import shutil
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from dockstage.adopt import render, workflow
from dockstage.adopt.inspect import Findings, hidden_migrations, ignored_files, inspect
from dockstage.adopt.requirements import MADE_NOTE, made_note
from dockstage.core import resources
from dockstage.core.errors import DockstageError, PyprojectInvalid

EJECT_DIR = "docker/dockstage"
EJECTED = {"dockerfile": f"{EJECT_DIR}/Dockerfile", "support-dir": EJECT_DIR, "compose-dir": f"{EJECT_DIR}/compose"}
_HEADER = re.compile(r"^\s*\[\[?\s*([\w.\"-]+)\s*\]\]?\s*(#.*)?$")
MARK = "# dockstage:"


def _is_ours(path: Path) -> bool:
    return path.is_file() and path.read_text(encoding="utf-8", errors="replace").startswith(MARK)


def ignored(gitignore: str, entry: str) -> bool:
    """Whether a .gitignore line matches `entry`, a name at the root (`.env`, `.dockstage/`)."""
    name = entry.rstrip("/")
    for line in gitignore.splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith(("#", "!")) or (pattern.endswith("/") and not entry.endswith("/")):
            continue
        if fnmatch.fnmatchcase(name, pattern.strip("/")):
            return True
    return False


def without_section(text: str) -> str:
    """pyproject text without its [tool.dockstage] tables (sub-tables and [[...smoke]] too)."""
    out, inside = [], False
    for line in text.splitlines(keepends=True):
        header = _HEADER.match(line)
        if header:
            inside = header.group(1).replace('"', "").startswith("tool.dockstage")
        if not inside:
            out.append(line)
    return "".join(out).rstrip("\n") + "\n"


def with_keys(section: str, keys: dict[str, str]) -> str:
    """The section text with `keys` set in its [tool.dockstage] table (replacing lines for them)."""
    lines = [line for line in section.splitlines() if not any(re.match(rf"^{k}\s*=", line) for k in keys)]
    at = lines.index("[tool.dockstage]") + 1
    lines[at:at] = ["# the project's own copies (`dockstage init --eject`)", *(f'{k} = "{v}"' for k, v in keys.items())]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str, force: bool, said: list[str], shown: str = "") -> bool:
    """Write `text` unless the file exists (and no --force); say which (as `shown`, else its name)."""
    shown = shown or path.name
    if path.exists() and not force:
        said.append(f"kept   {shown} (exists; --force replaces it)")
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    said.append(f"wrote  {shown}")
    return True


def front_file(root: Path, name: str, mark: str, side: str) -> str:
    """The file the suite's sessions (or tasks) go in: `name`, unless the project has its own
    `name` (one that does not register the suite's): then `side`, and the project's stays untouched."""
    path = root / name
    own = path.is_file() and mark not in path.read_text(encoding="utf-8", errors="replace")
    return side if own else name


def nox_command(found: Findings) -> str:
    """How nox is run on the suite's sessions: `nox`, or `nox -f <side file>`."""
    return "nox" if found.noxfile == "noxfile.py" else f"nox -f {found.noxfile}"


def invoke_command(found: Findings) -> str:
    """How invoke is run on the suite's tasks: `invoke`, or `invoke -c <side module>`."""
    return "invoke" if found.tasks == "tasks.py" else f"invoke -c {found.tasks.removesuffix('.py')}"


def write_ci(root: Path, found: Findings, force: bool, said: list[str], *, github: bool, gitlab: bool) -> None:
    """The CI files: the GitHub workflow (unless not `github`), .gitlab-ci.yml when `gitlab`."""
    flavours = ", ".join(workflow.Matrix.of(found.python).flavours)
    nox = nox_command(found)
    if github and write(root / workflow.GITHUB, workflow.github(found.python, nox), force, said, workflow.GITHUB):
        said[-1] += f" (nox sessions on {flavours}; --no-ci skips it)"
    if gitlab and write(
        root / workflow.GITLAB, workflow.gitlab(found.python, render.slug(root.name), nox), force, said
    ):
        said[-1] += f" (nox sessions on {flavours}; needs a shell runner tagged {workflow.GITLAB_TAG})"


def eject(root: Path, force: bool, said: list[str]) -> bool:
    """Copy the suite's files into docker/dockstage/ (refused over existing files without --force)."""
    target, data = root / EJECT_DIR, resources.path(resources.SUPPORT)
    # The stand-in base images are the suite's own (built from the package), not the project's.
    skip = {"__pycache__", resources.STANDINS}
    files = [p for p in data.rglob("*") if p.is_file() and not skip & set(p.relative_to(data).parts)]
    clashes = [p for p in files if (target / p.relative_to(data)).exists()]
    if clashes and not force:
        said.append(f"kept   {EJECT_DIR}/ ({len(clashes)} files exist; --force replaces them)")
        return False
    for path in files:
        destination = target / path.relative_to(data)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
    said.append(f"wrote  {EJECT_DIR}/ ({len(files)} files: Dockerfile, compose files, gunicorn config, helpers)")
    return True


KEPT_KEYS = {"apt-build": "apt_build", "apt-runtime": "apt_runtime"}
"""[tool.dockstage] lists a user extends by hand when a build asks (init's own message says so):
their entries outlive `init --force`, which would otherwise write the list init found again."""


def keep_hand_set(root: Path, found: Findings) -> None:
    """The entries of KEPT_KEYS in the [tool.dockstage] table being replaced, added to what init found."""
    path = root / "pyproject.toml"
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except tomllib.TOMLDecodeError:
        return
    existing = table.get("tool", {}).get("dockstage", {})
    for key, field_name in KEPT_KEYS.items():
        mine: list[str] = getattr(found.requirements, field_name)
        added = [v for v in existing.get(key, []) if isinstance(v, str) and v not in mine]
        if added:
            mine += added
            found.notes.append(f"{key} keeps {', '.join(added)} from the [tool.dockstage] it replaces")


def pyproject(root: Path, section: str, force: bool, said: list[str]) -> bool:
    path = root / "pyproject.toml"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PyprojectInvalid(str(path), str(exc)) from None
    has = "tool" in table and "dockstage" in table["tool"]
    if has and not force:
        said.append("kept   [tool.dockstage] in pyproject.toml (exists; --force replaces it)")
        return False
    body = without_section(text) if has else text
    new = (body.rstrip("\n") + "\n\n" if body.strip() else "") + section
    tomllib.loads(new)  # never write what does not parse
    path.write_text(new, encoding="utf-8")
    said.append(f"wrote  [tool.dockstage] in pyproject.toml{' (replaced)' if has else ''}")
    return True


RETRIES = 3
"""Dev builds init makes again with what the one before said it lacks (a Python, Debian packages)."""


def retried(found: Findings, said: list[str]) -> bool:
    """Take the fix the failed dev build's helper named into the findings, saying so: the Python a
    requirement needs, else the Debian packages a source build lacked (tejaslib's cffi==1.15.0 has no
    wheel for 3.11 and its source needs ffi.h: libffi-dev). False when there is none, or it was tried."""
    if found.needs_python and found.needs_python != found.python:
        said.append(
            f"python {found.needs_python}: a requirement needs it (the dev build said so); building again with it"
        )
        found.python, found.python_reason = found.needs_python, "a requirement needs it (the first dev build)"
        return True
    new = [name for name in found.needs_apt if name not in found.requirements.apt_build]
    if new:
        said.append(
            f"apt-build {' '.join(new)}: a requirement's source build needs it (the dev build said so); building "
            "again with it"
        )
        found.requirements.apt_build += new
        return True
    return False


def added(found: Findings, packages: list[str], said: list[str]) -> bool:
    """Add `packages` to the runtime set init made (the project has no requirements file), saying so."""
    if not packages:
        return False
    said.append(
        f"requirements {', '.join(packages)}: the probe's imports need them and the project lists no requirements "
        "(init's own set); building again with them"
    )
    found.requirements.runtime += packages
    found.requirements.texts += packages
    found.notes = [
        made_note(found.requirements.runtime, " (what the probe's imports need)")
        if note.startswith(MADE_NOTE)
        else note
        for note in found.notes
    ]
    return True


def init(
    root: Path,
    *,
    force: bool = False,
    do_eject: bool = False,
    probe: bool = False,
    ci: bool = True,
    gitlab: bool = False,
) -> tuple[Findings, list[str]]:
    """Inspect the project and write the files; (what was found, what was written or kept).

    With `probe`, once [tool.dockstage] is written the dev image is built and the settings are
    imported there with a sentinel per environment name; the section is then rewritten with what
    that showed (names, the overlay)."""
    found = inspect(root)
    root = found.root
    said: list[str] = []
    keep_hand_set(root, found)
    example = (
        ".env.example"
        if not (root / ".env.example").exists() or _is_ours(root / ".env.example")
        else ".env.dockstage.example"
    )
    # A project with its own .env.example makes its .env from it (`cp .env.example .env`), now or
    # later: that .env is the project's too, whether it exists yet or not.
    theirs = (root / ".env").exists() or example != ".env.example"
    env_file = ".env" if _is_ours(root / ".env") or not theirs else ".env.dockstage"
    if example != ".env.example":
        found.notes.append(f"the project has its own .env.example: the suite's is {example}")
    if env_file != ".env":
        whose = "has its own .env" if (root / ".env").exists() else "makes its .env from its own .env.example"
        found.notes.append(f"the project {whose}: the suite's secrets are in {env_file}")
    section = render.tool_section(found, env_example=example, env_file=env_file)
    if do_eject and eject(root, force, said):
        section = with_keys(section, EJECTED)
    wrote = pyproject(root, section, force, said)
    if wrote and probe:
        from dockstage.adopt import probe as probing  # the engine only when asked: the rest reads files

        results = probing.run_probe(root, found, said)
        tries = 0
        while tries < RETRIES and (
            retried(found, said) if results is None else added(found, probing.providers_missing(found, results), said)
        ):  # again with the helper's fix, or with the packages an init-made runtime set lacked
            tries += 1
            found.unprobed, found.needs_python, found.needs_apt = None, "", []
            pyproject(root, render.tool_section(found, env_example=example, env_file=env_file), True, [])
            results = probing.run_probe(root, found, said)
        if results:
            probing.apply(found, results)
            section = render.tool_section(found, env_example=example, env_file=env_file)
            if do_eject and (root / EJECT_DIR).is_dir():
                section = with_keys(section, EJECTED)
            pyproject(root, section, True, [])
            said.append("wrote  [tool.dockstage] again with what the probe learned")
    if wrote and (root / ".dockerignore").is_file():
        said.append(
            "ignore the project's .dockerignore is honoured in every stage: its rules, then dockstage's "
            "(secrets, caches, dumps stay out); manage.py and the settings and wsgi modules always go in"
        )
    if wrote:
        said.append(
            "smoke  smoke-urls is on: the smoke test GETs every URL without parameters and fails on a 5xx; "
            'leave URLs out with smoke-skip = ["/path/*"] in [tool.dockstage]'
        )
    if do_eject and not section.count(EJECT_DIR) and (root / EJECT_DIR).is_dir():
        said.append(f"note   set {', '.join(f'{k} = {v!r}' for k, v in EJECTED.items())} in [tool.dockstage]")
    write(root / example, render.env_example(found), force or example != ".env.example", said)
    found.noxfile = front_file(root, "noxfile.py", "noxsessions.register", "noxfile.dockstage.py")
    found.tasks = front_file(root, "tasks.py", "invoketasks.collection", "tasks_dockstage.py")
    for name, text, own in (
        (found.noxfile, render.NOXFILE, "noxfile.py"),
        (found.tasks, render.TASKS, "tasks.py"),
    ):
        if name != own:
            found.notes.append(f"{own} is the project's own and stays as it is: the suite's are in {name}")
        write(root / name, text, force, said)
    write_ci(root, found, force, said, github=ci, gitlab=gitlab)
    ignore = (root / ".gitignore").read_text(encoding="utf-8") if (root / ".gitignore").is_file() else ""
    missing = [entry for entry in (env_file, ".dockstage/") if not ignored(ignore, entry)]
    if missing:
        found.notes.append(f"add {' and '.join(missing)} to .gitignore (secrets; the suite's state)")
    hidden = hidden_migrations(root, root / found.app_dir)
    if hidden:
        found.notes.append(
            f"git ignores the migrations of {', '.join(hidden)}: no checkout, no CI run and no image has them "
            "(the images hold what git tracks), so migrate there makes none of their tables: stop ignoring them "
            "in .gitignore, make them (`invoke makemigrations`) and commit them"
        )
    listed = [*found.requirements.runtime, *found.requirements.dev, *found.requirements.test]
    unkept = ignored_files(root, listed)
    if unkept:
        it = "it" if len(unkept) == 1 else "them"
        found.notes.append(
            f"git ignores {', '.join(unkept)} and does not track {it}: no build has {it} (the images hold what git "
            f"tracks): commit {it} (`git add -f`), or stop ignoring {it} in .gitignore"
        )
    return found, said


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dockstage", description="dockstage: Django + MySQL in containers")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser(
        "init",
        help="adopt the suite in a Django project: [tool.dockstage], .env.example, noxfile.py, tasks.py, CI workflow",
    )
    command.add_argument("path", nargs="?", default=".", help="the project (default: here)")
    command.add_argument("--force", action="store_true", help="replace files (and [tool.dockstage]) that exist")
    command.add_argument(
        "--eject", action="store_true", help="copy the suite's Dockerfile, compose files and helpers into the project"
    )
    command.add_argument(
        "--no-probe",
        action="store_true",
        help="do not build the dev image to import the settings (names are then read from the text only)",
    )
    command.add_argument("--no-ci", action="store_true", help=f"do not write the GitHub workflow {workflow.GITHUB}")
    command.add_argument("--gitlab", action="store_true", help=f"also write {workflow.GITLAB} (GitLab CI)")
    args = parser.parse_args(argv)
    try:
        found, said = init(
            Path(args.path),
            force=args.force,
            do_eject=args.eject,
            probe=not args.no_probe,
            ci=not args.no_ci,
            gitlab=args.gitlab,
        )
    except DockstageError as exc:
        print(exc.one_line(), file=sys.stderr)
        return exc.return_code
    print(f"dockstage init: {found.root}")
    for line in found.found:
        print(f"found  {line}")
    for line in said:
        print(line)
    for line in found.notes:
        print(f"check  {line}")
    if found.unprobed:
        code, why = found.unprobed
        print(
            f"partial: settings not probed ({why}); [tool.dockstage] is read from the settings' text only: "
            "fix the cause (the build output is above) and run `dockstage init --force`",
            file=sys.stderr,
        )
        return code
    print(
        f"next   `{nox_command(found)} -s pipeline` (builds, tests, smoke-tests); "
        f"`{invoke_command(found)} up` for the stack"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
