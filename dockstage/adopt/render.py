"""What `dockstage init` writes: the [tool.dockstage] tables, .env.example, noxfile.py, tasks.py."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from dockstage.adopt.inspect import Findings
from dockstage.core import dotenv
from dockstage.core.appconfig import DEFAULT_PROD_EXCLUDE, HEALTH_CHECK

NOXFILE = '''"""Nox sessions of dockstage: build, test and smoke-test this app in containers (`nox -l`)."""

from pathlib import Path

from dockstage.frontends import noxsessions

ROOT = Path(__file__).resolve().parent
noxsessions.register(ROOT)
'''
TASKS = '''"""Invoke tasks of dockstage: the app's stacks, database and shells (`invoke --list`)."""

from pathlib import Path

from dockstage.frontends import invoketasks

ns = invoketasks.collection(Path(__file__).resolve().parent)
'''


def slug(name: str) -> str:
    """A compose project / image name from a directory name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "app"


def toml(value: object) -> str:
    """One TOML value (strings, numbers, booleans, lists and inline tables of those)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for {value!r}")


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _lines(pairs: list[tuple[str, object, str]]) -> list[str]:
    out = []
    for key, value, comment in pairs:
        if comment:
            out.append(f"# {comment}")
        out.append(f"{_key(key)} = {toml(value)}")
    return out


def smoke_checks(found: Findings) -> list[dict[str, object]]:
    """The smoke checks init proposes: the health path, and the admin login page when there is one."""
    checks: list[dict[str, object]] = [{"name": HEALTH_CHECK, "path": found.health_path, "status": 200, "follow": True}]
    if found.admin_path and f"{found.admin_path}login/" != found.health_path:
        admin: dict[str, object] = {
            "name": "admin",
            "path": f"{found.admin_path}login/",
            "contains": "csrfmiddlewaretoken",
        }
        if found.manifest_static and found.static_root:
            admin["static"] = True
        checks.append(admin)
    return checks


def tool_section(found: Findings, *, env_example: str = ".env.example", env_file: str = ".env") -> str:
    """The [tool.dockstage] tables for `found`, commented."""
    name = slug(found.root.name)
    requirements = found.requirements
    pairs: list[tuple[str, object, str]] = [
        ("image", name, "images are tagged <image>:<stage>; compose project below"),
        ("project", name, ""),
        ("app-dir", found.app_dir, "where manage.py is; dev copies it whole, prod gets it minus prod-exclude"),
        ("settings-module", found.settings_module, ""),
        ("wsgi", found.wsgi, f"gunicorn serves it{f' (ASGI found: {found.asgi})' if found.asgi else ''}"),
        ("python", found.python, f"from {found.python_reason}: official bases use python:<version>-slim"),
        (
            "requirements",
            requirements.runtime,
            "runtime set (files or package specs); gunicorn and mysqlclient are added",
        ),
        ("dev-requirements", requirements.dev, ""),
        ("test-requirements", [*requirements.test, *requirements.test_extra], ""),
        ("apt-build", requirements.apt_build, "Debian packages C extensions need to build (dev)"),
        ("apt-runtime", requirements.apt_runtime, "the libraries they need at run time (stage, prod)"),
        ("prod-exclude", list(DEFAULT_PROD_EXCLUDE), "left out of prod (`**/` any depth, trailing / a directory)"),
        ("health-path", found.health_path, "the prod HEALTHCHECK's URL (must answer 200)"),
        ("collectstatic", found.static_root or "static-root" in found.overlay, "needs STATIC_ROOT"),
        ("build-commands", found.build_commands, 'after collectstatic, e.g. ["python manage.py compress"]'),
        ("test-command", found.test_command, 'or "python manage.py test"'),
        ("test-setup", found.test_setup, 'commands before the tests, e.g. ["python manage.py compilejsi18n"]'),
        ("test-files", found.test_files, "project-root tests and pytest config the test image adds to the app dir"),
        ("assets-command", found.assets_command, "the front-end build after `npm ci`, in a node stage prod never sees"),
        ("assets-output", found.assets_output, "copied into the app besides every file the build wrote"),
        (
            "tmpfs",
            found.tmpfs,
            "LOGGING writes there, outside the app dir (learned by the probe): in memory in prod"
            if found.tmpfs
            else "writable in-memory paths of the prod services beyond /tmp and /var/tmp",
        ),
        (
            "writable-dirs",
            found.writable_dirs,
            "dirs under app-dir the app writes from import on, learned by the probe (its import died without them)"
            if found.writable_dirs
            else 'dirs under app-dir the app writes from import on: ["data"] (a tmpfs in prod)',
        ),
        ("smoke-urls", True, "the smoke test also GETs every URL without parameters and fails on a 5xx"),
        ("smoke-skip", [], 'URL paths smoke-urls leaves out, glob patterns: ["/accounts/login/code/*"]'),
        ("deploy-check", found.deploy_check, "`check --deploy --fail-level`: set WARNING once it is clean, or off"),
        ("debug-values", list(found.debug_values), "how the settings spell debug off and on"),
        (
            "services",
            found.services,
            f"started beside db in every stack, learned by the probe: {found.services_how}"
            if found.services
            else 'services beside db in every stack: ["redis"]',
        ),
        ("compose-files", [], "more services: compose files merged over the suite's"),
    ]
    if found.python_path:
        pairs.append(("python-path", found.python_path, "source dirs under app-dir on PYTHONPATH (a src/ layout)"))
    if found.overlay or found.learned:
        why = (
            "; ".join(found.overlay_reasons) if found.overlay_reasons else "the settings read everything the suite sets"
        )
        pairs.append(("overlay", found.overlay, f"set by the suite's settings module over yours: {why}"))
        pairs.append(("test-overlay", found.test_overlay, "the same for the tests' settings module"))
    if env_example != ".env.example":
        pairs.append(("env-example", env_example, "the project has its own .env.example"))
    if env_file != ".env":
        pairs.append(("env-file", env_file, "the suite's secrets (.env is the project's, or made from its example)"))
    lines = ["[tool.dockstage]", *_lines(pairs), ""]
    lines += [
        "# The environment names the settings read, per value the suite provides (secret-key, debug,",
        "# allowed-hosts, database-host/-port/-name/-user/-password, database-url, redis-url, redis-host).",
        *(f"# {line}" for line in found.learned.splitlines()),
        "[tool.dockstage.env]",
        *(f"{value} = {toml(names if len(names) > 1 else names[0])}" for value, names in found.env.items()),
        "",
        '# Fixed values the app needs (e.g. DB = "mysql").',
        "[tool.dockstage.env-values]",
        *(f"{_key(k)} = {toml(v)}" for k, v in found.env_values.items()),
        "",
        "# The app's own names the settings need at import (found by the probe), a value each that",
        "# imports; the same name in .env wins: set the real values there.",
        "[tool.dockstage.env-defaults]",
        *(f"{_key(k)} = {toml(v)}" for k, v in found.env_defaults.items()),
        "",
        "# Extra values for the test service only (debug is off there already).",
        "[tool.dockstage.test-env]",
    ]
    if found.test_settings_module:
        lines.append(f"# the tests' settings, from {found.test_settings_source} (the project's pytest config wins)")
        lines.append(f"DJANGO_SETTINGS_MODULE = {toml(found.test_settings_module)}")
    lines += [f"{_key(k)} = {toml(v)}" for k, v in found.test_env.items()]
    lines += [
        "",
        "# Management-command processes beside web, in the prod image (`invoke up` starts them), e.g.",
        '# mailer = "python manage.py send_queued_mail --loop"',
        "[tool.dockstage.workers]",
    ]
    for check in smoke_checks(found):
        health = check["name"] == HEALTH_CHECK  # its path is health-path's: edit that one key
        shown = {k: v for k, v in check.items() if not (health and k == "path")}
        lines += ["", "[[tool.dockstage.smoke]]", *(["# no path: it checks health-path"] if health else [])]
        lines += [f"{_key(k)} = {toml(v)}" for k, v in shown.items()]
    return "\n".join(lines) + "\n"


def env_example(found: Findings) -> str:
    """The .env.example for the project: the secrets the stack needs, and nothing of the suite's."""
    secret = "/".join(found.env.get("secret-key", [])) or "nothing yet (SECRET_KEY is not read from the environment)"
    lines = [
        "# dockstage: copied to .env on the first `invoke up` / `nox -s pipeline`, every empty secret filled",
        "# with a fresh random value. Secrets only: the suite's settings live in [tool.dockstage] (a DOCKSTAGE_*",
        "# line here would override them). .env never enters an image.",
        "",
        f"# Django's signing key; the app reads it as {secret}.",
        "DJANGO_SECRET_KEY=",
        "# The app database's password, the server's root password, and what the settings write out themselves\n"
        "# (the stack's db makes the same; read it from the environment to change it)."
        if found.db_literals
        else "# The app database's password (user app, database app) and the server's root password.",
        *(
            f"{name}={dotenv.quoted(value)}"
            for name, value in {"MYSQL_PASSWORD": "", **found.db_literals, "MYSQL_ROOT_PASSWORD": ""}.items()
        ),
    ]
    if found.other_env:
        lines += ["", "# Other names the settings read: set those the app needs (they reach it as they are)."]
        lines += [f"# {name}=" for name in found.other_env]
    return "\n".join(lines) + "\n"
