"""Find the CA bundle the host's pip uses, to pass into builds as a BuildKit secret."""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from pathlib import Path

ENV_VARS = ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def pip_config_files(environ: Mapping[str, str]) -> list[Path]:
    """pip's configuration files, lowest priority first (site files are not considered)."""
    if environ.get("PIP_CONFIG_FILE") == os.devnull:  # pip's own switch: load no config files
        return []
    home = Path(environ.get("HOME", "~")).expanduser()
    xdg = [Path(p) for p in environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(":") if p]
    files = [d / "pip" / "pip.conf" for d in reversed(xdg)]
    files += [Path("/etc/pip.conf"), home / ".pip" / "pip.conf", home / ".config" / "pip" / "pip.conf"]
    if environ.get("PIP_CONFIG_FILE"):
        files.append(Path(environ["PIP_CONFIG_FILE"]))
    return files


def from_pip_config(files: list[Path]) -> str | None:
    """The last `cert` setting in pip's [global] or [install] sections."""
    found = None
    for file in files:
        if not file.is_file():
            continue
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(file, encoding="utf-8")
        except configparser.Error:
            continue
        for section in ("global", "install"):
            if parser.has_option(section, "cert"):
                found = parser.get(section, "cert")
    return found


def find(environ: Mapping[str, str]) -> Path | None:
    """The CA bundle to hand to builds, or None when the host uses none of its own."""
    candidates = [environ.get(name) for name in ENV_VARS]
    candidates.append(from_pip_config(pip_config_files(environ)))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None
