"""Stand-in base images for engines that cannot pull: Debian minbase, Python, MariaDB and Redis.

The root filesystem comes from mmdebstrap when the machine has it (apt's parallel downloads, one
dpkg run: about half debootstrap's time), else from debootstrap; the same minbase either way. The
only subprocesses here are that tool and tar; every Docker call goes through python-on-whales.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from python_on_whales import DockerClient

from dockstage.core import files, resources
from dockstage.core.errors import (
    BuildError,
    ConfigError,
    ImageBuildFailed,
    NeedsRoot,
    NeedsTool,
    ToolFailed,
    docker_detail,
    docker_errors,
)
from dockstage.core.report import Reporter
from dockstage.images import bases, standinenv
from dockstage.images.bases import FLAVOURS, BaseImages

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
    "etc/dpkg/dpkg.cfg.d/99mmdebstrap",  # mmdebstrap's --dpkgopt, for the build only
)
DEFAULT_MIRROR = "http://deb.debian.org/debian"
_MERGED_USR_BY_HOOK = frozenset({"bookworm"})
"""Suites whose /usr merge debootstrap makes itself and mmdebstrap only with its merged-usr hook
(trixie's base-files ships the links, so the hook would add a package debootstrap does not)."""


@dataclass(frozen=True)
class BuiltBase:
    """One stand-in image: built now (built=True) or found already present."""

    tag: str
    size_bytes: int
    seconds: float
    built: bool


def rootfs_tag(flavour: str) -> str:
    """Tag of the imported minbase root filesystem."""
    return f"dockstage/debian:{flavour}-minbase"


def stand_in(flavour: str) -> BaseImages:
    """The stand-in image references of a Debian flavour."""
    if flavour not in FLAVOURS:
        raise ConfigError(
            f"unknown base image flavour {flavour!r}",
            f"use one of official, auto, {', '.join(FLAVOURS)}",
        )
    return bases.stand_in(flavour)


def debian_mirror(
    sources: Path = Path("/etc/apt/sources.list.d/debian.sources"),
    sources_list: Path = Path("/etc/apt/sources.list"),
) -> str | None:
    """The host's Debian mirror (first URIs: of debian.sources, else first deb line), or None:
    debootstrap then uses its own default."""
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
    return None


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


def rootfs_command(tool: str, flavour: str, root: Path, mirror: str | None) -> list[str]:
    """The command making a minbase root of `flavour` at `root` with `tool` (mmdebstrap or
    debootstrap); both give the same packages (mmdebstrap always gets a mirror: without one it
    would read apt sources from stdin)."""
    if tool == "debootstrap":
        return ["debootstrap", "--variant=minbase", flavour, str(root), *([mirror] if mirror else [])]
    hooks = ["--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr"] if flavour in _MERGED_USR_BY_HOOK else []
    return [
        "mmdebstrap", "--variant=minbase", "--quiet", "--dpkgopt=force-unsafe-io", *hooks,
        flavour, str(root), mirror or DEFAULT_MIRROR,
    ]  # fmt: skip


def rootfs_tool() -> str:
    """mmdebstrap if installed, else debootstrap; NeedsTool when neither is."""
    for tool in ("mmdebstrap", "debootstrap"):
        if shutil.which(tool) is not None:
            return tool
    raise NeedsTool("mmdebstrap (or debootstrap)", "mmdebstrap")


def _run(cmd: list[str], what: str) -> None:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise NeedsTool(cmd[0], cmd[0]) from None
    if result.returncode != 0:
        lines = (result.stdout + result.stderr).strip().splitlines()
        raise ToolFailed(what, result.returncode, lines[-1] if lines else "no output", "\n".join(lines[-15:]))


def _found(tag: str, docker: DockerClient) -> BuiltBase:
    return BuiltBase(tag, int(docker.image.inspect(tag).size), 0.0, False)


def build_rootfs(docker: DockerClient, flavour: str, reporter: Reporter) -> BuiltBase:
    """Make a minbase root filesystem (mmdebstrap or debootstrap), trim it and import it as an image."""
    tool = rootfs_tool()
    if os.geteuid() != 0:
        raise NeedsRoot()
    tag, mirror, start = rootfs_tag(flavour), debian_mirror(), time.monotonic()
    reporter.step(f"{tool} {flavour} (minbase) from {mirror or 'its default mirror'}")
    with tempfile.TemporaryDirectory(prefix="dockstage-rootfs-", dir="/var/tmp") as tmp:
        root, tar = Path(tmp) / "root", Path(tmp) / "rootfs.tar"
        _run(rootfs_command(tool, flavour, root, mirror), f"{tool} {flavour}")
        trim_rootfs(root, mirror or _first_source(root), flavour)
        _run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(tar), "."], "tar of the root filesystem")
        with docker_errors(
            f"importing {tag}",
            otherwise=lambda exc: ImageBuildFailed(tag, "the engine's import (see `docker info`)", docker_detail(exc)),
        ):
            image = docker.image.import_(tar, tag=tag, changes=['CMD ["bash"]'])
    built = BuiltBase(tag, int(image.size), time.monotonic() - start, True)
    reporter.ok(f"{tag} ({built.size_bytes / 1e6:.0f} MB, {built.seconds:.0f} s)")
    return built


