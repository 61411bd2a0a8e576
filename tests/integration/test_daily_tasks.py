"""Daily tasks as a Django developer expects them, on a stack of the test run's own.

Each test drives the real CLI; the line a user sees is printed as RELIABILITY-LINE.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage.core import errors
from dockstage.core.config import Settings
from dockstage.images import stages
from tests.conftest import ROOT, cli_env, free_port, run_cli
from tests.integration.test_failures import one_line
from tests.integration.test_frontends import dialogue, ok


@pytest.fixture(scope="module")
def daily(built_images: object, suite_settings: Settings, docker_client: DockerClient) -> Iterator[Settings]:
    """A project of the module's own (never `invoke up` yet: its migrations are pending)."""
    settings = suite_settings.with_(project=f"{suite_settings.project}-daily", web_port=free_port())
    try:
        yield settings
    finally:
        run_cli(["invoke", "down", "--volumes", "--yes"], cli_env(settings))


def test_manage_runs_no_migrations_first(daily: Settings) -> None:
    out = ok(run_cli(["invoke", "manage", "--", "showmigrations", "notes"], cli_env(daily)))
    assert "[ ] 0001_initial" in out  # pending, because nothing migrated behind the user's back


def test_createsuperuser_and_changepassword_get_a_terminal(daily: Settings) -> None:
    env = cli_env(daily)
    ok(run_cli(["invoke", "migrate"], env))
    code, text = dialogue(
        ["invoke", "manage", "--", "createsuperuser", "--username", "ada", "--email", "ada@example.com"],
        env,
        [(b"Password:", b"Correct-Horse-9!\r"), (b"Password (again):", b"Correct-Horse-9!\r")],
    )
    assert code == 0, text
    assert "Superuser created successfully" in text and "skipped" not in text
    assert "Correct-Horse-9!" not in text  # the password is not echoed
    code, text = dialogue(
        ["invoke", "manage", "--", "changepassword", "ada"],
        env,
        [(b"Password:", b"Battery-Staple-7?\r"), (b"Password (again):", b"Battery-Staple-7?\r")],
    )
    assert code == 0 and "Password changed successfully" in text, text
    assert "Battery-Staple-7?" not in text


