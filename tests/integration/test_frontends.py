"""Every nox session and invoke task, driven as a user types them, against the real engine."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage import STAGES
from dockstage.core.config import Settings, read_env_file
from dockstage.stack import smoke
from tests.conftest import ROOT, cli_env, free_port, run_cli

pytestmark = pytest.mark.integration

SESSIONS = ("doctor", "bases", "build_dev", "build_test", "build_stage", "build_prod", "test_image", "smoke_prod",
            "pipeline", "swarm", "tests", "lint", "typecheck", "bench")  # fmt: skip
TASKS = ("dev", "up", "down", "ps", "logs", "build", "test", "smoke", "shell", "manage", "migrate", "makemigrations",
         "db-shell", "db-dump", "db-restore", "clean", "doctor", "bases",
         "registry", "release", "sbom", "deploy", "rollback", "stack-ps", "stack-logs", "undeploy")  # fmt: skip


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The combined output of a command that must have succeeded."""
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


def test_every_session_and_task_is_listed_with_a_description() -> None:
    nox_list = ok(run_cli(["nox", "-l"], dict(os.environ)))
    for name in SESSIONS:
        assert f" {name} -> " in nox_list, name
    invoke_list = ok(run_cli(["invoke", "--list"], dict(os.environ)))
    listed = {line.split()[0]: line for line in invoke_list.splitlines() if line.startswith("  ")}
    for name in TASKS:
        assert name in listed and len(listed[name].split()) > 2, name


def test_invoke_help_documents_each_argument() -> None:
    text = ok(run_cli(["invoke", "--help", "down"], dict(os.environ)))
    assert "--volumes" in text and "needs --yes" in text
    assert "--yes" in text and "confirm --volumes" in text


def test_nox_pipeline_builds_tests_and_smokes_in_one_run(built_images: object, suite_settings: Settings) -> None:
    """A warm pipeline: its debug log shows one DockerClient, one preflight and four stage builds."""
    out = ok(run_cli(["nox", "-s", "pipeline"], cli_env(suite_settings, DOCKSTAGE_DEBUG="1"), timeout=1200))
    assert " passed" in out and "generated xml file" in out  # the app's pytest summary from the test image
    for check in ("smoke health", "smoke notes", "smoke admin_and_static", "smoke gunicorn"):
        assert f"ok   {check}" in out, check
    for check in (
        "stage image: check --deploy",
        "prod image: runs as user",
        "prod image: _mysql and every compiled module",
    ):
        assert check in out, check
    assert "Session pipeline was successful" in out
    debug = [line for line in out.splitlines() if line.startswith("debug dockstage: ")]
    assert sum("docker client created" in line for line in debug) == 1
    assert sum(line.startswith("debug dockstage: preflight: ") for line in debug) == 1
    builds = [line.split()[4] for line in debug if line.startswith("debug dockstage: build stage ")]
    assert builds[0] == "dev" and sorted(builds) == sorted(STAGES)  # each once; the three after dev at once
    shown = [line.split()[2] for line in out.splitlines() if line.startswith("==> building ")]
    assert shown == list(STAGES)  # their output still in the stages' order
    generated = re.compile(
        rf"{re.escape(suite_settings.project)}(-test|-smoke|-pipeline)?-[0-9a-f]{{8}}\.(env|test\.env|health\.yaml)"
    )
    state = suite_settings.path(suite_settings.state_dir)
    assert not [p for p in state.iterdir() if generated.fullmatch(p.name)]  # generated files removed


@pytest.mark.slow
def test_invoke_build_doctor_and_bases(built_images: object, suite_settings: Settings) -> None:
    env = cli_env(suite_settings)
    out = ok(run_cli(["invoke", "build", "--stage", "prod", "--quiet"], env))
    assert "dev" in out and "stage" in out and "prod" in out and "cached" in out
    assert "engine: Docker engine" in ok(run_cli(["invoke", "doctor"], env))
    assert "prod image: no gcc" in out  # builds check their images
    assert "Session doctor was successful" in ok(run_cli(["nox", "-s", "doctor"], env))
    assert "base images" in ok(run_cli(["invoke", "bases"], env))


