"""The settings probe, pure parts: the in-image script run here on settings modules written to a
temp dir (plain Python, no Django needed to import them), what its answers mean, the choice of
settings modules, the overlay's environment, the tests' database proof."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from dockstage.adopt import learn, render, settingschoice
from dockstage.adopt import probe as probe_module
from dockstage.adopt.inspect import Findings, inspect
from dockstage.adopt.probe import apply, apply_health, deploy_made_module, left_out_file, not_installed
from dockstage.core import resources
from dockstage.core.appconfig import APP_KEYS, parse_app
from dockstage.core.config import Settings
from dockstage.core.errors import SmokeCheckFailed, StepsFailed, TestsFailed, build_fix
from dockstage.core.overlay import overlay_env
from dockstage.core.report import Reporter
from dockstage.flows import pipeline
from dockstage.flows.pipeline import database_used
from dockstage.flows.run import Run
from dockstage.stack import envfile
from tests.unit.test_adopt_helpers import helper

PACKAGE_DATA = resources.path(resources.SUPPORT)
OWN_NAMES = """\
import os
from urllib.parse import urlparse

SECRET_KEY = os.environ["DJKEY"]
DEBUG = os.environ.get("LOUD", "no") == "yes-please"
LOUD_DEBUG = os.environ.get("SITE_DEBUG", "False") == "True"
DEBUG = DEBUG or LOUD_DEBUG
ALLOWED_HOSTS = os.environ.get("HOSTS_OK", "").split(",")
WORKERS = int(os.environ.get("WEIRDNUM", "1"))
INSTALLED_APPS = ["django.contrib.staticfiles"]
STATIC_ROOT = "/srv/static"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.mysql",
        "HOST": os.environ.get("DBHOST", "localhost"),
        "PORT": int(os.environ.get("DBPORTNUM", "3306")),
        "NAME": os.environ["DBNAME"],
        "USER": os.getenv("DBUSER"),
        "PASSWORD": os.environ.get("DBPASS", ""),
    }
}
"""
URL_FORM = """\
import os
from urllib.parse import urlparse

_url = urlparse(os.environ.get("MAIN_STORE", "sqlite:///x.db"))
ENGINE = {"mysql": "django.db.backends.mysql"}.get(_url.scheme, "django.db.backends.sqlite3")
DATABASES = {"default": {"ENGINE": ENGINE, "HOST": _url.hostname or "", "NAME": _url.path.lstrip("/")}}
SECRET_KEY = "hard-coded"
DEBUG = True
ALLOWED_HOSTS = ["example.com"]
INSTALLED_APPS = ["django.contrib.staticfiles"]
SENTRY = os.environ["SENTRY_DSN"]
PAGE = int(os.environ["PAGE_SIZE"])
"""
CHOSEN_ENGINE = """\
import os

if os.environ.get("DB_KIND") == "mysql":
    DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "HOST": os.environ.get("WHERE_DB", "")}}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.db"}}
SECRET_KEY = os.environ.get("KEY_OF_SITE", "x")
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
"""

STAGED = """\
import os

SECRET_KEY = os.environ.get("KEY_OF_SITE", "x")
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
stage = os.getenv("MYPROJECT_STAGE", "development")
if stage == "production":
    DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "HOST": os.getenv("MARIADB_HOST")}}
elif stage == "development":
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.db"}}
else:
    raise ValueError("Unknown stage: {stage}")
"""
"""1816815/TFG's settings: the stage picks the branch, production's is MySQL."""

COPIED_ENVIRON = """\
import os


class ImproperlyConfigured(Exception):
    pass


def env_or_die(name):  # django-environ's way: a copy of the environment, a message naming the name
    copy = dict(os.environ)
    if name not in copy:
        raise ImproperlyConfigured(f"Set the {name} environment variable")
    return copy[name]


