"""Settings that read their env file with python-dotenv's dotenv_values() (no image holds .env):
the image's sitecustomize gives them the process environment, where the stacks put .env's values.

The sitecustomize and python-dotenv run in a real interpreter here, as in the images (PYTHONPATH)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dockstage.core import resources

PYTHONPATH = resources.path(resources.SUPPORT) / "pythonpath"


def _settings(tmp_path: Path, body: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`body` as a settings module in `tmp_path/app`, run from `tmp_path` with `env` set."""
    app = tmp_path / "app"
    app.mkdir(exist_ok=True)
    (app / "settings.py").write_text(body)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKSTAGE_", "DJANGO_"))}
    clean["PYTHONPATH"] = str(PYTHONPATH)
    return subprocess.run(
        [sys.executable, str(app / "settings.py")],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


def test_an_absent_env_file_reads_the_environment(tmp_path: Path) -> None:
    ran = _settings(
        tmp_path,
        "from dotenv import dotenv_values\nconfig = dotenv_values('.env')\nprint(config['DJANGO_SECRET_KEY'])\n",
        {"DJANGO_SECRET_KEY": "from the stack"},
    )
    assert (ran.returncode, ran.stdout) == (0, "from the stack\n"), ran.stderr


def test_an_absent_env_file_found_by_search_reads_the_environment(tmp_path: Path) -> None:
    ran = _settings(
        tmp_path,
        "import dotenv\nprint(dotenv.dotenv_values().get('DJANGO_DEBUG', 'unset'))\n",
        {"DJANGO_DEBUG": "0"},
    )
    assert (ran.returncode, ran.stdout) == (0, "0\n"), ran.stderr


def test_an_env_file_that_is_there_fills_what_the_environment_lacks(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / ".env").write_text("DJANGO_SECRET_KEY=from the file\nDB_HOST=localhost\nONLY_HERE=1\n")
    body = (
        "from pathlib import Path\nfrom dotenv import dotenv_values\n"
        "c = dotenv_values(Path(__file__).parent / '.env')\nfound = dotenv_values()\n"
        "print(c['DJANGO_SECRET_KEY'], c['DB_HOST'], c['ONLY_HERE'], found['ONLY_HERE'])\n"
    )
    ran = _settings(tmp_path, body, {"DJANGO_SECRET_KEY": "from the stack", "DB_HOST": "db"})
    # the stack's values win (the dev stack's bind-mounted .env lacks DB_HOST); found by search too
    assert (ran.returncode, ran.stdout) == (0, "from the stack db 1 1\n"), ran.stderr


def test_a_stream_is_read_as_before(tmp_path: Path) -> None:
    body = "import io\nfrom dotenv import dotenv_values\nprint(dict(dotenv_values(stream=io.StringIO('A=1'))))\n"
    ran = _settings(tmp_path, body, {"A": "2"})
    assert (ran.returncode, ran.stdout) == (0, "{'A': '1'}\n"), ran.stderr


def test_a_name_neither_has_is_a_key_error_naming_it(tmp_path: Path) -> None:
    ran = _settings(tmp_path, "from dotenv import dotenv_values\ndotenv_values('.env')['DJANGO_SECRET_KEY']\n", {})
    assert ran.returncode != 0
    assert "KeyError: 'DJANGO_SECRET_KEY'" in ran.stderr