def _first_source(root: Path) -> str:
    """The mirror the tool chose by itself, read back from the new root's apt sources."""
    found = debian_mirror(root / "etc/apt/sources.list.d/debian.sources", root / "etc/apt/sources.list")
    if found is None:
        raise ToolFailed("reading the mirror debootstrap used", 1, "no apt source in the new root")
    return found


STANDIN_LABEL = "org.dockstage.standin"
"""Label of a stand-in image: the digest of the Dockerfile and the files it copies (standin_digest)."""
_COPY = re.compile(r"^COPY[ \t]+((?:--\S+[ \t]+)*)(.+)$", re.MULTILINE)


def copied_sources(text: str) -> list[str]:
    """The build-context files a Dockerfile's COPY lines take (options such as --chmod skipped; a
    COPY --from takes another stage's files, not the context's)."""
    copies = (copy for copy in _COPY.finditer(text) if "--from=" not in copy[1])
    return [source for copy in copies for source in copy[2].split()[:-1]]


def standin_digest(dockerfile: str) -> str:
    """What a stand-in image is built from: its Dockerfile and each file a COPY takes from the
    context. A present image with another digest is from an older Dockerfile and gets rebuilt."""
    context, file = resources.build_context(dockerfile)
    text = file.read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8"))
    for source in copied_sources(text):
        digest.update(source.encode("utf-8") + b"\0" + (context / source).read_bytes())
    return digest.hexdigest()[:16]


def is_current(docker: DockerClient, tag: str, dockerfile: str) -> bool:
    """Whether `tag` exists and was built from the package's current stand-in Dockerfile."""
    if not docker.image.exists(tag):
        return False
    labels = docker.image.inspect(tag).config.labels or {}
    return labels.get(STANDIN_LABEL) == standin_digest(dockerfile)


def standin_fix(dockerfile: Path) -> str:
    """What to do when a stand-in failed to build: its Dockerfile only installs Debian packages."""
    return (
        f"read the build output above ({dockerfile.name} installs Debian packages): "
        "check the Debian mirror in apt's sources and the free disk space, then try again"
    )


def build_image(docker: DockerClient, dockerfile: str, base: str, tag: str, reporter: Reporter) -> BuiltBase:
    """Build one stand-in Dockerfile of the package (`dockerfile`: a resources name) on `base`
    and load it into the engine. The python stand-in is built in two steps: its `python` stage,
    whose Python's full version becomes PYTHON_VERSION of the whole build (cached, offline)."""
    reporter.step(f"build {tag} on {base}")
    start = time.monotonic()
    context, file = resources.build_context(dockerfile)
    python = dockerfile == resources.PYTHON_STANDIN

    def build(target: str | None = None, **args: str) -> None:
        # Only the whole build is labelled: an image left by a failed second step counts as stale.
        with docker_errors(
            f"building {tag}",
            otherwise=lambda exc: BuildError(f"building {tag} failed", standin_fix(file), detail=docker_detail(exc)),
        ):
            docker.buildx.build(
                context_path=context,
                file=file,
                build_args={"BASE": base, **args},
                tags=[tag],
                target=target,
                labels={} if target else {STANDIN_LABEL: standin_digest(dockerfile)},
                load=True,
            )

    if python:
        build(standinenv.PYTHON_VERSION_STAGE)
        version = python_version(docker, tag)
        build(PYTHON_VERSION=version)
        check_python_env(docker, tag, version, file)
    else:
        build()
    built = BuiltBase(tag, int(docker.image.inspect(tag).size), time.monotonic() - start, True)
    reporter.ok(f"{tag} ({built.size_bytes / 1e6:.0f} MB, {built.seconds:.0f} s)")
    return built


