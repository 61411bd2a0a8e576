"""The error family: one translation from docker's failures, fix hints per front-end, exit codes."""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NoReturn

import pytest
from python_on_whales.exceptions import DockerException
from python_on_whales.utils import get_docker_exception_type

from dockstage.core import errors
from dockstage.flows.run import Run
from dockstage.frontends.common import INVOKE_COMMANDS, NOX_COMMANDS, execute
from dockstage.images import imagechecks

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-Value-That-Must-Not-Leak-42"


def docker_failure(
    stderr: str, code: int = 1, command: tuple[str, ...] = ("docker", "compose", "up")
) -> DockerException:
    """A real python-on-whales DockerException, of the type python-on-whales picks for that stderr."""
    kind = get_docker_exception_type(stderr.encode())
    return kind(list(command), code, b"", stderr.encode())


@pytest.mark.parametrize(
    ("stderr", "kind", "needle"),
    [
        ("Error: Bind for 127.0.0.1:8000 failed: port is already allocated", errors.PortInUse, "already in use"),
        ("required variable API_TOKEN is missing a value: API_TOKEN is not set", errors.MissingSetting, "API_TOKEN"),
        ("Error response from daemon: No such image: project-playground:prod", errors.ImageMissing, "is missing"),
        (
            'container dsit-migrate-1 exited (1)\nservice "migrate" didn\'t complete successfully: exit 1',
            errors.ServiceFailed,
            "did not become healthy",
        ),
        (
            "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?",
            errors.NoEngine,
            "no Docker engine",
        ),
        ("something nobody foresaw", errors.StackError, "docker exit 1"),
    ],
    ids=["port", "missing-variable", "missing-image", "service-failed", "no-engine", "unknown"],
)
def test_docker_failures_translate_to_one_error(stderr: str, kind: type[errors.DockstageError], needle: str) -> None:
    error = errors.from_docker(docker_failure(f"{stderr}\nsecret was {SECRET}"), "starting the stack", port=8000)
    assert type(error) is kind
    assert needle in error.one_line()
    assert SECRET not in error.one_line()  # docker's output stays in the debug detail
    assert SECRET in error.detail and "docker compose up" in error.detail


def test_a_failed_service_is_named() -> None:
    error = errors.from_docker(docker_failure("container app-migrate-1 exited (1)"), "starting web")
    assert isinstance(error, errors.ServiceFailed)


@pytest.mark.parametrize(
    ("commands", "expected"),
    [(NOX_COMMANDS, "build it first (`nox -s build_prod`)"), (INVOKE_COMMANDS, "build it first (`invoke build`)")],
    ids=["nox", "invoke"],
)
def test_fix_hints_name_the_front_end_in_use(commands: dict[str, str], expected: str) -> None:
    assert expected in errors.ImageMissing("starting the stack").one_line(commands)


PACKAGE = ROOT / "dockstage"
PLACEHOLDER = re.compile(r"`\{(\w+)\}")  # `{up}` (`{{up}}` in an f-string's source)
# Strings that may name a front-end's command as it is: the front-ends themselves, `dockstage init`
# (it writes and prints both front-ends' files), and a message compose itself prints.
VERBATIM = ("frontends/", "adopt/", "data/", "stack/workers.py")