@pytest.fixture(scope="module")
def up_stack(built_images: object, suite_settings: Settings, docker_client: DockerClient) -> Iterator[dict[str, str]]:
    """`invoke up` on the run's project; torn down with its volume at the end."""
    env = cli_env(suite_settings)
    try:
        out = ok(run_cli(["invoke", "up"], env))
        assert f"web is healthy at http://127.0.0.1:{suite_settings.web_port}/" in out
        yield env
    finally:
        run_cli(["invoke", "down", "--volumes", "--yes"], env)


def base(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.web_port}"


def token(settings: Settings) -> str:
    return read_env_file(settings.path(settings.env_file))["API_TOKEN"]


def notes(settings: Settings) -> list[dict[str, object]]:
    response = smoke.fetch(f"{base(settings)}/api/notes/?page_size=100")
    assert response.status == 200, response.body
    body = response.json()
    assert isinstance(body, dict)
    return list(body["results"])


def post(settings: Settings, text: str) -> dict[str, object]:
    response = smoke.fetch(f"{base(settings)}/api/notes/", method="POST", body={"text": text}, token=token(settings))
    assert response.status == 201, response.body
    note = response.json()
    assert isinstance(note, dict)
    return note


@pytest.mark.slow
def test_row_survives_down_and_up(up_stack: dict[str, str], suite_settings: Settings) -> None:
    note = post(suite_settings, "kept across down/up 🐳")
    out = ok(run_cli(["invoke", "down"], up_stack))
    assert "database volume kept" in out
    ok(run_cli(["invoke", "up", "--quiet"], up_stack))
    assert note in notes(suite_settings)


@pytest.mark.slow
def test_dump_drop_restore_gives_back_identical_rows(
    up_stack: dict[str, str], suite_settings: Settings, tmp_path: Path
) -> None:
    post(suite_settings, "emoji 🐳🚀 and accents éàü")
    post(suite_settings, "second row")
    before = notes(suite_settings)
    dump = tmp_path / "backup.sql"
    assert "dumped the database" in ok(run_cli(["invoke", "db-dump", "--output", str(dump)], up_stack))
    assert "-- Dump completed" in dump.read_text(encoding="utf-8")
    assert "🐳🚀" in dump.read_text(encoding="utf-8")
    refused = run_cli(["invoke", "down", "--volumes"], up_stack)
    assert refused.returncode != 0 and "add --yes to confirm" in refused.stdout + refused.stderr
    ok(run_cli(["invoke", "down", "--volumes", "--yes"], up_stack))
    ok(run_cli(["invoke", "up", "--quiet"], up_stack))
    assert notes(suite_settings) == []
    assert "restored the database" in ok(run_cli(["invoke", "db-restore", str(dump)], up_stack))
    assert notes(suite_settings) == before


def converse(args: list[str], env: dict[str, str], prompt: bytes, lines: bytes, cwd: Path = ROOT) -> tuple[int, str]:
    """Run an interactive command on a pseudo-terminal: wait for the prompt, type, read until exit."""
    return dialogue(args, env, [(prompt, lines)], cwd)


