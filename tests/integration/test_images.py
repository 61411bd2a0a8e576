"""What each built stage holds: labels, the prod image's size over its base, its contents."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from python_on_whales import DockerClient

from dockstage import STAGES
from dockstage.core.config import Settings
from dockstage.core.errors import ImageCheckFailed
from dockstage.core.report import Reporter
from dockstage.images import bases, imagechecks, provenance, sbom, stages
from tests.conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MAX_PROD_OVER_BASE_BYTES = 90 * 1000 * 1000


def _git(*args: str) -> str:
    """git's own answer about this checkout (what the labels are checked against)."""
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout.strip()


def test_each_stage_is_labelled_with_its_stage_and_base(
    built_images: list[stages.Built], suite_settings: Settings, docker_client: DockerClient
) -> None:
    images = bases.decide(suite_settings.flavour, docker_client, Reporter(quiet=True))
    assert [b.stage for b in built_images] == list(STAGES)
    for stage in STAGES:
        labels = docker_client.image.inspect(suite_settings.tag(stage)).config.labels or {}
        assert labels.get("dockstage.stage") == stage
        assert labels.get("org.opencontainers.image.base.name") == images.python
        assert labels.get("dockstage.flavour") == images.flavour


def test_each_stage_carries_its_provenance(
    built_images: list[stages.Built], suite_settings: Settings, docker_client: DockerClient
) -> None:
    """The commit it was built from (the checkout's HEAD, read by git here), its time, the base's
    digest: of the image the stage was built on, whose layers are the stage's first ones (the base's
    tag may name a newer build by now: test_installed_wheel's `bases --force`, on another worker)."""
    sha, short, when = _git("log", "-1", "--format=%H %h %cI").split(" ")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    images = bases.decide(suite_settings.flavour, docker_client, Reporter(quiet=True))
    repository = images.python.rsplit(":", 1)[0]
    for stage in STAGES:
        image = docker_client.image.inspect(suite_settings.tag(stage))
        labels = image.config.labels or {}
        assert labels["org.opencontainers.image.revision"] == sha, stage
        assert labels["org.opencontainers.image.version"] == (f"{short}-dirty" if dirty else short), stage
        assert labels["org.opencontainers.image.created"] == when, stage
        digest = labels["org.opencontainers.image.base.digest"]
        assert digest.startswith("sha256:"), (stage, digest)
        # An image id (a stand-in, built here), or a pulled image's repository digest.
        base = docker_client.image.inspect(digest if docker_client.image.exists(digest) else f"{repository}@{digest}")
        layers = base.root_fs.layers or []
        assert layers and (image.root_fs.layers or [])[: len(layers)] == layers, stage


def test_prod_adds_at_most_90_mb_over_its_base(
    built_images: list[stages.Built], suite_settings: Settings, docker_client: DockerClient
) -> None:
    images = bases.decide(suite_settings.flavour, docker_client, Reporter(quiet=True))
    base = docker_client.image.inspect(images.python).size or 0
    prod = docker_client.image.inspect(suite_settings.tag("prod")).size or 0
    assert base > 0
    assert prod - base <= MAX_PROD_OVER_BASE_BYTES, f"prod adds {(prod - base) / 1e6:.1f} MB over {images.python}"


def test_prod_image_holds_no_build_or_test_tools_and_links_mysql(
    built_images: list[stages.Built], suite_settings: Settings, docker_client: DockerClient
) -> None:
    lines = imagechecks.run(docker_client, "prod", suite_settings.tag("prod"), suite_settings)
    assert lines[0].startswith("every installed app and the URLconf import (")
    assert lines[1] == "runs as user 10001:10001 (uid 10001)"
    assert len(lines) == imagechecks.count("prod") == 4


def test_prod_gives_gunicorn_its_app_on_the_command_line(
    built_images: list[stages.Built], suite_settings: Settings, docker_client: DockerClient
) -> None:
    """A gunicorn that reads no wsgi_app from its config (before 20.1: danzinj's 20.0.4 stopped with "No
    application module specified") still gets the app: a second, empty config stands in for it here,
    and gunicorn's --check-config loads the app and exits 0."""
    from dockstage.images import buildfiles  # the app's names with harmless values, as at build time

    envs = {**buildfiles.placeholders(suite_settings.app), "GUNICORN_WORKERS": "1"}
    envs.update({name: "x" * 50 for name in suite_settings.app.env.get("secret-key", ())})
    checked = docker_client.run(
        suite_settings.tag("prod"), ["--config", "/dev/null", "--check-config"], envs=envs, remove=True
    )
    assert checked is not None  # the exit status is 0: docker.run raises on any other
    entrypoint = docker_client.image.inspect(suite_settings.tag("prod")).config.entrypoint or []
    assert (
        entrypoint[-1] == "gunicorn"
        and "exec gunicorn" in entrypoint[2]
        and entrypoint[2].endswith('"$DOCKSTAGE_WSGI"')
    )


