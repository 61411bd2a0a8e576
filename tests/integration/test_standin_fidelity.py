"""The stand-ins look like the official images to an app: the python stand-in's environment
(PYTHON_VERSION, LANG, PATH) and the MariaDB stand-in's collations, built under this test's own
tags from the package's Dockerfiles on the engine's minbase image, and removed at the end."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from python_on_whales import DockerClient, docker
from python_on_whales.exceptions import DockerException

from dockstage.core import resources
from dockstage.core.report import Reporter
from dockstage.images import offline, standinenv

pytestmark = pytest.mark.integration

FLAVOUR = "bookworm"


@pytest.fixture(scope="module")
def client() -> DockerClient:
    return docker


@pytest.fixture(scope="module")
def tag() -> Iterator[str]:
    """A unique tag prefix; every image under it is removed at the end."""
    prefix = f"dockstage-fidelity-{uuid.uuid4().hex[:8]}"
    yield prefix
    # Only this test's tags: an image built from cache may carry other tags (the shared stand-ins).
    for image in docker.image.list(repository_or_tag=f"{prefix}/*"):
        for ref in image.repo_tags:
            if ref.startswith(f"{prefix}/"):
                docker.image.remove(ref)


@pytest.fixture(scope="module")
def minbase(client: DockerClient) -> str:
    """The flavour's debootstrap root filesystem (the one the engine has, or built once)."""
    if not client.image.exists(offline.rootfs_tag(FLAVOUR)):
        offline.build_rootfs(client, FLAVOUR, Reporter(quiet=True))
    return offline.rootfs_tag(FLAVOUR)


def test_python_stand_in_has_the_official_images_environment(client: DockerClient, tag: str, minbase: str) -> None:
    image = f"{tag}/python:{FLAVOUR}"
    offline.build_image(client, resources.PYTHON_STANDIN, minbase, image, Reporter(quiet=True))
    assert offline.is_current(client, image, resources.PYTHON_STANDIN)  # labelled: not rebuilt next time
    env = standinenv.env_of(client.image.inspect(image).config.env)
    version = offline.python_version(client, image)
    assert version.count(".") == 2, version  # the full version, e.g. 3.11.2
    assert standinenv.differences(env, version) == []
    # What an app sees at run time, as the image's default user and without a shell.
    script = "import os, sys; print(os.environ['PYTHON_VERSION'], os.environ['LANG'], sys.getfilesystemencoding())"
    out = client.container.run(image, ["python", "-c", script], remove=True, networks=["none"])
    assert str(out).split() == [version, "C.UTF-8", "utf-8"]
    path = client.container.run(image, ["sh", "-c", 'echo "$PATH"'], remove=True, networks=["none"])
    assert str(path).strip() == standinenv.OFFICIAL_PATH


def wait_healthy(client: DockerClient, name: str, deadline: float = 90.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        state = client.container.inspect(name).state
        if state.health is not None and state.health.status == "healthy":
            return
        assert state.running, client.container.logs(name)
        time.sleep(1)
    pytest.fail(f"{name} not healthy within {deadline} s")


def test_mariadb_stand_in_tables_and_connections_share_a_collation(
    client: DockerClient, tag: str, minbase: str
) -> None:
    """Before: server utf8mb4_unicode_ci, a utf8mb4 connection utf8mb4_general_ci, and
    `column = CAST(x AS CHAR)` (Wagtail's migration 0075) failed with error 1267 on 10.11."""
    image = f"{tag}/mariadb:{FLAVOUR}"
    offline.build_image(client, resources.MARIADB_STANDIN, minbase, image, Reporter(quiet=True))
    name = f"{tag}-db"
    client.container.run(image, detach=True, name=name, envs={"MYSQL_ROOT_PASSWORD": "rootpw", "MYSQL_DATABASE": "app"})
    try:
        wait_healthy(client, name)
        query = (
            "SELECT @@collation_server, @@collation_connection, @@collation_database;"
            "CREATE TABLE page (id INT PRIMARY KEY, title VARCHAR(20));"
            "CREATE TABLE revision (object_id VARCHAR(20));"
            "INSERT INTO page VALUES (1, 'home'); INSERT INTO revision VALUES ('1');"
            "SELECT COUNT(*) FROM page JOIN revision ON revision.object_id = CAST(page.id AS CHAR);"
            "CREATE DATABASE test_app;"
            "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'test_app';"
        )
        out = client.container.execute(
            name,
            ["mariadb", "--default-character-set=utf8mb4", "-uroot", "-prootpw", "-N", "-B", "app", "-e", query],
        )
        lines = str(out).strip().splitlines()
        server, connection, database = lines[0].split("\t")
        assert server == connection == database and server.startswith("utf8mb4_"), lines[0]
        assert lines[1:] == ["1", server]  # the join ran (no 1267); Django's test database gets it too
    except DockerException as exc:
        pytest.fail(f"{exc.stderr}")
    finally:
        client.container.remove(name, force=True, volumes=True)
