"""Data survives what users do to a running stack; refusals change nothing; shutdowns are clean.

One prod-like stack (`invoke up`, its own compose project and port) is shared by the module.
Rows are written and counted through the real HTTP API.
"""

from __future__ import annotations

import datetime
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from python_on_whales import Container, DockerClient

from dockstage.core.config import Settings, read_env_file
from dockstage.images import stages
from tests.conftest import cli_env, free_port, project_stack, run_cli
from tests.integration.test_failures import one_line

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@dataclass
class Stack:
    settings: Settings
    env: dict[str, str]
    docker: DockerClient
    url: str
    secrets: dict[str, str]

    @property
    def volume(self) -> str:
        return f"{self.settings.project}_db-data"

    def container(self, service: str) -> Container:
        found = self.docker.compose.ps(services=[service])
        assert found, f"no {service} container"
        return found[0]

    def wait_db_healthy(self) -> None:
        self.docker.compose.up(services=["db"], detach=True, wait=True, wait_timeout=180, pull="never", quiet=True)


def http(
    method: str, url: str, body: dict[str, Any] | None = None, token: str = "", timeout: float = 10
) -> tuple[int, Any]:
    """One real HTTP request; (status, parsed JSON body)."""
    headers = {"Content-Type": "application/json", "Host": "localhost"}  # an allowed host, also for container IPs
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - http://127.0.0.1 or a container IP, built here
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - same URL as above
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def post_note(stack: Stack, text: str) -> int:
    status, body = http("POST", f"{stack.url}/api/notes/", {"text": text}, stack.secrets["API_TOKEN"])
    assert status == 201, body
    return int(body["id"])


def note_ids(stack: Stack) -> list[int]:
    """Every note id, through the API."""
    ids: list[int] = []
    page = 1
    while True:
        status, body = http("GET", f"{stack.url}/api/notes/?page_size=100&page={page}")
        assert status == 200, body
        ids += [int(n["id"]) for n in body["results"]]
        if page >= body["pages"]:
            return sorted(ids)
        page += 1


def healthz(stack: Stack, timeout: float = 10) -> tuple[int, Any, float]:
    started = time.monotonic()
    status, body = http("GET", f"{stack.url}/healthz", timeout=timeout)
    return status, body, time.monotonic() - started


def wait_healthz_ok(stack: Stack, deadline: float = 30) -> None:
    """Django reconnects on the next request after the db is back; allow a few requests."""
    end = time.monotonic() + deadline
    status, body = 0, None
    while time.monotonic() < end:
        try:
            status, body, _ = healthz(stack)
        except (urllib.error.URLError, ConnectionError):
            status = 0
        if status == 200:
            return
        time.sleep(0.5)
    pytest.fail(f"/healthz did not recover: {status} {body}")


