"""The MariaDB stand-in keeps the official mysql image's contract, on a real engine."""

from __future__ import annotations

import bz2
import gzip
import lzma
import struct
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from python_on_whales import Container, DockerClient, docker
from python_on_whales.exceptions import DockerException

from dockstage.images import offline

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
        args: list[str] | None = None,
    ) -> Container:
        name = self.name(what)
        self.containers.append(name)
        volumes: list[tuple[str, str] | tuple[str, str, str]] = list(mounts or [])
        if volume:
            volumes.append((volume, "/var/lib/mysql"))
        return self.client.container.run(
            self.image,
            args or [],
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


# Server options mariadbd rejects; each must stop the container with mariadbd's own message.
BAD_OPTIONS = {
    "collation": ["--collation-server=utf8mb4_nonexistent_ci"],
    "unknown": ["--dockstage-no-such-option=1"],
    "mismatch": ["--character-set-server=latin1", "--collation-server=utf8mb4_bin"],
}
BAD_MESSAGES = {
    "collation": "[ERROR] Unknown collation: 'utf8mb4_nonexistent_ci'",
    "unknown": "[ERROR] mariadbd: unknown variable 'dockstage-no-such-option=1'",
    "mismatch": "[ERROR] COLLATION 'utf8mb4_bin' is not valid for CHARACTER SET 'latin1'",
}


def zstd_frame(data: bytes) -> bytes:
    """`data` as one zstd frame holding a single raw (stored) block (RFC 8878, 3.1.1): the
    standard library has no zstd, and the image's real `zstd -dc` decodes it."""
    assert len(data) < 256
    header = struct.pack("<IBB", 0xFD2FB528, 0x20, len(data))  # magic; single segment; 1-byte size
    block = (1 | len(data) << 3).to_bytes(3, "little")  # last block, type raw, size
    return header + block + data


def _official_style_initdb(initdb: Path) -> Path:
    """Init files as written for the official mysql image: a sourced script using its helpers,
    and each compressed .sql form it reads."""
    (initdb / "01-schema.sql").write_text("CREATE TABLE runs (what VARCHAR(40));\n")
    # Not executable, so sourced: the official entrypoint's functions and `mysql` array are there.
    (initdb / "02-helpers.sh").write_text(
        'mysql_note "dockstage-init: sourced with the official helpers"\n'
        "docker_process_sql <<< \"INSERT INTO runs VALUES ('docker_process_sql');\"\n"
        "docker_process_sql --database=mysql <<< \"INSERT INTO \\`$MYSQL_DATABASE\\`.runs VALUES ('--database');\"\n"
        'echo "INSERT INTO runs VALUES (\'mysql array\');" | "${mysql[@]}"\n'
        'mysql_warn "dockstage-init: a warning"\n'
    )
    (initdb / "03-data.sql.bz2").write_bytes(bz2.compress(b"INSERT INTO runs VALUES ('sql.bz2');\n"))
    (initdb / "04-data.sql.xz").write_bytes(lzma.compress(b"INSERT INTO runs VALUES ('sql.xz');\n"))
    (initdb / "05-data.sql.zst").write_bytes(zstd_frame(b"INSERT INTO runs VALUES ('sql.zst');\n"))
    (initdb / "06-readme.txt").write_text("not run\n")
    for f in initdb.iterdir():
        f.chmod(0o644)
    initdb.chmod(0o755)
    return initdb


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
        initdb = _official_style_initdb(tmp_path_factory.mktemp("initdb"))
        f.db(
            "initfiles",
            {"MYSQL_ROOT_PASSWORD": "rootpw", "MYSQL_DATABASE": "app"},
            mounts=[(str(initdb), "/docker-entrypoint-initdb.d", "ro")],
        )
        f.db("latin1", {"MYSQL_ROOT_PASSWORD": "rootpw"}, args=["--character-set-server=latin1"])
        confd = tmp_path_factory.mktemp("confd")
        (confd / "charset.cnf").write_text("[mysqld]\ncharacter-set-server = latin1\ncollation-server = latin1_bin\n")
        (confd / "charset.cnf").chmod(0o644)
        confd.chmod(0o755)
        f.db("confd", {"MYSQL_ROOT_PASSWORD": "rootpw"}, mounts=[(str(confd), "/etc/mysql/conf.d", "ro")])
        for what, args in BAD_OPTIONS.items():
            f.db(f"bad-{what}", {"MYSQL_ROOT_PASSWORD": "rootpw"}, args=args)
        f.db("roothost", {"MYSQL_ROOT_PASSWORD": "rootpw", "MYSQL_ROOT_HOST": "127.0.0.1"})
        (secrets / "roothost").write_text("localhost\n")
        (secrets / "roothost").chmod(0o644)
        f.db(
            "roothostfile",
            {"MYSQL_ROOT_PASSWORD": "rootpw", "MYSQL_ROOT_HOST_FILE": "/run/secrets/roothost"},
            mounts=[(str(secrets), "/run/secrets", "ro")],
        )
        f.db("onetime", {"MYSQL_ROOT_PASSWORD": "rootpw", "MYSQL_ONETIME_PASSWORD": "yes"})
        f.db("plain", {"MYSQL_ROOT_PASSWORD": "rootpw"})
        suite_init = Path(__file__).resolve().parents[2] / "dockstage/data/compose/mysql-init"
        f.db(
            "suiteinit",
            {"MYSQL_ROOT_PASSWORD": "rootpw", "MYSQL_DATABASE": "app", "MYSQL_USER": "app", "MYSQL_PASSWORD": "apppw"},
            mounts=[(str(suite_init), "/docker-entrypoint-initdb.d", "ro")],
        )
        f.db("notz", {"MYSQL_ROOT_PASSWORD": "rootpw", "MYSQL_INITDB_SKIP_TZINFO": "1"})
        f.db("notz-latin1", {"MYSQL_ROOT_PASSWORD": "rootpw", "MYSQL_INITDB_SKIP_TZINFO": "1"}, args=["-Clatin1"])
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


def wait_exited(client: DockerClient, name: str, deadline: float = HEALTH_DEADLINE) -> int:
    """Exit code of `name` once it has stopped; fails if it still runs after `deadline` seconds."""
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        state = client.container.inspect(name).state
        if not state.running:
            return int(state.exit_code or 0)
        time.sleep(0.25)
    pytest.fail(f"{name} still running after {deadline} s:\n{client.container.logs(name)}")


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
        "SELECT @@character_set_server, @@collation_server, @@collation_connection;"
        "CREATE TABLE t (s VARCHAR(10)) ;"
        f"INSERT INTO t VALUES ('{EMOJI}');"
        "SELECT s, HEX(s), @@character_set_connection FROM t;"
        # error 1267 (Illegal mix of collations) when the table's collation is not the connection's
        "SELECT COUNT(*) FROM t WHERE s = CAST(1 AS CHAR);"
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
    # The server's collation is the one a utf8mb4 client gets (utf8mb4's default), as on MySQL 8.
    assert lines[0].split("\t") == ["utf8mb4", "utf8mb4_general_ci", "utf8mb4_general_ci"]
    assert lines[1].split("\t") == [EMOJI, "F09F9880", "utf8mb4"]
    assert lines[2] == "0"
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


def test_sourced_init_script_gets_the_official_helpers_and_compressed_files_run(
    standin_client: DockerClient, fleet: Fleet
) -> None:
    name = fleet.name("initfiles")
    wait_healthy(standin_client, name)
    rows = sql(standin_client, name, "SELECT GROUP_CONCAT(what ORDER BY what) FROM runs", "-uroot", "-prootpw", "app")
    assert sorted(rows.split(",")) == sorted(
        ["docker_process_sql", "--database", "mysql array", "sql.bz2", "sql.xz", "sql.zst"]
    )
    logs = str(standin_client.container.logs(name))
    assert "[Note] [Entrypoint]: dockstage-init: sourced with the official helpers" in logs
    assert "[Warn] [Entrypoint]: dockstage-init: a warning" in logs
    assert "ignoring /docker-entrypoint-initdb.d/06-readme.txt" in logs
    assert "command not found" not in logs
    assert "one server start" not in logs  # the user's scripts need a running server: the temporary one


def test_first_start_with_the_suites_init_script_is_one_server_start(
    standin_client: DockerClient, fleet: Fleet
) -> None:
    """The suite's own init script (its test_% grant) is done by the entrypoint itself: no temporary
    server, the setup SQL run by the server before it takes a connection, its file removed after."""
    name = fleet.name("suiteinit")
    wait_healthy(standin_client, name)
    logs = str(standin_client.container.logs(name))
    assert "one server start" in logs and "starting temporary server" not in logs, logs
    assert "did not complete" not in logs
    sql(standin_client, name, "CREATE DATABASE test_app; CREATE TABLE test_app.t (i INT)", "-uapp", "-papppw")
    assert sql(standin_client, name, "SHOW TABLES FROM test_app", "-uapp", "-papppw") == "t"
    grants = sql(standin_client, name, "SHOW GRANTS FOR CURRENT_USER", "-uapp", "-papppw")
    assert "ALL PRIVILEGES ON `test" in grants and "ALL PRIVILEGES ON `app`" in grants, grants
    assert str(standin_client.container.execute(name, ["ls", "/run/mysqld"])).split() == ["mysqld.pid", "mysqld.sock"]
    proxies = sql(
        standin_client,
        name,
        "SELECT CONCAT(User, '@', Host, ' ', With_grant) FROM mysql.proxies_priv",
        "-uroot",
        "-prootpw",
    )
    assert sorted(proxies.splitlines()) == ["root@% 1", "root@localhost 1"]


def test_character_set_flag_alone_works(standin_client: DockerClient, fleet: Fleet) -> None:
    name = fleet.name("latin1")
    wait_healthy(standin_client, name)
    query = "SELECT @@character_set_server, @@collation_server"
    assert sql(standin_client, name, query, "-uroot", "-prootpw").split("\t") == ["latin1", "latin1_swedish_ci"]


@pytest.mark.parametrize(
    ("what", "template", "zones"),
    [
        ("latin1", False, True),
        ("confd", False, True),
        ("plain", True, True),
        ("notz", True, False),
        ("notz-latin1", False, False),
    ],
)
def test_first_start_from_the_template_or_the_slow_way_has_the_same_tables(
    standin_client: DockerClient, fleet: Fleet, what: str, template: bool, zones: bool
) -> None:
    """The default options unpack the image's template; other options or option files make the
    system tables the slow way. Either way the time zone tables are loaded, unless skipped."""
    name = fleet.name(what)
    wait_healthy(standin_client, name)
    logs = str(standin_client.container.logs(name))
    assert ("(from the image's template" in logs) is template, logs
    assert ("one server start" in logs) is template, logs  # no init script: the server runs the setup itself
    query = "SELECT COUNT(*) FROM mysql.time_zone_name; SELECT CONVERT_TZ('2024-07-01 12:00:00', 'UTC', 'Europe/Paris')"
    count, paris = sql(standin_client, name, query, "-uroot", "-prootpw").splitlines()
    assert (int(count) > 400, paris) == ((True, "2024-07-01 14:00:00") if zones else (False, "NULL"))
    users = sql(standin_client, name, "SELECT CONCAT(User, '@', Host) FROM mysql.user ORDER BY 1", "-uroot", "-prootpw")
    assert "root@localhost" in users.split() and not [
        u for u in users.split() if u.startswith("root@") and u not in ("root@localhost", "root@%")
    ]


def test_user_conf_d_sets_the_charset(standin_client: DockerClient, fleet: Fleet) -> None:
    name = fleet.name("confd")
    wait_healthy(standin_client, name)
    query = "SELECT @@character_set_server, @@collation_server"
    assert sql(standin_client, name, query, "-uroot", "-prootpw").split("\t") == ["latin1", "latin1_bin"]


@pytest.mark.parametrize("what", sorted(BAD_OPTIONS))
def test_rejected_server_option_shows_mariadbds_error(standin_client: DockerClient, fleet: Fleet, what: str) -> None:
    name = fleet.name(f"bad-{what}")
    assert wait_exited(standin_client, name, deadline=30) != 0
    logs = str(standin_client.container.logs(name))
    assert "[ERROR] [Entrypoint]: mariadbd failed while attempting to check config" in logs
    assert BAD_MESSAGES[what] in logs, logs


def test_root_host(standin_client: DockerClient, fleet: Fleet) -> None:
    name = fleet.name("roothost")
    wait_healthy(standin_client, name)
    root = ("-uroot", "-prootpw")
    assert sql(standin_client, name, "SELECT CURRENT_USER()", *root) == "root@127.0.0.1"
    hosts = "SELECT GROUP_CONCAT(Host ORDER BY Host) FROM mysql.user WHERE User = 'root'"
    assert sql(standin_client, name, hosts, *root) == "127.0.0.1,localhost"
    # From the container's own network address, not 127.0.0.1: no account at all matches that host.
    with pytest.raises(DockerException) as denied:
        standin_client.container.execute(
            name, ["bash", "-c", 'mariadb -h"$(hostname -i)" -uroot -prootpw -e "SELECT 1"']
        )
    assert "is not allowed to connect to this MariaDB server" in str(denied.value)


def test_root_host_file_localhost_makes_no_remote_root(standin_client: DockerClient, fleet: Fleet) -> None:
    name = fleet.name("roothostfile")
    wait_healthy(standin_client, name)
    # Over the socket root works; it is the only root account, so over TCP it is refused.
    out = standin_client.container.execute(
        name,
        ["mariadb", "-uroot", "-prootpw", "-N", "-B", "-e", "SELECT Host FROM mysql.user WHERE User = 'root'"],
    )
    assert str(out).strip() == "localhost"
    with pytest.raises(DockerException) as denied:
        sql(standin_client, name, "SELECT 1", "-uroot", "-prootpw")
    assert "Access denied for user 'root'@'127.0.0.1'" in str(denied.value)


def test_onetime_password_expires_root(standin_client: DockerClient, fleet: Fleet) -> None:
    name = fleet.name("onetime")
    wait_healthy(standin_client, name)
    with pytest.raises(DockerException) as expired:
        sql(standin_client, name, "SELECT 1", "-uroot", "-prootpw")
    assert "You must SET PASSWORD before executing this statement" in str(expired.value)
    # An expired account may still change its password (MariaDB's sandbox mode takes SET PASSWORD,
    # not ALTER USER); then it works as usual.
    sql(standin_client, name, "SET PASSWORD = PASSWORD('newpw')", "-uroot", "-prootpw")
    assert sql(standin_client, name, "SELECT CURRENT_USER()", "-uroot", "-pnewpw") == "root@%"


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
