"""Build helper (dev and test stages): install one requirement set into a venv with uv.

`python3 install.py VENV SETDIR [PINS]`: SETDIR holds the set's requirement files as the project has
them (dockstage stages them, includes too) and `args`, uv's arguments one per line. A set from a uv
lock also has `export`: `uv export --frozen` runs first (its arguments, one per line; the lock and
pyproject.toml are staged beside it) and its pinned list is installed.

PINS (the dev and test tools, installed into the runtime venv in the dev and test stages only):
the app's runtime set as `name==version` lines. The tools install under them as constraints, so a
tool can never bring another Django than the app's: when a tool needs one, the install stops
naming both versions, and an install that changed an app package anyway is refused. One Django,
the one prod has.

When uv finds no solution because of the Python version, the last line says which version to set.
A source build that failed on a build tool newer than it was made for (an old setup.py importing
convert_path, gone in setuptools 70, or pkg_resources, gone in 81; PyYAML 5.4 on Cython 3) is tried
again with the release line before that in the build environments (uv's build constraints), and
says so.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

UV = "/opt/uv/bin/uv"
PYTHON_CONFLICT = re.compile(
    r"current Python version \(([\d.]+)\) does not satisfy Python\s*([<>=!~][^\s,]+(?:,\s*[<>=!~][^\s,]+)*)"
)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    """`name==version` lines (uv pip freeze) as canonical name -> version."""
    found = {}
    for line in text.splitlines():
        match = _PIN.match(line.strip())
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def mismatches(app: dict[str, str], tools: dict[str, str]) -> list[str]:
    """Packages the tools' venv holds at another version than the app's, each with both versions."""
    return [
        f"{name} {tools[name]} (tools) vs {app[name]} (app)"
        for name in sorted(app)
        if tools.get(name, app[name]) != app[name]
    ]


def freeze(venv: str) -> dict[str, str]:
    done = subprocess.run(
        [UV, "pip", "freeze", "--python", f"{venv}/bin/python"], capture_output=True, text=True, check=True
    )
    return pins(done.stdout)


def export(setdir: Path) -> list[str]:
    """`uv export --frozen` of the staged lock into `locked.txt`; uv's arguments to install it."""
    lines = [line for line in (setdir / "export").read_text(encoding="utf-8").splitlines() if line]
    project, arguments = lines[0], lines[1:]
    command = [UV, "export", "-q", "--frozen", "--no-hashes", "--no-emit-project", "--no-header", *arguments]
    command += ["--project", str(setdir / project), "-o", str(setdir / "locked.txt")]
    print(f"dockstage: uv export {' '.join(arguments)} ({project}/uv.lock)", flush=True)
    subprocess.run(command, check=True)
    return ["-r", "locked.txt"]


