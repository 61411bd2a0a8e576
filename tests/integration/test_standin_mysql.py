"""The MariaDB stand-in keeps the official mysql image's contract, on a real engine."""

from __future__ import annotations

import gzip
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from python_on_whales import Container, DockerClient, docker
from python_on_whales.exceptions import DockerException

from dockstage import offline

pytestmark = pytest.mark.integration

EMOJI = "\U0001f600"  # 4 bytes in UTF-8: needs utf8mb4
HEALTH_DEADLINE = 90.0


@pytest.fixture(scope="module")
def standin_client() -> DockerClient:
    """The default python-on-whales client (the engine this machine runs)."""
    return docker


@pytest.fixture(scope="module")
def bookworm(standin_client: DockerClient) -> offline.BaseImages:
    """The bookworm stand-ins, built once or reused."""
    offline.build_bases(standin_client, "bookworm")
    return offline.stand_in("bookworm")


class Fleet:
    """Containers, volumes and networks of one module, all named uniquely and removed at the end."""

    def __init__(self, client: DockerClient, image: str) -> None:
        self.client, self.image = client, image
        self.prefix = f"dockstage-test-{uuid.uuid4().hex[:8]}"
        self.containers: list[str] = []
        self.volumes: list[str] = []
        self.networks: list[str] = []

    def name(self, what: str) -> str:
        return f"{self.prefix}-{what}"

    def volume(self, what: str) -> str:
        name = self.name(what)
        self.client.volume.create(name)
        self.volumes.append(name)
        return name

    def network(self, what: str) -> str:
        name = self.name(what)
        self.client.network.create(name)
        self.networks.append(name)
        return name

    def db(
        self,
        what: str,
        env: dict[str, str],
        volume: str | None = None,
        mounts: list[tuple[str, str, str]] | None = None,
        network: str | None = None,
    ) -> Container:
        name = self.name(what)
        self.containers.append(name)
        volumes: list[tuple[str, str] | tuple[str, str, str]] = list(mounts or [])
        if volume:
            volumes.append((volume, "/var/lib/mysql"))
        return self.client.container.run(
            self.image,
            name=name,
            detach=True,
            envs=env,
            volumes=volumes,
            networks=[network] if network else [],
            network_aliases=["db"] if network else [],
        )

    def cleanup(self) -> None:
        for name in self.containers:
            try:
                self.client.container.remove(name, force=True, volumes=True)
            except DockerException:
                pass
        for name in self.volumes:
            try:
                self.client.volume.remove(name)
            except DockerException:
                pass
        for name in self.networks:
            try:
                self.client.network.remove(name)
            except DockerException:
                pass


@pytest.fixture(scope="module")
def fleet(
    standin_client: DockerClient,
    bookworm: offline.BaseImages,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Fleet]:
    """Start the independent containers at once (they initialise in parallel)."""
    f = Fleet(standin_client, bookworm.mysql)
    secrets = tmp_path_factory.mktemp("secrets")
    for key, value in {
        "root": "filed-root",
        "user": "fileuser",
        "pw": "filed-pw",
        "db": "filedb",
    }.items():
        (secrets / key).write_text(value + "\n")
        (secrets / key).chmod(0o644)
    f.secrets = secrets  # type: ignore[attr-defined]
    try:
        f.db("random", {"MYSQL_RANDOM_ROOT_PASSWORD": "yes"})
        f.db("empty", {"MYSQL_ALLOW_EMPTY_PASSWORD": "1"})
        f.db("nopw", {"MYSQL_DATABASE": "x"})
        f.db(
            "files",
            {
                "MYSQL_ROOT_PASSWORD_FILE": "/run/secrets/root",
                "MYSQL_USER_FILE": "/run/secrets/user",
                "MYSQL_PASSWORD_FILE": "/run/secrets/pw",
                "MYSQL_DATABASE_FILE": "/run/secrets/db",
            },
            mounts=[(str(secrets), "/run/secrets", "ro")],
        )
        yield f
    finally:
        f.cleanup()