def python_version(docker: DockerClient, image: str) -> str:
    """The full version of the Python in `image` (runs it once, no network)."""
    with docker_errors(f"reading the Python version of {image}"):
        out = docker.container.run(image, standinenv.PYTHON_VERSION_PROBE, remove=True, networks=["none"])
    return str(out).strip()


def check_python_env(docker: DockerClient, image: str, version: str, file: Path) -> None:
    """Fail when the python stand-in's environment differs from the official image's."""
    env = standinenv.env_of(docker.image.inspect(image).config.env)
    found = standinenv.differences(env, version)
    if found:
        raise BuildError(
            f"{image} does not have the official python image's environment: {'; '.join(found)}",
            f"fix the ENV lines of {file.name}",
        )


def build_bases(
    docker: DockerClient,
    flavour: str,
    *,
    force: bool = False,
    reporter: Reporter | None = None,
    only: tuple[str, ...] = (),
) -> list[BuiltBase]:
    """Build the rootfs/python/mariadb/redis/nginx stand-ins for one flavour (`only` those of these
    Dockerfiles when given), skipping images already present and built from the package's current
    Dockerfiles, unless force. The images are built at the same time, on the one rootfs (BuildKit
    runs their apt steps side by side). Returns what it built or found, in order."""
    reporter = reporter or Reporter(quiet=True)
    lock = Path(tempfile.gettempdir()) / f"dockstage-bases-{flavour}.lock"
    with files.one_at_a_time(lock, lambda: reporter.info(f"another command builds the {flavour} stand-ins: waiting")):
        return _build_bases(docker, flavour, force=force, reporter=reporter, only=only)


def _build_bases(
    docker: DockerClient, flavour: str, *, force: bool, reporter: Reporter, only: tuple[str, ...]
) -> list[BuiltBase]:
    images, base = stand_in(flavour), rootfs_tag(flavour)
    wanted = [
        (tag, file)
        for tag, file in (
            (images.python, resources.PYTHON_STANDIN),
            (images.mysql, resources.MARIADB_STANDIN),
            (images.redis, resources.REDIS_STANDIN),
            (images.proxy, resources.PROXY_STANDIN),
        )
        if not only or file in only
    ]
    todo = [(tag, file) for tag, file in wanted if force or not is_current(docker, tag, file)]
    results: list[BuiltBase] = []
    if todo and (force or not docker.image.exists(base)):
        results.append(build_rootfs(docker, flavour, reporter))
    elif docker.image.exists(base):
        results.append(_found(base, docker))
    for tag, _ in todo:
        if not force and docker.image.exists(tag):
            reporter.info(f"{tag} is from an older stand-in Dockerfile of this package: rebuilding it")
    with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
        building = {tag: pool.submit(build_image, docker, file, base, tag, reporter) for tag, file in todo}
    for tag, _ in wanted:
        if tag in building:
            results.append(building[tag].result())  # the first failure, once every build has ended
        else:
            reporter.info(f"{tag} already present")
            results.append(_found(tag, docker))
    return results


BASE_PARTS = ("python", "mysql")
"""What a command may need of the bases: python (every build) and mysql, with the app's backing
services (a stack's db, redis, proxy: needed only once a stack starts, so a pipeline builds them
beside its build)."""


def provide(
    images: BaseImages,
    docker: DockerClient,
    reporter: Reporter,
    services: tuple[str, ...] = (),
    parts: tuple[str, ...] = BASE_PARTS,
) -> list[BuiltBase]:
    """Build whatever stand-in of `images` (and of `services`) is missing or from an older
    Dockerfile of the package (official images were pulled by bases.decide); `parts` says which
    of BASE_PARTS: python, or mysql and the services."""
    wanted = []
    if "python" in parts:
        wanted.append((images.python, resources.PYTHON_STANDIN))
    if "mysql" in parts:
        wanted.append((images.mysql, resources.MARIADB_STANDIN))
        if "redis" in services:
            wanted.append((images.redis, resources.REDIS_STANDIN))
        if "proxy" in services:
            wanted.append((images.proxy, resources.PROXY_STANDIN))
    if not images.stand_in or all(is_current(docker, tag, file) for tag, file in wanted):
        return []
    return build_bases(docker, images.flavour, reporter=reporter, only=tuple(file for _, file in wanted))