def main(venv: str, setdir: str, pinned: str = "") -> int:
    folder = Path(setdir)
    args = [line for line in (folder / "args").read_text(encoding="utf-8").splitlines() if line]
    if (folder / "export").is_file():
        try:
            args = [*export(folder), *args]
        except subprocess.CalledProcessError as exc:
            print(
                f"dockstage: `uv export --frozen` failed (exit {exc.returncode}): run `uv lock` and commit uv.lock",
                file=sys.stderr,
            )
            return exc.returncode
    if not args:
        print(f"dockstage: no requirements for {folder.name}")
        return 0
    constraints = ["-c", pinned] if pinned else []
    command = [UV, "pip", "install", "-q", "--python", f"{venv}/bin/python", *constraints, *args]
    result = subprocess.run(command, cwd=setdir, stderr=subprocess.PIPE, text=True, check=False)
    kept: list[str] = []  # build constraints learned from this set's failed builds
    while result.returncode and (older := too_new_for(result.stderr)) and older[2] not in kept:
        package, why, constraint = older
        kept.append(constraint)
        print(
            f"dockstage: {package}'s build {why}: building the set's sources again with {', '.join(kept)}", flush=True
        )
        constraints_file = Path(setdir) / "build-constraints.txt"
        constraints_file.write_text("\n".join(kept) + "\n", encoding="utf-8")
        if "--build-constraints" not in command:
            command = [*command[:4], "--build-constraints", str(constraints_file), *command[4:]]
        result = subprocess.run(command, cwd=setdir, stderr=subprocess.PIPE, text=True, check=False)
    sys.stderr.write(result.stderr)
    if result.returncode:
        conflict = PYTHON_CONFLICT.search(result.stderr)
        if conflict:
            have, needs = conflict.groups()
            print(
                f"dockstage: a requirement needs Python {needs} and this base image has {have}: set "
                f'python = "{needs}" in [tool.dockstage] (the trixie stand-ins have 3.13; official bases any version)',
                file=sys.stderr,
            )
        elif diagnosis := (
            source_build_failure(result.stderr)
            or not_on_index(result.stderr)
            or git_fetch_failure(result.stderr)
            or local_path_missing(result.stderr)
            or unreadable_line(result.stderr, setdir)
            or ("" if pinned else unsatisfiable(result.stderr, folder.name))
        ):
            print(diagnosis, file=sys.stderr)
        elif pinned:
            print(
                f"dockstage: error: the {folder.name} tools need versions other than the app's runtime set "
                "(uv's reason is above); fix: pick tool versions that accept the app's, or change the app's",
                file=sys.stderr,
            )
        return result.returncode
    if pinned:
        return unchanged(venv, pins(Path(pinned).read_text(encoding="utf-8")))
    broken = broken_at_run_time(freeze(venv))
    if broken:
        print(broken, file=sys.stderr)
        return 1
    return with_pkg_resources(venv, command, setdir)


RUN_TIME_FLOORS = {
    "mysqlclient": (
        (1, 4, 3),
        (3, 10),
        "its C module stops at the first query (PY_SSIZE_T_CLEAN macro must be defined)",
    ),
    "gunicorn": ((20, 0, 0), (3, 10), "its threaded workers import collections.Mapping, which Python 3.10 removed"),
}
"""Releases that install and import on a newer Python but fail when used: name -> (the first release
that works, the Python from which the older ones fail, how). Terrenceluo's mysqlclient==1.4.2.post1
built on 3.11 and its migrate died at the first query; 1.4.3 defines PY_SSIZE_T_CLEAN (PyMySQL/mysqlclient#360).
Its gunicorn==19.9.0 then never served: its own selectors module imports collections.Mapping (20.0
uses the standard library's)."""


def release(version: str) -> tuple[int, ...]:
    """A version's leading numbers: '1.4.2.post1' -> (1, 4, 2)."""
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:3])


def below_floor(name: str, version: str) -> tuple[str, str] | None:
    """(the first release that works, the Python the older ones predate) when `version` of `name` is one
    RUN_TIME_FLOORS knows fails on this Python, else None."""
    if name not in RUN_TIME_FLOORS:
        return None
    first, since, _ = RUN_TIME_FLOORS[name]
    if sys.version_info[:2] < since or release(version) >= first:
        return None
    return ".".join(map(str, first)), f"{since[0]}.{since[1]}"


def broken_at_run_time(installed: dict[str, str]) -> str:
    """The helper's line when the set installed releases RUN_TIME_FLOORS knows fail on this Python, else ''."""
    have = "{}.{}".format(*sys.version_info[:2])
    broken = {
        name: (version, *floor)
        for name in RUN_TIME_FLOORS
        if (version := installed.get(name)) and (floor := below_floor(name, version))
    }
    if not broken:
        return ""
    causes = "; and ".join(
        f"{name}=={version} installs on Python {have} but {RUN_TIME_FLOORS[name][2]}: its releases before {first} "
        f"predate Python {since}"
        for name, (version, first, since) in broken.items()
    )
    pins = ", ".join(f"{name} to {first}" for name, (_, first, _) in broken.items())
    return f"dockstage: error: {causes}; fix: raise {'its pin' if len(broken) == 1 else 'their pins'} ({pins}) or later"


NO_SOLUTION = re.compile(
    r"No solution found when resolving dependencies[^\n]*\n\s*(?:cause|Caused by|hint)?:?\s*((?:.*\n)*.*)"
)
_CAUSE_END = re.compile(r"\n(?=\S)|\n\s*hint:")
REASON_CHARS = 400