def literal_strings(path: Path) -> list[str]:
    """The string literals of a module that are not docstrings (f-strings' constant parts included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_every_fix_placeholder_is_known_to_both_front_ends() -> None:
    used = {
        name for path in PACKAGE.rglob("*.py") for text in literal_strings(path) for name in PLACEHOLDER.findall(text)
    }
    assert {"build", "up", "db_dump", "stack_ps", "doctor"} <= used  # the hints really use them
    assert used <= set(NOX_COMMANDS) and used <= set(INVOKE_COMMANDS), used - set(NOX_COMMANDS)


def test_no_message_names_a_front_end_command_itself() -> None:
    """Every hint goes through a placeholder, so nox users are not told to run invoke (and back)."""
    hard_coded = [
        f"{path.relative_to(PACKAGE)}: {text!r}"
        for path in PACKAGE.rglob("*.py")
        if not str(path.relative_to(PACKAGE)).startswith(VERBATIM)
        for text in literal_strings(path)
        if re.search(r"`(invoke|nox) ", text)
    ]
    assert not hard_coded, "\n".join(hard_coded)


def test_the_command_tables_name_real_tasks_and_sessions() -> None:
    import nox

    from dockstage.frontends import invoketasks, noxsessions

    tasks = set(invoketasks.collection(ROOT).task_names)
    assert {command.removeprefix("invoke ") for command in INVOKE_COMMANDS.values()} == tasks
    noxsessions.register(ROOT)
    sessions = set(nox.registry.get())
    for name, command in NOX_COMMANDS.items():
        if command.startswith("nox -s "):
            assert command.removeprefix("nox -s ") in sessions, name
        else:  # only invoke has it (the stack, the database, the swarm): the same command as under invoke
            assert command == INVOKE_COMMANDS[name]


@pytest.mark.parametrize(
    ("error", "nox", "invoke"),
    [
        (errors.LowDisk(1.0, "/"), "`invoke clean`", "`invoke clean`"),
        (errors.ReportUnreadable("r.xml", "x"), "`nox -s test_image`", "`invoke test`"),
        (errors.EngineLost("building"), "`nox -s doctor`", "`invoke doctor`"),
        (errors.NeedsRoot(), "`sudo -E env PATH=$PATH nox -s bases`", "`sudo -E env PATH=$PATH invoke bases`"),
    ],
    ids=["invoke-only", "test", "doctor", "bases"],
)
def test_a_hint_is_filled_per_front_end(error: errors.DockstageError, nox: str, invoke: str) -> None:
    assert nox in error.one_line(NOX_COMMANDS) and invoke in error.one_line(INVOKE_COMMANDS)
    assert "{" not in error.one_line(NOX_COMMANDS)


def test_redact_replaces_every_secret() -> None:
    text = f"password {SECRET} and token abcdefgh12 and short x"
    assert errors.redact(text, [SECRET, "abcdefgh12", "x"]) == "password *** and token *** and short x"


def test_pull_failure_names_image_and_reason() -> None:
    error = errors.BasePullFailed("mysql:8.4", "dial tcp: lookup registry: no such host")
    assert error.one_line().startswith("engine: base image mysql:8.4 could not be pulled (dial tcp: lookup")
    assert error.return_code == 3


def test_exit_codes_match_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    table = dict(re.findall(r"^\| (\d) \| `(\w+)` \|", readme, flags=re.MULTILINE))
    assert table.pop("0") == "ok"
    assert {label: int(code) for code, label in table.items()} == errors.EXIT_CODES
    for kind in (errors.ConfigError, errors.EngineError, errors.BuildError, errors.StackError):
        assert kind("x", "y").return_code == errors.EXIT_CODES[kind.label]


# The last resort: execute() turns what no call site translated into one line and an exit code ---
def executed(action: Callable[[Run], object], commands: Mapping[str, str] = NOX_COMMANDS) -> tuple[str, int]:
    """The line and exit status the front-end's `fail` gets from execute() running `action`."""

    def fail(line: str, code: int) -> NoReturn:
        raise SystemExit((line, code))

    with pytest.raises(SystemExit) as exited:
        execute(ROOT, commands, fail, action)
    line, code = exited.value.code
    return str(line), int(code)


def raising(error: BaseException) -> Callable[[Run], object]:
    def action(run: Run) -> object:
        raise error

    return action


def test_a_parse_error_nobody_translated_is_one_line() -> None:
    line, code = executed(lambda run: ET.fromstring("<testsuite tests="))  # noqa: S314 - a literal
    assert (line, code) == (
        "error: reading an XML report failed unexpectedly: rerun with DOCKSTAGE_DEBUG=1 for the details; "
        "`nox -s doctor` checks the engine",
        1,
    )


@pytest.mark.parametrize(
    ("stderr", "command", "expected", "code"),
    [
        (
            "Error response from daemon: No such container: 3f2a",
            ("docker", "container", "inspect", "3f2a"),
            "stack: `docker container inspect`: a container it needs was removed meanwhile: see what runs "
            "(`invoke ps`), start the stack again (`invoke up`) and run the command again",
            5,
        ),
        (
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
            ("docker", "--config", "/x", "compose", "--file", "a.yaml", "ps", "--all"),
            "engine: no Docker engine answers: start the Docker engine (`systemctl start docker`, or `dockerd &` "
            "where systemd runs no services; Debian: `apt-get install docker.io`)",
            3,
        ),
        (
            'error during connect: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.41/containers/json": EOF',
            ("docker", "compose", "--project-name", "p", "ps"),
            "engine: the Docker engine stopped answering while `docker compose ps`: check that it runs "
            "(`nox -s doctor`), then run the command again",
            3,
        ),
        (
            "something nobody foresaw",
            ("docker", "image", "prune", "--force"),
            "error: `docker image prune` failed unexpectedly (docker exit 1): rerun with DOCKSTAGE_DEBUG=1 for the "
            "details; `nox -s doctor` checks the engine",
            1,
        ),
    ],
    ids=["container-removed", "no-engine", "engine-lost", "unforeseen"],
)
def test_a_docker_failure_nobody_translated_is_one_line(
    stderr: str, command: tuple[str, ...], expected: str, code: int
) -> None:
    assert executed(raising(docker_failure(f"{stderr}\nsecret {SECRET}", command=command))) == (expected, code)


