"""The environment of the official python:*-slim images as an app sees it, and the check that
the python stand-in (data/standins/python.Dockerfile) has the same."""

from __future__ import annotations

from collections.abc import Mapping

OFFICIAL_PATH = "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""python:*-slim's PATH: `ENV PATH /usr/local/bin:$PATH` on debian:*-slim's PATH."""

OFFICIAL_ENV: Mapping[str, str | None] = {
    "PATH": OFFICIAL_PATH,
    "LANG": "C.UTF-8",
    "PYTHON_VERSION": None,  # the full version of the Python inside (e.g. 3.11.2): checked against it
}
"""Variables the official image sets that apps read (value None: the Python's own version)."""

NOT_MIRRORED = ("GPG_KEY", "PYTHON_SHA256", "PYTHON_PIP_VERSION", "PYTHON_SETUPTOOLS_VERSION", "PYTHON_GET_PIP_URL")
"""Official variables that describe how CPython was built there (its tarball's signing key and
checksum, get-pip): the stand-in's Python is Debian's, so it would be false to copy them."""

BUILD_ONLY = ("DEBIAN_FRONTEND", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "VIRTUAL_ENV", "PYTHONPATH")
"""Variables the official image does not set: the stand-in must not set them either."""

PYTHON_VERSION_STAGE = "python"
"""The python.Dockerfile stage with Python installed and no PYTHON_VERSION yet."""

PYTHON_VERSION_PROBE = ["python3", "-c", "import platform; print(platform.python_version())"]
"""Prints the full version of the image's Python (what PYTHON_VERSION must say)."""


def env_of(config_env: list[str] | None) -> dict[str, str]:
    """An image's `Config.Env` (["NAME=value", ...]) as a mapping."""
    pairs = (item.partition("=") for item in config_env or [])
    return {name: value for name, _, value in pairs}


def differences(env: Mapping[str, str], python_version: str) -> list[str]:
    """How `env` (a stand-in's) differs from the official image's, for a Python `python_version`;
    empty when it matches."""
    found = []
    for name, wanted in OFFICIAL_ENV.items():
        expected = python_version if wanted is None else wanted
        if name not in env:
            found.append(f"{name} is not set (the official image has {name}={expected})")
        elif env[name] != expected:
            found.append(f"{name}={env[name]} (the official image has {name}={expected})")
    found += [f"{name} is set (the official image does not set it)" for name in BUILD_ONLY if name in env]
    return found