def wait_healthy(client: DockerClient, name: str) -> float:
    """Seconds until `name` is healthy; fails if it exits or the deadline passes."""
    start = time.monotonic()
    while time.monotonic() - start < HEALTH_DEADLINE:
        state = client.container.inspect(name).state
        if state.health is not None and state.health.status == "healthy":
            return time.monotonic() - start
        if not state.running:
            logs = str(client.container.logs(name))
            pytest.fail(f"{name} exited ({state.exit_code}) before healthy:\n{logs}")
        time.sleep(0.25)
    pytest.fail(f"{name} not healthy after {HEALTH_DEADLINE} s:\n{client.container.logs(name)}")


def sql(client: DockerClient, name: str, query: str, *auth: str) -> str:
    """Run `query` with the mariadb client inside the container, over TCP."""
    args = [
        "mariadb",
        "--protocol=tcp",
        "-h127.0.0.1",
        "--default-character-set=utf8mb4",
    ]
    out = client.container.execute(name, [*args, *auth, "-N", "-B", "-e", query])
    return str(out).strip()


def test_empty_volume_initialises_and_serves_utf8mb4_over_the_network(
    standin_client: DockerClient, bookworm: offline.BaseImages, fleet: Fleet
) -> None:
    net = fleet.network("net")
    env = {
        "MYSQL_ROOT_PASSWORD": "rootpw",
        "MYSQL_DATABASE": "app",
        "MYSQL_USER": "app",
        "MYSQL_PASSWORD": "app'pw",
    }
    fleet.db("main", env, volume=fleet.volume("main"), network=net)
    seconds = wait_healthy(standin_client, fleet.name("main"))
    print(f"empty volume -> healthy in {seconds:.1f} s")
    query = (
        "SELECT @@character_set_server, @@collation_server;"
        "CREATE TABLE t (s VARCHAR(10)) ;"
        f"INSERT INTO t VALUES ('{EMOJI}');"
        "SELECT s, HEX(s), @@character_set_connection FROM t;"
        "CREATE DATABASE test_app; DROP DATABASE test_app;"
    )
    # A second container on the network: TCP through bind-address 0.0.0.0, as the app user.
    out = standin_client.container.run(
        bookworm.mysql,
        [
            "mariadb",
            "-hdb",
            "-uapp",
            "-papp'pw",
            "app",
            "--default-character-set=utf8mb4",
            "-N",
            "-B",
            "-e",
            query,
        ],
        networks=[net],
        remove=True,
    )
    lines = str(out).strip().splitlines()
    assert lines[0].split("\t") == ["utf8mb4", "utf8mb4_unicode_ci"]
    assert lines[1].split("\t") == [EMOJI, "F09F9880", "utf8mb4"]
    # The app user sees only its own databases.
    dbs = sql(standin_client, fleet.name("main"), "SHOW DATABASES", "-uapp", "-papp'pw").split()
    assert "app" in dbs and "mysql" not in dbs


def test_random_root_password(standin_client: DockerClient, fleet: Fleet) -> None:
    name = fleet.name("random")
    wait_healthy(standin_client, name)
    logs = str(standin_client.container.logs(name))
    password = logs.split("GENERATED ROOT PASSWORD: ")[1].split()[0]
    assert len(password) >= 16
    assert sql(standin_client, name, "SELECT CURRENT_USER()", "-uroot", f"-p{password}") == "root@%"


def test_allow_empty_password(standin_client: DockerClient, fleet: Fleet) -> None:
    name = fleet.name("empty")
    wait_healthy(standin_client, name)
    assert sql(standin_client, name, "SELECT 1", "-uroot") == "1"


def test_file_variants(standin_client: DockerClient, fleet: Fleet) -> None:
    name = fleet.name("files")
    wait_healthy(standin_client, name)
    assert sql(standin_client, name, "SELECT CURRENT_USER()", "-uroot", "-pfiled-root") == "root@%"
    out = sql(standin_client, name, "SELECT DATABASE()", "-ufileuser", "-pfiled-pw", "filedb")
    assert out == "filedb"


def test_no_root_password_option_fails_clearly(standin_client: DockerClient, fleet: Fleet) -> None:
    name = fleet.name("nopw")
    deadline = time.monotonic() + 30
    while standin_client.container.inspect(name).state.running and time.monotonic() < deadline:
        time.sleep(0.25)
    state = standin_client.container.inspect(name).state
    assert not state.running and state.exit_code != 0
    logs = str(standin_client.container.logs(name))
    assert "password option is not specified" in logs and "MYSQL_ROOT_PASSWORD" in logs