def test_createsuperuser_without_a_terminal_refuses_or_takes_the_shells_values(daily: Settings) -> None:
    """No terminal (run_cli's stdin is not one): Django would skip and exit 0 having made nobody."""
    env = cli_env(daily)
    ok(run_cli(["invoke", "migrate"], env))
    refused = run_cli(["invoke", "manage", "--", "createsuperuser"], env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "createsuperuser needs a terminal" in refused.stderr + refused.stdout
    assert "DJANGO_SUPERUSER_PASSWORD" in refused.stderr + refused.stdout
    given = {"DJANGO_SUPERUSER_USERNAME": "grace", "DJANGO_SUPERUSER_EMAIL": "g@example.com"}
    made = ok(
        run_cli(["invoke", "manage", "--", "createsuperuser"], {**env, **given, "DJANGO_SUPERUSER_PASSWORD": "Pw-9!x"})
    )
    assert "Superuser created successfully" in made and "Pw-9!x" not in made
    again = run_cli(["invoke", "manage", "--", "createsuperuser"], {**env, **given, "DJANGO_SUPERUSER_PASSWORD": "x"})
    assert again.returncode != 0 and "already taken" in again.stdout + again.stderr  # grace exists: made above


def test_logs_without_a_service_and_following(daily: Settings) -> None:
    env = cli_env(daily)
    ok(run_cli(["invoke", "up", "--quiet"], env))
    every = ok(run_cli(["invoke", "logs"], env))
    assert "migrate-1" in every and "web-1" in every and "db-1" in every
    follow = subprocess.Popen(
        [sys.executable, "-m", "invoke", "logs", "--follow"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )  # fmt: skip
    try:
        assert follow.stdout is not None
        first = follow.stdout.readline().decode()
        assert first.strip(), "invoke logs --follow printed nothing"
        assert follow.poll() is None  # still following
    finally:
        follow.terminate()
        follow.wait(timeout=30)


def test_ps_shows_exit_codes_and_ports(daily: Settings) -> None:
    env = cli_env(daily)
    ok(run_cli(["invoke", "up", "--quiet"], env))
    rows = {line.split("│")[1].strip(): line for line in ok(run_cli(["invoke", "ps"], env)).splitlines() if "│" in line}
    migrate = next(line for name, line in rows.items() if name.endswith("migrate-1"))
    web = next(line for name, line in rows.items() if "-web-" in name)
    proxy = next(line for name, line in rows.items() if name.endswith("proxy-1"))
    assert "exited" in migrate and "│ 0 " in migrate and "unhealthy" not in migrate
    assert "healthy" in web and "127.0.0.1:" not in web  # web is reached through the proxy only
    assert f"127.0.0.1:{daily.web_port}->8080/tcp" in proxy and "healthy" in proxy


def test_a_failed_migration_leaves_the_running_web_serving(daily: Settings, docker_client: DockerClient) -> None:
    env = cli_env(daily)
    ok(run_cli(["invoke", "up", "--quiet"], env))
    web_before = [
        c.id
        for c in docker_client.container.list(filters=[("label", f"com.docker.compose.project={daily.project}")])
        if "web" in c.name
    ]
    broken = run_cli(["invoke", "up"], {**env, "MYSQL_DATABASE": "no_such_database"})
    line = one_line(broken, "migrate exited with 1")
    assert broken.returncode == errors.EXIT_CODES["stack"], line
    web_after = [
        c
        for c in docker_client.container.list(filters=[("label", f"com.docker.compose.project={daily.project}")])
        if "web" in c.name
    ]
    assert [c.id for c in web_after] == web_before  # the same container, never stopped
    assert web_after[0].state.running and web_after[0].state.health and web_after[0].state.health.status == "healthy"


def test_clean_prunes_only_this_projects_dangling_images(
    daily: Settings, docker_client: DockerClient, tmp_path: Path
) -> None:
    other = f"dockstage-other-{uuid.uuid4().hex[:8]}"
    ids = {}
    # (image name, checkout): this checkout's, another image's, the same image name built by another checkout
    owners = [(daily.image, "here"), (other, "here"), (daily.image, "elsewhere")]
    for image, checkout in owners:
        for round_ in ("a", "b"):  # the second build takes the tag: the first becomes dangling
            (tmp_path / "Dockerfile").write_text(
                f"FROM {daily.tag('prod')}\nLABEL dockstage.image={image} round={round_}-{checkout}\n"
            )
            tag = f"{image}:dangle-{checkout}"
            docker_client.buildx.build(tmp_path, tags=[tag], load=True, progress=False)
            ids[(image, checkout, round_)] = docker_client.image.inspect(tag).id
            if checkout == "here":  # as stages.build does for every image this checkout builds
                stages.remember(daily, ids[(image, checkout, round_)])
    try:
        ok(run_cli(["invoke", "clean"], cli_env(daily)))
        assert not docker_client.image.exists(ids[(*owners[0], "a")])  # this checkout's leftover is gone
        assert docker_client.image.exists(ids[(*owners[1], "a")])  # another image's stays
        assert docker_client.image.exists(ids[(*owners[2], "a")])  # another checkout's (same image name) stays
    finally:
        for image, checkout in owners:
            with contextlib.suppress(DockerException):
                docker_client.image.remove(f"{image}:dangle-{checkout}", force=True)
            with contextlib.suppress(DockerException):
                docker_client.image.remove(ids[(image, checkout, "a")], force=True)


def test_messages_point_the_right_way(daily: Settings, tmp_path: Path) -> None:
    env = cli_env(daily)
    no_token = tmp_path / ".env"
    no_token.write_text(
        "\n".join(
            line
            for line in Path(env["DOCKSTAGE_ENV_FILE"]).read_text().splitlines()
            if not line.startswith("API_TOKEN=")
        )
        + "\n"
    )
    for args in (["invoke", "down"], ["invoke", "up"]):
        refused = run_cli(args, {**env, "DOCKSTAGE_ENV_FILE": str(no_token)})
        line = one_line(refused, "API_TOKEN is not set in .env", "add API_TOKEN=")
        assert refused.returncode == errors.EXIT_CODES["config"], line
    nothing = run_cli(["invoke", "test", "--", "-k", "no_test_has_this_name"], env, timeout=600)
    line = one_line(nothing, "pytest collected no tests", "-k")
    assert "{" not in line and nothing.returncode == errors.EXIT_CODES["check"]
    debug = run_cli(["invoke", "ps"], {**env, "DOCKSTAGE_DEBUG": "1"})
    assert "debug dockstage: docker client created" in debug.stderr
    assert "Running command:" in debug.stderr  # python-on-whales' docker argv


def test_quiet_build_failure_shows_the_error(daily: Settings, tmp_path: Path) -> None:
    broken = tmp_path / "checkout"
    broken.mkdir()
    subprocess.run(["cp", "-r", str(ROOT / "app"), str(broken / "app")], check=True)
    for name in (".dockerignore", "pyproject.toml", ".env.example", "tasks.py"):
        subprocess.run(["cp", str(ROOT / name), str(broken / name)], check=True)
    (broken / "app" / "requirements" / "base.txt").write_text("this-package-does-not-exist-dockstage==0.0.1\n")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "build", "--stage", "dev", "--quiet"], cwd=broken, env=cli_env(daily, DOCKSTAGE_IMAGE=f"{daily.image}-broken"),
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert time.monotonic() - started < 600
    line = one_line(result, "building stage 'dev' failed")
    assert result.returncode == errors.EXIT_CODES["build"], line
    assert "this-package-does-not-exist-dockstage" in result.stdout + result.stderr  # the reason is shown
    # ... and the one line says it: uv found no such project on the index (install.py's diagnosis)
    assert "this-package-does-not-exist-dockstage is not on the package index the build uses" in line, line
    assert "set index-url to the index that has it" in line, line