def test_debug_shows_the_detail_of_the_last_resort(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKSTAGE_DEBUG", "1")
    executed(raising(docker_failure("something nobody foresaw", command=("docker", "image", "prune"))))
    assert "$ docker image prune\nexit code 1" in capsys.readouterr().err


def test_a_build_that_needs_another_python_says_which() -> None:
    detail = (
        "#10 0.828 dockstage: a requirement needs Python >=3.12 and this base image has 3.11.2: set python = "
        '">=3.12" in [tool.dockstage] (the trixie stand-ins have 3.13; official bases any version)\n'
    )
    failed = errors.StageBuildFailed("dev", 1, detail)
    assert failed.needs_python == ">=3.12"  # init builds again with it
    assert "a requirement needs Python >=3.12, the base image has 3.11.2" in failed.what
    assert errors.StageBuildFailed("dev", 1, "E: Unable to locate package nope").needs_python == ""


def test_a_build_that_lacks_debian_packages_names_them_for_init() -> None:
    """TejasJogi's library pins cffi==1.15.0 (no wheel for 3.11): the install helper named libffi-dev."""
    ffi = (
        "#12 25.90 dockstage: error: cffi==1.15.0 has no wheel for Python 3.11 here and its source needs ffi.h; "
        "fix: add Debian's libffi-dev to apt-build in [tool.dockstage] (or raise its pin to a release with a wheel)\n"
    )
    assert errors.StageBuildFailed("dev", 1, ffi).needs_apt == ["libffi-dev"]  # init builds again with it
    pillow = ffi.replace("libffi-dev", "libjpeg-dev zlib1g-dev")
    assert errors.StageBuildFailed("dev", 1, pillow).needs_apt == ["libjpeg-dev", "zlib1g-dev"]
    unknown = ffi.replace("Debian's libffi-dev", "the Debian -dev package that has it (`apt-file search x.h`)")
    assert errors.StageBuildFailed("dev", 1, unknown).needs_apt == []
    assert errors.StageBuildFailed("dev", 1, "E: Unable to locate package nope").needs_apt == []


def test_a_one_shot_that_exited_says_its_exit_code_not_health() -> None:
    line = errors.ServiceFailed("migrating the database", ["migrate"], "migrate exited with 1", exited=1).one_line()
    assert "migrating the database: migrate exited with 1" in line and "healthy" not in line
    assert "did not become healthy" in errors.ServiceFailed("starting web", ["web"]).one_line()


def test_of_builds_failing_at_once_the_one_that_says_why_is_raised() -> None:
    from dockstage.flows.run import build_failure_to_raise

    bare = errors.StageBuildFailed("stage", 1, "ERROR: failed to solve: exit code: 127")
    said = errors.StageBuildFailed("prod", 1, "dockstage: error: `npm run x` failed; fix: add it\n")
    other = errors.ConfigError("what", "fix")
    assert build_failure_to_raise([bare, said]) is said
    assert build_failure_to_raise([bare, other]) is bare  # none said why: the first, in stage order
    assert (bare.diagnosed, said.diagnosed) == (False, True)


def test_with_an_assets_stage_stage_is_built_before_test() -> None:
    """Built at once, test and stage each ran the assets stage's npm build (their contexts differ)."""
    from dockstage.flows.run import build_waves

    assert build_waves(["test", "stage", "prod"], assets=True) == [["stage"], ["test", "prod"]]
    assert build_waves(["test", "stage", "prod"], assets=False) == [["test", "stage", "prod"]]
    assert build_waves(["stage", "prod"], assets=True) == [["stage", "prod"]]
    assert build_waves(["test"], assets=True) == [["test"]]
    assert build_waves([], assets=True) == []


MIGRATE_ON_MYSQL = """\
Operations to perform:
SystemCheckError: System check identified some issues:

ERRORS:
dining_room.ConfDiningRoom.check_name: (fields.E120) CharFields must define a 'max_length' attribute.
peladoydescabezado.Person.phone: (fields.E120) CharFields must define a 'max_length' attribute.

WARNINGS:
account.EmailAddress: (models.W036) MariaDB does not support unique constraints with conditions.
        HINT: A constraint won't be created. Silence this warning if you don't care about it.
"""


def test_a_system_check_error_names_the_errors_it_lists() -> None:
    """gjae/django-attendance-check ran on PostgreSQL, where a CharField needs no max_length: on
    MySQL its migrate stopped on fields.E120, and the one line said only 'System check identified
    some issues'. Now the errors, the fields, and what they mean for a PostgreSQL project."""
    assert imagechecks.last_exception(MIGRATE_ON_MYSQL) == (
        "SystemCheckError: fields.E120 CharFields must define a 'max_length' attribute. "
        "(dining_room.ConfDiningRoom.check_name, peladoydescabezado.Person.phone); PostgreSQL alone lets a "
        "CharField go without one (Django 4.2+): give each a max_length"
    )
    assert imagechecks.last_exception("Traceback...\nKeyError: 'x'\n") == "KeyError: 'x'"
    # 123REN-HJ's migrate: a field default reads the first superuser, which a new database lacks
    default = (
        'Traceback (most recent call last):\n  File "/app/manage.py", line 22, in <module>\n    main()\n'
        '  File "/opt/venv/lib/python3.11/site-packages/django/db/models/fields/__init__.py", line 962\n'
        '  File "/app/reservations/models.py", line 11, in get_default_user\n'
        "    return User.objects.filter(is_superuser=True).first().id\n"
        "AttributeError: 'NoneType' object has no attribute 'id'\n"
    )
    assert imagechecks.last_exception(default) == (
        "AttributeError: 'NoneType' object has no attribute 'id' (reservations/models.py:11)"
    )
    only_manage = 'Traceback (most recent call last):\n  File "/app/manage.py", line 22, in <module>\nKeyError: 1\n'
    assert imagechecks.last_exception(only_manage) == "KeyError: 1"  # where every command starts: no cause
    warnings_only = "SystemCheckError: System check identified some issues:\n\nWARNINGS:\na.B: (models.W036) no\n"
    assert imagechecks.last_exception(warnings_only) == "SystemCheckError: System check identified some issues:"


DEPLOY_CHECK = """\
System check identified some issues:

WARNINGS:
?: (security.W004) You have not set a value for the SECURE_HSTS_SECONDS setting. If your entire site is served only over SSL, you may want to consider setting a value and enabling HTTP Strict Transport Security. Be sure to read the documentation first; enabling HSTS carelessly can cause serious, irreversible problems.
?: (security.W008) Your SECURE_SSL_REDIRECT setting is not set to True. Unless your site should be available over both SSL and non-SSL connections, you may want to either set this setting True or configure a load balancer or reverse-proxy server to redirect all connections to HTTPS.
?: (security.W012) SESSION_COOKIE_SECURE is not set to True. Using a secure-only session cookie makes it more difficult for network traffic sniffers to hijack user sessions.

System check identified 3 issues (0 silenced).
"""


def test_the_deploy_checklist_is_said_as_its_ids_and_first_sentences() -> None:
    """gjae/django-attendance-check's prod settings leave out cookiecutter's security settings: the
    line was 'reports 5: WARNINGS:; ?: (security.W004) You have not set...' cut at 300 characters."""
    assert imagechecks.deploy_findings(DEPLOY_CHECK) == (
        "3: security.W004 You have not set a value for the SECURE_HSTS_SECONDS setting; "
        "security.W008 Your SECURE_SSL_REDIRECT setting is not set to True; "
        "security.W012 SESSION_COOKIE_SECURE is not set to True"
    )
    assert imagechecks.deploy_findings("System check identified no issues (0 silenced).") == ""


ABSL_THEN_CRASH = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
Traceback (most recent call last):
  File "/app/manage.py", line 22, in <module>
ImportError: cannot import name 'solutions' from 'mediapipe' (/opt/venv/lib/python3.11/site-packages/mediapipe/__init__.py)
"""


def test_a_check_that_crashed_is_not_read_as_its_findings() -> None:
    """Miska1984/digiTTrain2: mediapipe printed absl's WARNING line, then the URLconf's import failed;
    the image check said "`check --deploy` reports WARNING: All log messages before absl..." and not
    the ImportError."""
    assert imagechecks.checklist_findings(ABSL_THEN_CRASH) == ""  # a crash: diagnosed as one
    assert imagechecks.diagnose(ABSL_THEN_CRASH, [])[0].startswith("ImportError: cannot import name 'solutions'")
    assert imagechecks.checklist_findings(DEPLOY_CHECK).startswith("3: security.W004")
    assert imagechecks.checklist_findings(ABSL_THEN_CRASH + DEPLOY_CHECK).startswith("3: security.W004")
    other_form = "WARNINGS:\n?: (hsts) not set\n"  # not in Django's form: the lines as they are
    assert imagechecks.checklist_findings(other_form) == "WARNINGS:; ?: (hsts) not set"


def test_a_smoke_failure_on_a_table_migrate_never_made_says_to_make_the_migration() -> None:
    """Gnaneshwar25/django-healthcare commits no migrations for its core app: migrate ran clean and
    /api/doctors/ gave 500 on (1146, "Table 'app.doctor' doesn't exist")."""
    from dockstage.frontends.common import INVOKE_COMMANDS

    log = "web-1  | django.db.utils.ProgrammingError: (1146, \"Table 'app.doctor' doesn't exist\")\n"
    assert errors.not_migrated(log) == "table app.doctor"
    assert errors.not_migrated("web-1  | OperationalError: (2002, \"Can't connect to server on 'db'\")") == ""
    failed = errors.SmokeCheckFailed("urls", "1 of 6 URLs gave a 5xx or no answer: /api/doctors/")
    line = errors.TableNotMigrated(failed, "table app.doctor").one_line(INVOKE_COMMANDS)
    assert line == (
        "check: smoke check 'urls' failed: 1 of 6 URLs gave a 5xx or no answer: /api/doctors/ (table app.doctor "
        "does not exist after migrate: its model has no migration): run `invoke makemigrations` (for an app "
        "without a migrations folder, `invoke manage -- makemigrations <app>`) and commit the migration files"
    )


def test_tests_failing_on_a_table_their_migrations_never_made_say_to_make_the_migration() -> None:
    """Abdul-Chowdhuryy's restaurant app commits no migration for its MenuItem: the test step said
    only "3 errors" while the smoke step beside it named the table."""
    from dockstage.frontends.common import NOX_COMMANDS

    output = "MySQLdb.ProgrammingError: (1146, \"Table 'test_app.restaurant_menuitem' doesn't exist\")\n"
    failed = errors.TestsFailed(
        1, "3 tests, 0 failed, 3 errors", "/r.xml", "python manage.py test", "MySQL at db", errors.not_migrated(output)
    )
    assert failed.one_line(NOX_COMMANDS) == (
        "check: the app's tests failed in the test image on MySQL at db (python manage.py test exited 1; 3 tests, "
        "0 failed, 3 errors; table test_app.restaurant_menuitem does not exist after the test database's migrations: "
        "its model has no migration): run `invoke makemigrations` (for an app without a migrations folder, "
        "`invoke manage -- makemigrations <app>`) and commit the migration files; see the runner's output above and "
        "/r.xml"
    )
    assert "migration" not in errors.TestsFailed(1, "3 tests, 0 failed, 3 errors", "/r.xml").what


def test_tests_failing_on_a_column_no_migration_adds_say_to_make_the_migration() -> None:
    """howtoartyom/wallet-transaction-api's Wallet.version field has no migration: its one test
    errored on setup with (1054, "Unknown column ...") and the failure said nothing of a migration."""
    output = (
        "E   django.db.utils.OperationalError: (1054, \"Unknown column 'wallet_transaction_api_wallet.version' "
        "in 'SELECT'\")\n"
    )
    missing = errors.not_migrated(output)
    assert missing == "column wallet_transaction_api_wallet.version"
    failed = errors.TestsFailed(1, "1 tests, 0 failed, 1 errors", "/r.xml", "pytest", "MySQL at db", missing)
    assert "; column wallet_transaction_api_wallet.version does not exist after the test database's migrations: " in (
        failed.what
    )
    assert failed.what.endswith("its model's field has no migration)") and "makemigrations" in failed.fix


SECURE_VULNERABLE_WEB_LOG = """\
web-1  | Internal Server Error: /core/search/
web-1  | Traceback (most recent call last):
web-1  |   File "/app/core/views.py", line 59, in search_view
web-1  |     return render(request, "search.html", {"search_result": search_result, "mode": mode})
web-1  | django.template.exceptions.TemplateDoesNotExist: search.html
web-1  | 192.168.16.1 - - [07/Dec/2026:02:10:49 -0600] "GET /core/search/ HTTP/1.1" 500 145 "-" "-"
web-1  | Stripe webhook error: No Stripe-Signature header value was provided.
web-1  | Internal Server Error: /search/
web-1  | Traceback (most recent call last):
web-1  |   File "/app/core/views.py", line 80, in upload_view
web-1  |     total = 1 / 0
web-1  | ZeroDivisionError: division by zero
"""


def test_the_smoke_urls_failure_names_each_views_exception_from_webs_log() -> None:
    """santhusuri/SECURE-VULNERABLE: 4 URLs gave 500 and the line named only the paths; each one's
    exception was in web's log above (TemplateDoesNotExist: search.html: the views name templates
    that live elsewhere)."""
    causes = errors.view_errors(SECURE_VULNERABLE_WEB_LOG)
    assert causes == {
        "/core/search/": "TemplateDoesNotExist: search.html",
        "/search/": "ZeroDivisionError: division by zero",
    }
    reason = "3 of 37 URLs gave a 5xx or no answer: /core/search/, /search/, /upload/"
    failed = errors.SmokeCheckFailed("urls", reason, "fix", paths=["/core/search/", "/search/", "/upload/"])
    assert failed.with_causes(causes).what == (
        "smoke check 'urls' failed: 3 of 37 URLs gave a 5xx or no answer: /core/search/ (TemplateDoesNotExist: "
        "search.html), /search/ (ZeroDivisionError: division by zero), /upload/"
    )
    assert failed.with_causes({}) is failed
    assert errors.SmokeCheckFailed("health", "GET / gave 500").with_causes(causes).what.endswith("GET / gave 500")


BOOKS_WEB_LOG = (
    "\x1b[2Kweb-1  | ERROR django.request: Internal Server Error: /api/accounts/logout/\n"
    "\x1b[2Kweb-1  | Traceback (most recent call last):\n"
    '\x1b[2Kweb-1  |   File "/opt/venv/lib/python3.11/site-packages/django/urls/resolvers.py", line 828, in _reverse\n'
    "\x1b[2Kweb-1  |     raise NoReverseMatch(msg)\n"
    "\x1b[2Kweb-1  | django.urls.exceptions.NoReverseMatch: Reverse for 'index' not found. 'index' is not a valid "
    "view function or pattern name.\n"
    '\x1b[2Kweb-1  | 172.24.0.1 - - [07/Dec/2026:10:59:26 +0000] "GET /api/accounts/logout/ HTTP/1.1" 500 145\n'
    "web-1  | ERROR django.request: Internal Server Error: /orders/\n"
    "web-1  | Traceback (most recent call last):\n"
    'web-1  |   File "/app/shop/views.py", line 9, in orders\n'
    "web-1  | shop.models.Order.DoesNotExist: Order matching query does not exist.\n"
    "web-1  | \n"
    "web-1  | During handling of the above exception, another exception occurred:\n"
    "web-1  | \n"
    "web-1  | Traceback (most recent call last):\n"
    'web-1  |   File "/app/shop/views.py", line 11, in orders\n'
    "web-1  | KeyError\n"
    "web-1  | Done\n"
)


def test_a_views_exception_is_read_under_the_suites_own_log_format_whatever_its_name() -> None:
    """Sana451's books: /api/accounts/logout/ gave 500 and the line named no cause: the suite's own
    django.request handler writes "ERROR django.request: Internal Server Error: ...", and the
    exception, NoReverseMatch, has none of the words the old pattern asked for."""
    assert errors.view_errors(BOOKS_WEB_LOG) == {
        "/api/accounts/logout/": (
            "NoReverseMatch: Reverse for 'index' not found. 'index' is not a valid view function or pattern name."
        ),
        "/orders/": "KeyError",  # the chained traceback's last exception; "Done" after it is no exception
    }


def test_a_migration_using_what_only_mysql_has_says_so_on_the_mariadb_stand_in() -> None:
    """mnesleha/Shopwise's migration adds a FULLTEXT index WITH PARSER ngram: MariaDB says 1128."""
    why = "django.db.utils.OperationalError: (1128, \"Function 'ngram' is not defined\")"
    failed = errors.ServiceFailed("migrating the smoke stack's database", ["migrate"], why=why, exited=1)
    assert failed.fix.startswith("the ngram full-text parser (WITH PARSER ngram) is MySQL's own and MariaDB")
    assert "DOCKSTAGE_FLAVOUR=official" in failed.fix
    other = errors.ServiceFailed("migrating", ["migrate"], why="(1128, \"Function 'nosuch' is not defined\")", exited=1)
    assert other.fix == "its log is above; fix the cause and run again"


