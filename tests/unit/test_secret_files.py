"""Secrets as files for an app that reads plain variables: the stack file says which variables
(DOCKSTAGE_SECRET_FILES on the app's services), the image's sitecustomize reads them back.

The sitecustomize runs in a real interpreter here, as it does in the prod image (PYTHONPATH)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dockstage.core import resources
from dockstage.swarm import stackfile

PYTHONPATH = resources.path(resources.SUPPORT) / "pythonpath"
SHOW = "import os; print(repr(os.environ.get('SECRET_KEY')))"


def _python(env: dict[str, str], *path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKSTAGE_", "SECRET_KEY"))}
    clean["PYTHONPATH"] = os.pathsep.join(str(p) for p in (PYTHONPATH, *path))
    return subprocess.run(
        [sys.executable, "-c", SHOW], env={**clean, **env}, capture_output=True, text=True, check=False, timeout=30
    )


def test_a_listed_variable_is_read_from_its_file(tmp_path: Path) -> None:
    secret = tmp_path / "django_secret_key"
    secret.write_text("s3cret value\n")
    found = _python({"DOCKSTAGE_SECRET_FILES": "SECRET_KEY", "SECRET_KEY_FILE": str(secret)})
    assert (found.returncode, found.stdout) == (0, "'s3cret value'\n"), found.stderr


def test_a_value_already_set_wins_and_an_unlisted_file_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "k"
    secret.write_text("from the file")
    kept = _python({"DOCKSTAGE_SECRET_FILES": "SECRET_KEY", "SECRET_KEY_FILE": str(secret), "SECRET_KEY": "set"})
    assert kept.stdout == "'set'\n"
    unlisted = _python({"SECRET_KEY_FILE": str(secret)})
    assert unlisted.stdout == "None\n"


def test_a_missing_file_stops_the_process_naming_it(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    found = _python({"DOCKSTAGE_SECRET_FILES": "SECRET_KEY", "SECRET_KEY_FILE": str(gone)})
    assert found.returncode != 0
    assert f"dockstage: SECRET_KEY_FILE='{gone}' cannot be read (No such file or directory)" in found.stderr


def test_the_sitecustomize_it_shadows_still_runs(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "sitecustomize.py").write_text("import os\nos.environ['SECRET_KEY'] = 'from the shadowed one'\n")
    found = _python({}, other)
    assert (found.returncode, found.stdout) == (0, "'from the shadowed one'\n"), found.stderr


def _doc() -> dict[str, object]:
    secret = "dockstage-secret-django_secret_key"
    return {
        "version": "3.9",
        "services": {
            "web": {"image": "w", "environment": {"SECRET_KEY": secret, "PLAIN": "1"}},
            "mailer": {"image": "local:prod", "environment": {"SECRET_KEY": secret}},
            "db": {"image": "m", "environment": {"MYSQL_PASSWORD": "dockstage-secret-mysql_password"}},
            "cache": {"image": "r", "ports": [{"target": 6379, "published": 6379, "mode": "ingress"}]},
        },
    }


def test_app_services_list_the_variables_their_files_replace() -> None:
    placeholders = {
        "dockstage-secret-django_secret_key": "django_secret_key",
        "dockstage-secret-mysql_password": "mysql_password",
    }
    names = {"django_secret_key": "s_k_1", "mysql_password": "s_p_1"}
    out = stackfile.secrets_as_files(_doc(), placeholders, names, app_services={"web", "mailer"})
    services = out["services"]
    assert services["web"]["environment"] == {
        "PLAIN": "1",
        "SECRET_KEY_FILE": "/run/secrets/django_secret_key",
        "DOCKSTAGE_SECRET_FILES": "SECRET_KEY",
    }
    assert services["mailer"]["environment"]["DOCKSTAGE_SECRET_FILES"] == "SECRET_KEY"
    assert services["db"]["environment"] == {
        "MYSQL_PASSWORD_FILE": "/run/secrets/mysql_password"
    }  # its own image reads *_FILE


def test_workers_run_the_release_one_task_stop_first() -> None:
    out = stackfile.as_workers(_doc(), ["mailer"], "127.0.0.1:5000/app:v2@sha256:ab")
    mailer = out["services"]["mailer"]
    assert mailer["image"] == "127.0.0.1:5000/app:v2@sha256:ab"
    assert mailer["deploy"]["replicas"] == 1
    assert mailer["deploy"]["update_config"] == {"order": "stop-first", "failure_action": "rollback"}
    assert out["services"]["web"]["image"] == "w"


def test_added_services_are_reached_by_name_unless_they_publish_an_ingress_port() -> None:
    doc = _doc()
    doc["services"]["web"]["deploy"] = {"endpoint_mode": "vip"}  # type: ignore[index]
    out = stackfile.reached_by_name(doc, "dnsrr")
    modes = {name: (s.get("deploy") or {}).get("endpoint_mode") for name, s in out["services"].items()}
    assert modes == {"web": "vip", "mailer": "dnsrr", "db": "dnsrr", "cache": None}
