"""Stand-in base images for engines that cannot pull: Debian minbase, Python and MariaDB.

The root filesystem comes from debootstrap (the only subprocesses here: debootstrap and tar);
every Docker call goes through python-on-whales.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage import report
from dockstage.errors import BuildError, ConfigError, EngineError

FLAVOURS: tuple[str, ...] = ("bookworm", "trixie")
DOCKER_DIR = Path(__file__).resolve().parent.parent / "docker" / "offline"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
_PYTHON_VERSION = {"bookworm": "3.11", "trixie": "3.13"}
_MARIADB_VERSION = {"bookworm": "10.11", "trixie": "11.8"}
_DPKG_EXCLUDES = """\
# dockstage: keep later apt installs small, like the official slim images
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
"""
_TRIM = (
    "var/lib/apt/lists/*",
    "var/cache/apt/*",
    "var/cache/debconf/*-old",
    "var/log/*",
    "tmp/*",
    "usr/share/man/*",
    "usr/share/info/*",
    "usr/share/groff/*",
    "usr/share/lintian/*",
)


@dataclass(frozen=True)
class BaseImages:
    """The base images a stack is built on."""

    flavour: str  # "official" | "bookworm" | "trixie"
    python: str  # image reference
    mysql: str


@dataclass(frozen=True)
class BuiltBase:
    """One stand-in image: built now (built=True) or found already present."""

    tag: str
    size_bytes: int
    seconds: float
    built: bool


OFFICIAL = BaseImages("official", "python:3.12-slim", "mysql:8.4")


def _check_flavour(flavour: str) -> None:
    if flavour not in FLAVOURS:
        raise ConfigError(
            f"unknown base image flavour {flavour!r}",
            f"use one of official, auto, {', '.join(FLAVOURS)}",
        )


def rootfs_tag(flavour: str) -> str:
    """Tag of the imported debootstrap root filesystem."""
    return f"dockstage/debian:{flavour}-minbase"


def stand_in(flavour: str) -> BaseImages:
    """The stand-in image references of a Debian flavour."""
    _check_flavour(flavour)
    return BaseImages(
        flavour,
        f"dockstage/python:{_PYTHON_VERSION[flavour]}-{flavour}",
        f"dockstage/mariadb:{_MARIADB_VERSION[flavour]}-{flavour}",
    )


def _present_or_pullable(ref: str, docker: DockerClient) -> bool:
    if docker.image.exists(ref):
        return True
    try:
        docker.image.pull(ref, quiet=True)
    except DockerException:
        return False
    return True


_AUTO_CHOICE: dict[str, BaseImages] = {}


def resolve(flavour: str, docker: DockerClient) -> BaseImages:
    """'official'|'bookworm'|'trixie'|'auto'. auto: official when both official images are present
    locally or pullable, else bookworm."""
    if flavour == "official":
        return OFFICIAL
    if flavour == "auto":
        engine_key = os.environ.get("DOCKER_HOST", "")
        if engine_key not in _AUTO_CHOICE:  # one pull attempt per process and engine, not per call
            official = all(_present_or_pullable(ref, docker) for ref in (OFFICIAL.python, OFFICIAL.mysql))
            _AUTO_CHOICE[engine_key] = OFFICIAL if official else stand_in("bookworm")
        return _AUTO_CHOICE[engine_key]
    return stand_in(flavour)


def missing(bases: BaseImages, docker: DockerClient) -> list[str]:
    """Image references of `bases` not present locally."""
    return [ref for ref in (bases.python, bases.mysql) if not docker.image.exists(ref)]


def debian_mirror(
    sources: Path = Path("/etc/apt/sources.list.d/debian.sources"),
    sources_list: Path = Path("/etc/apt/sources.list"),
) -> str:
    """The host's Debian mirror: first URIs: of debian.sources, else first deb line, else default."""
    for path, pattern in (
        (sources, r"^URIs:\s*(\S+)"),
        (sources_list, r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)"),
    ):
        try:
            text = path.read_text()
        except OSError:
            continue
        match = re.search(pattern, text, re.MULTILINE)
        if match:
            return match.group(1).rstrip("/")
    return DEFAULT_MIRROR