def unsatisfiable(stderr: str, set_name: str) -> str:
    """The helper's one line when the set's own pins contradict each other, with uv's reason (Drip's
    astroid 2.9.0 wants wrapt<1.14, and it pins wrapt 1.16.0), else ''."""
    found = NO_SOLUTION.search(stderr)
    if not found:
        return ""
    reason = " ".join(_CAUSE_END.split(found.group(1), maxsplit=1)[0].split()).removeprefix("\u2570\u2500\u25b6 ")
    if len(reason) > REASON_CHARS:  # its head, and its tail: the last sentence names the pin of the set's own
        reason = f"{reason[: REASON_CHARS // 3]} ... {reason[-(REASON_CHARS - REASON_CHARS // 3 - 5) :]}"
    return (
        f"dockstage: error: the {set_name} requirements cannot all be installed together ({reason}); "
        "fix: change one of the pins uv names, so they agree"
    )


NOT_FOUND = re.compile(r"(?:because|Because) ([\w.-]+) was not found in the package registry")
NO_VERSION = re.compile(r"(?:because|Because) there is no version of ([\w.\[\]-]+(?:[=<>!~]=?[^\s,]+)?)")


def not_on_index(stderr: str) -> str:
    """The helper's one line when uv found no such project, or no such version, on the index."""
    where = "on the package index the build uses (PyPI unless index-url is set in [tool.dockstage])"
    fix = "fix: check the name and version in the requirements (or the lock), or set index-url to the index that has it"
    missing = NOT_FOUND.search(stderr)
    if missing:
        return f"dockstage: error: {missing.group(1)} is not {where}; {fix}"
    version = NO_VERSION.search(stderr)
    if version:
        return f"dockstage: error: no release of {version.group(1)} is {where}; {fix}"
    return ""


GIT_FAILED = re.compile(r"(?:error|cause): Git operation failed")  # uv 0.5: error; later: a cause under it
GIT_URL = re.compile(r"`[^`]*git fetch [^`]*?'(\w+://[^']+)'")
GIT_FATAL = re.compile(r"^\s*fatal: (.+)$", re.MULTILINE)


def git_fetch_failure(stderr: str) -> str:
    """The helper's one line when a requirement from a git repository could not be fetched (gcd-django's
    git+https://github.com/... pins on a machine whose builds reach the package index only), else ''."""
    if not GIT_FAILED.search(stderr):
        return ""
    url = GIT_URL.search(stderr)
    fatal = GIT_FATAL.findall(stderr)
    what = f"the requirement from {url.group(1)}" if url else "a requirement from a git repository"
    why = f" ({fatal[-1].strip()})" if fatal else ""
    return (
        f"dockstage: error: fetching {what} failed{why}; fix: the build clones it, so its host must be "
        "reachable from builds here (HTTPS_PROXY), or require a release from the package index instead"
    )


UNREADABLE = re.compile(r"Couldn't parse requirement in `([^`]+)` at position (\d+)\s*\n\s*(?:cause: )?([^\n]+)")


def unreadable_line(stderr: str, setdir: str) -> str:
    """The helper's one line when a requirements file holds a line uv cannot read, with that line
    (ildartoronto/docker-django-react-mysql's `djangorestframework~>3.9.1`: Ruby's operator), else ''."""
    found = UNREADABLE.search(stderr)
    if found is None:
        return ""
    name, position, cause = found.group(1), int(found.group(2)), found.group(3).strip()
    try:
        text = (Path(setdir) / name).read_text(encoding="utf-8")
    except OSError:
        text = ""
    number = text.count("\n", 0, position) + 1
    lines = text.splitlines()
    line = lines[number - 1].strip() if number <= len(lines) else ""
    shown = f"line {number}, `{line}`: " if line else ""
    return (
        f"dockstage: error: {name} has a line uv cannot read ({shown}{cause}); fix: write it as a requirement "
        "(name, then an operator such as == >= ~= and a version)"
    )


LOCAL_PATH = re.compile(r"Distribution not found at: (file://\S+)")


