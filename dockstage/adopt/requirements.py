"""The project's requirement sets (runtime, dev, test) and what they imply (Django, Python, apt)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from dockstage.adopt import poetry
from dockstage.core.errors import ConfigError
from dockstage.core.files import read_text_any
from dockstage.images import locks

_DJANGO = re.compile(
    r"^\s*[\"']?django(?![-_.\w])\s*(?:\[[^\]]*\])?\s*([<>=~!][^;#\"'\n]*)?", re.IGNORECASE | re.MULTILINE
)
_BOUND = re.compile(r"(==|~=|>=|>)\s*(\d+)(?:\.(\d+))?")
_GENERATED_WITH = re.compile(r"startproject' using Django (\d+)\.(\d+)")
_INCLUDE = re.compile(r"^\s*(?:-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)", re.MULTILINE)
RUNTIME_NAMES = ("production", "prod", "requirements", "base", "common", "main", "deploy")
DEV_NAMES = ("dev", "develop", "development", "local")
TEST_NAMES = ("test", "tests", "testing", "ci")
DJANGO_PYTHON = ((6, 0, "3.12"), (5, 0, "3.10"), (4, 0, "3.8"))
"""The lowest Python of a Django release line (its release notes)."""
DJANGO_NEWEST_PYTHON = {
    (1, 8): "3.5", (1, 9): "3.5", (1, 10): "3.5", (1, 11): "3.7", (2, 0): "3.7", (2, 1): "3.7",
    (2, 2): "3.9", (3, 0): "3.9", (3, 1): "3.9", (3, 2): "3.10", (4, 0): "3.10", (4, 1): "3.11",
    (4, 2): "3.12", (5, 0): "3.12", (5, 1): "3.13",
}  # fmt: skip
"""The newest Python a Django release line supports (Django's FAQ), for the lines below 5.2."""
_PINNED_LINE = re.compile(r"(?:==|~=)\s*(\d+)\.(\d+)\.\d+|==\s*(\d+)\.(\d+)(?:\.\*)?\s*(?:$|,)")
_UPPER = re.compile(r"<(=?)\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?")
APT = {
    "psycopg2": ("libpq-dev", "libpq5"),
    "psycopg2-binary": ("libpq-dev", ""),  # an old pin has no wheel for a newer Python: its sdist builds
    "python-ldap": ("libldap2-dev libsasl2-dev", ""),
    "django-auth-ldap": ("libldap2-dev libsasl2-dev", ""),  # requires python-ldap
    "pycairo": ("libcairo2-dev", "libcairo2"),
    "python-magic": ("libmagic-dev", ""),  # loads libmagic through ctypes
    "weasyprint": ("libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0", ""),  # opens them through cffi
    "pyodbc": ("unixodbc-dev", ""),  # its wheels link libodbc.so.2 and do not bundle it
    "mssql-django": ("unixodbc-dev", ""),  # requires pyodbc (BBIB's requirements name only this)
}
"""Packages that need Debian's headers or libraries: (apt-build, apt-runtime). An empty runtime is
learned by the build (runtimelibs.py: the libraries the built code and those headers' links load),
so no release-specific name (libldap-2.5-0 on bookworm, libldap2 on trixie) is written down."""


_PSYCOPG = re.compile(r"^\s*[\"']?psycopg(?:\[([^\]]*)\])?(?![-_.\w\[])", re.IGNORECASE | re.MULTILINE)


MADE_NOTE = "no requirements file found: the runtime set is "
"""How init's note on its own runtime set begins (made_note: it is said again when the set grows)."""


def made_note(runtime: list[str], why: str = "") -> str:
    """The note on init's own runtime set (the project lists no requirements); `why`: what made it
    grow, said after the set."""
    return f"{MADE_NOTE}{', '.join(runtime)!r}{why}; list your dependencies in requirements"


@dataclass
class Requirements:
    """The requirement entries of each set ([tool.dockstage] requirements, dev-..., test-...)."""

    runtime: list[str] = field(default_factory=list)
    dev: list[str] = field(default_factory=list)
    test: list[str] = field(default_factory=list)
    test_extra: list[str] = field(default_factory=list)  # package specs the test command needs
    texts: list[str] = field(default_factory=list)  # every requirement text read (includes too)
    django: str = ""  # the Django requirement found, e.g. "Django>=5.2,<6"
    apt_build: list[str] = field(default_factory=list)
    apt_runtime: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    made: bool = False  # no requirements file: the runtime set is init's own (it may add to it)

    def add_made(self, package: str, why: str) -> None:
        """Add `package` to init's own runtime set (`why`: what in the project needs it), the note
        on that set naming it too."""
        self.runtime.append(package)
        self.texts.append(package)
        self.notes = [made_note(self.runtime) if note.startswith(MADE_NOTE) else note for note in self.notes]
        self.notes.append(f"{package} is in the runtime set: {why}")

    def mentions(self, package: str) -> bool:
        wanted = re.sub(r"[-_.]+", "-", package.lower())
        name = "[-_.]".join(re.escape(part) for part in wanted.split("-"))
        pattern = re.compile(rf"^\s*[\"']?{name}(?![-_.\w])", re.IGNORECASE | re.MULTILINE)
        return any(pattern.search(text) for text in self.texts) or any(
            re.sub(r"[-_.]+", "-", e.lower()).startswith(wanted) for e in self.test_extra
        )

    def django_python_floor(self) -> str:
        """The lowest Python the Django requirement allows ('' when unknown)."""
        bounds = [(int(major), int(minor or 0)) for _, major, minor in _BOUND.findall(self.django)]
        if not bounds:
            return ""
        lowest = min(bounds)
        return next((python for major, minor, python in DJANGO_PYTHON if lowest >= (major, minor)), "")

    def django_python_ceiling(self) -> str:
        """The newest Python the newest Django line the requirement allows supports ('' when the
        requirement does not cap it below 5.2): Django==2.2.28 gives 3.9, Django>=3.2,<4.0 3.10."""
        pinned = _PINNED_LINE.search(self.django)
        if pinned:
            line = tuple(int(g) for g in pinned.groups() if g is not None)
            return DJANGO_NEWEST_PYTHON.get((line[0], line[1]), "")
        upper = _UPPER.search(self.django)
        if upper is None:
            return ""
        equal, upper_major, upper_minor, patch = upper.groups()
        bound = (int(upper_major), int(upper_minor or 0))
        inclusive = bool(equal) or int(patch or 0) > 0  # <=3.2 and <3.2.5 allow the 3.2 line
        allowed = [line for line in DJANGO_NEWEST_PYTHON if line < bound or (inclusive and line == bound)]
        return DJANGO_NEWEST_PYTHON[max(allowed)] if allowed and bound <= (5, 2) else ""

    def describe(self) -> list[str]:
        shown = [
            f"{name}: {', '.join(entries)}"
            for name, entries in (("runtime", self.runtime), ("dev", self.dev), ("test", self.test + self.test_extra))
            if entries
        ]
        return [f"requirements: {'; '.join(shown) or 'none'}"] + ([f"Django: {self.django}"] if self.django else [])


SPELLINGS = ("requirements", "requeriments", "requirments", "requirement")
"""How projects spell the file: requeriments.txt (PabloColetti/esqueleto_web), requirement.txt."""
_SPELLED = re.compile(rf"^(?:{'|'.join(SPELLINGS)})", re.IGNORECASE)


def _files(directory: Path) -> list[Path]:
    found = [p for p in directory.glob("*.txt") if _SPELLED.match(p.name)]
    found += directory.glob("requirements/*.txt")
    return sorted({p for p in found if p.is_file()}, key=str)


NESTED_DEPTH = 3
"""How far below the project root requirement files are looked for when none is at the usual places."""
_NOT_SOURCE = {"node_modules", "site-packages", "__pycache__", "venv", "env", "dist", "static", "media"}


def _build_output(folder: Path) -> bool:
    """A setuptools build/ folder (lib/, lib.*, bdist.*): not a build/ of deployment files
    (nekrassov01/docker-django-blog keeps build/django/Dockerfile and its requirements.txt there)."""
    if folder.name.lower() != "build":
        return False
    try:
        return any(p.is_dir() and p.name.startswith(("lib", "bdist.", "temp.")) for p in folder.iterdir())
    except OSError:
        return True


_NOT_THE_APPS = {"docs", "doc", "documentation"}
"""Folders whose plain requirements.txt is not the app's (Sphinx's, Read the Docs')."""


def nested_files(root: Path, depth: int = NESTED_DEPTH) -> list[Path]:
    """`requirements*.txt` files further down (a folder per environment: Envs/Production/
    requirements.txt), outside hidden folders, virtualenvs and build output."""
    found: list[Path] = []
    folders = [root]
    for _ in range(depth):
        below = []
        for folder in folders:
            try:
                entries = sorted(folder.iterdir())
            except OSError:
                continue
            for entry in entries:
                if entry.is_dir() and not entry.is_symlink():
                    skipped = entry.name.startswith(".") or entry.name.lower() in _NOT_SOURCE or _build_output(entry)
                    if not skipped and not (entry / "pyvenv.cfg").exists():
                        below.append(entry)
                elif folder != root and _SPELLED.match(entry.name) and entry.suffix == ".txt":
                    found.append(entry)
        folders = below
    return found


def _stem(path: Path) -> str:
    """The file's stem without its `requirements` (as SPELLINGS): 'dev' of requirements-dev.txt."""
    return _SPELLED.sub("", path.stem.lower()).strip("-_.")


def _label(path: Path, nested: bool = False) -> str:
    """The name a requirements file is known by: its stem without `requirements` (as SPELLINGS); a nested plain
    requirements.txt goes by its folder's name (Envs/Production/requirements.txt: production)."""
    stem = _stem(path)
    if not stem and nested and path.parent.name.lower() != "requirements":
        return path.parent.name.lower()
    return stem or "requirements"


def _kind(path: Path, nested: bool = False) -> str:
    words = set(re.split(r"[-_. ]+", _label(path, nested)))
    if words & set(TEST_NAMES):
        return "test"
    if words & set(DEV_NAMES):
        return "dev"
    if words & set(RUNTIME_NAMES):
        return "runtime"
    if nested and not _stem(path) and path.parent.name.lower() not in _NOT_THE_APPS:
        return "runtime"  # a plain one in a folder of no environment's name (backend/): after the named ones
    return ""


def _texts(path: Path, seen: set[Path]) -> list[str]:
    """The text of a requirements file and of every file it includes."""
    path = path.resolve()
    if path in seen or not path.is_file():
        return []
    seen.add(path)
    text = read_text_any(path)
    out = [text]
    for include in _INCLUDE.findall(text):
        out += _texts(path.parent / include, seen)
    return out


def _groups(pyproject: dict[str, object], kind: str) -> list[str]:
    """The lock groups of a kind (dev, test) the pyproject declares: PEP 735 groups, uv's dev, poetry's."""
    names = DEV_NAMES if kind == "dev" else TEST_NAMES
    groups = pyproject.get("dependency-groups", {})
    tool = pyproject.get("tool", {})
    tool = tool if isinstance(tool, dict) else {}
    poetry = tool.get("poetry", {}) if isinstance(tool.get("poetry"), dict) else {}
    declared = set(groups) if isinstance(groups, dict) else set()
    declared |= set(poetry.get("group", {})) if isinstance(poetry.get("group"), dict) else set()
    uv = tool.get("uv", {})
    if isinstance(uv, dict) and uv.get("dev-dependencies"):
        declared.add("dev")
    if poetry.get("dev-dependencies"):
        declared.add("dev")
    return [n for n in names if n in declared][:1]


def _locks(found: Requirements, root: Path, pyproject: dict[str, object], prefix: str = "") -> bool:
    """A uv.lock or poetry.lock beside pyproject.toml is what the build installs: its exact versions.
    `prefix`: the folder of a lock below the project root (the app dir's), as entries name it."""
    lock = next((name for name in ("uv.lock", "poetry.lock") if (root / name).is_file()), "")
    if not lock or not (root / "pyproject.toml").is_file():
        return False
    found.runtime = [f"{prefix}{lock}"]
    for kind in ("dev", "test"):
        groups = _groups(pyproject, kind)
        if groups:
            setattr(found, kind, [f"{prefix}{lock}:{groups[0]}"])
    found.notes.append(f"{prefix}{lock} found: the build installs its exact versions (runtime set, then its groups)")
    return True


def poetry_table(pyproject: dict[str, object]) -> dict[str, object]:
    """[tool.poetry] ({} when there is none)."""
    tool = pyproject.get("tool", {})
    table = tool.get("poetry", {}) if isinstance(tool, dict) else {}
    return table if isinstance(table, dict) else {}


def _poetry(found: Requirements, pyproject: dict[str, object], locked: bool = False) -> None:
    """[tool.poetry.dependencies] (and its dev/test groups) as package specs, for the sets nothing
    else gave (a poetry.lock, read after this, wins: its exact versions)."""
    table = poetry_table(pyproject)
    groups = table.get("group", {})
    groups = groups if isinstance(groups, dict) else {}
    sets = {
        "runtime": poetry.requirements(table.get("dependencies")),
        "dev": poetry.requirements(
            (groups.get("dev") or {}).get("dependencies") if isinstance(groups.get("dev"), dict) else None
        )
        or poetry.requirements(table.get("dev-dependencies")),
        "test": next(
            (poetry.requirements(groups[n].get("dependencies")) for n in TEST_NAMES if isinstance(groups.get(n), dict)),
            [],
        ),
    }
    used = [kind for kind, specs in sets.items() if specs and not getattr(found, kind)]
    for kind in used:
        setattr(found, kind, sets[kind])
        found.texts.append("\n".join(sets[kind]))
    if "runtime" in used and not locked:
        found.notes.append(
            "[tool.poetry.dependencies] read as package specs (^ and ~ as Poetry reads them); without a "
            "poetry.lock the build resolves their newest allowed versions"
        )


def _runtime_files(ranked: list[Path]) -> list[Path]:
    """The runtime files to install, best-named first: the first alone when it (with what it
    includes) names Django; else it is an add-on (``requirements_prod.txt`` holding only the
    database driver) and the next files join it until Django is named."""
    chosen: list[Path] = []
    for path in ranked:
        chosen.append(path)
        if any(_DJANGO.search(text) for text in _texts(path, set())):
            return chosen
    return ranked[:1]


def _pipenv(found: Requirements, root: Path, app: Path) -> None:
    """A Pipfile.lock (the project root's, else the app dir's): its default section is the runtime
    set and its develop section the dev set, at their locked versions."""
    lock = next((folder / "Pipfile.lock" for folder in (root, app) if (folder / "Pipfile.lock").is_file()), None)
    if lock is None:
        if (root / "Pipfile").is_file() or (app / "Pipfile").is_file():
            found.notes.append("a Pipfile without its Pipfile.lock: run `pipenv lock` and commit the lock")
        return
    entry = lock.relative_to(root).as_posix()
    text = read_text_any(lock)
    try:
        runtime = locks.pipenv_requirements(text, "default")
        develop = locks.pipenv_requirements(text, "develop")
    except ConfigError as exc:
        found.notes.append(f"{entry} is not readable ({exc.what}): list your dependencies in requirements")
        return
    found.runtime = [entry]
    found.texts.append("\n".join(runtime))
    if develop and not found.dev:
        found.dev = [f"{entry}:develop"]
        found.texts.append("\n".join(develop))
    found.notes.append(f"{entry} found: the build installs its exact versions (default, then develop for dev)")


def find_requirements(root: Path, app: Path, pyproject: dict[str, object], settings_text: str) -> Requirements:
    """The requirement sets of the project, with notes for what the suite cannot read."""
    found = Requirements()
    # The root, each folder between it and the app dir (a project/requirements/ beside the Django
    # project's own folder, as dariomolina/etermax-challenge has), then the app dir.
    between = [folder for folder in reversed(app.parents) if root in folder.parents]
    files = [path for folder in dict.fromkeys([root, *between, app]) for path in _files(folder)]
    nested = not files  # none at the usual places: a folder per environment, further down
    if nested:
        files = nested_files(root)
    by_kind: dict[str, list[Path]] = {"runtime": [], "dev": [], "test": []}
    for path in files:
        kind = _kind(path, nested)
        if kind:
            by_kind[kind].append(path)
    runtime = sorted(
        by_kind["runtime"],
        key=lambda p: (
            next((i for i, n in enumerate(RUNTIME_NAMES) if n in (_label(p, True) if nested else p.stem.lower())), 99),
            not any(_DJANGO.search(text) for text in _texts(p, set())),  # then the ones naming Django
        ),
    )
    if not runtime and by_kind["dev"] and any(_DJANGO.search(t) for t in _texts(by_kind["dev"][0], set())):
        # The only set is named for development (requirements/local.txt): the project installs it everywhere.
        runtime = by_kind["dev"][:1]
        found.notes.append(
            f"{runtime[0].relative_to(root).as_posix()} is the only requirements file that names Django: it is "
            "the runtime set (prod holds what it lists); name one for production (requirements/production.txt) "
            "when prod needs less"
        )
    chosen = _runtime_files(runtime)
    found.runtime = [p.relative_to(root).as_posix() for p in chosen]
    found.dev = [p.relative_to(root).as_posix() for p in by_kind["dev"][:1] if p not in chosen]
    found.test = [p.relative_to(root).as_posix() for p in by_kind["test"][:1]]
    seen: set[Path] = set()
    for path in dict.fromkeys([*chosen, *by_kind["dev"][:1], *by_kind["test"][:1]]):
        found.texts += _texts(path, seen)
    project = pyproject.get("project", {})
    project = project if isinstance(project, dict) else {}
    dependencies = project.get("dependencies")
    if isinstance(dependencies, list) and dependencies:
        found.texts.append("\n".join(str(d) for d in dependencies))
        if not found.runtime:
            found.runtime = ["pyproject.toml"]
    groups = pyproject.get("dependency-groups", {})
    extras = project.get("optional-dependencies", {})
    for kind, names in (("dev", DEV_NAMES), ("test", TEST_NAMES)):
        if getattr(found, kind):
            continue
        group = next((n for n in names if isinstance(groups, dict) and n in groups), "")
        extra = next((n for n in names if isinstance(extras, dict) and n in extras), "")
        if group:
            setattr(found, kind, [f"pyproject.toml:{group}"])
            found.texts.append("\n".join(str(d) for d in groups[group] if isinstance(d, str)))  # type: ignore[index]
        elif extra:
            setattr(found, kind, [f"pyproject.toml[{extra}]"])
            found.texts.append("\n".join(str(d) for d in extras[extra]))
    _poetry(found, pyproject, locked=(root / "poetry.lock").is_file())
    if not _locks(found, root, pyproject) and app != root and (app / "pyproject.toml").is_file():
        try:  # the lock beside the app dir's own pyproject.toml (app/uv.lock, the project's commands run there)
            own = tomllib.loads(read_text_any(app / "pyproject.toml"))
        except tomllib.TOMLDecodeError:
            own = {}
        if _locks(found, app, own, prefix=f"{app.relative_to(root).as_posix()}/"):
            project = own.get("project", {})
            listed = project.get("dependencies") if isinstance(project, dict) else None
            found.texts.append("\n".join(str(d) for d in listed) if isinstance(listed, list) else "")
    if not found.runtime:
        _pipenv(found, root, app)
    match = next((m for text in found.texts for m in _DJANGO.finditer(text)), None)
    if match:
        found.django = f"Django{(match.group(1) or '').strip()}"
    if not found.runtime:
        made = _GENERATED_WITH.search(settings_text)
        spec = f"Django~={made.group(1)}.{made.group(2)}.0" if made else "Django"
        found.runtime, found.django, found.made = [spec], spec, True
        found.texts.append(spec)
        found.notes.append(made_note(found.runtime))
    for package, (build, runtime_libs) in APT.items():
        if found.mentions(package) and not found.mentions(f"{package}-binary"):
            found.apt_build += [name for name in build.split() if name not in found.apt_build]
            found.apt_runtime += [name for name in runtime_libs.split() if name not in found.apt_runtime]
    _psycopg(found)
    if any(_VCS.search(text) for text in found.texts) and "git" not in found.apt_build:
        found.apt_build.append("git")  # uv clones `pkg @ git+https://...` itself, with the git command
        found.notes.append("a requirement comes from a git repository: git is in apt-build (the dev build clones it)")
    _servers_replaced(found)
    frozen: dict[str, str] = {m[1]: m[2] for text in found.texts for m in _FROZEN_PATH.finditer(text)}
    if frozen:
        first, where = next(iter(frozen.items()))
        named = f"{first} is" if len(frozen) == 1 else f"{len(frozen)} requirements ({', '.join(frozen)}) are"
        found.notes.append(
            f"{named} required from a folder of the machine that wrote the requirements ({where}: pip freeze "
            "writes `name @ file:///...` for a package installed from one), and no build has it: require a "
            "release from the index (name==version), or drop the line when the app does not import it"
        )
    return found


SERVERS_REPLACED = {
    "mod-wsgi-httpd": "compiles the Apache httpd from source in every cold build (over 15 minutes here)",
    "mod-wsgi-standalone": "compiles mod_wsgi and the Apache httpd from source",
    "mod-wsgi": "compiles against the Apache headers",
    "uwsgi": "compiles its C server",
    "pyuwsgi": "",
}
"""Servers a project deployed with before that the suite's images replace (they serve with gunicorn),
each with what it costs a build. data/install.py, which cannot import this package, keeps its own
set (uwsgi, pyuwsgi, mod-wsgi) for the line it adds when one of them fails to build."""


def _servers_replaced(found: Requirements) -> None:
    """Say, before any build, which runtime requirements are servers the images do not run
    (garzamorada/Docker-Django_Mysql_Apache: mod_wsgi-httpd built Apache for over 15 minutes
    inside init's first dev build)."""
    listed = [name for name in SERVERS_REPLACED if found.mentions(name)]
    if not listed:
        return
    costs = "; ".join(f"{name} {SERVERS_REPLACED[name]}" for name in listed if SERVERS_REPLACED[name])
    found.notes.append(
        f"{', '.join(listed)}: {'a server' if len(listed) == 1 else 'servers'} the images do not run (they serve "
        f"the app with gunicorn){f'; {costs}' if costs else ''}: leave {'it' if len(listed) == 1 else 'them'} out of "
        "the runtime requirements unless the app's own code imports them"
    )


_VCS = re.compile(r"(?:^|[\s@=])git\+(?:https?|ssh|git)://", re.M)
_FROZEN_PATH = re.compile(r"^\s*([A-Za-z0-9][\w.-]*)\s*@\s*(file:///\S+)", re.M)
"""`name @ file:///home/...`: pip freeze's line for a package installed from a folder (conda's
`@ file:///croot/...` builds too): absolute, outside any build context."""


def _psycopg(found: Requirements) -> None:
    """psycopg 3 links libpq unless it is psycopg[binary]: psycopg[c] compiles against it (libpq-dev
    to build), and plain psycopg loads it at run time (libpq5)."""
    for text in found.texts:
        for match in _PSYCOPG.finditer(text):
            extras = {e.strip().lower() for e in (match.group(1) or "").split(",")}
            if "binary" in extras:
                continue
            if "c" in extras and "libpq-dev" not in found.apt_build:
                found.apt_build.append("libpq-dev")
            if "libpq5" not in found.apt_runtime:
                found.apt_runtime.append("libpq5")
