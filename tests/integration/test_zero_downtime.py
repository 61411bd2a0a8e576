"""`invoke up` on a running site: a new web is switched to only once it is healthy.

The site is a copy of the bundled project (pyproject.toml, tasks.py, app/) outside the checkout,
brought up with the real front-end. It is changed the way a release changes (a module edited,
wsgi.py broken) and brought up again while a bounded GET load runs against the proxy's port on
127.0.0.1: the load counts every request that did not answer 200. See docs/RELIABILITY.md.
"""

from __future__ import annotations

import socket
import subprocess
import uuid
from collections.abc import Iterator

import pytest
from python_on_whales import DockerClient

from dockstage.images import stages
from harness.load import Load, LoadResult
from tests.integration.sitecopy import Site, site_copy

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, docker_client: DockerClient, built_images: list[stages.Built]
) -> Iterator[Site]:
    """The copy, up and serving (its images share the build cache of `built_images`)."""
    with site_copy(tmp_path_factory.mktemp("site"), docker_client, "zerodown") as site:
        first = site.invoke("up")
        assert first.returncode == 0, first.stdout + first.stderr
        assert site.status() == 200
        yield site


def under_load(site: Site, *args: str, **extra: str) -> tuple[subprocess.CompletedProcess[str], LoadResult]:
    """`invoke <args>` while 4 connections GET the health path (bounded: 20 000 requests, 300 s)."""
    load = Load(site.port, "/healthz", connections=4, max_requests=20_000, max_seconds=300).start()
    try:
        result = site.invoke(*args, **extra)
    finally:
        counted = load.stop()
    print(f"LOAD: invoke {' '.join(args)}: {counted}")
    return result, counted


def release(site: Site, text: str, module: str = "project_playground/urls.py") -> None:
    """Change the app the way a release does: `text` appended to one of its modules."""
    path = site.root / "app" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{text}\n", encoding="utf-8")


def test_up_to_a_taken_port_keeps_the_site(site: Site) -> None:
    """(a) A changed port that is taken: exit 5 before anything stops; the site still answers."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        result = site.invoke("up", DOCKSTAGE_WEB_PORT=str(busy))
    output = result.stdout + result.stderr
    assert result.returncode == 5, output
    assert f"port {busy} on 127.0.0.1 is already in use" in output
    assert "Traceback" not in output
    assert site.status() == 200


def test_a_new_release_under_load_drops_nothing(site: Site, docker_client: DockerClient) -> None:
    """(c) A changed image under a bounded loopback load: 0 failed requests, the new image serves;
    an `up` with nothing changed keeps that web."""
    release(site, f"# release {uuid.uuid4().hex}")
    result, counted = under_load(site, "up")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "the proxy now serves" in output
    assert counted.requests > 20 and counted.failed == 0, counted
    new_id = docker_client.image.inspect(f"{site.image}:prod").id
    assert site.webs(docker_client) == [new_id]
    again = site.invoke("up")
    assert again.returncode == 0 and "with this configuration: kept" in again.stdout, again.stdout + again.stderr
    assert site.webs(docker_client) == [new_id]


def test_a_broken_release_keeps_the_running_site(site: Site, docker_client: DockerClient) -> None:
    """(b) A release whose WSGI import raises: non-zero exit, the message says the site was kept,
    the old web served every request meanwhile and still does."""
    serving = site.webs(docker_client)
    wsgi = site.root / "app" / "project_playground" / "wsgi.py"
    good = wsgi.read_text(encoding="utf-8")
    release(site, 'raise RuntimeError("dockstage-broken-release")', "project_playground/wsgi.py")
    try:
        result, counted = under_load(site, "up")
    finally:
        wsgi.write_text(good, encoding="utf-8")
    output = result.stdout + result.stderr
    assert result.returncode == 5, output
    assert "dockstage-broken-release" in output  # web's log, shown above the message
    line = next(line for line in output.splitlines() if "the running site was kept" in line)
    assert f"http://127.0.0.1:{site.port} still serves the image it served before" in line, line
    assert "Traceback (most recent call last)" not in output.split(line)[-1]
    assert counted.requests > 20 and counted.failed == 0, counted
    assert site.status() == 200
    assert site.webs(docker_client) == serving  # the new web was removed; the old one never stopped