def test_a_migration_dropping_a_column_a_unique_index_spans_says_mariadb_refuses_it() -> None:
    """SISOC's squashed migration drops asistencia.encuentro, which a unique_together spans: MySQL 8
    takes it out of the index, MariaDB 10.11 (the stand-in) says 1072 "Key column ... doesn't exist"."""
    why = "django.db.utils.OperationalError: (1072, \"Key column 'encuentro_id' doesn't exist in table\")"
    failed = errors.ServiceFailed("migrating the smoke stack's database", ["migrate"], why=why, exited=1)
    assert failed.fix.startswith("MariaDB, the stand-ins' database, refuses to drop the column encuentro_id while")
    assert "DOCKSTAGE_FLAVOUR=official" in failed.fix and "remove that constraint before the field" in failed.fix
    log = f"  Applying VAT.0001_squashed_0045...Traceback (most recent call last):\n{why}\n"
    assert "remove that constraint in VAT.0001_squashed_0045 before the field" in errors.known_fix(log)
    assert errors.known_fix("(1072, 'Key column') and more") == ""


@pytest.mark.parametrize(
    ("command", "action"),
    [
        (["/usr/local/bin/docker", "--config", "/c", "compose", "--file", "x.yaml", "ps", "-q"], "docker compose ps"),
        # the suite's client runs docker under `env -u NAME...` (the app's names unset): not the verb
        (
            ["/usr/bin/env", "-u", "API_TOKEN", "-u", "DB_HOST", "/usr/local/bin/docker", "container", "inspect", "a1"],
            "docker container inspect",
        ),
        (["docker", "image", "inspect", "x"], "docker image inspect"),
    ],
)
def test_the_failed_call_is_named_by_its_verb(command: list[str], action: str) -> None:
    """diary-workout-tracker's pipeline said "`docker /usr/local/bin/docker`: a container it needs was
    removed meanwhile": the env prefix was read as the call."""
    assert errors.docker_action(DockerException(command, 1)) == action