def test_initdb_once_persistence_clean_shutdown_and_health(
    standin_client: DockerClient, fleet: Fleet, tmp_path: Path
) -> None:
    initdb = tmp_path / "initdb"
    initdb.mkdir()
    (initdb / "01-schema.sql").write_text("CREATE TABLE runs (what VARCHAR(20));\n")
    (initdb / "02-data.sql.gz").write_bytes(gzip.compress(b"INSERT INTO runs VALUES ('sql.gz');\n"))
    # Sourced (not executable): may use the entrypoint's process_sql; sleeps so health is polled mid-init.
    (initdb / "03-script.sh").write_text(
        'sleep 5\necho "INSERT INTO runs VALUES (\'sh\');" | process_sql --database="$MYSQL_DATABASE"\n'
    )
    for f in initdb.iterdir():
        f.chmod(0o644)
    initdb.chmod(0o755)
    env = {"MYSQL_ROOT_PASSWORD": "rootpw", "MYSQL_DATABASE": "app"}
    volume = fleet.volume("persist")
    mounts = [(str(initdb), "/docker-entrypoint-initdb.d", "ro")]
    first = fleet.db("persist1", env, volume=volume, mounts=mounts)

    # Never healthy while the init server (no networking) runs.
    start = time.monotonic()
    while time.monotonic() - start < HEALTH_DEADLINE:
        state = standin_client.container.inspect(first.name).state
        finished = "initialisation finished" in standin_client.container.logs(first.name)
        status = state.health.status if state.health else None
        if not finished:
            assert status != "healthy", "healthy before initialisation finished"
        elif status == "healthy":
            break
        assert state.running, str(standin_client.container.logs(first.name))
        time.sleep(0.25)
    print(f"empty volume + 5 s init script -> healthy in {time.monotonic() - start:.1f} s")

    root = ("-uroot", "-prootpw", "app")
    count = "SELECT GROUP_CONCAT(what ORDER BY what) FROM runs"
    assert sql(standin_client, first.name, count, *root) == "sh,sql.gz"

    # SIGTERM reaches mariadbd (PID 1): clean exit well within the grace period.
    t0 = time.monotonic()
    first.stop()
    assert time.monotonic() - t0 < 9
    assert standin_client.container.inspect(first.name).state.exit_code == 0
    standin_client.container.remove(first.name)

    # Same volume, new container, no password variables needed: data kept, init not re-run.
    second = fleet.db("persist2", {}, volume=volume, mounts=mounts)
    print(f"existing volume -> healthy in {wait_healthy(standin_client, second.name):.1f} s")
    assert sql(standin_client, second.name, count, *root) == "sh,sql.gz"
    logs = str(standin_client.container.logs(second.name))
    assert "initialising database files" not in logs
    assert "crash recovery" not in logs.lower() and "Starting recovery" not in logs
    assert str(second.execute(["cat", "/proc/1/comm"])).strip() == "mariadbd"


def test_python_image(standin_client: DockerClient, bookworm: offline.BaseImages) -> None:
    script = (
        "python -m venv /tmp/v && /tmp/v/bin/python -c 'import sys, sysconfig, os; "
        'print(sys.version_info[:2]); assert os.path.exists(sysconfig.get_paths()["include"] + "/Python.h")\''
    )
    out = standin_client.container.run(bookworm.python, ["bash", "-c", script], remove=True)
    assert "(3, 11)" in str(out)


@pytest.mark.slow
def test_trixie_builds(standin_client: DockerClient) -> None:
    built = offline.build_bases(standin_client, "trixie")
    bases = offline.stand_in("trixie")
    assert {b.tag for b in built} >= {bases.python, bases.mysql}
    out = standin_client.container.run(
        bases.python,
        ["python", "-c", "import sys; print(sys.version_info[:2])"],
        remove=True,
    )
    assert "(3, 13)" in str(out)
    name = f"dockstage-test-{uuid.uuid4().hex[:8]}-trixie"
    try:
        standin_client.container.run(
            bases.mysql,
            name=name,
            detach=True,
            envs={"MYSQL_ALLOW_EMPTY_PASSWORD": "1"},
        )
        wait_healthy(standin_client, name)
        assert sql(standin_client, name, "SELECT VERSION()", "-uroot").startswith("11.8")
    finally:
        standin_client.container.remove(name, force=True, volumes=True)