def local_path_missing(stderr: str) -> str:
    """The helper's one line when a requirement points at a folder of the machine that wrote the
    requirements (`pip freeze` writes `name @ file:///home/...` for what was installed from one:
    100ASSASSIN's command-ai), else ''."""
    missing = LOCAL_PATH.search(stderr)
    if missing is None:
        return ""
    return (
        f"dockstage: error: a requirement points at {missing.group(1)}, a folder of the machine that wrote "
        "the requirements (pip freeze writes `name @ file:///...` for a package installed from a folder), and no "
        "build has it; fix: require a release from the package index there (name==version), or drop the line "
        "when the app does not import it"
    )


FAILED_BUILD = re.compile(r"Failed to build `([^`]+)`")  # uv wraps a long name: its spaces are made one
BACKEND_ERROR = re.compile(r"The build backend returned an error")
MISSING_HEADER = re.compile(r"fatal error: ([\w./+-]+\.h): No such file or directory")
PYTHON_INTERNALS = re.compile(
    r"error: .*[\u2018'](?:_?Py[A-Z]\w*|struct _(?:frame|ts))[\u2019']"
    r"|fatal error: (?:longintrepr|eval|code|cellobject|classobject|context|funcobject|genobject)\.h: No such file"
)
"""A C extension written against Python internals a newer Python changed: 3.11 moved longintrepr.h,
code.h (typed-ast 1.5.1, Drip's pins) and the other non-limited headers into cpython/, removed
eval.h, and reshaped the frame and thread state (uWSGI 2.0.19: `PyThreadState` has no member `frame`)."""
STDLIB_GONE = re.compile(
    r"cannot import name '(\w+)' from '([\w.]+)' \([^)]*/python3\.\d+/(?![^)]*site-packages)[^)]*\)"
)
"""An old package's own code importing a name this Python's standard library no longer has, in its
build (Drip's wrapt 1.13.3: `cannot import name 'formatargspec' from 'inspect'`, gone in 3.11)."""
HEADER_PACKAGES = {
    "ffi.h": "libffi-dev",
    "libpq-fe.h": "libpq-dev",
    "ldap.h": "libldap2-dev",
    "lber.h": "libldap2-dev",
    "sasl/sasl.h": "libsasl2-dev",
    "libxml/xmlversion.h": "libxml2-dev",
    "libxslt/xsltconfig.h": "libxslt1-dev",
    "xmlsec/xmlsec.h": "libxmlsec1-dev",
    "jpeglib.h": "libjpeg-dev",
    "zlib.h": "zlib1g-dev",
    "openssl/opensslv.h": "libssl-dev",
    "openssl/ssl.h": "libssl-dev",
    "cairo.h": "libcairo2-dev",
    "krb5.h": "libkrb5-dev",
    "gssapi/gssapi.h": "libkrb5-dev",
    "yaml.h": "libyaml-dev",
    "pcre2.h": "libpcre2-dev",
    "sqlite3.h": "libsqlite3-dev",
    "lzma.h": "liblzma-dev",
    "bzlib.h": "libbz2-dev",
    "magic.h": "libmagic-dev",
    "gmp.h": "libgmp-dev",
    "postgresql/libpq-fe.h": "libpq-dev",
}
"""Headers source builds of common packages ask for, and the Debian package that has each (each
one in bookworm and trixie alike; PCRE 1's pcre.h is left to apt-file: trixie has no libpcre3-dev)."""


PILLOW_MISSING = re.compile(r"headers or library files could not be found for (\w+)")
PILLOW_PACKAGES = {"jpeg": "libjpeg-dev", "zlib": "zlib1g-dev", "freetype": "libfreetype-dev", "tiff": "libtiff-dev"}
PILLOW_NEEDS = ("libjpeg-dev", "zlib1g-dev")
"""Pillow's source build says which library it lacks, one at a time; jpeg and zlib it always needs."""


BACKPORTS = {
    "backports-zoneinfo": ("zoneinfo", "3.9"),
    "dataclasses": ("dataclasses", "3.7"),
    "enum34": ("enum", "3.4"),
}
"""Backports of standard library modules, pinned by projects made on an older Python: on the
Python that has the module they have nothing to build for (backports.zoneinfo 0.2.1, its last
release, does not compile on 3.11: RenjiKashii/django-docker-1)."""


