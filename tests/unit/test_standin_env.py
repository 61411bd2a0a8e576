"""The python stand-in's environment against the official python:*-slim image's."""

from __future__ import annotations

import pytest

from dockstage.core import resources
from dockstage.images import standinenv

# python:3.12-slim's Config.Env (docker image inspect), minus GPG_KEY / PYTHON_SHA256.
OFFICIAL_312 = [
    "PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG=C.UTF-8",
    "PYTHON_VERSION=3.12.8",
]


def test_the_official_images_environment_has_no_differences() -> None:
    assert standinenv.differences(standinenv.env_of(OFFICIAL_312), "3.12.8") == []


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            # The stand-in before this check: no PYTHON_VERSION, Docker's default PATH, build-only names.
            [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG=C.UTF-8",
                "DEBIAN_FRONTEND=noninteractive",
                "PYTHONDONTWRITEBYTECODE=1",
            ],
            [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin (the official image has "
                f"PATH={standinenv.OFFICIAL_PATH})",
                "PYTHON_VERSION is not set (the official image has PYTHON_VERSION=3.11.2)",
                "DEBIAN_FRONTEND is set (the official image does not set it)",
                "PYTHONDONTWRITEBYTECODE is set (the official image does not set it)",
            ],
        ),
        (
            [*OFFICIAL_312[:2], "PYTHON_VERSION=3.11"],
            ["PYTHON_VERSION=3.11 (the official image has PYTHON_VERSION=3.11.2)"],
        ),
        ([OFFICIAL_312[0], "PYTHON_VERSION=3.11.2"], ["LANG is not set (the official image has LANG=C.UTF-8)"]),
    ],
    ids=["old-stand-in", "short-version", "no-lang"],
)
def test_differences_name_each_variable(env: list[str], expected: list[str]) -> None:
    assert standinenv.differences(standinenv.env_of(env), "3.11.2") == expected


def test_env_of_keeps_equals_signs_in_values() -> None:
    assert standinenv.env_of(["A=b=c", "EMPTY="]) == {"A": "b=c", "EMPTY": ""}
    assert standinenv.env_of(None) == {}


def test_the_stand_in_dockerfile_sets_what_the_check_expects() -> None:
    """Every official variable is an ENV of the python stand-in; no build-only name is."""
    text = resources.path(resources.PYTHON_STANDIN).read_text()
    env_lines = " ".join(line for line in text.splitlines() if not line.startswith("#"))
    for name in standinenv.OFFICIAL_ENV:
        assert f"{name}=" in env_lines, name
    assert f"PATH={standinenv.OFFICIAL_PATH}" in env_lines
    assert "ENV DEBIAN_FRONTEND" not in text and "PYTHONDONTWRITEBYTECODE" not in text
    assert f"AS {standinenv.PYTHON_VERSION_STAGE}\n" in text


def test_a_stand_ins_digest_covers_its_dockerfile_and_the_files_it_copies() -> None:
    from dockstage.images import offline

    mariadb = resources.path(resources.MARIADB_STANDIN).read_text()
    assert offline.copied_sources(mariadb) == [
        "mariadb-dockstage.cnf",
        "mariadb-entrypoint.sh",
        "mariadb-healthcheck.sh",
    ]
    assert offline.copied_sources("COPY --chmod=0644 a b /dst/\nCOPY --from=x c /d\nRUN x\n") == ["a", "b"]
    digests = {offline.standin_digest(name) for name in (resources.PYTHON_STANDIN, resources.MARIADB_STANDIN)}
    assert len(digests) == 2 and all(len(d) == 16 and int(d, 16) >= 0 for d in digests)
    assert offline.standin_digest(resources.MARIADB_STANDIN) == offline.standin_digest(resources.MARIADB_STANDIN)
