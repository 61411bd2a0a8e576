"""The first minutes after `invoke up`, driven as a user types them: ps, the home page, quiet logs."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from python_on_whales import Container, DockerClient

from dockstage.core.config import Settings, read_env_file
from tests.conftest import RUN_ID, cli_env, free_port, run_cli

pytestmark = pytest.mark.integration

HEALTH_WORDS = re.compile(r"\b(healthy|unhealthy|starting)\b", re.IGNORECASE)
HEALTHCHECK_AGENT = "dockstage-healthcheck"  # what dockstage/data/healthcheck.py sends
USER_AGENT = f"first-minutes-test/{RUN_ID}"


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The combined output of a command that must have succeeded."""
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


@dataclass(frozen=True)
class Stack:
    settings: Settings
    env: dict[str, str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.settings.web_port}"

    def container(self, docker: DockerClient, service: str) -> Container:
        return docker.container.inspect(f"{self.settings.project}-{service}-1")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def get(url: str, *, agent: str = USER_AGENT, method: str = "GET", data: bytes | None = None,
        headers: dict[str, str] | None = None) -> Answer:  # fmt: skip
    """One HTTP request to the stack on 127.0.0.1, as a browser on the host would send it."""
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(  # noqa: S310 - http on loopback only, asserted above
        url, data=data, method=method, headers={"Host": "localhost", "User-Agent": agent, **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - as above
            return Answer(response.status, dict(response.headers), response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, dict(exc.headers), exc.read().decode("utf-8", "replace"))


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(0.25)  # pacing between polls, not a guess at how long anything takes


@pytest.fixture(scope="module")
def stack(built_images: object, suite_settings: Settings, docker_client: DockerClient) -> Iterator[Stack]:
    """`invoke up` on a project of this run's own; always `invoke down --volumes --yes` after."""
    settings = suite_settings.with_(project=f"{suite_settings.project}-fm", web_port=free_port())
    env = cli_env(settings)
    try:
        out = ok(run_cli(["invoke", "up"], env))
        assert f"web is healthy at http://127.0.0.1:{settings.web_port}/" in out
        yield Stack(settings, env)
    finally:
        ok(run_cli(["invoke", "down", "--volumes", "--yes"], env))


@pytest.mark.slow
def test_ps_shows_migrate_exited_zero_without_health(stack: Stack, docker_client: DockerClient) -> None:
    ps = ok(run_cli(["invoke", "ps"], stack.env))
    rows = {service: [line for line in ps.splitlines() if f"{stack.settings.project}-{service}-1" in line]
            for service in ("db", "migrate", "web")}  # fmt: skip
    assert all(len(found) == 1 for found in rows.values()), ps
    migrate = rows["migrate"][0]
    assert "exited" in migrate, ps
    assert not HEALTH_WORDS.search(migrate), ps
    assert "running" in rows["web"][0] and re.search(r"\bhealthy\b", rows["web"][0]), ps
    state = stack.container(docker_client, "migrate").state
    assert (state.status, state.exit_code, state.health) == ("exited", 0, None)


@pytest.mark.slow
def test_home_page_answers_with_the_newest_notes_and_links(stack: Stack) -> None:
    token = read_env_file(stack.settings.path(stack.settings.env_file))["API_TOKEN"]
    for text in ("older note", "<b>newest</b> & 🐳"):
        created = get(
            f"{stack.base}/api/notes/",
            method="POST",
            data=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        assert created.status == 201, created.body
    page = get(f"{stack.base}/")
    assert page.status == 200, page.body[-2000:]
    assert page.headers["Content-Type"].startswith("text/html")
    assert "&lt;b&gt;newest&lt;/b&gt; &amp; 🐳" in page.body and "<b>newest" not in page.body
    assert page.body.index("newest&lt;/b&gt;") < page.body.index("older note")
    for href in ("/admin/", "/api/notes/", "/healthz"):
        assert f'href="{href}"' in page.body, href
    stylesheet = re.search(r'href="(/static/playground/site\.[0-9a-f]+\.css)"', page.body)
    assert stylesheet, page.body  # the hashed name from collectstatic's manifest
    css = get(f"{stack.base}{stylesheet.group(1)}")
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")


@pytest.mark.slow
def test_logs_keep_real_requests_and_drop_the_health_probes(stack: Stack, docker_client: DockerClient) -> None:
    marker = f"first-minutes-{RUN_ID}"
    assert get(f"{stack.base}/?from={marker}").status == 200
    # The same User-Agent from outside the container is a request like any other: it is logged.
    assert get(f"{stack.base}/healthz?spoof={marker}", agent=HEALTHCHECK_AGENT).status == 200
    sent = datetime.now(UTC)

    def probes_since() -> int:
        health = stack.container(docker_client, "web").state.health
        log = (health.log if health else None) or []
        return sum(1 for r in log if r.start and r.start > sent and r.exit_code == 0)

    wait_for(lambda: probes_since() >= 3, 60, "three passing health probes after the requests")

    logs = ok(run_cli(["invoke", "logs", "--service", "web"], stack.env))
    assert f'"GET /?from={marker} HTTP/1.1" 200' in logs and USER_AGENT in logs, logs[-3000:]
    probe_lines = [line for line in logs.splitlines() if HEALTHCHECK_AGENT in line]
    assert len(probe_lines) == 1 and f"/healthz?spoof={marker}" in probe_lines[0], logs[-3000:]
    assert not [line for line in logs.splitlines() if "GET /healthz HTTP" in line], logs[-3000:]
    assert "Booting worker" in logs  # gunicorn's error log is still there
