"""The built images carry nothing prod does not need and no secret; prod settings pass check --deploy.

Everything is checked on the run's own images (the built_images fixture) against the real engine.
What the stand-in or official base already holds is not the stages' doing: checks of added
content compare with the base image.
"""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from python_on_whales import DockerClient

from dockstage.core.config import Settings, read_env_file
from dockstage.core.report import Reporter
from dockstage.images import bases, imagechecks, stages
from dockstage.stack import envfile
from tests.conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Paths a build toolchain, headers, caches or test tools would leave; prod may only have what its base has.
ADDED_NOTHING = (
    "/usr/bin/gcc",
    "/usr/bin/cc",
    "/usr/bin/make",
    "/usr/bin/pkg-config",
    "/usr/bin/x86_64-linux-gnu-gcc",
    "/usr/include/mysql",
    "/usr/include/mariadb",
    "/root/.cache/pip",
    "/opt/devtools",
    "/tmp/requirements",
    "/run/secrets/pip_cert",
)
PROBE = (
    "for p in " + " ".join(ADDED_NOTHING) + '; do [ -e "$p" ] && echo "present $p"; done; '
    'python3 -c "import pytest" 2>/dev/null && echo "present pytest"; '
    'echo "debs $(find /var/cache/apt/archives -name "*.deb" 2>/dev/null | wc -l)"; '
    'echo "lists $(find /var/lib/apt/lists -type f ! -name lock 2>/dev/null | wc -l)"; '
    "find / -xdev -type f -perm /6000 2>/dev/null | sed 's/^/setid /'; "
    "cut -d: -f1,2 /etc/shadow | sed 's/^/shadow /'"
)


def probe(docker: DockerClient, tag: str) -> list[str]:
    """Run the probe as root in a throwaway container of the image."""
    output = docker.run(tag, ["-c", PROBE], entrypoint="/bin/sh", user="0", remove=True)
    assert isinstance(output, str)
    return output.splitlines()


@pytest.fixture(scope="module")
def base_tag(docker_client: DockerClient, suite_settings: Settings) -> str:
    return bases.decide(suite_settings.flavour, docker_client, Reporter(quiet=True)).python


@pytest.fixture(scope="module")
def prod_probe(docker_client: DockerClient, built_images: list[stages.Built], suite_settings: Settings) -> list[str]:
    return probe(docker_client, suite_settings.tag("prod"))


@pytest.fixture(scope="module")
def base_probe(docker_client: DockerClient, base_tag: str) -> list[str]:
    return probe(docker_client, base_tag)


def _count(lines: list[str], key: str) -> int:
    return next(int(line.split()[1]) for line in lines if line.startswith(f"{key} "))


def test_prod_runs_as_non_root(
    docker_client: DockerClient, built_images: list[stages.Built], suite_settings: Settings
) -> None:
    tag = suite_settings.tag("prod")
    assert docker_client.image.inspect(tag).config.user not in (None, "", "0", "root")
    uid = docker_client.run(tag, ["-c", "id -u"], entrypoint="/bin/sh", remove=True)
    assert isinstance(uid, str)
    assert uid.strip() != "0"


def test_prod_adds_no_toolchain_headers_caches_or_test_tools(prod_probe: list[str], base_probe: list[str]) -> None:
    added = {line for line in prod_probe if line.startswith("present ")} - {
        line for line in base_probe if line.startswith("present ")
    }
    assert not added
    assert _count(prod_probe, "debs") == 0
    assert _count(prod_probe, "lists") <= _count(base_probe, "lists")


def test_prod_has_no_setuid_files_nor_passwords(prod_probe: list[str]) -> None:
    assert [line for line in prod_probe if line.startswith("setid ")] == []
    shadow = [line.split(" ", 1)[1].split(":") for line in prod_probe if line.startswith("shadow ")]
    assert shadow  # the probe really read /etc/shadow
    assert [user for user, field in shadow if not re.fullmatch(r"[!*]*", field)] == []


def test_stage_check_deploy_passes(
    docker_client: DockerClient, built_images: list[stages.Built], suite_settings: Settings
) -> None:
    line = imagechecks.check_deploy(docker_client, suite_settings.tag("stage"), suite_settings)
    assert line == "check --deploy: System check identified no issues (0 silenced)."


# Nothing secret in any layer, the history or the labels -----------------------------------------
def saved_blobs(docker: DockerClient, tag: str, directory: Path) -> Iterator[tuple[str, bytes]]:
    """Every file of `docker image save`: the config (history, labels, env) and each layer tar."""
    path = directory / (re.sub(r"[^a-z0-9]+", "-", tag) + ".tar")
    docker.image.save(tag, output=path)
    try:
        with tarfile.open(path) as outer:
            for member in outer:
                if member.isfile():
                    handle = outer.extractfile(member)
                    assert handle is not None
                    yield member.name, handle.read()
    finally:
        path.unlink(missing_ok=True)


def pem_lines(data: bytes) -> set[bytes]:
    return {line.strip() for line in data.splitlines() if re.fullmatch(rb"[A-Za-z0-9+/=]{40,}", line.strip())}


def image_pem_lines(blobs: Iterator[tuple[str, bytes]], secret_needles: list[bytes]) -> tuple[set[bytes], list[str]]:
    """Base64 lines of every PEM file in the image, and where any secret needle was found."""
    lines: set[bytes] = set()
    leaks: list[str] = []
    for name, data in blobs:
        leaks += [f"{name}: {needle[:4]!r}..." for needle in secret_needles if needle in data]
        if not name.endswith(".tar"):
            continue
        with tarfile.open(fileobj=io.BytesIO(data)) as layer:
            for member in layer:
                if member.isfile() and member.size < 5_000_000:
                    handle = layer.extractfile(member)
                    content = handle.read() if handle else b""
                    if b"-----BEGIN CERTIFICATE-----" in content:
                        lines |= pem_lines(content)
    return lines, leaks


@pytest.mark.parametrize("stage", ["stage", "prod"])
def test_no_secret_nor_ca_bundle_in_image(
    docker_client: DockerClient,
    built_images: list[stages.Built],
    suite_settings: Settings,
    base_tag: str,
    tmp_path: Path,
    stage: str,
) -> None:
    envfile.ensure(suite_settings, Reporter(quiet=True))
    repo_env = read_env_file(ROOT / ".env")  # the checkout's own .env sits in the build context's directory
    values = [*repo_env.items(), *read_env_file(suite_settings.path(suite_settings.env_file)).items()]
    needles = sorted({v.encode() for k, v in values if k in envfile.secret_keys(suite_settings.app) and len(v) >= 12})
    assert needles
    image_lines, leaks = image_pem_lines(saved_blobs(docker_client, suite_settings.tag(stage), tmp_path), needles)
    assert leaks == []
    bundle = suite_settings.ca_bundle
    if bundle is None:
        pytest.skip("this host uses no CA bundle of its own")
    base_lines, _ = image_pem_lines(saved_blobs(docker_client, base_tag, tmp_path), [])
    distinctive = pem_lines(bundle.read_bytes()) - base_lines
    print(f"RELIABILITY-LINE: {len(needles)} secrets, {len(distinctive)} CA lines not in the base: none found")
    assert not distinctive & image_lines