HB_MIGRATE = (
    'django.db.utils.ProgrammingError: (1064, "You have an error in your SQL syntax; check the manual that '
    "corresponds to your MariaDB server version for the right syntax to use near '[] NULL, `user_id` integer "
    "NOT NULL)' at line 1\")"
)


def test_an_array_column_on_mysql_is_named_as_postgresql_only() -> None:
    """saks/hb's migrations create ArrayFields (`integer[]`): migrate and the tests' database both
    stop on MySQL's 1064; the fix says why instead of "its log is above"."""
    migrate = errors.ServiceFailed("migrating the smoke stack's database", ["migrate"], exited=1, why=HB_MIGRATE)
    assert migrate.fix.startswith("a PostgreSQL ArrayField made that column (its type ends in [])")
    tests = errors.TestsFailed(1, f"the tests did not start: {HB_MIGRATE}", "/r/junit-app.xml", "python manage.py test")
    assert tests.fix.startswith("a PostgreSQL ArrayField") and tests.fix.endswith(
        "see the runner's output above and /r/junit-app.xml"
    )
    other = "django.db.utils.ProgrammingError: (1064, \"You have an error in your SQL syntax near 'WINDOW w'\")"
    assert (
        errors.postgres_only(other) == ""
        and errors.TestsFailed(1, "2 failed", "/r").fix == "see the runner's output above and /r"
    )