OLDER_PYTHON = "(or, with the official bases, set python in [tool.dockstage] to an older Python it supports)"
"""The other way out of a package made for an older Python than the base image's."""


SERVERS_REPLACED = frozenset({"uwsgi", "pyuwsgi", "mod-wsgi"})
"""Servers a project deployed with before: the suite's images serve with gunicorn, so a runtime set
needs one of them only when the app's own code imports it (nissato-hitoshi/docker-django_mysql
pins uwsgi==2.0.18, which does not compile for 3.11)."""


def source_build_failure(stderr: str) -> str:
    """The helper's one line (cause; fix) when a package had to be compiled and failed, else ''."""
    failed = FAILED_BUILD.search(stderr)
    if not failed:
        return ""
    package = " ".join(failed.group(1).split())
    name = canonical(re.split(r"[=<>!~ ;\[]", package, maxsplit=1)[0])
    said = _source_build_failure(package, name, FAILED_BUILD.split(stderr[failed.end() :], maxsplit=1)[0])
    if name in SERVERS_REPLACED:
        said += f"; or leave {name} out of the runtime requirements: the images serve the app with gunicorn"
    return said


def _source_build_failure(package: str, name: str, stderr: str) -> str:
    """The line for `package` (canonical `name`), from its own build output `stderr`."""
    have = f"{sys.version_info.major}.{sys.version_info.minor}"
    if name in BACKPORTS:
        module, since = BACKPORTS[name]
        return (
            f"dockstage: error: {package} is a backport of the standard library's {module} for Pythons before "
            f"{since}, and does not build on Python {have}, which has {module} itself; fix: remove it from the "
            f'requirements, or mark it `; python_version < "{since}"`'
        )
    pinned = re.search(r"==\s*([\w.]+)", package)
    floor = below_floor(name, pinned.group(1)) if pinned else None
    if floor:  # aishenghuomeidaoli's mysqlclient==1.3.7
        return (
            f"dockstage: error: {package} does not build on Python {have}: its releases before {floor[0]} predate "
            f"Python {floor[1]}; fix: raise its pin to {floor[0]} or later"
        )
    if PYTHON_INTERNALS.search(stderr):
        return (
            f"dockstage: error: {package} does not compile for Python {have} (its C code uses Python internals "
            f"that changed after the release it was made for); fix: raise its pin to a release that supports "
            f"Python {have} {OLDER_PYTHON}"
        )
    gone = STDLIB_GONE.search(stderr)
    if gone and gone.group(2).split(".")[0] in sys.stdlib_module_names:
        return (
            f"dockstage: error: {package} does not build on Python {have}: its code uses "
            f"{gone.group(2)}.{gone.group(1)}, which Python {have} no longer has; fix: raise its pin to a release "
            f"made for Python {have} {OLDER_PYTHON}"
        )
    pillow = list(dict.fromkeys(PILLOW_MISSING.findall(stderr)))
    if pillow:
        debian = " ".join(
            dict.fromkeys([*(PILLOW_PACKAGES.get(name, f"lib{name}-dev") for name in pillow), *PILLOW_NEEDS])
        )
        return (
            f"dockstage: error: {package} has no wheel for Python {have} here and its source needs the "
            f"{', '.join(pillow)} headers; fix: add Debian's {debian} to apt-build in [tool.dockstage] "
            "(or raise its pin to a release with a wheel)"
        )
    header = MISSING_HEADER.search(stderr)
    if header and header.group(1).startswith("numpy/"):
        # numpy's headers come with numpy in the package's own build environment, never from Debian:
        # a release made before this Python (jefffang19's pandas==1.1.5 on 3.11) builds against none.
        return (
            f"dockstage: error: {package} has no wheel for Python {have} here and its source does not build "
            f"against the numpy its build installs ({header.group(1)} missing): the release predates Python "
            f"{have}; fix: raise its pin to a release with a wheel for Python {have}"
        )
    if header:
        name = header.group(1)
        debian = HEADER_PACKAGES.get(name)
        which = f"Debian's {debian}" if debian else f"the Debian -dev package that has it (`apt-file search {name}`)"
        return (
            f"dockstage: error: {package} has no wheel for Python {have} here and its source needs {name}; "
            f"fix: add {which} to apt-build in [tool.dockstage] (or raise its pin to a release with a wheel)"
        )
    return (
        f"dockstage: error: {package} has no wheel for Python {have} here and building it from source failed "
        "(the first error above says why); fix: raise its pin to a release with a wheel for this Python, or "
        "add what its build needs to apt-build in [tool.dockstage]"
    )


