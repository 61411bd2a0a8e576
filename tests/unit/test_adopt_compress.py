"""django-compressor under prod's read-only root: init has `compress` run at build time and turns
COMPRESS_OFFLINE on for prod (through the settings' own name, else the overlay), learned by the probe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockstage.adopt import probe as probing
from dockstage.adopt import render
from dockstage.adopt.inspect import Findings
from dockstage.adopt.probe import COMPRESS, apply
from dockstage.core import resources
from dockstage.core.appconfig import APP_KEYS, parse_app
from tests.unit.test_adopt_probe import probe

FROM_ENV = """\
import os

DEBUG = os.environ.get("SITE_DEBUG", "True") == "True"
SECRET_KEY = os.environ.get("SITE_KEY", "x")
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.staticfiles", "compressor"]
STATIC_ROOT = "/app/collectedstatic"
COMPRESS_ENABLED = not DEBUG
COMPRESS_OFFLINE = os.environ.get("COMPRESS_OFFLINE", "False").lower() == "true"  # as DjangoBlog
"""
HARD_CODED = FROM_ENV.replace('os.environ.get("COMPRESS_OFFLINE", "False").lower() == "true"  # as DjangoBlog', "False")


def test_an_offline_switch_the_settings_read_is_set_for_prod_and_off_for_the_tests(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": FROM_ENV}, [])
    assert result["compress"] == {
        "app": True,
        "offline": False,
        "name": "COMPRESS_OFFLINE",
        "on": "True",
        "off": "False",
    }
    found = Findings(root=tmp_path, settings_module="proj.settings")
    apply(found, [result])
    assert found.build_commands == [COMPRESS]
    assert found.env_values["COMPRESS_OFFLINE"] == "True" and found.test_env["COMPRESS_OFFLINE"] == "False"
    assert "COMPRESS_OFFLINE" not in found.other_env and "compress-offline" not in found.overlay
    assert any(line.startswith("django-compressor: `python manage.py compress --force` runs") for line in found.found)
    app = parse_app(_section(found))
    assert [list(c) for c in app.build_commands] == [["python", "manage.py", "compress", "--force"]]


def test_a_hard_coded_online_compressor_gets_the_overlay(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": HARD_CODED}, [])
    assert result["compress"] == {"app": True, "offline": False}
    found = Findings(root=tmp_path, settings_module="proj.settings")
    apply(found, [result])
    assert "compress-offline" in found.overlay and found.build_commands == [COMPRESS]
    assert any("django-compressor would write its files" in r for r in found.overlay_reasons)
    assert "compress-offline" in parse_app(_section(found)).overlay


def test_the_overlay_module_turns_offline_compression_on(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "__init__.py").write_text("")
    (tmp_path / "proj" / "settings.py").write_text(HARD_CODED)
    pythonpath = resources.path(resources.SUPPORT) / "pythonpath"
    env = {
        **os.environ,
        "PYTHONPATH": f"{pythonpath}{os.pathsep}{tmp_path}",
        "DOCKSTAGE_BASE_SETTINGS": "proj.settings",
        "DOCKSTAGE_OVERLAY": "compress-offline",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import dockstage_settings as s; print(s.COMPRESS_OFFLINE, s.INSTALLED_APPS[-1])"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.split() == ["True", "compressor"]


def test_no_compressor_no_change(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": FROM_ENV.replace(', "compressor"', "")}, [])
    assert result["compress"] == {}
    found = Findings(root=tmp_path, settings_module="proj.settings")
    apply(found, [result])
    assert found.build_commands == [] and "COMPRESS_OFFLINE" not in found.env_values


def _section(found: Findings) -> dict[str, object]:
    import tomllib

    table = tomllib.loads(render.tool_section(found))["tool"]["dockstage"]
    assert isinstance(table, dict)
    return {k.replace("-", "_"): v for k, v in table.items() if k.replace("-", "_") in APP_KEYS}


@pytest.mark.parametrize(
    ("files", "test_env"),
    [
        ({"app/.env.example": "SECRET_KEY=x\nDEBUG=True\n"}, {"DEBUG": "True"}),
        ({".env.sample": "export DEBUG=1 # dev\n"}, {"DEBUG": "True"}),
        ({".env.example": "DEBUG=False\n"}, {}),
        ({".env.example": "# dockstage: the suite's own\nDEBUG=True\n"}, {}),
        ({}, {}),
    ],
    ids=["app-dir-template", "sample", "off-there", "the-suites-own", "no-template"],
)
def test_tests_get_debug_on_where_the_projects_env_template_turns_it_on(
    tmp_path: Path, files: dict[str, str], test_env: dict[str, str]
) -> None:
    """Held-out amanzon: .env.example sets DEBUG=True; its settings turn on SECURE_SSL_REDIRECT
    when DEBUG is off, and 23 of its 58 tests saw 301s under the suite's debug off."""
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = Findings(root=tmp_path, app_dir="app", settings_module="amanzon.settings")
    found.env = {"debug": ["DEBUG"]}
    found.debug_values = ("False", "True")
    probing.debug_in_env_template(found)
    assert found.test_env == test_env