def test_several_steps_failing_on_one_cause_say_its_fix_once() -> None:
    tests = errors.TestsFailed(1, f"the tests did not start: {HB_MIGRATE}", "/r/junit-app.xml")
    migrate = errors.ServiceFailed("migrating the smoke stack's database", ["migrate"], exited=1, why=HB_MIGRATE)
    both = errors.StepsFailed([("test_image", tests), ("smoke_prod", migrate)])
    assert both.fix.count("a PostgreSQL ArrayField") == 1
    assert both.fix.endswith("see the runner's output above and /r/junit-app.xml")
    smoke = errors.SmokeCheckFailed("health", "500")
    assert errors.StepsFailed([("a", tests), ("b", smoke)]).fix == f"{tests.fix} / {smoke.fix}"


def test_every_failure_that_says_why_reads_the_same_known_causes() -> None:
    """One place for the causes the suite knows: a one-shot's exit, the app's tests, an image check's crash."""
    removed = "ImportError: cannot import name 'url' from 'django.conf.urls' (/opt/venv/...)"
    for text, start in ((HB_MIGRATE, "a PostgreSQL ArrayField"), (removed, "django.conf.urls.url went in Django 4.0")):
        assert errors.known_fix(text).startswith(start)
        assert errors.TestsFailed(1, f"the tests did not start: {text}", "/r").fix.startswith(start)
        assert imagechecks.diagnose(f"Traceback (most recent call last):\n{text}\n", [])[1].startswith(start)
    assert errors.known_fix("ValueError: nothing known") == ""


