"""The swarm pieces against the real engine: registry, release, a single-node deploy, the harness.

The single-node tests put this engine in swarm mode for the test only (and leave it again, with
the docker_gwbridge network swarm leaves behind); an engine already in a swarm is someone else's,
so those tests skip. The three-node harness runs only when DOCKSTAGE_SWARM_HARNESS is set.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Literal

import pytest
from python_on_whales import DockerClient

from dockstage.core import config, errors, loopback
from dockstage.core.config import Settings
from dockstage.core.errors import ConfigError
from dockstage.core.report import Reporter
from dockstage.flows.run import Run
from dockstage.frontends.common import INVOKE_COMMANDS
from dockstage.images import sbom, stages
from dockstage.stack import smoke
from dockstage.swarm import deploy, probe, registry, release, stackfile, waits
from dockstage.swarm.options import SwarmOptions
from harness import swarm as harness
from tests.conftest import ROOT, TEST_FLAVOUR, cli_env, free_port, run_cli
from tests.integration.enginegate import EngineGate
from tests.integration.projects import make_project, new_name, owned_environ, remove_owned
from tests.integration.test_images import with_a_package

QUIET = Reporter(quiet=True)


def _settings(suite: Settings, tmp: Path) -> Settings:
    """The suite's image and project, with this test's own .env and state directory (read anew,
    as each command does)."""
    return config.load(
        ROOT,
        environ={k: v for k, v in os.environ.items() if not k.startswith("DOCKSTAGE_")},
        image=suite.image,
        project=suite.project,
        flavour=suite.flavour,
        env_file=str(tmp / ".env"),
        state_dir=str(tmp / "state"),
        quiet=True,
    )


def _set_env_value(path: Path, key: str, value: str) -> None:
    lines = [f"{key}={value}" if line.startswith(f"{key}=") else line for line in path.read_text().splitlines()]
    path.write_text("\n".join(lines) + "\n")


def _post(port: int, token: str, text: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "POST",
            "/api/notes/",
            body=json.dumps({"text": text}),
            headers={"Host": "localhost", "Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


# --- pure logic: the stack file ---------------------------------------------------------------


MERGED = {
    "name": "demo",
    "services": {
        "web": {
            "image": "w@sha256:1",
            "command": None,
            "depends_on": {"db": {"condition": "service_healthy"}},
            "restart": "unless-stopped",
            "security_opt": ["no-new-privileges:true"],
            "tmpfs": ["/tmp"],
            "environment": {"DJANGO_SECRET_KEY": "dockstage-secret-django_secret_key", "PLAIN": "1"},
            "ports": [{"mode": "host", "host_ip": "127.0.0.1", "target": 8000, "published": "8000", "protocol": "tcp"}],
            "networks": {"default": None},
        }
    },
    "networks": {"default": {"name": "demo_default", "ipam": {}}},
    "volumes": {"db-data": {"name": "demo_db-data"}},
    "x-app": {"SECRET": "x"},
}


def test_stack_file_keeps_what_swarm_applies_and_names_the_rest() -> None:
    doc, notes = stackfile.convert(MERGED, "demo")
    web = doc["services"]["web"]
    assert doc["version"] == "3.9" and "x-app" not in doc and "name" not in doc
    assert not {"depends_on", "restart", "security_opt", "tmpfs", "command"} & set(web)
    assert {"type": "tmpfs", "target": "/tmp"} in web["volumes"]
    assert web["ports"] == [{"target": 8000, "published": 8000, "protocol": "tcp", "mode": "host"}]
    assert doc["networks"] == {"default": {"driver": "overlay"}} and doc["volumes"] == {"db-data": {}}
    assert any("depends_on" in n and "restart" in n for n in notes)
    assert any("every interface" in n for n in notes)


def test_secrets_become_files_and_are_declared() -> None:
    doc, _ = stackfile.convert(MERGED, "demo")
    out = stackfile.secrets_as_files(
        doc, {"dockstage-secret-django_secret_key": "django_secret_key"}, {"django_secret_key": "demo_k_abc"}
    )
    env = out["services"]["web"]["environment"]
    assert env == {"PLAIN": "1", "DJANGO_SECRET_KEY_FILE": "/run/secrets/django_secret_key"}
    assert out["services"]["web"]["secrets"] == [{"source": "django_secret_key", "target": "django_secret_key"}]
    assert out["secrets"]["django_secret_key"] == {"name": "demo_k_abc", "external": True}


def test_a_secret_inside_a_longer_value_is_refused() -> None:
    merged = json.loads(json.dumps(MERGED))
    merged["services"]["web"]["environment"]["DATABASE_URL"] = "mysql://app:dockstage-secret-mysql_password@db/app"
    doc, _ = stackfile.convert(merged, "demo")
    with pytest.raises(ConfigError, match="embeds a secret"):
        stackfile.secrets_as_files(doc, {"dockstage-secret-mysql_password": "mysql_password"}, {})


def test_old_clients_get_a_one_shot_service_for_a_job() -> None:
    doc = {"version": "3.9", "services": {"migrate": {"image": "w", "deploy": {"mode": "replicated-job"}}}}
    out, changed = stackfile.without_jobs(doc)
    assert changed == ["migrate"]
    assert out["services"]["migrate"]["deploy"] == {
        "mode": "replicated",
        "replicas": 1,
        "restart_policy": {"condition": "on-failure"},
    }


def test_secret_names_change_with_their_content_only() -> None:
    a = deploy.object_name("s", "api_token", b"one")
    assert a == deploy.object_name("s", "api_token", b"one")
    assert a != deploy.object_name("s", "api_token", b"two")
    assert b"one".hex() not in a and len(a) <= 64


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"endpoint_mode": "ipvs"}, "endpoint mode"),
        ({"replicas": 0}, "replicas"),
        ({"stack": "Bad Name"}, "stack"),
        ({"update_monitor": 0}, "update monitor of 0 s"),
    ],
    ids=["endpoint-mode", "no-replicas", "stack-name", "no-monitor"],
)
def test_swarm_options_are_checked(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SwarmOptions(**changes)  # type: ignore[arg-type]


def test_the_update_monitor_comes_from_the_environment_in_seconds(tmp_path: Path) -> None:
    settings = config.load(tmp_path, environ={"DOCKSTAGE_UPDATE_MONITOR": "4"})
    assert SwarmOptions.from_settings(settings).update_monitor == 4
    assert SwarmOptions.from_settings(config.load(tmp_path, environ={})).update_monitor == 10
    with pytest.raises(ConfigError, match="DOCKSTAGE_UPDATE_MONITOR is '4s', not a number"):
        SwarmOptions.from_settings(config.load(tmp_path, environ={"DOCKSTAGE_UPDATE_MONITOR": "4s"}))


# --- the engine -------------------------------------------------------------------------------


MONITOR = 3
"""Seconds swarm watches each new web task in the suite's deploys (DOCKSTAGE_UPDATE_MONITOR; 10 by
default): the rolling updates stay health-gated, three of them take a minute less per flow."""


@pytest.fixture
def swarm_mode(docker_client: DockerClient) -> DockerClient:
    """The engine, for a test that switches it into swarm mode and out (harness.single_node): asking
    for it runs the test alone, after the others (tests/conftest.py's SWARM_FIXTURES)."""
    return docker_client


@pytest.fixture
def swarm_settings(suite_settings: Settings, tmp_path: Path) -> Settings:
    return _settings(suite_settings, tmp_path)


@pytest.fixture
def options(suite_settings: Settings) -> SwarmOptions:
    return SwarmOptions(
        registry_port=free_port(),
        proxy_port=free_port(),
        replicas=2,
        stack=f"{suite_settings.project}-sw",
        update_monitor=MONITOR,  # the rolling updates' watch per task, shortened for the suite's clock
    )


@pytest.fixture
def local_registry(
    docker_client: DockerClient, swarm_settings: Settings, options: SwarmOptions
) -> Iterator[registry.Registry]:
    """The project's registry on its own port; removed with its volume and every tag pushed to it."""
    up = registry.up(Run(swarm_settings, QUIET, docker_client), options)
    try:
        yield up
    finally:
        registry.down(Run(swarm_settings, QUIET, docker_client), volumes=True, yes=True)
        registry.untag(docker_client, up.address)


def test_untag_skips_an_image_removed_after_the_listing(docker_client: DockerClient, suite_settings: Settings) -> None:
    """python-on-whales inspects a listed image when its tags are read: one that another command
    removed in between has no tag left to remove, and registry.untag goes on (it raised NoSuchImage)."""
    base = Run(suite_settings, QUIET, docker_client).provided_bases().python
    container = docker_client.container.create(base, ["true"])
    try:
        image = docker_client.container.commit(container, tag=f"{suite_settings.image}-gone:1")
    finally:
        docker_client.container.remove(container)
    listed = [found for found in docker_client.image.list() if found.id == image.id]
    docker_client.image.remove(image.id, force=True)
    assert listed and registry._repo_tags(listed[0]) == []


def test_release_pushes_and_records_the_digest(
    docker_client: DockerClient,
    built_images: list[stages.Built],
    swarm_settings: Settings,
    options: SwarmOptions,
    local_registry: registry.Registry,
    tmp_path: Path,
) -> None:
    assert loopback.status(local_registry.port, "/v2/")[0] == 200
    made = release.release(Run(swarm_settings, QUIET, docker_client), "it-1", options=options, allow_dirty=True)
    assert made.digest.startswith("sha256:") and made.ref == f"{local_registry.address}/{swarm_settings.image}:it-1"
    # The registry serves that manifest under that digest.
    conn = http.client.HTTPConnection("127.0.0.1", local_registry.port, timeout=10)
    conn.request(
        "HEAD",
        f"/v2/{swarm_settings.image}/manifests/it-1",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    assert conn.getresponse().getheader("Docker-Content-Digest") == made.digest
    conn.close()
    recorded = json.loads(release.releases_path(swarm_settings).read_text())["releases"]
    assert [(r["version"], r["digest"]) for r in recorded] == [("it-1", made.digest)]
    assert set(made.images) == {"web", "mysql", "proxy"} and all("@sha256:" in ref for ref in made.images.values())
    # Its SBOM beside the record, the record holding its digest; the pushed image carries the provenance labels.
    first_sbom = release.sbom_path(swarm_settings, "it-1").read_text(encoding="utf-8")
    assert recorded[0]["sbom"] == hashlib.sha256(first_sbom.encode()).hexdigest()
    assert {"django", "mysqlclient", "gunicorn", "libmariadb3"} <= {
        c["name"].lower() for c in json.loads(first_sbom)["components"]
    }
    labels = docker_client.image.inspect(made.ref).config.labels or {}
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    assert labels["org.opencontainers.image.revision"] == head.stdout.strip()
    # ...and its SBOM's digest, the only difference from the prod image it was made from (no layer added).
    assert labels[sbom.LABEL] == f"sha256:{recorded[0]['sbom']}"
    prod = docker_client.image.inspect(swarm_settings.tag("prod"))
    pushed = docker_client.image.inspect(made.ref)
    assert {**(prod.config.labels or {}), sbom.LABEL: labels[sbom.LABEL]} == labels
    assert pushed.root_fs.layers == prod.root_fs.layers and pushed.config.user == prod.config.user
    # A second release holding one package more: the release prints exactly that package as added.
    more = with_a_package(docker_client, swarm_settings.tag("prod"), f"{swarm_settings.image}:more", tmp_path / "more")
    said = Reporter(quiet=True, ci=True, buffer=io.StringIO())
    try:
        release.release(
            Run(swarm_settings, said, docker_client), "it-2", options=options, source=more, allow_dirty=True
        )
    finally:
        docker_client.image.remove(more, force=True)
    shown = said._buffer.getvalue()  # type: ignore[union-attr]
    assert "packages changed since it-1" in shown, shown
    rows = [line.split("│")[1:-1] for line in shown.splitlines() if line.startswith("│")]  # the table's body
    assert [[cell.strip() for cell in row] for row in rows] == [["added", "pypi", "six", "-", "1.16.0"]], shown
    # Running it again finds the same registry; the volume outlives the container unless asked.
    assert registry.up(Run(swarm_settings, QUIET, docker_client), options).name == local_registry.name
    registry.down(Run(swarm_settings, QUIET, docker_client))
    assert docker_client.volume.exists(local_registry.volume)
    with pytest.raises(ConfigError, match="--yes"):
        registry.down(Run(swarm_settings, QUIET, docker_client), volumes=True)


def _cut_once_updating(docker: DockerClient, web: str, gate: EngineGate) -> threading.Thread:
    """A thread that cuts `gate` once a new rolling update of `web` runs and the deploy behind the
    gate is waiting on it (it has looked at the nodes twice since); bounded at 300 s."""
    before = waits.update_marker(docker.service.inspect(web))

    def updating() -> int | None:
        service = docker.service.inspect(web)
        status = service.update_status
        begun = waits.update_marker(service) != before and status is not None and status.state == "updating"
        return len(gate.requests) if begun else None

    def waiting(since: int) -> bool:
        return gate.requests[since:].count(("GET", "/nodes")) >= 2

    def cut() -> None:
        since = probe.until(updating, 300, 0.2)
        if since is not None and probe.until(lambda: waiting(since) or None, 60, 0.1):
            gate.close()

    thread = threading.Thread(target=cut, daemon=True, name="cut-mid-update")
    thread.start()
    return thread


def _serves(docker: DockerClient, web: str, version: str, replicas: int) -> bool:
    """The update of `web` completed and `replicas` tasks of `version` run."""
    service = docker.service.inspect(web)
    done = service.update_status is not None and service.update_status.state == "completed"
    return (
        done
        and [image.split("@")[0].rpartition(":")[2] for image in waits.running(docker, web)] == [version] * replicas
    )


def _first_client() -> str | None:
    """The docker CLI the single-node flow starts with: Debian's (20.10: no jobs, the migrations as
    a one-shot service) where it is not the one on PATH; else the one on PATH (None)."""
    debian = Path("/usr/bin/docker")
    return str(debian) if debian.exists() and shutil.which("docker") != str(debian) else None


def test_single_node_deploy_serves_through_the_proxy_and_undeploys(
    swarm_mode: DockerClient,
    docker_client: DockerClient,
    built_images: list[stages.Built],
    suite_settings: Settings,
    tmp_path: Path,
    options: SwarmOptions,
    gate_dir: Path,
) -> None:
    """One stack, driven by two docker CLIs where the machine has two (as a team's laptops and CI
    may): the first deploy, the manager lost mid-update and the undeploy by the first CLI; the
    rotation, the redeploy and the rollback by the one on PATH. Where they differ (20.10 and 23+),
    the migrate service changes between a one-shot service and a job on the way, both ways."""
    first = _first_client()
    docker = DockerClient(client_call=[first]) if first else docker_client  # the first CLI
    on_path = docker_client
    swarm = docker.system.info().swarm
    if swarm is not None and swarm.local_node_state not in (None, "inactive"):
        pytest.skip("this engine is already in a swarm (someone else's): not touched")
    settings = _settings(suite_settings, tmp_path)
    stack = options.stack_name(settings)
    namespace = [("label", f"com.docker.stack.namespace={stack}")]
    had_bridge = harness.network_exists(docker, "docker_gwbridge")
    with harness.single_node(docker, QUIET):
        up = registry.up(Run(settings, QUIET, docker), options)
        try:
            release.release(Run(settings, QUIET, docker), "it-1", options=options, allow_dirty=True)
            done = deploy.deploy(Run(settings, QUIET, docker), "it-1", 2, options=options)
            assert done.outcome == "created"
            port = options.proxy_port
            assert loopback.status(port, "/healthz")[0] == 200
            settings = _settings(suite_settings, tmp_path)  # .env was created by the deploy
            old_token = settings.value("API_TOKEN")
            assert _post(port, old_token, "through the swarm proxy") == 201

            # The secrets are files: no value in any service's spec, the app reads *_FILE.
            specs = json.dumps(
                [
                    (s.spec.task_template.container_spec.env or [])
                    for s in docker.service.list(filters=namespace)
                    if s.spec.task_template and s.spec.task_template.container_spec
                ]
            )
            for key in ("DJANGO_SECRET_KEY", "API_TOKEN", "MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD"):
                assert settings.value(key) not in specs
            assert "DJANGO_SECRET_KEY_FILE=/run/secrets/django_secret_key" in specs
            (web,) = [s for s in docker.service.list(filters=namespace) if s.spec.name == f"{stack}_web"]
            assert web.spec.update_config is not None and web.spec.rollback_config is not None
            assert web.spec.update_config.monitor == web.spec.rollback_config.monitor == MONITOR * 10**9

            # Rotation: a new value is a new secret and a rolling update; the old token stops working.
            new_token = uuid.uuid4().hex
            _set_env_value(tmp_path / ".env", "API_TOKEN", new_token)
            settings = _settings(suite_settings, tmp_path)
            assert deploy.deploy(Run(settings, QUIET, on_path), "it-1", 2, options=options).outcome == "updated"
            migrate = on_path.service.inspect(f"{stack}_migrate")
            assert ("ReplicatedJob" in (migrate.spec.mode or {})) == deploy.client_deploys_jobs(on_path)
            assert _post(port, new_token, "after rotation") == 201
            assert _post(port, old_token, "old token") in (401, 403)

            # A second release. The manager goes away while deploy waits on web's rolling update (the
            # gate in front of the engine is cut once the update runs): one line saying what was seen
            # and that swarm resumes it, the README's engine exit code; swarm finishes it by itself.
            release.release(Run(settings, QUIET, docker), "it-2", options=options, allow_dirty=True)
            web_name = f"{stack}_web"
            with EngineGate(gate_dir / "d.sock", cut=lambda method, path: False) as gate:
                cutter = _cut_once_updating(docker, web_name, gate)
                gated = DockerClient(host=gate.host, client_call=[first]) if first else None
                with pytest.raises(errors.ManagerLost) as lost:
                    deploy.deploy(
                        Run(settings, QUIET, gated or DockerClient(host=gate.host)), "it-2", 2, options=options
                    )
                cutter.join(timeout=5)
            line, code = lost.value.one_line(INVOKE_COMMANDS), lost.value.return_code
            print(f"RELIABILITY-LINE: exit {code}: {line}")
            assert code == errors.EXIT_CODES["engine"], line
            assert line.startswith(
                f"engine: the swarm manager stopped answering while web went to it-2 on {stack} ("
            ), line
            assert "(update updating, " in line and " of 2 tasks run it-2)" in line, line
            assert "the swarm resumes it by itself" in line and "`invoke stack-ps`" in line, line
            assert "The command executed was" not in line and "docker --host" not in line, line
            assert probe.until(lambda: _serves(docker, web_name, "it-2", 2) or None, 240, 1.0), "swarm did not resume"
            assert deploy.deploy(Run(settings, QUIET, on_path), options=options).version == "it-2"  # the latest
            assert loopback.status(port, "/healthz")[0] == 200

            # Then back: rollback puts web on the release before the running one.
            back = deploy.rollback(Run(settings, QUIET, on_path), options=options)
            assert (back.version, back.outcome) == ("it-1", "updated")
            assert loopback.status(port, "/healthz")[0] == 200

            rows = deploy.stack_ps(Run(settings, QUIET, docker), options=options)
            assert [(r.state, r.image) for r in rows if r.service == "web"] == [("running", "it-1")] * 2

            deploy.undeploy(Run(settings, QUIET, docker), options=options)
            assert not docker.service.list(filters=namespace)
            assert not docker.network.list(filters=namespace)
            assert not docker.container.list(all=True, filters=namespace)
            assert not docker.secret.list(filters=[("label", f"dockstage.stack={stack}")])
            assert not docker.config.list(filters={"label": f"dockstage.stack={stack}"})
            assert docker.volume.exists(f"{stack}_db-data")
            deploy.undeploy(Run(settings, QUIET, docker), options=options, volumes=True, yes=True)
            assert not docker.volume.exists(f"{stack}_db-data")
        finally:
            with suppress(Exception):
                deploy.undeploy(Run(settings, QUIET, docker), options=options, volumes=True, yes=True)
            registry.down(Run(settings, QUIET, docker), volumes=True, yes=True)
            registry.untag(docker, up.address)
    assert docker.system.info().swarm.local_node_state == "inactive"  # type: ignore[union-attr]
    assert harness.network_exists(docker, "docker_gwbridge") == had_bridge


TICK = """import time

from django.core.cache import cache
from django.core.management.base import BaseCommand
from django.db import connection


class Command(BaseCommand):
    help = "A worker: says so once the database and redis answer, then waits for work."

    def handle(self, *args, **options):
        connection.ensure_connection()
        cache.set("tick", "ok", 60)
        self.stdout.write(f"tick ready on {connection.vendor} with redis {cache.get('tick')}")
        self.stdout.flush()
        while True:
            time.sleep(5)
"""
REDIS_CACHE = """
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://localhost:6379"),
    }
}
"""


def adopted_project(root: Path) -> Path:
    """A user's project, not the bundled app: startproject + polls, its own env names (SITE_SECRET
    required, DB_*), a redis cache from REDIS_URL, a worker command `tick`."""
    make_project(Path(sys.executable).parent, root, app=True)
    settings = root / "mysite/settings.py"
    text = re.sub(r"SECRET_KEY = .*\n", 'SECRET_KEY = os.environ["SITE_SECRET"]\n', settings.read_text(), count=1)
    settings.write_text(text + REDIS_CACHE)
    commands = root / "polls/management/commands"
    commands.mkdir(parents=True)
    for package in (commands.parent, commands):
        (package / "__init__.py").write_text("")
    (commands / "tick.py").write_text(TICK)
    (root / "requirements.txt").write_text("Django>=5.2,<6\nredis\n")
    return root


def test_an_adopted_project_ships_to_a_single_node_swarm_with_invoke(
    swarm_mode: DockerClient, docker_client: DockerClient, tmp_path: Path
) -> None:
    """A new user's path as typed, on their own project: `dockstage init` (which learns the redis),
    one worker line, then invoke build, registry, release, deploy; a page through the proxy; the
    worker running beside web on the database and redis (the app reads SITE_SECRET and DB_PASSWORD,
    handed over as secret files); a second release, rollback; stack-ps, stack-logs; undeploy (volume
    kept), undeploy --volumes --yes, registry --stop."""
    swarm = docker_client.system.info().swarm
    if swarm is not None and swarm.local_node_state not in (None, "inactive"):
        pytest.skip("this engine is already in a swarm (someone else's): not touched")
    root = adopted_project(tmp_path / "mysite")
    name, registry_port, proxy_port = new_name("ship"), free_port(), free_port()
    env = owned_environ(
        name,
        "app",
        DOCKSTAGE_FLAVOUR=TEST_FLAVOUR,
        DOCKSTAGE_REGISTRY_PORT=str(registry_port),
        DOCKSTAGE_PROXY_PORT=str(proxy_port),
        DOCKSTAGE_UPDATE_MONITOR=str(MONITOR),
    )
    stack = f"{name}-swarm"  # the default stack name
    namespace: list[tuple[Literal["label"], str]] = [("label", f"com.docker.stack.namespace={stack}")]
    volume = f"{stack}_db-data"
    had_bridge = harness.network_exists(docker_client, "docker_gwbridge")
    seconds: dict[str, float] = {}
    venv = Path(sys.executable).parent

    def command(*args: str, timeout: float = 900) -> str:
        typed = shlex.join(args)
        started = time.monotonic()
        program = [str(venv / args[0])] if args[0] == "dockstage" else [sys.executable, "-m", args[0]]
        result = subprocess.run([*program, *args[1:]], cwd=root, env=env, capture_output=True, text=True,
                                timeout=timeout, check=False)  # fmt: skip
        seconds[typed if typed not in seconds else f"{typed} (again)"] = time.monotonic() - started
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"{typed}: exit {result.returncode}\n{output[-4000:]}"
        return output

    def git(*args: str) -> str:
        who = ["-c", "user.name=A User", "-c", "user.email=user@example.invalid"]
        done = subprocess.run(["git", *who, *args], cwd=root, capture_output=True, text=True, check=True, timeout=60)
        return done.stdout.strip()

    def running(version: str) -> tuple[int, int]:
        """`invoke stack-ps`: how many web and tick tasks run `version` (every running one must)."""
        out = command("invoke", "stack-ps")
        found = []
        for service in ("web", "tick"):
            lines = [line for line in out.splitlines() if f" {service} " in f" {line} " and "running" in line]
            assert all(version in line for line in lines), out
            found.append(len(lines))
        return found[0], found[1]

    try:
        found = command("dockstage", "init")
        assert "secret-key <- SITE_SECRET" in found and "database-password <- DB_PASSWORD" in found, found
        assert "services: redis in every stack" in found, found
        pyproject = root / "pyproject.toml"
        text = pyproject.read_text()
        assert "[tool.dockstage.workers]\n" in text
        pyproject.write_text(
            text.replace("[tool.dockstage.workers]\n", '[tool.dockstage.workers]\ntick = "python manage.py tick"\n')
        )
        (root / ".gitignore").write_text(".env\n.dockstage/\n")  # what init's note asks for
        git("init", "-q")
        git("add", "-A")
        git("commit", "-qm", "adopted by dockstage")
        v1 = git("rev-parse", "--short", "HEAD")
        command("invoke", "build", "--stage", "prod")
        with harness.single_node(docker_client, QUIET):  # `docker swarm init --advertise-addr 127.0.0.1`
            try:
                assert f"on http://127.0.0.1:{registry_port}" in command("invoke", "registry")
                out = command("invoke", "release")  # the version: the commit's short sha
                assert f"released 127.0.0.1:{registry_port}/{name}/app:{v1} digest sha256:" in out
                assert "redis: " in out  # pushed beside web, pinned by digest in the release
                labels = docker_client.image.inspect(f"127.0.0.1:{registry_port}/{name}/app:{v1}").config.labels or {}
                assert labels["org.opencontainers.image.revision"] == git("rev-parse", "HEAD")
                assert labels["org.opencontainers.image.version"] == v1 and labels[sbom.LABEL].startswith("sha256:")
                out = command("invoke", "deploy")
                assert f"{stack}: web {v1} (created), 2 replicas" in out

                page = smoke.fetch(f"http://127.0.0.1:{proxy_port}/admin/login/")
                assert page.status == 200 and b"Django" in page.body, page.body[:500]
                assert running(v1) == (2, 1)
                logs = command("invoke", "stack-logs", "--service", "tick")
                assert "tick ready on mysql with redis ok" in logs, logs[-2000:]
                (tick,) = docker_client.service.list(filters=[("name", f"{stack}_tick")])
                spec_env = tick.spec.task_template.container_spec.env or []  # type: ignore[union-attr]
                assert "DB_PASSWORD_FILE=/run/secrets/mysql_password" in spec_env
                assert not any(v.startswith(("DB_PASSWORD=", "SITE_SECRET=")) for v in spec_env)

                views = root / "polls/views.py"
                views.write_text(views.read_text() + "\nVERSION = 2\n")
                command("invoke", "build", "--stage", "prod")
                refused = subprocess.run([sys.executable, "-m", "invoke", "release"], cwd=root, env=env,
                                         capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
                said = refused.stdout + refused.stderr
                assert refused.returncode != 0 and "tracked files have uncommitted changes" in said, said
                assert "invoke release --allow-dirty" in said and "Traceback" not in said, said
                git("commit", "-qam", "version 2")
                v2 = git("rev-parse", "--short", "HEAD")
                command("invoke", "build", "--stage", "prod")  # its labels name the new commit
                command("invoke", "release")
                assert f"{stack}: web {v2} (updated), 2 replicas" in command("invoke", "deploy")
                assert running(v2) == (2, 1)
                assert smoke.fetch(f"http://127.0.0.1:{proxy_port}/admin/login/").status == 200
                out = command("invoke", "rollback")
                assert f"{stack}: web {v1}" in out, out[-2000:]
                assert running(v1) == (2, 1)
                assert smoke.fetch(f"http://127.0.0.1:{proxy_port}/admin/login/").status == 200
                assert "migrate" in command("invoke", "stack-logs", "--service", "migrate")

                assert f"its database volume {volume} is kept" in command("invoke", "undeploy")
                assert not docker_client.service.list(filters=namespace)
                assert not docker_client.network.list(filters=namespace)
                assert not docker_client.container.list(all=True, filters=namespace)
                assert not docker_client.secret.list(filters=[("label", f"dockstage.stack={stack}")])
                assert not docker_client.config.list(filters={"label": f"dockstage.stack={stack}"})
                assert docker_client.volume.exists(volume)
                assert f"and its database volume {volume}" in command("invoke", "undeploy", "--volumes", "--yes")
                assert not docker_client.volume.exists(volume)

                out = command("invoke", "registry", "--stop", "--volumes", "--yes")
                assert f"local tags of 127.0.0.1:{registry_port} removed" in out, out
                assert not [
                    tag
                    for image in docker_client.image.list()
                    for tag in image.repo_tags or []
                    if tag.startswith(f"127.0.0.1:{registry_port}/")
                ]
                assert not docker_client.container.exists(f"{name}-registry")
                assert not docker_client.volume.exists(f"{name}-registry-data")
            finally:
                for args in (["undeploy", "--volumes", "--yes"], ["registry", "--stop", "--volumes", "--yes"]):
                    subprocess.run([sys.executable, "-m", "invoke", *args], cwd=root, env=env, capture_output=True,
                                   timeout=300, check=False)  # fmt: skip
                registry.untag(docker_client, f"127.0.0.1:{registry_port}")
    finally:
        remove_owned(docker_client, name, "app")
    assert docker_client.system.info().swarm.local_node_state == "inactive"  # type: ignore[union-attr]
    assert harness.network_exists(docker_client, "docker_gwbridge") == had_bridge
    print("seconds per command (an adopted project, single-node swarm):")  # -rP shows it
    for typed, taken in seconds.items():
        print(f"  {taken:6.1f}  {typed}")


@pytest.mark.skipif(
    not os.environ.get("DOCKSTAGE_SWARM_HARNESS"),
    reason="the three-node harness runs only with DOCKSTAGE_SWARM_HARNESS=1",
)
def test_three_node_harness(
    swarm_mode: DockerClient,
    docker_client: DockerClient,
    built_images: list[stages.Built],
    suite_settings: Settings,
    tmp_path: Path,
) -> None:
    results = tmp_path / "swarm.json"
    doctor: list[subprocess.CompletedProcess[str]] = []

    def official_doctor(cluster: harness.Cluster) -> None:
        # The real front-end against node2, whose mirror serves python:3.12-slim and mysql:8.4.
        env = cli_env(suite_settings, DOCKER_HOST=cluster.socket(1), DOCKSTAGE_FLAVOUR="official")
        doctor.append(run_cli(["nox", "-s", "doctor"], env, timeout=300))

    outcome = harness.run(
        suite_settings,
        docker_client,
        Reporter(),
        results=results,
        max_requests=40_000,
        max_seconds=400,
        while_up=official_doctor,
    )
    assert doctor and doctor[0].returncode == 0, doctor[0].stdout + doctor[0].stderr if doctor else "not run"
    rows = {s.name: s for s in outcome.scenarios}
    assert rows["a rolling update"].passed and rows["a rolling update"].failed == 0
    assert rows["b failed healthcheck"].passed and rows["b failed healthcheck"].failed == 0
    assert rows["c node stopped"].passed
    assert rows["e node killed mid-update"].passed, rows["e node killed mid-update"].note
    assert rows["f leader killed mid-update"].passed, rows["f leader killed mid-update"].note
    assert rows["d redeploy"].passed
    assert outcome.official_passed, outcome.official_bases
    assert json.loads(results.read_text())["passed"]
    assert not docker_client.container.list(all=True, filters=[("label", harness.LABEL)])
    assert not docker_client.volume.list(filters=[("label", harness.LABEL)])
    assert not docker_client.network.list(filters=[("label", harness.LABEL)])