def test_dev_and_test_have_what_prod_lacks(
    built_images: list[stages.Built], suite_settings: Settings, docker_client: DockerClient
) -> None:
    """The checks are not vacuous: on the test image they find what prod must not hold."""
    with pytest.raises(ImageCheckFailed) as found:
        imagechecks.check_no_toolchain(docker_client, suite_settings.tag("test"))
    assert "tool:gcc" in found.value.what and "headers:/usr/include/mariadb" in found.value.what
    assert "package:pytest" in found.value.what
    with pytest.raises(ImageCheckFailed, match="runs as root"):
        imagechecks.check_non_root(docker_client, suite_settings.tag("dev"))


def test_the_tests_run_with_prods_interpreter_and_paths(
    built_images: list[stages.Built], suite_settings: Settings, docker_client: DockerClient
) -> None:
    """One venv: the test tools join /opt/venv in the test stage only, so code that finds its data
    through sysconfig or sys.prefix (held-out ds-feedback's Jinja templates) finds it in the tests
    as in prod, and the Django of the tests is prod's file by file."""
    script = (
        "import sys, sysconfig, django, pytest; "
        "print(sys.prefix, sysconfig.get_path('purelib'), django.__file__, pytest.__file__, sep='\\n')"
    )
    tested = str(docker_client.run(suite_settings.tag("test"), ["-c", script], entrypoint="python", remove=True))
    prefix, purelib, django_file, pytest_file = tested.split()
    assert prefix == "/opt/venv" and purelib.startswith("/opt/venv/")
    assert django_file.startswith(purelib) and pytest_file.startswith(purelib)
    served = str(
        docker_client.run(
            suite_settings.tag("prod"),
            ["-c", "import sysconfig, django; print(sysconfig.get_path('purelib'), django.__file__)"],
            entrypoint="python",
            remove=True,
        )
    )
    assert served.split() == [purelib, django_file]


def with_a_package(docker_client: DockerClient, image: str, tag: str, tmp: Path) -> str:
    """`image` plus one installed distribution (six 1.16.0's metadata in the venv's site-packages),
    built offline: what a release that added a requirement holds more."""
    (tmp / "six-1.16.0.dist-info").mkdir(parents=True)
    (tmp / "six-1.16.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n"
    )
    (tmp / "Dockerfile").write_text(
        f"FROM {image}\n"
        "USER root\n"
        "COPY six-1.16.0.dist-info /tmp/six-1.16.0.dist-info\n"
        'RUN cp -r /tmp/six-1.16.0.dist-info "$(python -c "import sysconfig; print(sysconfig.get_path(\'purelib\'))")/"\n'
    )
    docker_client.buildx.build(tmp, tags=[tag], load=True, progress=False)
    return tag


def test_the_prod_sbom_lists_what_prod_holds_and_a_second_shows_one_package_added(
    built_images: list[stages.Built], suite_settings: Settings, docker_client: DockerClient, tmp_path: Path
) -> None:
    images = bases.decide(suite_settings.flavour, docker_client, Reporter(quiet=True))
    prod = suite_settings.tag("prod")
    digest = provenance.base_digest(docker_client, images.python)
    text = sbom.document(sbom.inventory(docker_client, prod), suite_settings.image, "it", images.python, digest)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    versions = {c["name"].lower(): c.get("version", "") for c in json.loads(text)["components"]}
    for name in ("django", "mysqlclient", "gunicorn", "libmariadb3"):
        assert versions.get(name), f"{name} not in the SBOM of {prod}"
    assert versions[images.python] == digest
    more = with_a_package(docker_client, prod, f"{suite_settings.image}:sbom-more", tmp_path)
    try:
        added = sbom.document(sbom.inventory(docker_client, more), suite_settings.image, "it2", images.python, digest)
    finally:
        docker_client.image.remove(more, force=True)
    assert [(c.what, c.kind, c.name, c.after) for c in sbom.changes(text, added)] == [
        ("added", "pypi", "six", "1.16.0")
    ]