TOO_NEW = (
    (
        re.compile(r"cannot import name '(\w+)' from 'setuptools|module 'setuptools[\w.]*' has no attribute '(\w+)'"),
        "uses {name}, which setuptools 70 removed",
        "setuptools<70",
    ),
    (re.compile(r"No module named '(pkg_resources)'"), "uses {name}, which setuptools 81 removed", "setuptools<81"),
    # said either way: `AttributeError: cython_sources`, or as a newer setuptools says it
    # `AttributeError: 'build_ext' object has no attribute 'cython_sources'` (DRF-Starter's Pipfile.lock)
    (
        re.compile(r"AttributeError: (?:'\w+' object has no attribute ')?(cython_sources)"),
        "fails on Cython 3 ({name})",
        "Cython<3",
    ),
)
"""What an old sdist's build meets in a build environment of today's tools, how it is said, and the
build constraint it was made for: django-allauth 0.42's setup.py imports convert_path (gone in
setuptools 70; pkg_resources in 81); PyYAML 5.4.1's build breaks on Cython 3 (shynet's lock)."""


def too_new_for(stderr: str) -> tuple[str, str, str] | None:
    """(package, why, build constraint) of the first source build that failed on a build tool newer
    than it was made for, else None."""
    builds = list(FAILED_BUILD.finditer(stderr))
    parts = [
        (
            " ".join(failed.group(1).split()),
            stderr[failed.end() : builds[i + 1].start() if i + 1 < len(builds) else None],
        )
        for i, failed in enumerate(builds)
    ]
    if not builds and BACKEND_ERROR.search(stderr):  # a plain path requirement (./vendor/x): uv names none
        parts = [("a local package", stderr)]
    for package, own in parts:  # each build's own output only
        for pattern, why, constraint in TOO_NEW:
            found = pattern.search(own)
            if found:
                return package, why.format(name=next(n for n in found.groups() if n)), constraint
    return None


OLD_IMPORT = r"^\s*(import|from)\s+pkg_resources\b"
KEEPS_PKG_RESOURCES = "setuptools<81"
"""setuptools 81 removed pkg_resources (its own warning said: pin to Setuptools<81)."""


def pkg_resources_users(venv: str) -> list[str]:
    """The installed packages whose code imports pkg_resources (setuptools' own files aside)."""
    found = subprocess.run(
        ["grep", "-rlE", "--include=*.py", OLD_IMPORT, f"{venv}/lib"], capture_output=True, text=True
    ).stdout.split()
    parts = [Path(path).relative_to(venv).parts for path in found]  # lib/pythonX.Y/site-packages/<name>...
    names = {part[3].removesuffix(".py") for part in parts if len(part) > 3}
    return sorted(names - {"setuptools", "pkg_resources", "_distutils_hack", "pip"})


def with_pkg_resources(venv: str, command: list[str], setdir: str) -> int:
    """A fresh venv gets the newest setuptools, which has no pkg_resources; where installed code
    still imports it (django-countries 7, gunicorn 20), the set is installed again with the last
    setuptools that has it, as pip's environments with an older setuptools kept it."""
    users = pkg_resources_users(venv)
    probe = [f"{venv}/bin/python", "-c", "import pkg_resources"]
    if not users or subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return 0
    print(f"dockstage: {', '.join(users)} import pkg_resources: installing {KEEPS_PKG_RESOURCES}", flush=True)
    return subprocess.run([*command, KEEPS_PKG_RESOURCES], cwd=setdir, check=False).returncode


def unchanged(venv: str, app: dict[str, str]) -> int:
    """Refuse an install of tools that changed a version of the app's runtime set."""
    wrong = mismatches(app, freeze(venv))
    if wrong:
        print(
            f"dockstage: error: the tools changed the app's versions: {', '.join(wrong)}; "
            "fix: pick tool versions that accept the app's",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