RENJI_PIP = """\
  File "/opt/venv/lib/python3.11/site-packages/tailwind/templatetags/tailwind_tags.py", line 5, in <module>
    from ..utils import is_path_absolute
  File "/opt/venv/lib/python3.11/site-packages/tailwind/utils.py", line 4, in <module>
    import pip._internal as pip
ModuleNotFoundError: No module named 'pip'
"""


def test_a_package_importing_pip_at_run_time_is_named_with_the_fix() -> None:
    """RenjiKashii/django-docker-1: django-tailwind 3.3 imports pip._internal; uv's venvs have no pip,
    and the tests, check --deploy and migrate all stopped on "No module named 'pip'" with no fix."""
    fix = errors.known_fix(RENJI_PIP)
    assert fix.startswith("an installed package imports pip at run time") and "add pip" in fix
    assert imagechecks.diagnose(f"Traceback (most recent call last):\n{RENJI_PIP}", [])[1] == fix
    alone = errors.TestsFailed(1, "the tests did not start: ModuleNotFoundError: No module named 'pip'", "/r")
    assert alone.fix.startswith(fix)  # said once when several steps fail on it
    assert errors.known_fix("ModuleNotFoundError: No module named 'pipx'") == ""


def test_a_file_under_the_app_the_image_lacks_is_said_with_where_images_come_from() -> None:
    """physicalattraction/stock-screener: migrate, the tests and check --deploy all stopped on the
    settings' open() of a secrets.json that git ignores; each said only the FileNotFoundError."""
    text = "FileNotFoundError: [Errno 2] No such file or directory: '/app/StockScreener/secrets.json'"
    fix = errors.known_fix(text)
    assert fix.startswith("the app opens /app/StockScreener/secrets.json and the image has no such file")
    assert "minus what git, a .dockerignore or prod-exclude leaves out" in fix
    assert errors.TestsFailed(1, f"the tests did not start: {text}", "/r").fix.startswith(fix)
    assert errors.known_fix("FileNotFoundError: [Errno 2] No such file or directory: 'data/x.csv'") == ""