def apt_sources(mirror: str, suite: str) -> str:
    """sources.list for the image: the suite and its updates, from the host's mirror."""
    return f"deb {mirror} {suite} main\ndeb {mirror} {suite}-updates main\n"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def trim_rootfs(root: Path, mirror: str, suite: str) -> None:
    """Remove caches, docs and locales; add the dpkg excludes and apt sources."""
    for pattern in _TRIM:
        for path in root.glob(pattern):
            _remove(path)
    for doc in (root / "usr/share/doc").glob("*"):
        if doc.is_dir() and not doc.is_symlink():
            for item in doc.iterdir():
                if item.name != "copyright":
                    _remove(item)
    for locale in (root / "usr/share/locale").glob("*"):
        if locale.name != "locale.alias":
            _remove(locale)
    (root / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
    (root / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
    (root / "etc/dpkg/dpkg.cfg.d").mkdir(parents=True, exist_ok=True)
    (root / "etc/dpkg/dpkg.cfg.d/dockstage-excludes").write_text(_DPKG_EXCLUDES)
    for old in (root / "etc/apt/sources.list.d").glob("*"):
        old.unlink()
    (root / "etc/apt/sources.list").write_text(apt_sources(mirror, suite))


def _run(cmd: list[str], what: str) -> None:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise EngineError(
            f"{cmd[0]} is not installed",
            "apt-get install debootstrap (or run bash .ci/provision)",
        ) from exc
    if result.returncode != 0:
        lines = (result.stdout + result.stderr).strip().splitlines()
        raise BuildError(
            f"{what} failed (exit {result.returncode}: {lines[-1] if lines else 'no output'})",
            "rerun with DOCKSTAGE_DEBUG=1 for the full output; check the Debian mirror in apt's sources",
            detail="\n".join(lines[-15:]),
        )


def _found(tag: str, docker: DockerClient) -> BuiltBase:
    return BuiltBase(tag, int(docker.image.inspect(tag).size), 0.0, False)


def build_rootfs(docker: DockerClient, flavour: str) -> BuiltBase:
    """debootstrap a minbase root filesystem, trim it and import it as an image."""
    if shutil.which("debootstrap") is None:
        raise EngineError(
            "debootstrap is not installed",
            "apt-get install debootstrap (or run bash .ci/provision)",
        )
    if os.geteuid() != 0:
        raise EngineError(
            "building a stand-in base image needs root (debootstrap makes a root filesystem)",
            "run it as root, e.g. `sudo -E env PATH=$PATH nox -s bases`, or use DOCKSTAGE_FLAVOUR=official",
        )
    tag, mirror, start = rootfs_tag(flavour), debian_mirror(), time.monotonic()
    report.step(f"debootstrap {flavour} (minbase) from {mirror}")
    with tempfile.TemporaryDirectory(prefix="dockstage-rootfs-", dir="/var/tmp") as tmp:
        root, tar = Path(tmp) / "root", Path(tmp) / "rootfs.tar"
        _run(
            ["debootstrap", "--variant=minbase", flavour, str(root), mirror],
            f"debootstrap {flavour}",
        )
        trim_rootfs(root, mirror, flavour)
        _run(
            ["tar", "-C", str(root), "--numeric-owner", "-cf", str(tar), "."],
            "tar of the root filesystem",
        )
        try:
            image = docker.image.import_(tar, tag=tag, changes=['CMD ["bash"]'])
        except DockerException as exc:
            raise BuildError(f"import of {tag} failed", "check `docker info`", detail=str(exc)) from exc
    built = BuiltBase(tag, int(image.size), time.monotonic() - start, True)
    report.ok(f"{tag} ({built.size_bytes / 1e6:.0f} MB, {built.seconds:.0f} s)")
    return built


def build_image(docker: DockerClient, dockerfile: str, base: str, tag: str) -> BuiltBase:
    """Build one image of docker/offline on `base` and load it into the engine."""
    report.step(f"build {tag} on {base}")
    start = time.monotonic()
    try:
        docker.buildx.build(
            context_path=DOCKER_DIR,
            file=DOCKER_DIR / dockerfile,
            build_args={"BASE": base},
            tags=[tag],
            load=True,
        )
    except DockerException as exc:
        raise BuildError(
            f"build of {tag} failed",
            f"see the build output; fix docker/offline/{dockerfile}",
            detail=str(exc),
        ) from exc
    built = BuiltBase(tag, int(docker.image.inspect(tag).size), time.monotonic() - start, True)
    report.ok(f"{tag} ({built.size_bytes / 1e6:.0f} MB, {built.seconds:.0f} s)")
    return built


def build_bases(docker: DockerClient, flavour: str, *, force: bool = False) -> list[BuiltBase]:
    """Build the rootfs/python/mariadb stand-ins for one flavour, skipping images already present
    unless force. Returns what it built or found."""
    bases, base = stand_in(flavour), rootfs_tag(flavour)
    wanted = [(bases.python, "python.Dockerfile"), (bases.mysql, "mariadb.Dockerfile")]
    todo = [(tag, file) for tag, file in wanted if force or not docker.image.exists(tag)]
    results: list[BuiltBase] = []
    if todo and (force or not docker.image.exists(base)):
        results.append(build_rootfs(docker, flavour))
    elif docker.image.exists(base):
        results.append(_found(base, docker))
    for tag, file in wanted:
        if (tag, file) in todo:
            results.append(build_image(docker, file, base, tag))
        else:
            report.info(f"{tag} already present")
            results.append(_found(tag, docker))
    return results


def ensure(bases: BaseImages, docker: DockerClient) -> list[BuiltBase]:
    """Build whatever stand-in is missing; for the official images, fail if any is missing."""
    absent = missing(bases, docker)
    if bases.flavour == "official":
        if absent:
            raise EngineError(
                f"base image(s) {', '.join(absent)} are missing and cannot be pulled",
                "use DOCKSTAGE_FLAVOUR=bookworm or build the stand-ins with `nox -s bases`",
            )
        return []
    return build_bases(docker, bases.flavour) if absent else []