env = os.environ.copy()
SECRET_KEY = env["SITE_SECRET"]
DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "HOST": env_or_die("WHERE_DB")}}
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
"""


def probe(
    tmp_path: Path,
    modules: dict[str, str],
    names: list[str],
    health: dict[str, object] | None = None,
    runner: dict[str, object] | None = None,
) -> list[dict[str, object]]:
    """The in-image probe run here on `modules` of a package `proj` (its request: these modules,
    `names` given sentinels, `health` candidates to resolve, the test `runner`); its results."""
    done = run_probe(tmp_path, modules, names, health, runner)
    line = next(x for x in done.stdout.splitlines() if x.startswith("DOCKSTAGE-PROBE "))
    results: list[dict[str, object]] = json.loads(line.split(" ", 1)[1])["results"]
    return results


def run_probe(
    tmp_path: Path,
    modules: dict[str, str],
    names: list[str],
    health: dict[str, object] | None = None,
    runner: dict[str, object] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The probe script's run, as `probe` makes it (its stdout and stderr)."""
    package = tmp_path / "proj"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    for name, text in modules.items():
        (package / f"{name}.py").write_text(text)
    request: dict[str, object] = {"modules": [f"proj.{name}" for name in modules if name != "urls"], "names": names}
    if health is not None:
        request["health"] = health
    if runner is not None:
        request["runner"] = runner
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",) and not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, str(PACKAGE_DATA / "probe.py")],
        cwd=tmp_path,
        env={**env, "DOCKSTAGE_PROBE": json.dumps(request)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_what_an_import_writes_to_stderr_stays_out_of_inits_output(tmp_path: Path) -> None:
    """Held-out bakerydemo and django-bmx: a warning at import (once per attempt) and a probe request's
    logged 500 filled the top of init's output; the answer still says how an import failed."""
    noisy = 'import sys, warnings\nwarnings.warn("set REDIS_URL in prod")\nsys.stderr.write("noise\\n")\n'
    done = run_probe(tmp_path, {"settings": noisy + "SECRET_KEY = 'x'\n", "broken": noisy + "1 / 0\n"}, [])
    assert done.stderr == ""
    line = next(x for x in done.stdout.splitlines() if x.startswith("DOCKSTAGE-PROBE "))
    ok, broken = json.loads(line.split(" ", 1)[1])["results"]
    assert ok["ok"] is True and broken["ok"] is False
    assert "ZeroDivisionError" in broken["error"], broken


def test_own_names_are_mapped_by_what_the_settings_do_with_them(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": OWN_NAMES}, ["DJKEY"])  # the others are seen read at import
    learned = learn.interpret(result)
    assert learned.env == {
        "database-host": ["DBHOST"],
        "database-port": ["DBPORTNUM"],
        "database-name": ["DBNAME"],
        "database-user": ["DBUSER"],
        "database-password": ["DBPASS"],
        "secret-key": ["DJKEY"],
        "allowed-hosts": ["HOSTS_OK"],
        "debug": ["SITE_DEBUG"],
    }
    assert learned.debug_values == ("False", "True")
    assert learned.overlay == [] and "WEIRDNUM" in learned.others and "LOUD" in learned.others


RAW_DEBUG = """import os

SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = os.environ["DEBUG"]
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "NAME": os.environ["DB_NAME"]}}
"""


def test_a_debug_name_kept_as_the_string_it_reads_is_switched_off_blank(tmp_path: Path) -> None:
    """Held-out mjgiannelli/django_mysql_graphql: `DEBUG = config('DEBUG')` keeps the string, so "false"
    is on; DEBUG was overlaid as read from no name, and collectstatic died at build time without it."""
    (result,) = probe(tmp_path, {"settings": RAW_DEBUG}, ["SECRET_KEY", "DEBUG", "DB_NAME"])
    learned = learn.interpret(result)
    assert learned.env["debug"] == ["DEBUG"]
    assert learned.debug_values == ("", "True")
    assert "debug" not in learned.overlay


HEROKU_CI = """import os

SECRET_KEY = os.environ["SECRET_KEY"]
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "HOST": os.environ.get("DB_HOST", "")}}
if "CI" in os.environ:  # django-heroku's settings(locals()) with DATABASE_URL and CI set
    DATABASES["default"]["TEST"] = DATABASES["default"]
"""


def test_settings_holding_a_value_inside_itself_are_probed(tmp_path: Path) -> None:
    """Held-out danzinj/tdd_django_mysql: django-heroku made DATABASES['default']['TEST'] the default
    itself, and the probe's copy of the settings stopped it with a RecursionError."""
    (result,) = probe(tmp_path, {"settings": HEROKU_CI}, ["SECRET_KEY", "DB_HOST", "CI"])
    assert result["ok"], result.get("error")
    assert learn.interpret(result).env["database-host"] == ["DB_HOST"]
    assert result["values"]["DATABASES"]["default"]["TEST"] == "<cycle>"  # type: ignore[index]


PLATFORM_SWITCH = """import os

if "WEBSITE_HOSTNAME" in os.environ:  # Azure App Service's own branch: its settings come packed
    EMAIL = {part.split("=")[0]: part.split("=")[1] for part in os.environ["EMAIL_SEND"].split(" ")}
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY")
DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "NAME": os.environ.get("DBNAME"),
                         "HOST": os.environ.get("DBHOST"), "PASSWORD": os.environ.get("DBPASS")}}
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
"""


def test_a_platform_switch_that_breaks_the_import_is_turned_off(tmp_path: Path) -> None:
    """Held-out practica-ecco-pagos: `"WEBSITE_HOSTNAME" in os.environ` took the Azure branch with
    every name at its sentinel, which died parsing a packed value (IndexError), and init probed
    nothing. A name only tested for presence is unset again, and the rest is learned."""
    names = ["WEBSITE_HOSTNAME", "EMAIL_SEND", "DJANGO_SECRET_KEY", "DBNAME", "DBHOST", "DBPASS"]
    (result,) = probe(tmp_path, {"settings": PLATFORM_SWITCH}, names)
    assert result["ok"] is True, result.get("error")
    assert result["kinds"]["WEBSITE_HOSTNAME"] == "unset"  # type: ignore[index]
    assert "WEBSITE_HOSTNAME" not in result["env"]  # type: ignore[operator]
    learned = learn.interpret(result)
    assert learned.env["database-host"] == ["DBHOST"] and learned.env["secret-key"] == ["DJANGO_SECRET_KEY"]


BUCKET_STATIC = """import os

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.staticfiles"]
STATIC_ROOT = "/srv/static"
DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "HOST": os.environ.get("DB_HOST")}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "%s"},  # a storage not on this disk, as django-storages' S3 or Azure
}
"""


@pytest.mark.parametrize(
    ("backend", "local"),
    [
        ("django.core.files.storage.InMemoryStorage", False),
        ("django.contrib.staticfiles.storage.ManifestStaticFilesStorage", True),
        ("no_such_package.Bucket", None),  # does not import here: nothing decided on it
    ],
)
def test_a_static_storage_off_this_disk_is_overlaid(tmp_path: Path, backend: str, local: bool | None) -> None:
    """Held-out practica-ecco-pagos: STORAGES' staticfiles was a subclass of django-storages'
    AzureStorage; collectstatic failed at build time ("Please specify a container name")."""
    (result,) = probe(tmp_path, {"settings": BUCKET_STATIC % backend}, [])
    assert result["values"]["STATIC_STORAGE_LOCAL"] is local  # type: ignore[index]
    learned = learn.interpret(result)
    assert ("static-storage" in learned.overlay) is (local is False)
    if local is False:
        assert any("not on this disk" in reason for reason in learned.reasons)


def overlaid(tmp_path: Path, settings: str, env: dict[str, str], expression: str) -> Any:
    """`expression` (JSON) of the overlay module `dockstage_settings` over `settings` (proj.settings),
    imported in a process of its own with `env` (overlay_env's and the names the settings read)."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj/__init__.py").write_text("")
    (tmp_path / "proj/settings.py").write_text(settings)
    done = subprocess.run(
        [sys.executable, "-c", f"import dockstage_settings as s, json; print(json.dumps({expression}))"],
        cwd=tmp_path,
        env={**os.environ, **env, "PYTHONPATH": f"{PACKAGE_DATA / 'pythonpath'}:{tmp_path}"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_overlay_module_puts_a_bucket_storage_on_disk(tmp_path: Path) -> None:
    env = {**overlay_env(["static-storage"], "proj.settings", {}, False), "DJANGO_SECRET_KEY": "k"}
    settings = BUCKET_STATIC % "django.core.files.storage.InMemoryStorage"
    assert overlaid(tmp_path, settings, env, "s.STORAGES") == {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},  # the project's, kept
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


SSL_REQUIRED = """import os

SECRET_KEY = os.environ["SECRET_KEY"]
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
_url = os.environ.get("DATABASE_URL", "mysql://u:p@localhost:3306/app")
DATABASES = {  # dj-database-url's config(ssl_require=True), as django-heroku calls it
    "default": {"ENGINE": "django.db.backends.mysql", "HOST": _url.split("@")[1].split(":")[0],
                "OPTIONS": {"sslmode": "require", "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}},
}
"""


def test_postgresqls_sslmode_in_a_mysql_entry_is_overlaid_away(tmp_path: Path) -> None:
    """Held-out danzinj/tdd_django_mysql: django-heroku's dj_database_url.config(ssl_require=True) puts
    sslmode in OPTIONS whatever the engine; migrate died on "'sslmode' is an invalid keyword argument"."""
    (result,) = probe(tmp_path, {"settings": SSL_REQUIRED}, ["SECRET_KEY", "DATABASE_URL"])
    learned = learn.interpret(result)
    assert learned.env["database-url"] == ["DATABASE_URL"] and "database" in learned.overlay
    assert any("sslmode, a PostgreSQL option" in reason for reason in learned.reasons)
    values = {f"database-{part}": "x" for part in ("host", "port", "name", "user", "password")}
    env = {**overlay_env(["database"], "proj.settings", values, False), "SECRET_KEY": "k"}
    (tmp_path / "site").mkdir()
    options = overlaid(tmp_path / "site", SSL_REQUIRED, env, "s.DATABASES['default']['OPTIONS']")
    assert options == {"init_command": "SET sql_mode='STRICT_TRANS_TABLES'", "charset": "utf8mb4"}


@pytest.mark.parametrize(
    ("urls", "static_url"),
    [
        ('STATIC_URL = "https://s3.example.com/static-bucket/"\nMEDIA_URL = "/media/"\n', "/static/"),
        ('STATIC_URL = "/"\nMEDIA_URL = "/"\n', "/static/"),  # bucket names given "": both "/"
        ('STATIC_URL = "//cdn.example.com/s/"\n', "/static/"),
        ('STATIC_URL = "/assets/"\nMEDIA_URL = "/media/"\n', "/assets/"),  # a path of the site: kept
    ],
)
def test_the_overlay_serves_static_files_from_a_path_of_the_site(tmp_path: Path, urls: str, static_url: str) -> None:
    """shark's STATIC_URL is its bucket's URL, and with its S3 names blank it equalled MEDIA_URL:
    collectstatic stopped on "The MEDIA_URL and STATIC_URL settings must have different values"."""
    env = {**overlay_env(["static-storage"], "proj.settings", {}, False), "DJANGO_SECRET_KEY": "k"}
    settings = BUCKET_STATIC % "django.core.files.storage.InMemoryStorage" + urls
    assert overlaid(tmp_path, settings, env, "s.STATIC_URL") == static_url


def test_the_overlay_module_sends_a_file_handler_it_cannot_write_to_the_console(tmp_path: Path) -> None:
    """leo's LOGGING writes all.log in the app root, which prod's user cannot write: a StreamHandler
    there, its level and formatter kept; a handler whose folder is writable keeps its file."""
    settings = (
        "SECRET_KEY = 'k'\nLOGGING = {'version': 1, 'handlers': {\n"
        "    'all': {'class': 'logging.handlers.RotatingFileHandler', 'filename': '/no-such-dir-ds/all.log',"
        " 'maxBytes': 10, 'level': 'INFO', 'formatter': 'plain'},\n"
        f"    'kept': {{'class': 'logging.FileHandler', 'filename': {str(tmp_path / 'ok.log')!r}}},\n"
        "    'console': {'class': 'logging.StreamHandler'}}}\n"
    )
    env = overlay_env(["log-console"], "proj.settings", {}, False)
    assert overlaid(tmp_path, settings, env, "s.LOGGING['handlers']") == {
        "all": {"class": "logging.StreamHandler", "level": "INFO", "formatter": "plain"},
        "kept": {"class": "logging.FileHandler", "filename": str(tmp_path / "ok.log")},
        "console": {"class": "logging.StreamHandler"},
    }


def test_a_url_form_and_hard_coded_values_give_the_overlay(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": URL_FORM}, [])
    learned = learn.interpret(result)
    assert learned.env == {"database-url": ["MAIN_STORE"]}
    assert learned.overlay == ["secret-key", "allowed-hosts", "debug", "static-root"]
    assert "SECRET_KEY is not read from the environment" in learned.reasons
    assert learned.required == {"SENTRY_DSN": "", "PAGE_SIZE": "0"}  # the app's own, needed at import


GUARDED_BY_DEBUG = """\
import os


def flag(name, default="false"):  # django-bmx's config_bool: an unknown word is truthy
    raw = os.environ.get(name, default).strip().lower()
    return raw in ("1", "true", "yes", "on") or (raw not in ("", "0", "false", "no", "off") and bool(raw))


SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = flag("DEBUG")
if not DEBUG:  # prod: a name with a default the probe's sentinel does not pass
    assert os.environ.get("SENTRY_ENV", "prod") in ("prod", "staging")
INSTALLED_APPS = []
DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "HOST": os.environ.get("DB_HOST", "localhost")}}
"""


def test_a_name_is_not_required_when_prods_environment_imports_without_it(tmp_path: Path) -> None:
    """Held-out django-bmx: with every name at its sentinel, DEBUG off broke another name's branch, so
    DEBUG looked required and init wrote env-defaults DEBUG = "ds0s" (a truthy word in prod)."""
    (result,) = probe(tmp_path, {"settings": GUARDED_BY_DEBUG}, [])
    assert learn.interpret(result).required == {}


def test_required_names_are_learned_from_prods_environment_not_from_every_sentinel(tmp_path: Path) -> None:
    """Held-out django-bmx again: a name prod really needs (its OPENAI_API_KEY) made the suite's names
    alone fail, and DEBUG still came out required at its sentinel: only the names the import dies
    for want of, from prod's environment, are required."""
    settings = GUARDED_BY_DEBUG + 'OPENAI_API_KEY = os.environ["OPENAI_API_KEY"]\n'
    (result,) = probe(tmp_path, {"settings": settings}, [])
    assert learn.interpret(result).required == {"OPENAI_API_KEY": ""}


@pytest.mark.parametrize(
    ("error", "name"),
    [
        ("KeyError: 'SECRET_KEY'", "SECRET_KEY"),
        ("django.core.exceptions.ImproperlyConfigured: Set the DATABASE_URL environment variable", "DATABASE_URL"),
        (
            "decouple.UndefinedValueError: REDIS_URL not found. Declare it as envvar or define a default value.",
            "REDIS_URL",
        ),
        (  # pydantic-settings (held-out yadsapp): the first required field, read from the environment by its name
            "pydantic_core._pydantic_core.ValidationError: 2 validation errors for EnvSettings\nDATABASE_URL\n"
            "  Field required [type=missing, input_value={}, input_type=dict]\n"
            "    For further information visit https://errors.pydantic.dev/2.12/v/missing\nSECRET_KEY\n"
            "  Field required [type=missing, input_value={}, input_type=dict]",
            "DATABASE_URL",
        ),
        ("ValidationError: 1 validation error for Settings\ndebug_level\n  Field required", ""),  # not a NAME
        ("KeyError: 'default'", ""),  # a dict's key, not an environment name
        ("KeyError: 0", ""),
        ("ValueError: invalid literal for int() with base 10: 'ds3s'", ""),
    ],
)
def test_the_name_an_import_died_for_is_read_from_its_error(error: str, name: str) -> None:
    sys.path.insert(0, str(PACKAGE_DATA))
    try:
        import probe as in_image  # the in-image script, shipped as package data
    finally:
        sys.path.remove(str(PACKAGE_DATA))
    assert in_image.missing_name(error) == name


def test_names_read_from_a_copy_of_the_environment_are_learned_from_the_error(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": COPIED_ENVIRON}, [])  # no read of os.environ shows either
    learned = learn.interpret(result)
    assert learned.env == {"database-host": ["WHERE_DB"], "secret-key": ["SITE_SECRET"]}
    assert "secret-key" not in learned.overlay and "database" not in learned.overlay


def test_a_name_that_picks_the_engine_is_set_to_mysql(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": CHOSEN_ENGINE}, [])
    learned = learn.interpret(result)
    assert learned.fixed == {"DB_KIND": "mysql"}
    assert learned.env == {"database-host": ["WHERE_DB"], "secret-key": ["KEY_OF_SITE"]}
    assert "database" not in learned.overlay


def test_a_name_that_must_be_blank_does_not_hide_the_engine_choice(tmp_path: Path) -> None:
    """A name the import needs set but empty ("" in every string) was taken for the engine's own
    value, and the name that picks MySQL was never tried."""
    blank = CHOSEN_ENGINE + 'if os.environ["MAINTENANCE_NOTE"]:\n    raise ValueError("a note stops the site")\n'
    (result,) = probe(tmp_path, {"settings": blank}, [])
    assert result["env"]["MAINTENANCE_NOTE"] == ""
    assert learn.interpret(result).fixed == {"DB_KIND": "mysql"}


def test_a_stage_whose_settings_use_mysql_is_chosen_and_its_names_learned(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": STAGED}, [])
    learned = learn.interpret(result)
    assert learned.fixed == {"MYPROJECT_STAGE": "production"}
    assert learned.env == {"database-host": ["MARIADB_HOST"], "secret-key": ["KEY_OF_SITE"]}
    assert learn.describe(learned, 2).endswith("; MYPROJECT_STAGE = 'production' (env-values)")
    assert "database" not in learned.overlay


GROWLER = """\
import os

SECRET_KEY = os.environ.get("SECRET_KEY", "x")
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.db"}}
if os.environ["ENV_NAME"] == "prod":
    DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "NAME": os.environ["SQL_DBNAME"],
                             "HOST": os.environ["SQL_HOST"], "PASSWORD": os.environ["SQL_PASSWORD"]}}
"""
"""hakanayata/growler's settings package: ENV_NAME picks prod.py, whose MySQL reads names of its own."""


def test_a_stage_whose_mysql_branch_reads_names_of_its_own_is_chosen_and_they_are_learned(tmp_path: Path) -> None:
    """growler was adopted on its SQLite branch (ENV_NAME = "" in env-defaults, the database overlaid):
    its prod branch died for want of SQL_DBNAME when only ENV_NAME was changed, so it was passed over."""
    (result,) = probe(tmp_path, {"settings": GROWLER}, [])
    learned = learn.interpret(result)
    assert learned.fixed == {"ENV_NAME": "prod"}
    assert learned.env["database-host"] == ["SQL_HOST"] and learned.env["database-name"] == ["SQL_DBNAME"]
    assert "database" not in learned.overlay


def test_hard_coded_sqlite_is_overlaid_for_the_tests(tmp_path: Path) -> None:
    tests = "from proj.settings import *\nDATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3'}}\n"
    prod, test = probe(tmp_path, {"settings": OWN_NAMES, "settings_test": tests}, [])
    assert learn.test_overlay(learn.interpret(prod)) == []
    assert learn.test_overlay(learn.interpret(test)) == ["database"]


@pytest.mark.parametrize(("key", "for_tests"), [("''", ["database", "secret-key"]), ("'committed-key'", ["database"])])
def test_an_empty_secret_key_is_overlaid_for_the_tests_too(tmp_path: Path, key: str, for_tests: list[str]) -> None:
    """opsxin/blog: SECRET_KEY = '' and no DATABASES, both from a local_settings kept out of git; the
    tests got the stack's database only and stopped on "The SECRET_KEY setting must not be empty".
    A committed key is replaced in prod only: the tests run with it."""
    settings = f"SECRET_KEY = {key}\nINSTALLED_APPS = []\n"
    (result,) = probe(tmp_path, {"settings": settings}, [])
    learned = learn.interpret(result)
    assert {"database", "secret-key"} <= set(learned.overlay)
    assert learn.test_overlay(learned) == for_tests


def test_an_import_that_cannot_succeed_is_reported() -> None:
    learned = learn.interpret({"module": "x.settings", "ok": False, "error": "ImportError: no module named y"})
    assert learned.error == "ImportError: no module named y" and learned.env == {}


def test_the_overlay_environment() -> None:
    values = {
        "secret-key": "s",
        "allowed-hosts": "localhost",
        "database-host": "db",
        "database-port": "3306",
        "database-name": "app",
        "database-user": "app",
        "database-password": "pw",
    }
    assert overlay_env([], "p.settings", values, False) == {}
    env = overlay_env(["database", "debug"], "p.settings", values, True)
    assert env["DJANGO_SETTINGS_MODULE"] == "dockstage_settings" and env["DOCKSTAGE_BASE_SETTINGS"] == "p.settings"
    assert env["DOCKSTAGE_DATABASE_HOST"] == "db" and env["DOCKSTAGE_DEBUG"] == "true"
    assert "DOCKSTAGE_SECRET_KEY" not in env


def test_the_overlay_module_imports_the_project_and_sets_only_what_it_lists(tmp_path: Path) -> None:
    env = overlay_env(
        ["database", "allowed-hosts"],
        "proj.settings",
        {
            "allowed-hosts": "localhost",
            **{f"database-{p}": p for p in ("host", "port", "name", "user", "password")},
        },
        False,
    )
    env.update(SENTRY_DSN="", PAGE_SIZE="0")
    databases, hosts, secret = overlaid(tmp_path, URL_FORM, env, "[s.DATABASES, s.ALLOWED_HOSTS, s.SECRET_KEY]")
    assert databases["default"]["ENGINE"] == "django.db.backends.mysql" and databases["default"]["HOST"] == "host"
    assert hosts == ["example.com", "localhost"] and secret == "hard-coded"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"Procfile": "web: gunicorn x.wsgi --env DJANGO_SETTINGS_MODULE=x.settings.product\n"}, "x.settings.product"),
        ({"Dockerfile": "FROM python\nENV DJANGO_SETTINGS_MODULE=x.settings.prod\n"}, "x.settings.prod"),
        # pinry: its Dockerfile sets none; Dockerfile.autobuild serves x.settings.docker
        (
            {
                "Dockerfile": "FROM python:3.7\n",
                "Dockerfile.autobuild": "FROM python\nENV DJANGO_SETTINGS_MODULE x.settings.docker\n",
            },
            "x.settings.docker",
        ),
        # a dev container's Dockerfile is passed over for the script that starts gunicorn
        (
            {
                "Dockerfile.dev": "ENV DJANGO_SETTINGS_MODULE=x.settings.development\n",
                "docker/scripts/start.sh": "#!/bin/sh\ngunicorn x.wsgi -b 0.0.0.0:8000 \\\n    --env DJANGO_SETTINGS_MODULE=x.settings.docker\n",
            },
            "x.settings.docker",
        ),
        (
            {
                "docker/scripts/migrate.sh": "export DJANGO_SETTINGS_MODULE=x.settings.docker\npython manage.py migrate\n"
            },
            "",
        ),
        (
            {"x/wsgi.py": "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'x.settings.product')\n"},
            "x.settings.product",
        ),
        # hosting manifests: Render's blueprint, Fly's [env], App Engine's env_variables, Heroku's app.json
        (
            {
                "render.yaml": "services:\n  - type: web\n    envVars:\n      - key: DJANGO_SETTINGS_MODULE\n"
                "        value: config.settings.production\n",
                "x/wsgi.py": "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'x.settings.local')\n",
            },
            "config.settings.production",
        ),
        ({"fly.toml": '[env]\n  DJANGO_SETTINGS_MODULE = "x.settings.fly"\n'}, "x.settings.fly"),
        ({"app.yaml": "env_variables:\n  DJANGO_SETTINGS_MODULE: 'x.settings.gae'\n"}, "x.settings.gae"),
        ({"app.json": '{"env": {"DJANGO_SETTINGS_MODULE": {"value": "x.settings.heroku"}}}'}, "x.settings.heroku"),
        ({"app.json": '{"env": {"DJANGO_SETTINGS_MODULE": {"value": "x.settings.dev"}}}'}, ""),  # a dev module: passed
        # tradoan/docker-django-poetry: each Compose file gives web its own; the production one's first
        (
            {
                "docker-compose.dev.yaml": "services:\n  web:\n    environment:\n      - DJANGO_SETTINGS_MODULE=x.settings.dev\n",
                "docker-compose.prod.yaml": "services:\n  web:\n    environment:\n      - DJANGO_SETTINGS_MODULE=x.settings.prod\n",
            },
            "x.settings.prod",
        ),
        (
            {"compose.yml": "services:\n  web:\n    environment:\n      DJANGO_SETTINGS_MODULE: 'x.settings.live'\n"},
            "x.settings.live",
        ),
        (
            {"docker-compose.yml": "x:\n  environment:\n    - DJANGO_SETTINGS_MODULE=${SETTINGS:-x.settings.local}\n"},
            "",
        ),
        ({}, ""),
    ],
)
def test_the_prod_settings_module_is_the_one_the_project_serves_with(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    module, _ = settingschoice.serving(tmp_path, tmp_path / "x/wsgi.py")
    assert module == expected


def test_the_pytest_config_names_the_tests_settings(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text("[tool:pytest]\naddopts = --ds=x.settings.test -q\n")
    assert settingschoice.for_tests(tmp_path, tmp_path, {}) == ("x.settings.test", "setup.cfg")
    pyproject = {"tool": {"pytest": {"ini_options": {"DJANGO_SETTINGS_MODULE": "x.ci"}}}}
    assert settingschoice.for_tests(tmp_path, tmp_path, pyproject) == ("x.ci", "pyproject.toml")


def test_tox_setenv_names_the_tests_settings_when_no_pytest_config_does(tmp_path: Path) -> None:
    """Held-out patchwork: `manage.py test` under tox with DJANGO_SETTINGS_MODULE in [testenv] setenv."""
    (tmp_path / "tox.ini").write_text(
        "[tox]\nenvlist = py312\n\n[testenv]\nsetenv =\n    DJANGO_SETTINGS_MODULE = pw.settings.dev\n"
        "    PYTHONDEVMODE = 1\ncommands = python manage.py test\n"
    )
    assert settingschoice.for_tests(tmp_path, tmp_path, {}) == ("pw.settings.dev", "tox.ini [testenv] setenv")
    (tmp_path / "tox.ini").write_text("[testenv]\nsetenv = DJANGO_SETTINGS_MODULE={env:DSM}\n")
    assert settingschoice.for_tests(tmp_path, tmp_path, {}) == ("", "")  # a substitution names no module


def test_the_database_proof_is_read() -> None:
    assert database_used({"vendor": "mysql", "host": "db"}) == (True, "MySQL at db")
    assert database_used({"vendor": "sqlite", "host": ""}) == (False, "SQLite")
    assert database_used({"vendor": "mysql", "host": "localhost"}) == (False, "mysql at localhost")


def test_failed_tests_still_say_which_database_they_ran_on() -> None:
    proof = {"vendor": "mysql", "host": "db", "settings": "dockstage_settings"}
    _, used = database_used(proof)
    assert pipeline.tests_ran_on(used, proof) == "the app's tests ran on MySQL at db (settings dockstage_settings)"
    # held-out django-bmx: the test database's migrations failed, no test ran
    assert pipeline.tests_ran_on(used, proof, started=False) == (
        "the app's tests did not start; their database was MySQL at db (settings dockstage_settings)"
    )
    failed = TestsFailed(1, "342 tests, 1 failed", "r.xml", "python manage.py test", used)
    assert failed.what.startswith("the app's tests failed in the test image on MySQL at db (python manage.py test")


def test_a_failed_build_points_at_the_keys_behind_it() -> None:
    assert "[tool.dockstage.env]" in build_fix("  File settings.py\nKeyError: 'DJKEY'\n") and "DJKEY" in build_fix(
        "KeyError: 'DJKEY'"
    )
    assert "collectstatic / build-commands" in build_fix("python /mnt/dockstage/buildsteps.py did not complete")
    assert "Dockerfile" not in build_fix("anything else")


def test_every_failed_step_is_named() -> None:
    error = StepsFailed(
        [
            ("test_image", TestsFailed(1, "2 tests, 1 failed", "r.xml", "python manage.py test")),
            ("smoke_prod", SmokeCheckFailed("health", "500")),
        ]
    )
    assert "test_image: " in error.what and "smoke_prod: smoke check 'health' failed" in error.what
    assert "python manage.py test exited 1" in error.what and error.label == "check"


def test_the_test_command_gets_the_database_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKSTAGE_DB_PROOF", "")  # set by the helper; restored after the test
    sys.path.insert(0, str(PACKAGE_DATA))
    try:
        import testcommand
    finally:
        sys.path.remove(str(PACKAGE_DATA))
    assert testcommand.with_db_proof(["python", "-m", "pytest", "-x"], True) == [
        "python",
        "-m",
        "pytest",
        "-p",
        "dockstage_dbproof",
        "-x",
    ]
    assert testcommand.with_db_proof(["python", "manage.py", "test"], False) == [
        "python",
        "-m",
        "dockstage_dbproof",
        "manage.py",
        "test",
    ]
    assert testcommand.with_db_proof(["make", "test"], False) == ["make", "test"]


def test_what_the_probe_learned_is_written_and_read_back(tmp_path: Path) -> None:
    found = Findings(tmp_path, settings_module="mysite.settings", wsgi="mysite.wsgi:application")
    (result,) = probe(tmp_path, {"settings": URL_FORM}, [])
    apply(found, [result])
    section = tomllib.loads(render.tool_section(found))["tool"]["dockstage"]
    app = parse_app({k.replace("-", "_"): v for k, v in section.items() if k.replace("-", "_") in APP_KEYS})
    assert app.overlay == ("secret-key", "allowed-hosts", "debug", "static-root")
    assert app.env == {"database-url": ("MAIN_STORE",)} and app.collectstatic
    assert app.env_defaults == {"SENTRY_DSN": "", "PAGE_SIZE": "0"}
    assert "# Learned by `dockstage init`: probed proj.settings in the dev image" in render.tool_section(found)


def test_a_src_layout_and_the_module_the_project_serves(tmp_path: Path) -> None:
    (tmp_path / "manage.py").write_text("os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings.devel')\n")
    settings = tmp_path / "src/shop/settings"
    settings.mkdir(parents=True)
    for name in ("__init__", "base", "devel", "product", "test"):
        (settings / f"{name}.py").write_text("from .base import *\n" if name != "base" else "DEBUG = False\n")
    (tmp_path / "src/shop/__init__.py").write_text("")
    (tmp_path / "src/shop/wsgi.py").write_text(
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings.product')\napplication = None\n"
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\nDJANGO_SETTINGS_MODULE = shop.settings.test\n")
    found = inspect(tmp_path)
    assert found.python_path == ["src"] and found.wsgi == "shop.wsgi:application"
    assert found.settings_module == "shop.settings.product"
    assert (
        "prod settings: shop.settings.product (as src/shop/wsgi.py serves it; manage.py uses shop.settings.devel)"
        in found.found
    )
    assert (found.test_settings_module, found.test_settings_source) == ("shop.settings.test", "pytest.ini")


def test_side_by_side_names_every_failed_step_and_loses_no_crash(capsys: pytest.CaptureFixture[str]) -> None:
    run = Run(settings=None, reporter=Reporter(quiet=False, ci=True), docker=None)  # type: ignore[arg-type]

    def smoke(_: Run) -> str:
        raise SmokeCheckFailed("health", "500")

    def tests(_: Run) -> str:
        raise TestsFailed(1, "2 tests, 1 failed", "r.xml", "python manage.py test")

    summary = pipeline.Summary()
    with pytest.raises(StepsFailed) as failed:
        pipeline.side_by_side(run, {"test_image": tests, "checks": lambda _: "4 passed", "smoke_prod": smoke}, summary)
    assert [row[:2] for row in summary.rows][1] == ("checks", "4 passed")
    assert summary.rows[2][1] == "FAILED: smoke check 'health' failed: 500"
    assert "test_image: " in failed.value.what and "smoke_prod: " in failed.value.what

    def crash(_: Run) -> str:
        raise RuntimeError("a container went away")

    summary = pipeline.Summary()
    with pytest.raises(RuntimeError, match="went away"):
        pipeline.side_by_side(run, {"checks": lambda _: "4 passed", "smoke_prod": crash}, summary)
    assert summary.rows[1][1] == "FAILED: RuntimeError"


RUNNER_MINDED = """\
import os
import sys


def running_tests(environ, argv):
    return any("pytest" in arg for arg in argv) or "test" in argv or bool(environ.get("PYTEST_CURRENT_TEST"))


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "x")
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.mysql",
        "HOST": os.environ.get("DATABASE_HOST"),
        "NAME": os.environ.get("DATABASE_NAME"),
    }
}
if running_tests(os.environ, sys.argv):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
"""


@pytest.mark.parametrize("command", ["pytest", "python manage.py test"])
def test_settings_that_switch_to_sqlite_under_the_test_runner_are_probed_as_it_runs_them(
    tmp_path: Path, command: str
) -> None:
    """Held-out SISOC: its settings take an in-memory SQLite when pytest's name is in sys.argv, or
    `test` is, or PYTEST_CURRENT_TEST is set at all. The probe gave that name a sentinel, read
    DATABASES as SQLite and overlaid prod's database it reads from DATABASE_HOST. Now pytest's names
    get none, and the module is imported a second time as the test command imports it."""
    names = ["DJANGO_SECRET_KEY", "DATABASE_HOST", "DATABASE_NAME", "PYTEST_CURRENT_TEST"]
    runner = {"module": "proj.settings", **probe_module.test_runner(command)}
    results = probe(tmp_path, {"settings": RUNNER_MINDED}, names, runner=runner)
    assert len(results) == 2, results
    prod, tests = results
    assert "PYTEST_CURRENT_TEST" not in prod["env"] and prod["argv_read"]  # type: ignore[operator]
    assert prod["values"]["DATABASES"]["default"]["ENGINE"] == "django.db.backends.mysql"  # type: ignore[index]
    assert tests["runner"] is True
    assert tests["values"]["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"  # type: ignore[index]
    found = Findings(tmp_path, settings_module="proj.settings", wsgi="proj.wsgi:application", test_command=command)
    apply(found, results)
    assert "database" not in found.overlay and found.test_overlay == ["database"]
    assert found.env["database-host"] == ["DATABASE_HOST"]
    assert f"test overlay: proj.settings does not use the stack's database under `{command}`" in "\n".join(found.found)
    line = probe_module.probed_line(results, "1 s")
    assert line == "probed proj.settings in it, then proj.settings again as the tests import it (1 s)"


def test_settings_that_never_look_at_the_runner_are_probed_once(tmp_path: Path) -> None:
    runner = {"module": "proj.settings", **probe_module.test_runner("pytest")}
    results = probe(tmp_path, {"settings": OWN_NAMES}, ["DJKEY", "DBNAME"], runner=runner)
    assert len(results) == 1 and not results[0]["argv_read"]
    assert probe_module.test_runner("bash run-tests.sh") == {}


def test_static_root_set_in_an_imported_module_turns_collectstatic_on(tmp_path: Path) -> None:
    found = Findings(tmp_path, settings_module="proj.settings", wsgi="proj.wsgi:application")
    base = 'INSTALLED_APPS = ["django.contrib.staticfiles"]\nSTATIC_ROOT = "/app/static"\nSECRET_KEY = "x"\n'
    results = probe(tmp_path, {"settings": "from .base import *\n", "base": base}, [])
    assert not found.static_root  # the settings' own text sets no STATIC_ROOT
    apply(found, results)
    assert found.static_root and "static-root" not in found.overlay
    section = tomllib.loads(render.tool_section(found))["tool"]["dockstage"]
    assert section["collectstatic"] is True


def test_settings_that_import_what_this_python_dropped_are_told_to_raise_a_pin(tmp_path: Path) -> None:
    """izone's settings import an old package that imports inspect.formatargspec (gone in 3.11):
    the note names the missing name and the two fixes, not [tool.dockstage.env]."""
    found = Findings(tmp_path, settings_module="proj.settings", wsgi="proj.wsgi:application")
    old = "from inspect import formatargspec\nSECRET_KEY = 'x'\nINSTALLED_APPS = []\n"
    apply(found, probe(tmp_path, {"settings": old}, []))
    assert found.notes[-1].startswith("importing proj.settings in the dev image failed (ImportError: cannot import")
    assert found.notes[-1].endswith(
        "a package it imports uses inspect.formatargspec, which this Python no longer has: raise that "
        "package's pin, or set python in [tool.dockstage] to a Python it ran on"
    )
    found = Findings(tmp_path, settings_module="proj.settings", wsgi="proj.wsgi:application")
    apply(found, probe(tmp_path, {"settings": "raise RuntimeError('the vault is not reachable')\n"}, []))
    assert found.notes[-1].endswith("check [tool.dockstage.env]")
    # An installed package's import (passionsjin/simple_django_app's celery 4 -> vine 1.3): named, with its line.
    vine = tmp_path / "lib" / "site-packages" / "vine"
    vine.mkdir(parents=True)
    (vine / "__init__.py").write_text("from .five import formatargspec\n")
    (vine / "five.py").write_text("import sys\n\nfrom inspect import formatargspec\n")
    installed = f"import sys\nsys.path.insert(0, {str(vine.parent)!r})\nimport vine\nSECRET_KEY = 'x'\n"
    found = Findings(tmp_path, settings_module="proj.settings", wsgi="proj.wsgi:application")
    apply(found, probe(tmp_path, {"settings": installed}, []))
    assert found.notes[-1].endswith(
        "vine (vine/five.py:3) uses inspect.formatargspec, which this Python no longer has: raise vine's pin, "
        "or set python in [tool.dockstage] to a Python it ran on"
    ), found.notes[-1]


def test_settings_that_import_a_file_made_where_they_deploy_are_told_so(tmp_path: Path) -> None:
    """pinry's docker settings end in `from .local_settings import *`; its container start copies
    local_settings.example.py there. The note names the template and the two fixes."""
    found = Findings(tmp_path, settings_module="proj.settings", wsgi="proj.wsgi:application", app_dir=".")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "local_settings.example.py").write_text("SECRET_KEY = 'secret_key_place_holder'\n")
    apply(found, probe(tmp_path, {"settings": "SECRET_KEY = 'x'\nfrom .local_settings import *\n"}, []))
    assert found.notes[-1].endswith(
        "proj.local_settings is imported by the settings and the project makes it from local_settings.example.py "
        "where it deploys: make that import optional (try: ... except ImportError), or set settings-module to a "
        "module that needs no such file"
    )
    (tmp_path / "proj" / "local_settings.example.py").unlink()
    found = Findings(tmp_path, settings_module="proj.settings", wsgi="proj.wsgi:application", app_dir=".")
    apply(found, probe(tmp_path, {"settings": "SECRET_KEY = 'x'\nfrom .local_settings import *\n"}, []))
    assert "proj.local_settings is imported by the settings and it is not in the project" in found.notes[-1]
    found = Findings(tmp_path, settings_module="proj.settings", wsgi="proj.wsgi:application", app_dir=".")
    apply(found, probe(tmp_path, {"settings": "import not_installed_anywhere\n"}, []))
    assert found.notes[-1].endswith(  # not the project's own package: one its requirements miss
        "no requirement installs not_installed_anywhere: add the package that provides not_installed_anywhere "
        "to the runtime requirements (requirements in [tool.dockstage])"
    )
    # Gnaneshwar25/django-healthcare: settings.py imports decouple, requirements.txt lists no python-decouple.
    found = Findings(tmp_path, settings_module="proj.settings", wsgi="proj.wsgi:application", app_dir=".")
    found.requirements.runtime = ["requirements.txt"]
    apply(found, probe(tmp_path, {"settings": "from decouple_not_here import config\n"}, []))
    assert "No module named 'decouple_not_here'" in found.notes[-1]
    assert found.notes[-1].endswith("add the package that provides decouple_not_here to requirements.txt")
    assert not_installed("ModuleNotFoundError: No module named 'decouple'", found) == (
        "no requirement installs decouple: add python-decouple (it provides decouple) to requirements.txt"
    )
    assert not_installed("ModuleNotFoundError: No module named 'django.contrib.postgres.fields.jsonb'", found) == ""
    assert not_installed("ModuleNotFoundError: No module named 'proj'", found) == ""  # the project's own
    # JamesSullivan/akasaka's sec/query.py says `from models import ...`; its models are sec/models.py
    (tmp_path / "sec").mkdir()
    (tmp_path / "sec/models.py").write_text("")
    assert not_installed("ModuleNotFoundError: No module named 'models'", found) == (
        "models is the project's sec/models.py, imported bare (which finds it only when Python runs from its "
        "folder): import it by its package (sec.models), or relatively (`from .models import ...`)"
    )
    (tmp_path / "fs_viewer").mkdir()
    (tmp_path / "fs_viewer/models.py").write_text("")
    both = not_installed("ModuleNotFoundError: No module named 'models'", found)
    assert "the project's fs_viewer/models.py or sec/models.py, imported bare" in both
    assert "import it by its package (fs_viewer.models or sec.models)" in both
    # the URLconf's load (apps too) stopped on an app nothing installs: ptran068's corsheaders, listed in no
    # requirements; PedroFagundes' template lists a 'video' app it does not hold
    for module, fix in (
        ("corsheaders", "add django-cors-headers (it provides corsheaders) to requirements.txt"),
        ("video", "add the package that provides video to requirements.txt, or take video out of INSTALLED_APPS"),
    ):
        note = f"the URLconf did not load in the probe (ModuleNotFoundError: No module named '{module}'): x"
        apply_health(found, learn.Health(note=note), ["django.contrib.admin", module])
        assert found.notes[-1].startswith(f"{note}; no requirement installs {module}: {fix}"), found.notes[-1]


def test_a_file_the_settings_open_that_no_image_holds_is_explained(tmp_path: Path) -> None:
    """physicalattraction/stock-screener: settings.py opens StockScreener/secrets.json (Two Scoops' pattern),
    which git ignores: absent from the repository, and, on the developer's machine, from every image."""
    error = "FileNotFoundError: [Errno 2] No such file or directory: '/app/StockScreener/secrets.json'"
    found = Findings(tmp_path, settings_module="StockScreener.settings", app_dir="src")
    (tmp_path / "src/StockScreener").mkdir(parents=True)
    assert left_out_file(error, found) == (
        "the project has no src/StockScreener/secrets.json; the settings open it at import: read what it holds "
        "from the environment instead (.env gives it to every stack), or open the file only when it is there"
    )
    (tmp_path / ".gitignore").write_text("secrets.json\nlocal_settings.py\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "src/StockScreener/secrets.json").write_text('{"SECRET_KEY": "mine"}')
    assert left_out_file(error, found).startswith(
        "src/StockScreener/secrets.json is in your checkout but git ignores it, so no image holds it"
    )
    (tmp_path / ".gitignore").write_text("")  # kept out by the build's rules instead (a .dockerignore)
    assert left_out_file(error, found).startswith(
        "src/StockScreener/secrets.json is in the project but the build leaves it out"
    )
    assert left_out_file(
        "FileNotFoundError: [Errno 2] No such file or directory: 'StockScreener/x.json'", found
    ).startswith(
        "the project has no src/StockScreener/x.json;"  # relative: to the app dir, the containers' working directory
    )
    # sinabahram/GrowTheTribe's production settings read /etc/secret_key.txt, a file of its server
    assert left_out_file(
        "FileNotFoundError: [Errno 2] No such file or directory: '/etc/secret_key.txt'", found
    ).startswith(
        "/etc/secret_key.txt is a file of the machine the settings were written for, and no image has it; the settings"
    )
    assert left_out_file("ImportError: cannot import name 'url'", found) == ""
    assert left_out_file("FileNotFoundError: [Errno 2] No such file or directory: '/app/logs/debug.log'", found) == ""
    # a settings module git ignores, imported without a fallback: its note says why the image lacks it
    (tmp_path / ".gitignore").write_text("local_settings.py\n")
    (tmp_path / "src/StockScreener/local_settings.py").write_text("DEBUG = True\n")
    assert deploy_made_module("No module named 'StockScreener.local_settings'", found).startswith(
        "StockScreener.local_settings is imported by the settings and src/StockScreener/local_settings.py is in "
        "your checkout but git ignores it"
    )
    # tranlong58's mysite.secret_key: git ignores it and a fresh clone has none, so the note says so
    (tmp_path / "src/StockScreener/local_settings.py").unlink()
    note = deploy_made_module("No module named 'StockScreener.local_settings'", found)
    assert note.startswith(
        "StockScreener.local_settings is imported by the settings and it is not in the project: git ignores "
        "src/StockScreener/local_settings.py, so no checkout has it (each developer makes it by hand): read what "
        "it holds from the environment"
    ), note
    (tmp_path / ".gitignore").write_text("")
    assert "it is not in the project: make that import optional" in deploy_made_module(
        "No module named 'StockScreener.local_settings'", found
    )


FLAG_BRANCH = """\
import os

if "DJANGO_DEBUG_FALSE" in os.environ:
    DEBUG = False
    SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
    ALLOWED_HOSTS = [os.environ["DJANGO_ALLOWED_HOST"]]
else:
    DEBUG = True
    SECRET_KEY = "insecure-key-for-dev"
    ALLOWED_HOSTS = []
INSTALLED_APPS = []
DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "HOST": os.environ.get("DB_HOST", "localhost")}}
"""


def test_settings_that_branch_on_a_flag_the_suite_does_not_set_are_overlaid(tmp_path: Path) -> None:
    """book-example's shape: with every name set the probe sees the prod branch; prod sets only the
    mapped names, so without the flag it would run DEBUG=True with the hard-coded key."""
    (result,) = probe(tmp_path, {"settings": FLAG_BRANCH}, [])
    learned = learn.interpret(result)
    assert learned.env["secret-key"] == ["DJANGO_SECRET_KEY"]
    assert {"debug", "secret-key", "allowed-hosts"} <= set(learned.overlay), learned.overlay
    assert "database" not in learned.overlay  # DB_HOST is read on both branches
    assert any("takes another branch" in reason for reason in learned.reasons)


def test_settings_without_a_flag_are_not_overlaid_by_the_second_pass(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": OWN_NAMES}, ["DJKEY"])
    assert result["alone"]["ok"] is True
    learned = learn.interpret(result)
    assert not any("takes another branch" in reason for reason in learned.reasons)


SSL_REDIRECT = """\
import os

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = ["localhost"]
INSTALLED_APPS = []
DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "HOST": os.environ.get("DB_HOST", "localhost")}}
SECURE_SSL_REDIRECT = os.getenv("SECURE_SSL_REDIRECT", "True").lower() in ("true", "1", "t")
"""


def test_an_ssl_redirect_with_no_proxy_header_gets_the_overlays_header(tmp_path: Path) -> None:
    """Held-out PARTs_WebAPI: SECURE_SSL_REDIRECT defaults on (the probe's sentinel turned it off),
    and nothing sets SECURE_PROXY_SSL_HEADER: behind the proxy every GET answered 301 to https."""
    (result,) = probe(tmp_path, {"settings": SSL_REDIRECT}, [])
    learned = learn.interpret(result)
    assert "proxy-ssl-header" in learned.overlay
    assert any("SECURE_SSL_REDIRECT is on and SECURE_PROXY_SSL_HEADER is not set" in r for r in learned.reasons)
    header = SSL_REDIRECT + 'SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")\n'
    (tmp_path / "with-header").mkdir()
    (result,) = probe(tmp_path / "with-header", {"settings": header}, [])
    assert "proxy-ssl-header" not in learn.interpret(result).overlay
    pythonpath = resources.path(resources.SUPPORT) / "pythonpath"
    env = {
        **os.environ,
        "PYTHONPATH": f"{pythonpath}{os.pathsep}{tmp_path}",
        "DJANGO_SECRET_KEY": "k",
        "DOCKSTAGE_BASE_SETTINGS": "proj.settings",
        "DOCKSTAGE_OVERLAY": "proxy-ssl-header",
    }
    shown = "import dockstage_settings as s; print(s.SECURE_SSL_REDIRECT, *s.SECURE_PROXY_SSL_HEADER)"
    done = subprocess.run(
        [sys.executable, "-c", shown], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["True", "HTTP_X_FORWARDED_PROTO", "https"]


def test_settings_the_probe_cannot_import_get_the_overlay_their_text_calls_for(tmp_path: Path) -> None:
    """django-crm's shape: nothing read from the environment, and an import the probe could not
    finish. The overlay follows the text instead of asking the user to edit the settings."""
    found = Findings(root=tmp_path, settings_module="proj.settings")
    found.env = {"debug": ["DJANGO_DEBUG"]}
    found.notes = [
        "the settings do not read the database from the environment: make DATABASES read e.g. DB_HOST",
        "SECRET_KEY is not read from the environment: read it (e.g. SECRET_KEY) before you ship",
        "something else",
    ]
    apply(found, [{"module": "proj.settings", "ok": False, "error": "AppRegistryNotReady: ...", "reads": []}])
    assert found.overlay == ["database", "secret-key", "allowed-hosts"]
    assert found.test_overlay == ["database"]
    assert found.notes[0] == "something else" and "importing proj.settings in the dev image failed" in found.notes[1]


LAZY_SETTINGS = """\
class Lazy:  # as gettext_lazy's proxy: str() needs Django's app registry
    def __str__(self):
        raise RuntimeError("The translation infrastructure cannot be initialized before the apps registry is ready")


Lazy.__name__ = "__proxy__"
LANGUAGES = [("en", Lazy())]
ODD = Lazy.__new__(type("Odd", (), {"__str__": lambda self: 1 / 0}))
SECRET_KEY = "x"
"""


def test_a_value_that_cannot_be_shown_does_not_fail_the_probe(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": LAZY_SETTINGS}, [])
    assert result["ok"] is True, result


BOOL_REQUIRED = """\
import os


class ImproperlyConfigured(Exception):
    pass


def env_bool(name):  # as a strict env.bool(name) with no default: set, and a boolean
    if name not in os.environ:
        raise ImproperlyConfigured(f"Set the {name} environment variable")
    raw = os.environ[name].lower()
    if raw not in ("0", "1", "true", "false"):
        raise ImproperlyConfigured(f"{name}={raw} is not a boolean")
    return raw in ("1", "true")


DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ["SECRET_KEY"]
"""


def test_a_required_name_its_sentinel_breaks_is_given_a_zero(tmp_path: Path) -> None:
    """ephios' shape: the sentinel breaks the bool parser, unset the import dies naming the name."""
    (result,) = probe(tmp_path, {"settings": BOOL_REQUIRED}, [])
    assert result["ok"] is True, result
    assert result["env"]["DEBUG"] == "0"


SENTRY_REQUIRED = """\
import os
from urllib.parse import urlsplit


class UndefinedValueError(Exception):
    pass


def config(name):  # python-decouple's config(name) with no default
    if name not in os.environ:
        raise UndefinedValueError(f"{name} not found. Declare it as envvar or define a default value.")
    return os.environ[name]


def init(dsn):  # sentry_sdk.init: a blank DSN turns it off, any other must be http(s)
    if dsn and urlsplit(dsn).scheme not in ("http", "https"):
        raise ValueError(f"Unsupported scheme {urlsplit(dsn).scheme!r}")


init(dsn=config("SENTRY_DSN"))
SECRET_KEY = config("SECRET_KEY")
"""


def test_a_required_name_neither_a_sentinel_nor_zero_passes_is_left_blank(tmp_path: Path) -> None:
    """Held-out Python-OC-Lettings-FR: `sentry_sdk.init(dsn=config("SENTRY_DSN"))`, no default."""
    (result,) = probe(tmp_path, {"settings": SENTRY_REQUIRED}, [])
    assert result["ok"] is True, result.get("error")
    assert result["env"]["SENTRY_DSN"] == ""
    assert result["env"]["SECRET_KEY"].startswith("ds")
    learned = learn.interpret(result)
    assert learned.required == {"SENTRY_DSN": ""}
    assert learned.env["secret-key"] == ["SECRET_KEY"]


SITE_URLS = """\
import os

BASE_URL = os.environ["BASE_URL"]  # shark: CSRF_TRUSTED_ORIGINS and ALLOWED_HOSTS come from it
CSRF_TRUSTED_ORIGINS = [BASE_URL]
QUEUE_URL = os.environ["QUEUE_URL"]
if QUEUE_URL and not QUEUE_URL.startswith("amqp://"):
    raise ValueError("QUEUE_URL must be an amqp:// URL")
SECRET_KEY = "x"
INSTALLED_APPS = []
"""


def test_a_required_url_name_gets_a_local_url_where_it_imports(tmp_path: Path) -> None:
    """Blank, shark's BASE_URL made CSRF_TRUSTED_ORIGINS [""]: Django's check 4_0.E001 stopped migrate.
    A URL its parser refuses keeps the blank that imports."""
    (result,) = probe(tmp_path, {"settings": SITE_URLS}, [])
    assert result["ok"] is True, result.get("error")
    assert learn.interpret(result).required == {"BASE_URL": "http://localhost", "QUEUE_URL": ""}


URL_PARSERS = """\
import os
from urllib.parse import urlparse


class ImproperlyConfigured(Exception):
    pass


def parsed(name, kind, schemes):  # as django-environ's email_url, cache_url: the scheme picks the backend
    url = urlparse(os.environ[name])
    if url.scheme not in schemes:
        raise ImproperlyConfigured(f"Invalid {kind} schema {url.scheme}")
    return {"BACKEND": schemes[url.scheme], "LOCATION": os.environ[name]}


EMAIL = parsed("EMAIL_URL", "email", {"smtp": "smtp.EmailBackend", "consolemail": "console.EmailBackend"})
CACHES = {"default": parsed("CACHE_URL", "cache", {"redis": "redis.RedisCache", "locmemcache": "LocMemCache"})}
SESSIONS = parsed("SESSION_STORE", "cache", {"redis": "redis.RedisCache"})  # its name says nothing of a URL
SECRET_KEY = os.environ["SECRET_KEY"]
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
"""


def test_a_name_read_as_a_url_of_another_kind_gets_a_sentinel_of_that_scheme(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": URL_PARSERS}, [])
    assert result["ok"] is True, result.get("error")
    env = result["env"]
    assert isinstance(env, dict)
    assert env["EMAIL_URL"].startswith("smtp://") and env["CACHE_URL"].startswith("locmemcache://")
    assert env["SESSION_STORE"].startswith("redis://")  # a plain name turned URL, then the scheme it takes
    learned = learn.interpret(result)
    assert learned.env["secret-key"] == ["SECRET_KEY"]
    assert "CACHE_URL" in learned.others  # a cache URL read as locmem: no redis made up by the sentinel
    assert learned.env["redis-url"] == ["SESSION_STORE"]  # its parser takes redis only: a redis it is


@pytest.mark.parametrize(
    ("kind", "error", "then"),
    [
        ("url", "ImproperlyConfigured: Invalid email schema mysql", "url:smtp"),
        ("url", "ImproperlyConfigured: Invalid cache schema mysql", "url:locmemcache"),
        ("str", "ImproperlyConfigured: Invalid cache schema ", "url:locmemcache"),
        ("url:smtp", "ValueError: something else", "url:locmemcache"),
        ("url:redis", "ValueError: something else", "unset"),
        ("str", "ValueError: invalid literal for int() with base 10: 'ds1s'", "int"),
        ("str", "ValueError: not a bool", "unset"),
        ("zero", "ValueError: Unsupported scheme ''", "empty"),
        ("empty", "ValueError: still", "empty"),
    ],
    ids=["email", "cache", "plain-name", "next-scheme", "schemes-spent", "number", "other", "zero", "spent"],
)
def test_the_form_tried_after_a_refused_sentinel(kind: str, error: str, then: str) -> None:
    in_image = helper("probe")  # the in-image script, as a module
    assert in_image.next_kind(kind, error) == then
    assert in_image.sentinel(3, "url:smtp") == "smtp://u3x:p3x@h3x.probe:47003/n3x"
    assert in_image.first_kind("EMAIL_URL") == "url:smtp" and in_image.first_kind("DATABASE_URL") == "url"


ONE_HOST = """\
import os

SECRET_KEY = os.environ.get("APP_SECRET", "dev")
HOST = os.environ.get("PUBLIC_HOST")
ALLOWED_HOSTS = [HOST] if HOST else ["*"]
INSTALLED_APPS = []
"""


def test_a_name_that_takes_one_host_is_not_given_the_suites_list(tmp_path: Path) -> None:
    """Held-out shape: ALLOWED_HOSTS = [os.environ["X"]]. The suite's "localhost,127.0.0.1" would be
    one host there and every request a 400; such a name is left to the app, and the overlay adds
    the suite's hosts when the settings would not take them."""
    (result,) = probe(tmp_path, {"settings": ONE_HOST}, [])
    assert result["single_hosts"] == ["PUBLIC_HOST"]
    learned = learn.interpret(result)
    assert "allowed-hosts" not in learned.env
    assert "allowed-hosts" in learned.overlay
    assert "PUBLIC_HOST" in learned.others
    # the reason names the setting's source, not the probe's sentinel for it (Vidski's $PROJECT_URL...)
    assert "ALLOWED_HOSTS ($PUBLIC_HOST) does not take localhost" in " ".join(learned.reasons)
    (tmp_path / "split").mkdir()
    (split,) = probe(tmp_path / "split", {"settings": OWN_NAMES}, ["DJKEY"])
    assert split["single_hosts"] == []


REQUIRED_HOSTS = """\
import os

SECRET_KEY = os.environ["APP_SECRET"]
ALLOWED_HOSTS = os.environ["SITE_HOSTS"].split(";")
INSTALLED_APPS = []
"""


def test_a_required_host_name_the_suite_cannot_fill_gets_a_value_that_imports(tmp_path: Path) -> None:
    """Held-out shape: config("ALLOWED_HOSTS").split(";") with no default. The suite's comma list is
    one host there, so the name is not mapped; prod's environment then lacks it, so init gives it
    a value that imports (env-defaults) and the overlay adds the suite's hosts."""
    (result,) = probe(tmp_path, {"settings": REQUIRED_HOSTS}, [])
    assert result["single_hosts"] == ["SITE_HOSTS"]
    learned = learn.interpret(result)
    assert learned.env == {"secret-key": ["APP_SECRET"]}
    assert learned.required == {"SITE_HOSTS": ""}
    assert "allowed-hosts" in learned.overlay


def test_a_throwaway_stacks_app_keeps_its_mail_in_the_process(tmp_path: Path) -> None:
    """fair_scoring_site's /admin/auth/user/teacher-notify emails every teacher on a GET, and the
    smoke crawl GETs it: in a throwaway stack's web and migrate the overlay sets Django's locmem
    EMAIL_BACKEND (the project's own settings module under it); `invoke up` and the test service
    (whose runner does it already) are as the project says."""
    settings = Settings(root=tmp_path).with_(app=parse_app({"settings_module": "proj.settings"}))
    kept = envfile.app_env(settings, "prod", throwaway=True)
    assert (kept["DJANGO_SETTINGS_MODULE"], kept["DOCKSTAGE_BASE_SETTINGS"]) == ("dockstage_settings", "proj.settings")
    assert kept["DOCKSTAGE_OVERLAY"] == "mail-local"
    for env in (envfile.app_env(settings, "prod"), envfile.app_env(settings, "test", throwaway=True)):
        assert "DOCKSTAGE_OVERLAY" not in env and "DJANGO_SETTINGS_MODULE" not in env
    own = 'EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"\nEMAIL_HOST = "smtp.example.org"\n'
    assert overlaid(tmp_path, own, kept, "[s.EMAIL_BACKEND, s.EMAIL_HOST]") == [
        "django.core.mail.backends.locmem.EmailBackend",
        "smtp.example.org",
    ]
    # healthchecks on Django 6.1 defines MAILERS (its SMTP one, else {}); Django refuses EMAIL_BACKEND beside it
    (tmp_path / "proj").rename(tmp_path / "mailers")
    mailers = (
        'MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {"port": 1}}}\n'
    )
    assert overlaid(tmp_path, mailers, kept, "[s.MAILERS, hasattr(s, 'EMAIL_BACKEND')]") == [
        {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}},
        False,
    ]
    (tmp_path / "proj").rename(tmp_path / "empty-mailers")
    assert overlaid(tmp_path, "MAILERS = {}\n", kept, "s.MAILERS") == {
        "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    }
    (tmp_path / "proj").rename(tmp_path / "first")
    as_set = {**kept, "DOCKSTAGE_OVERLAY": "database", **{f"DOCKSTAGE_DATABASE_{p}": "x" for p in PARTS}}
    assert overlaid(tmp_path, own, as_set, "s.EMAIL_BACKEND") == "django.core.mail.backends.smtp.EmailBackend"


PARTS = ("HOST", "PORT", "NAME", "USER", "PASSWORD")


def test_a_project_package_that_sets_django_up_on_import_gets_the_whole_overlay(tmp_path: Path) -> None:
    """bubaley/production-django-docker-example: core/__init__.py imports its Celery app, which
    calls django.setup() while the overlay is still importing core.settings.prod; Django then read
    the half-made overlay module, and web's gunicorn stopped on "'Settings' object has no attribute
    'CELERY_BROKER_URL'" (migrate, through manage.py's other import order, passed)."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj/__init__.py").write_text(
        "import django\nfrom django.conf import settings\n\ndjango.setup()\nBROKER_SEEN = settings.BROKER\n"
    )
    (tmp_path / "proj/settings.py").write_text("SECRET_KEY = 'k'\nINSTALLED_APPS = []\nBROKER = 'redis://x'\n")
    env = {**overlay_env(["mail-local"], "proj.settings", {}, False), "DJANGO_SETTINGS_MODULE": "dockstage_settings"}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings as s\ns.INSTALLED_APPS\nimport proj\nprint(proj.BROKER_SEEN, s.EMAIL_BACKEND)",
        ],
        cwd=tmp_path,
        env={**os.environ, **env, "PYTHONPATH": f"{PACKAGE_DATA / 'pythonpath'}:{tmp_path}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-600:]
    assert done.stdout.split() == ["redis://x", "django.core.mail.backends.locmem.EmailBackend"]


def test_names_manage_py_and_wsgi_read_without_a_default_get_env_defaults(tmp_path: Path) -> None:
    """notjustmoney/gather-connector-api-server: manage.py reads os.environ['SERVER_ENV'] to pick its
    .env file; the settings' probe never runs manage.py, and collectstatic stopped on KeyError."""
    from dockstage.adopt.inspect import Findings
    from dockstage.adopt.probe import entry_points_read

    (tmp_path / "config").mkdir()
    (tmp_path / "config/__init__.py").write_text("")
    (tmp_path / "config/wsgi.py").write_text('import os\nos.environ["WSGI_STAGE"]\nos.environ.get("SOFT")\n')
    (tmp_path / "manage.py").write_text(
        "import os\nserver_env = os.environ['SERVER_ENV']\nhost = os.environ['DB_HOST']\n"
        "os.environ['DJANGO_SETTINGS_MODULE']\n"
    )
    found = Findings(root=tmp_path, settings_module="config.settings", wsgi="config.wsgi:application")
    found.env = {"database-host": ["DB_HOST"]}
    entry_points_read(found)
    assert found.env_defaults == {"SERVER_ENV": "", "WSGI_STAGE": ""}
    assert any("reads SERVER_ENV, WSGI_STAGE with os.environ[...]" in note for note in found.notes)


def test_a_project_without_requirements_gets_the_packages_its_imports_need(tmp_path: Path) -> None:
    """DonyMagRony/Docker-django-mysql lists no requirements and its INSTALLED_APPS names corsheaders
    and rest_framework: init's own runtime set ('Django~=5.0.0') failed collectstatic at build time.
    init now adds the known providers the probe's imports name and builds again."""
    from dockstage.adopt import cli

    (tmp_path / "proj").mkdir()
    (tmp_path / "manage.py").write_text("import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n")
    (tmp_path / "proj/__init__.py").write_text("")
    (tmp_path / "proj/settings.py").write_text("# Generated by 'django-admin startproject' using Django 5.0.6.\n")
    found = inspect(tmp_path)
    assert found.requirements.made and found.requirements.runtime == ["Django~=5.0.0"]
    results: list[dict[str, object]] = [
        {"ok": True, "health": {"error": "ModuleNotFoundError: No module named 'corsheaders'"}},
        {"ok": False, "error": "ModuleNotFoundError: No module named 'rest_framework.authtoken'"},
        {"ok": False, "error": "ModuleNotFoundError: No module named 'not_a_known_one'"},
    ]
    wanted = probe_module.providers_missing(found, results)
    assert wanted == ["djangorestframework", "django-cors-headers"]
    said: list[str] = []
    assert cli.added(found, wanted, said) and found.requirements.runtime[1:] == wanted
    assert said[0].startswith("requirements djangorestframework, django-cors-headers: the probe's imports need them")
    assert any("'Django~=5.0.0, djangorestframework, django-cors-headers' (what the probe's" in n for n in found.notes)
    assert probe_module.providers_missing(found, results) == []  # listed now: no second build for them
    assert not cli.added(found, [], said)
    # Yuvraj-Lolage/Baking-Barons imports six, dr-ahmedsejad/crud_django_mysql loads bootstrap5: both known now
    later = [
        {"ok": True, "health": {"error": f"ModuleNotFoundError: No module named '{m}'"}} for m in ("six", "bootstrap5")
    ]
    assert probe_module.providers_missing(found, later) == ["six", "django-bootstrap-v5"]
    listed = Findings(tmp_path, settings_module="proj.settings")  # a project's own requirements: not init's to change
    assert probe_module.providers_missing(listed, results) == []


def test_an_image_field_puts_pillow_in_inits_own_runtime_set(tmp_path: Path) -> None:
    """Skyssar/institucion-medica-django-mysql lists no requirements and has an ImageField: Django's
    fields.E210 (no Pillow) stopped its tests, migrate and check --deploy."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "shop").mkdir()
    (tmp_path / "manage.py").write_text("import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n")
    (tmp_path / "proj/__init__.py").write_text("")
    (tmp_path / "proj/settings.py").write_text("INSTALLED_APPS = ['shop']\n")
    (tmp_path / "shop/models.py").write_text(
        "from django.db import models\n\nclass Item(models.Model):\n    icon = models.ImageField()\n"
    )
    found = inspect(tmp_path)
    assert found.requirements.runtime == ["Django", "Pillow"]
    assert "Pillow is in the runtime set: shop/models.py:4 has an ImageField" in found.notes
    (tmp_path / "requirements.txt").write_text("Django\n")  # the project's own list: not init's to change
    assert inspect(tmp_path).requirements.runtime == ["requirements.txt"]


def test_what_the_code_imports_joins_inits_own_runtime_set_at_once(tmp_path: Path) -> None:
    """joseluis-gc/Django-Mysql-Ecommerce-Site's cart view imports stripe and TibaMe-Catcher's views
    linebot, neither listing requirements: the probe stopped at the settings, and only the build's
    collectstatic (or the tests) met them, after a whole build."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "shop/tests").mkdir(parents=True)
    (tmp_path / "manage.py").write_text("import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n")
    (tmp_path / "proj/__init__.py").write_text("")
    (tmp_path / "proj/settings.py").write_text(
        "import os\nfrom decouple import config\nINSTALLED_APPS = [\n    'simpleui',\n    'shop',\n]\n"
        "CRISPY_TEMPLATE_PACK = 'bootstrap4'\nCACHES = {'default': {'BACKEND': 'django_redis.cache.RedisCache'}}\n"
    )  # 123REN-HJ's simpleui; 'bootstrap4' is a template pack here, no app
    (tmp_path / "shop/helpers.py").write_text("")
    (tmp_path / "shop/views.py").write_text(
        "import json, os\nfrom django.shortcuts import render\nfrom . import helpers\nfrom shop.helpers import x\n"
        "import helpers\n\ndef pay(request):\n    import stripe\n    from linebot.models import TextMessage\n"
        "    import jieba\n"
    )
    (tmp_path / "shop/tests/test_views.py").write_text("import factory\n")  # the tests' own: not the runtime's
    found = inspect(tmp_path)
    added = ["python-decouple", "stripe", "line-bot-sdk", "django-simpleui", "django-redis"]
    assert found.requirements.runtime == ["Django", *added]
    assert f"no requirements file found: the runtime set is 'Django, {', '.join(added)}'; list your " in " ".join(
        found.notes
    )
    assert "stripe is in the runtime set: shop/views.py:8 imports stripe" in found.notes
    assert "django-simpleui is in the runtime set: the settings name simpleui" in found.notes
    assert "line-bot-sdk is in the runtime set: shop/views.py:9 imports linebot" in found.notes
    unknown = [n for n in found.notes if n.startswith("the code imports")]
    assert unknown == [
        "the code imports jieba (shop/views.py:10), which no requirement installs and init knows no package for: "
        "add the packages that provide them to requirements"
    ]
    (tmp_path / "requirements.txt").write_text("Django\n")  # the project's own list: not init's to change
    listed = inspect(tmp_path)
    assert listed.requirements.runtime == ["requirements.txt"]
    assert not any(n.startswith(("the code imports", "stripe is")) for n in listed.notes)


LANGUAGE_FROM_ENV = """import os
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
LANGUAGE_CODE = os.environ["LANGUAGE_CODE"]
TIME_ZONE = os.environ["TZ_NAME"]
TERMS_URL = os.environ["TERMS_URL"]
USE_TZ = True
INSTALLED_APPS = []
"""


def test_an_apps_name_that_begins_like_a_system_one_gets_a_sentinel(tmp_path: Path) -> None:
    """nekrassov01/docker-django-blog's settings read LANGUAGE_CODE, which "LANG" as a prefix kept
    out of the probe: its import failed on that name, and nothing was learned."""
    (result,) = probe(tmp_path, {"settings": LANGUAGE_FROM_ENV}, [])
    assert result["ok"] is True, result["error"]
    assert {"LANGUAGE_CODE", "TZ_NAME", "TERMS_URL", "DJANGO_SECRET_KEY"} <= set(result["env"]), result["env"]
    assert learn.interpret(result).env["secret-key"] == ["DJANGO_SECRET_KEY"]