def invoke_up(stack_settings: Settings, env: dict[str, str]) -> None:
    result = run_cli(["invoke", "up"], env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def stack(docker_client: DockerClient, built_images: list[stages.Built], suite_settings: Settings) -> Iterator[Stack]:
    settings = suite_settings.with_(project=f"{suite_settings.project}-dur", web_port=free_port())
    env = cli_env(settings)
    invoke_up(settings, env)
    with project_stack(settings) as owned:  # removed, volumes included, when the module ends
        docker = DockerClient(client_config=owned.compose.client_config)
        secrets = read_env_file(settings.path(settings.env_file))
        yield Stack(settings, env, docker, f"http://127.0.0.1:{settings.web_port}", secrets)


# 7. db-restore refuses bad files ----------------------------------------------------------------
@pytest.fixture(scope="module")
def good_dump(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real dump, made before one more row was written (so any restore would lose that row)."""
    post_note(stack, "before the dump")
    path = tmp_path_factory.mktemp("dumps") / "good.sql"
    result = run_cli(["invoke", "db-dump", "--output", str(path)], stack.env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    post_note(stack, "after the dump: a restore would lose me")
    return path


def bad_file(kind: str, good: Path, directory: Path) -> Path:
    text = good.read_text(encoding="utf-8")
    path = directory / f"{kind}.sql"
    if kind == "missing":
        return path
    if kind == "truncated":
        path.write_text(text[: len(text) // 2], encoding="utf-8")
    elif kind == "not-sql":
        path.write_text("name,text\n1,hello\n", encoding="utf-8")
    elif kind == "sql-error-in-the-middle":
        lines = text.splitlines(keepends=True)
        middle = len(lines) // 2
        path.write_text(
            "".join([*lines[:middle], "INSERT INTO no_such_table VALUES (1);\n", *lines[middle:]]), encoding="utf-8"
        )
    return path


@pytest.mark.parametrize(
    ("kind", "needles"),
    [
        ("missing", ("does not exist", "invoke db-dump")),
        ("truncated", ("is truncated", "make a new dump")),
        ("not-sql", ("is not a MySQL/MariaDB dump", "invoke db-dump")),
        ("sql-error-in-the-middle", ("does not load", "the database was not touched")),
    ],
)
def test_restore_refuses_bad_file(
    stack: Stack, good_dump: Path, tmp_path: Path, kind: str, needles: tuple[str, ...]
) -> None:
    before = note_ids(stack)
    result = run_cli(["invoke", "db-restore", str(bad_file(kind, good_dump, tmp_path))], stack.env, timeout=120)
    one_line(result, *needles)
    assert note_ids(stack) == before


# 9. database stopped while web runs -------------------------------------------------------------
def test_healthz_503_while_db_stopped_then_recovers(stack: Stack) -> None:
    before = note_ids(stack)
    web = stack.container("web")
    started_at, restarts = web.state.started_at, web.restart_count
    stack.docker.compose.stop(["db"])
    try:
        status, body, seconds = healthz(stack, timeout=10)
        assert status == 503, body
        assert body["database"] == "unavailable"
        assert seconds < 10
        print(f"RELIABILITY-LINE: /healthz -> {status} {json.dumps(body)} in {seconds:.1f} s")
    finally:
        stack.wait_db_healthy()
    wait_healthz_ok(stack)
    web.reload()
    assert (web.state.started_at, web.restart_count) == (started_at, restarts)
    assert note_ids(stack) == before


# 10. durability ---------------------------------------------------------------------------------
def test_rows_survive_down_and_up(stack: Stack) -> None:
    post_note(stack, "survives down/up")
    before = note_ids(stack)
    result = run_cli(["invoke", "down"], stack.env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database volume kept" in result.stdout
    assert stack.docker.volume.exists(stack.volume)
    invoke_up(stack.settings, stack.env)
    assert note_ids(stack) == before


def test_rows_survive_force_recreate(stack: Stack) -> None:
    post_note(stack, "survives re-creation")
    before = note_ids(stack)
    old = {s: stack.container(s).id for s in ("db", "web")}
    stack.docker.compose.up(
        services=["db", "web"], detach=True, wait=True, wait_timeout=240, force_recreate=True, pull="never", quiet=True
    )
    assert all(stack.container(s).id != old[s] for s in old)
    assert note_ids(stack) == before


def test_db_restart_is_clean_and_keeps_rows(stack: Stack) -> None:
    post_note(stack, "survives a db restart")
    before = note_ids(stack)
    db = stack.container("db")
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
    stack.docker.compose.stop(["db"])
    db.reload()
    assert db.state.exit_code == 0
    stack.wait_db_healthy()
    log = stack.docker.container.logs(db, since=since)
    assert "crash recovery" not in log.lower(), log
    wait_healthz_ok(stack)
    assert note_ids(stack) == before


def test_down_volumes_without_yes_refuses(stack: Stack) -> None:
    before = note_ids(stack)
    result = run_cli(["invoke", "down", "--volumes"], stack.env, timeout=60)
    one_line(result, "--volumes deletes the database volume", "--yes")
    assert stack.docker.volume.exists(stack.volume)
    assert note_ids(stack) == before


def _slow_post(
    address: tuple[str, int], token: str, text: str, sent_half: threading.Event, go_on: threading.Event
) -> str:
    """A POST whose body arrives in two halves: the worker is inside the request in between."""
    body = json.dumps({"text": text}).encode()
    head = (
        f"POST /api/notes/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(address, timeout=30) as conn:
        conn.sendall(head + body[:5])
        sent_half.set()
        go_on.wait(30)
        conn.sendall(body[5:])
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def test_sigterm_lets_in_flight_requests_finish(stack: Stack) -> None:
    """A prod container on the stack's network gets SIGTERM while two requests are half sent."""
    network = f"{stack.settings.project}_default"
    secrets = stack.secrets
    port = free_port()
    container = stack.docker.run(
        stack.settings.tag("prod"),
        detach=True,
        networks=[network],
        envs={
            "DJANGO_SECRET_KEY": secrets["DJANGO_SECRET_KEY"],
            "API_TOKEN": secrets["API_TOKEN"],
            "DJANGO_ALLOWED_HOSTS": "localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",  # as in compose.yaml: TLS ends at the proxy in front
            "DATABASE_HOST": "db",
            "DATABASE_PORT": "3306",
            "DATABASE_NAME": secrets.get("MYSQL_DATABASE", "app"),
            "DATABASE_USER": secrets.get("MYSQL_USER", "app"),
            "DATABASE_PASSWORD": secrets["MYSQL_PASSWORD"],
            "GUNICORN_WORKERS": "3",
        },
        name=f"{stack.settings.project}-sigterm",
        publish=[(f"127.0.0.1:{port}", 8000)],  # test traffic goes to loopback only
    )
    assert isinstance(container, Container)
    try:
        end = time.monotonic() + 60
        while True:  # the image's own HEALTHCHECK polls every 5 s; ask gunicorn directly instead
            try:
                if http("GET", f"http://127.0.0.1:{port}/healthz", timeout=2)[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < end, container.logs()
            time.sleep(0.3)
        results: dict[int, str] = {}
        halves = [threading.Event(), threading.Event()]
        go_on = threading.Event()
        threads = [
            threading.Thread(
                target=lambda i=i: results.__setitem__(
                    i,
                    _slow_post(
                        ("127.0.0.1", port), secrets["API_TOKEN"], f"in flight at SIGTERM {i}", halves[i], go_on
                    ),
                )
            )
            for i in range(2)
        ]
        for thread in threads:
            thread.start()
        assert all(h.wait(10) for h in halves)
        time.sleep(1)  # the workers are now blocked reading the bodies
        stack.docker.container.kill(container, signal="SIGTERM")
        time.sleep(2)  # the master has begun its graceful shutdown
        container.reload()
        assert container.state.running, container.logs()  # still draining the two requests
        killed_at = time.monotonic()
        go_on.set()
        for thread in threads:
            thread.join(30)
        exit_code = stack.docker.container.wait(container)
        drained = time.monotonic() - killed_at
        assert [r.split("\r\n", 1)[0] for r in results.values()] == ["HTTP/1.1 201 Created"] * 2, results
        assert exit_code == 0, container.logs()
        assert drained < 20  # well within gunicorn's graceful timeout
        _, body = http("GET", f"{stack.url}/api/notes/?page_size=100")
        assert {"in flight at SIGTERM 0", "in flight at SIGTERM 1"} <= {n["text"] for n in body["results"]}
        print(f"RELIABILITY-LINE: 2 of 2 in-flight requests 201, exit {exit_code} {drained:.1f} s after the last byte")
    finally:
        stack.docker.container.remove(container, force=True)


# 11 (runtime part). the prod stack runs hardened -----------------------------------------------
def test_prod_stack_runs_hardened(stack: Stack) -> None:
    """web and the proxy in front of it: read-only root, tmpfs /tmp, no capabilities, no new
    privileges, not root; only the proxy publishes a port, on 127.0.0.1 only."""
    web, db, proxy = stack.container("web"), stack.container("db"), stack.container("proxy")
    for container in (web, proxy):
        host = container.host_config
        assert host.readonly_rootfs is True
        assert "/tmp" in {str(path) for path in host.tmpfs or {}}
        assert [c.upper() for c in host.cap_drop or []] == ["ALL"]
        assert any(o.replace("=", ":") == "no-new-privileges:true" for o in host.security_opt or [])
        user = container.config.user or ""
        assert user
        assert not user.startswith(("0", "root"))
    bindings = (proxy.network_settings.ports or {}).get("8080/tcp") or []
    assert bindings
    assert all(b["HostIp"] == "127.0.0.1" for b in bindings)
    for container in (web, db):
        assert not container.host_config.port_bindings
        assert not any((container.network_settings.ports or {}).values())
