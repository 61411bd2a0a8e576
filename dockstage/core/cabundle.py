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


def npm_user_config(environ: Mapping[str, str]) -> Path | None:
    """The npm user config file (registry, auth, options), passed to the assets build as a secret."""
    home = Path(environ.get("HOME", "~")).expanduser()
    candidate = Path(environ.get("NPM_CONFIG_USERCONFIG") or environ.get("npm_config_userconfig") or home / ".npmrc")
    return candidate if candidate.is_file() else None


def _npmrc_value(path: Path, key: str) -> str | None:
    """One `key = value` of an npmrc file (the last one; quotes removed)."""
    found = None
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        name, sep, value = line.partition("=")
        if sep and name.strip() == key and not line.lstrip().startswith((";", "#")):
            found = value.strip().strip("\"'")
    return found


def npm_cafile(environ: Mapping[str, str]) -> Path | None:
    """The CA file npm uses (npm_config_cafile, the user's npmrc, the global npmrc), else pip's."""
    user = npm_user_config(environ)
    prefix = Path(environ.get("PREFIX") or environ.get("npm_config_prefix") or "/usr")
    globals_ = [Path(environ["NPM_CONFIG_GLOBALCONFIG"])] if environ.get("NPM_CONFIG_GLOBALCONFIG") else []
    globals_ += [prefix / "etc" / "npmrc", Path("/etc/npmrc"), Path("/usr/etc/npmrc")]
    candidates = [environ.get("NPM_CONFIG_CAFILE") or environ.get("npm_config_cafile")]
    candidates += [_npmrc_value(user, "cafile") if user else None]
    candidates += [_npmrc_value(p, "cafile") for p in globals_ if p.is_file()]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return find(environ)