def dialogue(
    args: list[str], env: dict[str, str], exchanges: list[tuple[bytes, bytes]], cwd: Path = ROOT
) -> tuple[int, str]:
    """Run an interactive command on a pseudo-terminal: for each (prompt, answer), wait for the
    prompt's next appearance and type the answer; then read until it exits."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", *args], cwd=cwd, env=env,
        stdin=secondary, stdout=secondary, stderr=secondary, close_fds=True,
    )  # fmt: skip
    os.close(secondary)
    output, answered, seen = b"", 0, 0
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline and process.poll() is None:
            ready, _, _ = select.select([primary], [], [], 0.5)
            if ready:
                try:
                    output += os.read(primary, 4096)
                except OSError:
                    break
            if answered < len(exchanges):
                prompt, answer = exchanges[answered]
                found = output.find(prompt, seen)
                if found >= 0:
                    time.sleep(0.5)  # let the program switch its terminal to raw mode
                    os.write(primary, answer)
                    seen, answered = found + len(prompt), answered + 1
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(primary)
    text = output.decode("utf-8", "replace")
    assert answered == len(exchanges), f"only {answered} of {len(exchanges)} prompts within 90 s: {text[-2000:]}"
    return process.returncode, text


@pytest.mark.slow
def test_db_shell_through_a_pseudo_terminal(up_stack: dict[str, str]) -> None:
    code, text = converse(
        ["invoke", "db-shell"], up_stack, b"]>", b"SELECT 40 + 2 AS answer, DATABASE() AS db;\nexit\n"
    )
    assert "answer" in text and "42" in text and "| app " in text, text
    assert code == 0, text


@pytest.mark.slow
def test_django_shell_through_a_pseudo_terminal(up_stack: dict[str, str]) -> None:
    script = b"from notes.models import Note; print('notes', Note.objects.count() >= 0, 6 * 7)\rexit()\r"
    code, text = converse(["invoke", "shell"], up_stack, b"In [", script)
    assert "notes True 42" in text, text
    assert code == 0, text


@pytest.mark.slow
def test_makemigrations_writes_files_owned_by_the_host_user(
    built_images: object, suite_settings: Settings, docker_client: DockerClient, tmp_path: Path
) -> None:
    """The dev image runs as DOCKSTAGE_UID:GID, so files it writes into app/ belong to that user.

    The copy builds under its own image name: its dev stage (another uid, no .git) must not replace
    the run's shared one."""
    copy = tmp_path / "checkout"
    shutil.copytree(
        ROOT, copy, ignore=shutil.ignore_patterns(".git", ".nox", ".dockstage", "__pycache__", "benchmarks")
    )
    model = copy / "app" / "notes" / "models.py"
    model.write_text(
        model.read_text().replace(
            "    text = models.TextField()\n",
            "    text = models.TextField()\n    pinned = models.BooleanField(default=False)\n",
        )
    )
    uid = 4321
    for path in [copy / "app", *(copy / "app").rglob("*")]:
        os.chown(path, uid, uid)
    settings = suite_settings.with_(
        image=f"{suite_settings.image}-mig", project=f"{suite_settings.project}-mig", web_port=free_port()
    )
    env = cli_env(settings, DOCKSTAGE_UID=str(uid), DOCKSTAGE_GID=str(uid))
    try:
        result = subprocess.run([sys.executable, "-m", "invoke", "makemigrations"], cwd=copy, env=env,
                                capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
        assert "Add field pinned to note" in ok(result)
        created = list((copy / "app" / "notes" / "migrations").glob("0002_*.py"))
        assert len(created) == 1
        assert (created[0].stat().st_uid, created[0].stat().st_gid) == (uid, uid)
    finally:
        subprocess.run([sys.executable, "-m", "invoke", "down", "--volumes", "--yes"], cwd=copy, env=env,
                       capture_output=True, timeout=300, check=False)  # fmt: skip
        for stage in STAGES:
            with suppress(DockerException):
                docker_client.image.remove(settings.tag(stage), force=True)


@pytest.mark.slow
def test_manage_migrate_makemigrations_ps_logs_clean(up_stack: dict[str, str]) -> None:
    assert "[X] 0001_initial" in ok(run_cli(["invoke", "manage", "--", "showmigrations", "notes"], up_stack))
    assert "No migrations to apply" in ok(run_cli(["invoke", "migrate"], up_stack))
    assert "No changes detected" in ok(run_cli(["invoke", "makemigrations"], up_stack))
    ps = ok(run_cli(["invoke", "ps"], up_stack))
    assert "-web-" in ps and "proxy-1" in ps and "healthy" in ps
    assert "Booting worker" in ok(run_cli(["invoke", "logs", "--service", "web"], up_stack))
    assert "Booting worker" in ok(run_cli(["invoke", "logs"], up_stack))  # every service, none named
    missing = run_cli(["invoke", "manage"], up_stack)
    assert missing.returncode != 0 and "nothing to run" in missing.stdout + missing.stderr
    assert "volumes kept" in ok(run_cli(["invoke", "clean"], up_stack))
    ok(run_cli(["invoke", "up", "--quiet"], up_stack))


@pytest.mark.slow
def test_invoke_test_and_smoke(built_images: object, suite_settings: Settings) -> None:
    env = cli_env(suite_settings)
    out = ok(run_cli(["invoke", "test", "--", "-k", "health"], env))
    assert "passed" in out and "deselected" in out
    assert "ok   smoke gunicorn" in ok(run_cli(["invoke", "smoke"], env))


@pytest.mark.slow
def test_dev_stack_reloads_an_edited_view_without_rebuild(
    built_images: object, suite_settings: Settings, tmp_path: Path, docker_client: DockerClient
) -> None:
    copy = tmp_path / "checkout"
    shutil.copytree(
        ROOT, copy, ignore=shutil.ignore_patterns(".git", ".nox", ".dockstage", "__pycache__", "benchmarks")
    )
    port = free_port()
    # Its own image name: the copy (no .git) builds a dev stage with other labels, which must not
    # replace the run's shared one.
    settings = suite_settings.with_(
        image=f"{suite_settings.image}-devloop", project=f"{suite_settings.project}-dev", web_port=port
    )
    env = cli_env(settings)
    try:
        ok(subprocess.run([sys.executable, "-m", "invoke", "dev", "--detach"], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=600, check=False))  # fmt: skip
        image_id = docker_client.image.inspect(settings.tag("dev")).id
        url = f"http://127.0.0.1:{port}/healthz"
        assert json.loads(smoke.fetch(url).body) == {"status": "ok", "database": "ok"}
        view = copy / "app" / "project_playground" / "views.py"
        view.write_text(
            view.read_text().replace(
                '{"status": "ok", "database": "ok"}', '{"status": "ok", "database": "ok", "edited": True}'
            )
        )
        deadline, body = time.monotonic() + 60, {}
        while time.monotonic() < deadline:
            try:
                answer = smoke.fetch(url)
                body = json.loads(answer.body) if answer.status == 200 else {}
            # While the autoreloader restarts the server: refused, or an answer with an empty body.
            except (OSError, ValueError):
                body = {}
            if body.get("edited"):
                break
            time.sleep(0.5)
        assert body == {"status": "ok", "database": "ok", "edited": True}
        assert docker_client.image.inspect(settings.tag("dev")).id == image_id
    finally:
        subprocess.run([sys.executable, "-m", "invoke", "down", "--volumes", "--yes"], cwd=copy, env=env,
                       capture_output=True, timeout=300, check=False)  # fmt: skip
        for stage in STAGES:
            with suppress(DockerException):
                docker_client.image.remove(settings.tag(stage), force=True)


def test_first_run_creates_env_with_fresh_secrets_and_never_overwrites_it(
    docker_client: DockerClient, suite_settings: Settings, tmp_path: Path
) -> None:
    env_file = tmp_path / "first-run.env"
    settings = suite_settings.with_(project=f"{suite_settings.project}-first", env_file=str(env_file))
    env = cli_env(settings)
    assert "created first-run.env from .env.example with fresh secrets" in ok(run_cli(["invoke", "ps"], env))
    created = read_env_file(env_file)
    assert all(len(created[key]) >= 24 for key in ("DJANGO_SECRET_KEY", "API_TOKEN", "MYSQL_PASSWORD"))
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    assert "created" not in ok(run_cli(["invoke", "ps"], env))
    assert read_env_file(env_file) == created
    assert read_env_file(ROOT / ".env.example")["DJANGO_SECRET_KEY"] == ""  # the example stays secret-free