def test_an_app_without_migrations_that_others_depend_on_is_said_with_the_fix() -> None:
    """test-tech-for-companies/sis_CRUD_with_django: its .gitignore hides applications/*/migrations,
    so the custom user model's app has none in any checkout; migrate said only the ValueError."""
    log = "migrate-1  | ValueError: Dependency on app with no migrations: users\n"
    fix = errors.known_fix(log)
    assert fix.startswith("the app users has no migrations in the image and other migrations depend on it")
    failed = errors.ServiceFailed("migrating", ["migrate"], "migrate exited with 1", fix=fix)
    assert "make them (`invoke makemigrations`) and commit them" in failed.message(
        {"makemigrations": "invoke makemigrations"}
    )
    assert errors.known_fix("ValueError: Dependency on app with no migrations") == ""


def test_a_connection_to_a_mysql_on_localhost_says_it_bypasses_the_stacks_database() -> None:
    """PradeepBudhathoki/itjobvacancy-django-mysql's views.py connects with mysql.connector to localhost
    when imported: the tests, the image check and migrate each stopped on it with no fix."""
    for said in (
        "mysql.connector.errors.InterfaceError: 2003: Can't connect to MySQL server on 'localhost:3306' (111 Connection refused)",
        "MySQLdb.OperationalError: (2002, \"Can't connect to local server through socket '/run/mysqld/mysqld.sock' (2)\")",
        "pymysql.err.OperationalError: (2003, \"Can't connect to MySQL server on '127.0.0.1' ([Errno 111])\")",
    ):
        assert errors.known_fix(said).startswith("the code connects to MySQL at localhost itself"), said
        assert errors.TestsFailed(1, f"the tests did not start: {said}", "/r").fix.startswith("the code connects")
    assert errors.known_fix("OperationalError: (2003, \"Can't connect to MySQL server on 'db:3306' (111)\")") == ""
