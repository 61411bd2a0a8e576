"""Pure logic of dockstage.images.offline: tags, mirror detection, rootfs trimming."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockstage.core import resources
from dockstage.core.errors import ConfigError, NeedsTool
from dockstage.core.report import Reporter
from dockstage.images import bases, offline


def test_stand_in_tags() -> None:
    assert offline.stand_in("bookworm") == offline.BaseImages(
        "bookworm",
        "dockstage/python:3.11-bookworm",
        "dockstage/mariadb:10.11-bookworm",
        "dockstage/redis:7.0-bookworm",
        "dockstage/nginx:1.22-bookworm",
    )
    assert offline.stand_in("trixie").proxy == "dockstage/nginx:1.26-trixie"
    assert offline.stand_in("trixie").redis == "dockstage/redis:8.0-trixie"
    assert offline.stand_in("trixie").service_refs(("redis",)) == ("dockstage/redis:8.0-trixie",)
    assert offline.stand_in("trixie").service_refs(()) == ()
    assert offline.stand_in("trixie").python == "dockstage/python:3.13-trixie"
    assert offline.stand_in("trixie").mysql == "dockstage/mariadb:11.8-trixie"
    assert offline.rootfs_tag("trixie") == "dockstage/debian:trixie-minbase"


def test_no_official_names() -> None:
    for flavour in offline.FLAVOURS:
        bases = offline.stand_in(flavour)
        assert bases.python.startswith("dockstage/") and bases.mysql.startswith("dockstage/")
        assert bases.redis.startswith("dockstage/")


@pytest.mark.parametrize("flavour", ["sid", "official", "", "Bookworm"])
def test_unknown_flavour_is_a_config_error(flavour: str) -> None:
    with pytest.raises(ConfigError):
        offline.stand_in(flavour)


def test_mirror_from_deb822(tmp_path: Path) -> None:
    sources = tmp_path / "debian.sources"
    sources.write_text("Types: deb\n# comment\nURIs: http://mirror.example/debian/\nSuites: bookworm\n")
    assert offline.debian_mirror(sources, tmp_path / "none") == "http://mirror.example/debian"


def test_mirror_from_sources_list(tmp_path: Path) -> None:
    listing = tmp_path / "sources.list"
    listing.write_text("# deb http://old/ x main\ndeb [arch=amd64] http://m.example/debian bookworm main\n")
    assert offline.debian_mirror(tmp_path / "none", listing) == "http://m.example/debian"


def test_mirror_default(tmp_path: Path) -> None:
    assert offline.debian_mirror(tmp_path / "a", tmp_path / "b") is None  # debootstrap's own default then


def test_trim_rootfs(tmp_path: Path) -> None:
    root = tmp_path
    for rel in (
        "var/lib/apt/lists/big_Packages",
        "var/cache/apt/pkgcache.bin",
        "usr/share/doc/bash/README",
        "usr/share/doc/bash/copyright",
        "usr/share/man/man1/bash.1.gz",
        "usr/share/locale/de/LC_MESSAGES/x.mo",
        "usr/share/locale/locale.alias",
        "etc/apt/sources.list.d/debian.sources",
        "etc/dpkg/dpkg.cfg.d/99mmdebstrap",
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")
    offline.trim_rootfs(root, "http://m.example/debian", "trixie")
    assert not list((root / "var/lib/apt/lists").glob("*_Packages"))
    assert not (root / "var/cache/apt/pkgcache.bin").exists()
    assert (root / "usr/share/doc/bash/copyright").exists()
    assert not (root / "usr/share/doc/bash/README").exists()
    assert not any((root / "usr/share/man").iterdir())
    assert not (root / "etc/dpkg/dpkg.cfg.d/99mmdebstrap").exists()  # the build's force-unsafe-io
    assert [p.name for p in (root / "usr/share/locale").iterdir()] == ["locale.alias"]
    excludes = (root / "etc/dpkg/dpkg.cfg.d/dockstage-excludes").read_text()
    assert "path-exclude /usr/share/doc/*" in excludes and "path-exclude /usr/share/man/*" in excludes
    assert (root / "etc/apt/sources.list").read_text() == (
        "deb http://m.example/debian trixie main\ndeb http://m.example/debian trixie-updates main\n"
    )
    assert not list((root / "etc/apt/sources.list.d").iterdir())


def test_stand_in_flavours_are_decided_without_the_engine() -> None:
    reporter = Reporter(quiet=True)
    assert bases.decide("trixie", None, reporter) == offline.stand_in("trixie")  # type: ignore[arg-type]
    assert bases.decide("bookworm", None, reporter) == offline.stand_in("bookworm")  # type: ignore[arg-type]


def test_a_failed_stand_in_says_what_the_user_can_check() -> None:
    # The stand-in's Dockerfile is the package's (inside site-packages once installed): the fix
    # names it and what can go wrong around it, never a path of this repository.
    _, dockerfile = resources.build_context(resources.MARIADB_STANDIN)
    fix = offline.standin_fix(dockerfile)
    assert fix.startswith("read the build output above (mariadb.Dockerfile installs Debian packages)")
    assert "apt's sources" in fix and "disk" in fix
    assert "docker/offline" not in fix and str(dockerfile.parent) not in fix


def test_rootfs_command_mmdebstrap_merges_usr_on_bookworm_only() -> None:
    root = Path("/var/tmp/r")
    bookworm = offline.rootfs_command("mmdebstrap", "bookworm", root, "http://m.example/debian")
    assert bookworm[:2] == ["mmdebstrap", "--variant=minbase"]
    assert "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr" in bookworm
    assert bookworm[-3:] == ["bookworm", "/var/tmp/r", "http://m.example/debian"]
    trixie = offline.rootfs_command("mmdebstrap", "trixie", root, None)
    assert not any("merged-usr" in arg for arg in trixie)
    assert trixie[-1] == offline.DEFAULT_MIRROR  # never stdin's apt sources


def test_rootfs_command_debootstrap() -> None:
    assert offline.rootfs_command("debootstrap", "trixie", Path("/r"), None) == [
        "debootstrap", "--variant=minbase", "trixie", "/r",
    ]  # fmt: skip
    assert offline.rootfs_command("debootstrap", "bookworm", Path("/r"), "http://m/d")[-1] == "http://m/d"


def test_rootfs_tool_prefers_mmdebstrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for tool in ("mmdebstrap", "debootstrap"):
        (tmp_path / tool).write_text("#!/bin/sh\n")
        (tmp_path / tool).chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert offline.rootfs_tool() == "mmdebstrap"
    (tmp_path / "mmdebstrap").unlink()
    assert offline.rootfs_tool() == "debootstrap"
    (tmp_path / "debootstrap").unlink()
    with pytest.raises(NeedsTool, match="mmdebstrap"):
        offline.rootfs_tool()
