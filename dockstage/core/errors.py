"""One exception family: every error says what happened and what to do about it.

As in cibuildwheel's errors.py, a subclass owns its message and its exit code; call sites pass
data. A fix names a command only as `{build}`, `{up}`, `{db_dump}`...: the front-end in use fills
it in (`nox -s build_prod` under nox, `invoke build` under invoke; frontends/common.py). Docker's
own output never reaches the one line: it is kept in `detail`, shown with DOCKSTAGE_DEBUG=1.

A failed docker call becomes one of these in one place, `from_docker` (used through
`docker_errors`); a call whose failure is expected and harmless goes through `swallowed`, which
says why; a swarm command whose manager goes away while it waits says what it last saw
(`ManagerLost`, from swarm/waits.py); whatever escapes them is translated by the front-ends' `execute()`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, Literal

from python_on_whales.exceptions import (
    DockerException,
    NoSuchContainer,
    NoSuchImage,
    NoSuchNetwork,
    NoSuchService,
    NoSuchVolume,
    NotASwarmManager,
)

from dockstage.core import djangoapi
from dockstage.core.distributions import provider
from dockstage.core.report import log

EXIT_CODES: dict[str, int] = {
    "error": 1,
    "config": 2,
    "engine": 3,
    "build": 4,
    "stack": 5,
    "database": 6,
    "check": 7,
}
"""label -> exit status; the README's table. nox and invoke both exit with these."""

_COMMAND = re.compile(r"\{(\w+)\}")


class DockstageError(Exception):
    """Base of all errors a user can cause; `what` and `fix` are one line each."""

    label = "error"

    def __init__(self, what: str, fix: str, *, detail: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix
        self.detail = detail  # debug output only (command, exit code, stderr)

    @property
    def return_code(self) -> int:
        """The exit status of the command that failed this way (EXIT_CODES)."""
        return EXIT_CODES[self.label]

    def __str__(self) -> str:
        return f"{self.what}: {self.fix}" if self.fix else self.what

    def message(self, commands: Mapping[str, str] | None = None) -> str:
        """What happened and what to do, with the front-end's command names filled in."""
        fix = _COMMAND.sub(lambda m: (commands or {}).get(m.group(1), m.group(1)), self.fix)
        return f"{self.what}: {fix}" if fix else self.what

    def one_line(self, commands: Mapping[str, str] | None = None) -> str:
        """The message shown to the user, labelled with its kind (the exit code's name)."""
        return f"{self.label}: {self.message(commands)}"


class ConfigError(DockstageError):
    """Bad settings or arguments: pyproject, DOCKSTAGE_* variables, .env, a stage name."""

    label = "config"


class EngineError(DockstageError):
    """Docker engine, buildx, compose, disk or base images missing or unusable."""

    label = "engine"


class BuildError(DockstageError):
    """An image build failed."""

    label = "build"


class StackError(DockstageError):
    """The compose stack could not be brought up, or a service failed."""

    label = "stack"


class DatabaseError(DockstageError):
    """A database operation (shell, dump, restore) failed or was refused."""

    label = "database"


class CheckFailed(DockstageError):
    """A test run, a smoke check or an image check failed."""

    label = "check"


# --- Engine ------------------------------------------------------------------------------------


class NoEngine(EngineError):
    def __init__(self, docker_host: str, detail: str = "") -> None:
        where = f" at {docker_host}" if docker_host else ""
        if "permission denied" in detail.lower():
            super().__init__(
                f"the Docker socket{where} refused this user",
                "run as root or add the user to the docker group",
                detail=detail,
            )
        elif docker_host:
            super().__init__(
                f"no Docker engine answers at {docker_host}",
                f"DOCKER_HOST is {docker_host}: point it at a running engine or unset it",
                detail=detail,
            )
        else:
            super().__init__(
                "no Docker engine answers",
                "start the Docker engine (`systemctl start docker`, or `dockerd &` where systemd runs no services; Debian: `apt-get install docker.io`)",
                detail=detail,
            )


class NoDockerCli(EngineError):
    def __init__(self) -> None:
        super().__init__("no docker CLI on PATH", "install the docker CLI (Debian: `apt-get install docker.io`)")


class EngineLost(EngineError):
    def __init__(self, action: str, detail: str = "") -> None:
        super().__init__(
            f"the Docker engine stopped answering while {action}",
            "check that it runs (`{doctor}`), then run the command again",
            detail=detail,
        )


SwarmHolds = Literal["update", "removal", "nothing"]
"""What the swarm holds of a command whose manager went away (ManagerLost)."""


class ManagerLost(EngineError):
    """The swarm manager went away while a swarm command worked with it: what it last saw, and
    what the swarm does by itself once a manager is back (it holds the desired state, not the
    client). `then`: "update" (a deploy was handed over), "removal" (an undeploy), "nothing" (the
    command had not changed the stack yet)."""

    FIXES: ClassVar[Mapping[str, str]] = {
        "update": "the swarm resumes it by itself once a manager is back (no command needed); check with `{stack_ps}`",
        "removal": "the swarm goes on removing it once a manager is back; then run `{undeploy}` again to finish",
        "nothing": "the stack was not changed; run the command again once a manager is back (`{stack_ps}` answers then)",
    }

    def __init__(self, doing: str, seen: str = "", *, then: SwarmHolds = "update", detail: str = "") -> None:
        super().__init__(
            f"the swarm manager stopped answering while {doing}{f' ({seen})' if seen else ''}",
            self.FIXES[then],
            detail=detail,
        )


class PluginMissing(EngineError):
    def __init__(self, plugin: str, detail: str = "") -> None:
        name = "compose v2" if plugin == "compose" else plugin
        super().__init__(
            f"{name} is missing or unusable",
            f"install the docker-{name} plugin (Debian 13: `apt-get install --no-install-recommends docker-{plugin}`)",
            detail=detail,
        )


class ComposeTooOld(EngineError):
    def __init__(self, version: str) -> None:
        super().__init__(f"compose is too old ({version})", "install compose v2 (the docker-compose CLI plugin)")


class LowDisk(EngineError):
    def __init__(self, free_gb: float, where: str) -> None:
        super().__init__(
            f"only {free_gb:.1f} GB free under {where}",
            "free space: `{clean}`, `docker builder prune`, or remove old images",
        )


class BasePullFailed(EngineError):
    def __init__(self, image: str, reason: str, detail: str = "") -> None:
        super().__init__(
            f"base image {image} could not be pulled ({reason})",
            "make the registry reachable (or log in), or use the stand-ins: DOCKSTAGE_FLAVOUR=bookworm",
            detail=detail,
        )


class NeedsTool(EngineError):
    def __init__(self, tool: str, package: str) -> None:
        super().__init__(f"{tool} is not installed", f"install it (Debian: `apt-get install {package}`)")


class NeedsRoot(EngineError):
    def __init__(self) -> None:
        super().__init__(
            "building a stand-in base image needs root (mmdebstrap or debootstrap makes a root filesystem)",
            "run it as root, e.g. `sudo -E env PATH=$PATH {bases}`, or use DOCKSTAGE_FLAVOUR=official",
        )


# --- Builds ------------------------------------------------------------------------------------


_PYTHON_HINT = re.compile(
    r"dockstage: a requirement needs Python (\S+) and this base image has ([\d.]+): (set .+?)\s*$", re.M
)
"""The install helper's last line (dockstage/data/install.py) when uv finds no solution for the base's Python."""


_HELPER_ERROR = re.compile(r"dockstage: error: (.+?); fix: (.+?)\s*$", re.MULTILINE)
"""The one line a build helper prints when it knows the cause and the fix (buildsteps.py)."""
_UNKNOWN_PROVIDER = re.compile(r"the package that provides ([\w.]+)")
_APT_FIX = re.compile(r"^add Debian's ([a-z0-9][a-z0-9.+ -]*?) to apt-build")
"""The install helper's fix when a source build lacks headers it knows the Debian package of."""


class StageBuildFailed(BuildError):
    def __init__(self, stage: str, exit_code: int | None, detail: str = "") -> None:
        hint = _PYTHON_HINT.search(detail)
        self.needs_python = hint.group(1) if hint else ""  # what a requirement needs (init retries with it)
        known = _HELPER_ERROR.findall(detail)
        self.diagnosed = bool(hint or known)  # a helper said the cause (not only that the step failed)
        apt = _APT_FIX.match(known[-1][1]) if known else None
        self.needs_apt = apt.group(1).split() if apt else []  # Debian packages its build lacks (init retries with them)
        if known and not hint:
            what, fix = f"building stage {stage!r} failed: {known[-1][0]}", known[-1][1]
            unknown = _UNKNOWN_PROVIDER.search(fix)
            if unknown:  # the helper runs in the image, without the package's table of names
                fix = fix.replace(unknown.group(0), provider(unknown.group(1)), 1)
        elif hint:  # the one fix there is: the Python version (and with it the flavour) to set
            needs, have, fix = hint.groups()
            what = f"building stage {stage!r} failed: a requirement needs Python {needs}, the base image has {have}"
        else:
            what = f"building stage {stage!r} failed (exit {exit_code})"
            fix = build_fix(detail)
        super().__init__(what, fix, detail=detail)


_MISSING_NAME = re.compile(r"KeyError: '([A-Z][A-Z0-9_]*)'")
_INDEX_UNREACHED = re.compile(
    r"(?:Failed to fetch: `|error sending request for url \()(https?://)(?:[^@/\s`)]*@)?([^/\s`)]+)"
    r"|(?:Could not fetch URL |HTTPSConnectionPool\(host=')(https?://)?(?:[^@/\s`)]*@)?([^/\s`)':]+)"
)
"""uv's (and pip's) words for a package index it could not reach; the URL's userinfo is skipped."""


def build_fix(detail: str) -> str:
    """Where to look when a build step failed: the [tool.dockstage] keys behind that step."""
    missing = _MISSING_NAME.search(detail)
    if missing:
        return (
            f"the settings read {missing.group(1)}, which has no value at build time: name it in "
            "[tool.dockstage.env] (or give it one in [tool.dockstage.env-values]), or run `dockstage init --force`"
        )
    if "buildsteps.py" in detail or "collectstatic" in detail:
        return known_fix(detail) or (  # signofthefour: a package of the requirements imports ugettext_lazy
            "read the build output above: fix the app, or collectstatic / build-commands / overlay in [tool.dockstage]"
        )
    unreached = _INDEX_UNREACHED.search(detail)
    if unreached:
        scheme, host = (unreached[1], unreached[2]) if unreached[2] else (unreached[3] or "https://", unreached[4])
        return (
            f"the build could not reach the package index {scheme}{host}: set index-url in [tool.dockstage] to an "
            "index this machine reaches (it wins over a requirements file's own -i / --index-url / --extra-index-url)"
        )
    if "install.py" in detail or "uv pip" in detail:
        return "read the build output above: fix requirements / dev-requirements / test-requirements / apt-build in [tool.dockstage]"
    return "read the build output above; fix the [tool.dockstage] values it names (requirements, apt-build, app-dir), then build again"


class ImageBuildFailed(BuildError):
    def __init__(self, tag: str, source: str, detail: str = "") -> None:
        super().__init__(f"building {tag} failed", f"read the build output above; fix {source}", detail=detail)


class ToolFailed(BuildError):
    def __init__(self, what: str, exit_code: int, last_line: str, detail: str = "") -> None:
        super().__init__(
            f"{what} failed (exit {exit_code}: {last_line})",
            "rerun with DOCKSTAGE_DEBUG=1 for the full output; check the Debian mirror in apt's sources",
            detail=detail,
        )


class UnknownStage(ConfigError):
    def __init__(self, stage: str, stages: Iterable[str]) -> None:
        super().__init__(f"unknown stage {stage!r}", f"use one of {', '.join(stages)}")


class ProjectNotFound(ConfigError):
    """`dockstage init` pointed at a path that is not a folder."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"{path} is not a folder",
            "run `dockstage init` in the Django project, or give its folder: dockstage init PATH",
        )


class NoManagePy(ConfigError):
    """No manage.py in the project, `depth` folders down; `scripts` are files that run Django's commands under
    another name."""

    def __init__(self, root: str, scripts: Iterable[str], depth: int) -> None:
        named = list(scripts)
        if named:
            first = Path(named[0])
            # a package's __main__.py runs as `python -m package`: manage.py goes where the package is importable
            copy = first.parent.with_name("manage.py") if first.name == "__main__.py" else first.with_name("manage.py")
            fix = (
                f"{', '.join(named)} {'runs' if len(named) == 1 else 'run'} Django's commands under another name, and "
                "the suite runs `python manage.py` in the app dir: add a manage.py "
                f"{'beside its package' if first.name == '__main__.py' else 'beside it'} (a copy: cp {named[0]} "
                f"{copy.as_posix()}) and run `dockstage init` again"
            )
        else:
            fix = "run `dockstage init` in (or point it at) the Django project: the folder with manage.py, or above it"
        super().__init__(f"no manage.py under {root} (looked {depth + 1} levels deep)", fix)


class PyprojectInvalid(ConfigError):
    """The project's pyproject.toml does not parse, so [tool.dockstage] cannot be added to it."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(
            f"{path} is not valid TOML ({why})", "fix it (or move it aside) and run `dockstage init` again"
        )


# --- Stacks ------------------------------------------------------------------------------------


class PortInUse(StackError):
    def __init__(self, port: int, detail: str = "", *, another: str = "DOCKSTAGE_WEB_PORT=18080") -> None:
        super().__init__(
            f"port {port} on 127.0.0.1 is already in use",
            f"stop what listens there, or pick another: {another} (shell or .env)",
            detail=detail,
        )


class ReleaseKept(StackError):
    """A new web that never became healthy, removed; the one that served before still serves."""

    def __init__(self, url: str, old_image: str, why: str) -> None:
        short = old_image.removeprefix("sha256:")[:12]
        super().__init__(
            f"the new web did not become healthy ({why}), so it was removed; the running site was kept: "
            f"{url} still serves the image it served before ({short})",
            "its log is above; fix the release and run `{up}` again",
        )


class ImageMissing(StackError):
    def __init__(self, action: str, detail: str = "") -> None:
        super().__init__(
            f"{action}: an image the stack needs is missing",
            "build it first (`{build}`) or check DOCKSTAGE_FLAVOUR",
            detail=detail,
        )


class ServiceFailed(StackError):
    """Services that did not become healthy, or a one-shot (migrate) that `exited` non-zero."""

    def __init__(
        self,
        action: str,
        services: Iterable[str],
        detail: str = "",
        *,
        why: str = "",
        fix: str = "",
        exited: int | None = None,
    ) -> None:
        names = ", ".join(services) or "a service"
        self.exited, self.why = exited, why
        outcome = "did not become healthy" if exited is None else f"exited with {exited}"
        super().__init__(
            f"{action}: {names} {outcome}{f' ({why})' if why else ''}",
            fix or known_fix(why) or "its log is above; fix the cause and run again",
            detail=detail,
        )


_MYSQL_ONLY = {
    "ngram": (
        "the ngram full-text parser (WITH PARSER ngram) is MySQL's own and MariaDB, the stand-ins' database, "
        "has none: on MySQL itself (DOCKSTAGE_FLAVOUR=official, mysql:8.4) it runs; here, keep that index "
        "behind a check of connection.mysql_is_mariadb"
    ),
}
_FUNCTION_MISSING = re.compile(r"\(1128, [\"']Function '(\w+)' is not defined")


_ARRAY_COLUMN = re.compile(r"""\(1064, ["'].*near '\[\]""")


def postgres_only(text: str) -> str:
    """The fix when `text` shows MySQL refusing a PostgreSQL array column (an ArrayField's
    `integer[]`: saks/hb, diary-workout-tracker), else ''."""
    if not _ARRAY_COLUMN.search(text):
        return ""
    return (
        "a PostgreSQL ArrayField made that column (its type ends in []), and MySQL has no arrays: `dockstage init` "
        "named the code using django.contrib.postgres; give those fields a portable type (JSONField, a related model)"
    )


def known_fix(text: str) -> str:
    """The fix when a failure's text shows a cause the suite knows (MariaDB lacking what only MySQL
    has, a PostgreSQL array column, a name Django removed), else ''. One place for every failure
    that says why: a one-shot or service, the app's tests, an image check's crash."""
    return (
        mysql_only(text)
        or indexed_column_dropped(text)
        or postgres_only(text)
        or djangoapi.removed(text)
        or imports_pip(text)
        or file_missing(text)
        or no_migrations(text)
        or pillow_missing(text)
        or allauth_middleware(text)
        or yaml_fixture(text)
        or loopback_database(text)
    )


_LOOPBACK_DATABASE = re.compile(
    r"Can't connect to (?:local (?:MySQL |MariaDB )?server through socket"
    r"|(?:MySQL|MariaDB) server on '(?:localhost|127\.0\.0\.1)(?::\d+)?')"
)


def loopback_database(text: str) -> str:
    """The fix when the code connected to MySQL on this container's own address, bypassing the
    DATABASES the suite points at the stack's db (PradeepBudhathoki/itjobvacancy's views.py runs
    mysql.connector.connect(host="localhost", ...) when it is imported), else ''."""
    if not _LOOPBACK_DATABASE.search(text):
        return ""
    return (
        "the code connects to MySQL at localhost itself (a connection of its own, or a DATABASES entry the suite does "
        "not set), not to the stack's db: in a container nothing listens there; use Django's connection "
        "(django.db.connection), or read the host from the environment, and connect on first use, not at import"
    )


def pillow_missing(text: str) -> str:
    """The fix when Django's checks stop on an ImageField with no Pillow installed (fields.E210:
    thalestmm/django-mysql's requirements.txt lists no Pillow), else ''."""
    if "fields.E210" not in text and "Pillow is not installed" not in text:
        return ""
    return "add Pillow to the runtime requirements (requirements in [tool.dockstage]): Django's ImageField needs it"


def allauth_middleware(text: str) -> str:
    """The fix when django-allauth 0.56 or newer stops on a MIDDLEWARE without its AccountMiddleware
    (nissato-hitoshi/docker-django_mysql lists django-allauth unpinned, its settings predate that
    release), else ''."""
    if "allauth.account.middleware.AccountMiddleware must be added to settings.MIDDLEWARE" not in text:
        return ""
    return (
        "django-allauth 0.56 and newer need allauth.account.middleware.AccountMiddleware in MIDDLEWARE, and the "
        "requirements let one in: add it to MIDDLEWARE, or pin django-allauth<0.56 (the settings' own era)"
    )


_NO_FIXTURE = re.compile(r"No fixture named '([^'%]+)' found")  # not the source line a traceback shows ('%s')


def yaml_fixture(text: str) -> str:
    """The fix when a test's fixture is not found (TheTemptingSavior/docker-django-wiki's are .yaml
    files, which Django reads only with PyYAML, and its requirements lack it), else ''."""
    missing = _NO_FIXTURE.search(text)
    if missing is None:
        return ""
    return (
        f"no fixture named {missing.group(1)} was found: a .yaml fixture needs PyYAML (without it Django passes "
        "over .yaml files), so add PyYAML to the requirements; else check the name and the app's fixtures/ folder"
    )


_NO_MIGRATIONS = re.compile(r"Dependency on app with no migrations: (\w+)")


def no_migrations(text: str) -> str:
    """The fix when migrate stops on an app that has no migrations while others depend on it
    (sis_CRUD_with_django's .gitignore hides applications/*/migrations: its custom user model's app
    has none in any checkout), else ''."""
    missing = _NO_MIGRATIONS.search(text)
    if missing is None:
        return ""
    return (
        f"the app {missing.group(1)} has no migrations in the image and other migrations depend on it: make them "
        "(`{makemigrations}`) and commit them; a .gitignore line that hides migrations keeps them out of every "
        "checkout, CI's and the images"
    )


_NO_APP_FILE = re.compile(r"No such file or directory: '(/app/[^']+)'")
"""A file under the app dir (/app in every image) that the image lacks."""


def file_missing(text: str) -> str:
    """The fix when the app opens a file under /app that the image does not hold (stock-screener's
    settings open a secrets.json kept out of git), else ''."""
    missing = _NO_APP_FILE.search(text)
    if missing is None:
        return ""
    return (
        f"the app opens {missing.group(1)} and the image has no such file: the images hold what the checkout "
        "tracks, minus what git, a .dockerignore or prod-exclude leaves out; if it holds secrets, read them "
        "from the environment instead (.env gives them to every stack), else let git track it"
    )


_NO_PIP = re.compile(r"No module named 'pip'")


def imports_pip(text: str) -> str:
    """The fix when an installed package imports pip at run time (django-tailwind 3.3's utils.py:
    RenjiKashii/django-docker-1) and the venv, made by uv, has none, else ''. The same words from a
    traceback or its last line: steps failing on it say it once."""
    if _NO_PIP.search(text) is None:
        return ""
    return (
        "an installed package imports pip at run time (its traceback names it), and the suite's venvs are made "
        "by uv, without pip: add pip to the app's requirements (prod keeps it), or raise that package to a "
        "release that does not import it"
    )


def mysql_only(text: str) -> str:
    """The fix when `text` shows MariaDB refusing what only MySQL has (Shopwise's ngram full-text
    index: error 1128), else ''."""
    missing = _FUNCTION_MISSING.search(text)
    return _MYSQL_ONLY.get(missing.group(1).lower(), "") if missing else ""


_KEY_COLUMN = re.compile(r"""\(1072, ["']Key column '(\w+)' doesn't exist in table""")
_APPLYING = re.compile(r"Applying (\w+\.\w+)\.\.\.")


def indexed_column_dropped(text: str) -> str:
    """The fix when MariaDB refused a migration's DROP COLUMN for a column a multi-column unique
    index still holds (SISOC's VAT.0001_squashed_0045 drops asistencia.encuentro, which a
    unique_together spans): MySQL 8 takes the column out of the index, MariaDB says error 1072
    (MDEV-39620: the words say the column does not exist), else ''."""
    refused = _KEY_COLUMN.search(text)
    if refused is None:
        return ""
    applying = _APPLYING.findall(text[: refused.start()])
    where = f"in {applying[-1]} " if applying else ""
    return (
        f"MariaDB, the stand-ins' database, refuses to drop the column {refused.group(1)} while a multi-column "
        "unique index (unique_together, a UniqueConstraint) still spans it, where MySQL 8 takes it out of the "
        "index: error 1072's words are MariaDB's. On MySQL itself (DOCKSTAGE_FLAVOUR=official, mysql:8.4) it "
        f"migrates; for MariaDB too, remove that constraint {where}before the field (AlterUniqueTogether or "
        "RemoveConstraint ahead of the RemoveField)"
    )


DISALLOWED_HOST_FIX = (
    'add "allowed-hosts" to overlay in [tool.dockstage] (the suite\'s settings module then adds localhost '
    "to ALLOWED_HOSTS in its own stacks; your files are not edited), or run `dockstage init --force`"
)


_REFUSED_HOST = re.compile(r"gave 400\b|HTTP Error 400\b")
"""A healthcheck output for Django's 400: the Host refused (DisallowedHost)."""
_SERVER_ERROR = re.compile(r"GET (\S+) gave (5\d\d)\b")
"""The healthcheck's line for a 5xx (dockstage/data/healthcheck.py): the path and the status."""
_NOT_FOUND = re.compile(r"GET (\S+) gave 404\b")
"""The healthcheck's line for a 404: the health path is not in the URLconf (south-admin-django has
no root view and init found no health URL; web answered 404 for 36 s before the wait gave up)."""
HEALTH_PATH_FIX = "set health-path in [tool.dockstage] to a URL of the app that answers 200 (a health view, ideally one that queries the database)"


def health_diagnosis(outputs: Iterable[str], causes: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(why, fix) from the last healthcheck outputs of the unhealthy containers; ('', '') when
    they say nothing known. A 400 is Django refusing the Host (DisallowedHost); a 5xx is the app's
    own error on the health path, whose traceback web's log (shown beside) holds: its exception,
    from `causes` (view_errors of that log), is named (mrityunjaygr8/django-uv-knox-test's /health/:
    its production cache needs redis, which no requirement installs)."""
    outputs = list(outputs)
    for output in outputs:
        if _REFUSED_HOST.search(output):
            return (
                "its healthcheck got 400: Django's DisallowedHost, ALLOWED_HOSTS does not take localhost",
                DISALLOWED_HOST_FIX,
            )
    for output in outputs:
        missing = _NOT_FOUND.search(output)
        if missing:
            return f"its healthcheck got 404 on {missing.group(1)}: the app has no such URL", HEALTH_PATH_FIX
    for output in outputs:
        failed = _SERVER_ERROR.search(output)
        if failed:
            cause = (causes or {}).get(failed.group(1))
            return (
                f"its healthcheck got {failed.group(2)} on {failed.group(1)}: the app failed there"
                + (f" ({cause})" if cause else ""),
                "its traceback is in web's log above; fix it, or choose another health-path in [tool.dockstage]",
            )
    return "", ""


def never_healthy(probes: Iterable[tuple[int | None, str]], repeated: int = 2) -> bool:
    """Whether the last `repeated` healthcheck probes (exit code, output), oldest first, all failed
    with an answer no wait changes: Django's 400 for a Host ALLOWED_HOSTS refuses. Docker counts
    no failure in the start period, so it would say unhealthy only after it and the retries."""
    last = list(probes)[-repeated:]
    return len(last) == repeated and all(code != 0 and _REFUSED_HOST.search(output) for code, output in last)


SERVER_ERROR_GRACE = 10.0
"""Seconds a container may answer its health path with 500 after it started before the wait on it
ends: that long, a 500 is the app's own error (ecco's home view on an empty database, 38 s of
start period and retries before), not its start-up."""
SERVER_ERROR_REPEATED = 3


def hopeless(probes: Iterable[tuple[int | None, str]], running_for: float) -> str:
    """Why waiting on a container's health is pointless, or '': Django's 400 for the Host twice in
    a row; a 404 on the health path SERVER_ERROR_REPEATED times in a row (the app is up, the URL is
    not in it); or the same 500 that many times once it has run SERVER_ERROR_GRACE seconds."""
    probes = list(probes)
    if never_healthy(probes):
        return "its healthcheck got 400 twice in a row, which no wait changes"
    last = probes[-SERVER_ERROR_REPEATED:]
    if len(last) == SERVER_ERROR_REPEATED and all(code != 0 and _NOT_FOUND.search(said) for code, said in last):
        return f"its healthcheck got 404 {SERVER_ERROR_REPEATED} times in a row, which no wait changes"
    if running_for < SERVER_ERROR_GRACE or len(last) < SERVER_ERROR_REPEATED:
        return ""
    # each probe's 5xx line ("GET / gave 500"), None for one that passed or said something else
    answers = {
        (found.group(0) if code != 0 and (found := _SERVER_ERROR.search(output)) else None) for code, output in last
    }
    if len(answers) != 1 or not str(answers.pop()).endswith(" 500"):
        return ""
    return f"its healthcheck got 500 {SERVER_ERROR_REPEATED} times in a row, {running_for:.0f} s after it started"


class NoPublishedPort(StackError):
    def __init__(self, service: str) -> None:
        super().__init__(f"the {service} service publishes no port", "start it with `{up}` and check `{ps}`")


class RemovedMeanwhile(StackError):
    def __init__(self, action: str, kind: str, detail: str = "") -> None:
        super().__init__(
            f"{action}: a {kind} it needs was removed meanwhile",
            "see what runs (`{ps}`), start the stack again (`{up}`) and run the command again",
            detail=detail,
        )


class NotSwarmManager(StackError):
    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "this engine is not a swarm manager",
            "on one machine: `docker swarm init --advertise-addr 127.0.0.1`; else point DOCKER_HOST at a manager",
            detail=detail,
        )


class MissingSetting(StackError):
    def __init__(self, variable: str, detail: str = "") -> None:
        super().__init__(
            f"{variable} is not set",
            "set it in .env, or delete .env to have a fresh one made on the next `{up}`",
            detail=detail,
        )


# --- Checks ------------------------------------------------------------------------------------


class TestsFailed(CheckFailed):
    __test__ = False  # not a pytest test class

    def __init__(
        self,
        pytest_exit: int | None,
        summary: str,
        report: str,
        runner: str = "pytest",
        database: str = "",
        not_migrated: str = "",
        bare_import: str = "",
        output: str = "",
    ) -> None:
        """`output`: what the runner printed, read for a known cause when the summary shows none."""
        where = f" on {database}" if database else ""
        summary += f"; {bare_import}" if bare_import else ""  # wufking's books/tests.py: `from models import ...`
        if not_migrated:  # Abdul-Chowdhuryy's restaurant app: a model whose migration was never made
            summary += f"; {not_migrated} does not exist after the test database's migrations: {_without_migration(not_migrated)}"
        cause = known_fix(summary) or (MAKE_MIGRATIONS if not_migrated else "") or known_fix(output)
        super().__init__(
            f"the app's tests failed in the test image{where} ({runner} exited {pytest_exit}; {summary})",
            f"{cause}; see the runner's output above and {report}"
            if cause
            else f"see the runner's output above and {report}",
        )
        self.pytest_exit = pytest_exit


class TestsNotOnStackDatabase(CheckFailed):
    """The tests passed, but on another database than the stack's MySQL (a test settings module's SQLite)."""

    __test__ = False

    def __init__(self, used: str, settings_module: str, summary: str = "") -> None:
        counts = f"; {summary}" if summary else ""
        super().__init__(
            f"the app's tests ran on {used}, not on the stack's MySQL (settings {settings_module or '?'}{counts})",
            'set test-overlay = ["database"] in [tool.dockstage] (the suite then sets DATABASES for the tests), '
            "or point test-env DJANGO_SETTINGS_MODULE at settings that read the database from the environment",
        )


class StepsFailed(CheckFailed):
    """More than one step of one run failed: every one is named."""

    def __init__(self, failures: list[tuple[str, DockstageError]]) -> None:
        # each fix's parts once: the tests' and migrate's failures on one cause name it alike (saks/hb)
        seen: set[str] = set()
        fixes = []
        for _, error in failures:
            parts = [part for part in error.fix.split("; ") if part and part not in seen]
            seen.update(parts)
            fixes.append("; ".join(parts))
        super().__init__(
            f"{len(failures)} steps failed: " + "; ".join(f"{name}: {error.what}" for name, error in failures),
            " / ".join(fix for fix in fixes if fix),
        )
        self.failures = failures
        self.label = failures[0][1].label  # the exit status of the first, as a single failure would give


class NoTestsSelected(CheckFailed):
    def __init__(self, args: Iterable[str]) -> None:
        given = " ".join(args)
        super().__init__(
            f"pytest collected no tests{f' for {given}' if given else ''}",
            "check the test selection (-k, paths) given after --",
        )


class SmokeCheckFailed(CheckFailed):
    def __init__(
        self,
        check: str,
        reason: str,
        fix: str = "see the container logs above",
        paths: Iterable[str] = (),
        pages: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"smoke check {check!r} failed: {reason}", fix)
        self.check, self.reason, self.paths = check, reason, list(paths)
        self.pages = dict(pages or {})  # a failed path's page in one line, for a 5xx no traceback explains

    def with_causes(self, causes: dict[str, str]) -> SmokeCheckFailed:
        """The same failure with each failed path's exception (from web's log) after it, else what its
        page said (a view that catches the exception and answers 500 itself logs no traceback:
        yasmeenq/superbuy-react-django-mysql's `{"error": "(1054, ...)"}`): the reason names the paths
        as crawl joined them."""
        named = ", ".join(self.paths)
        explained = {**self.pages, **causes}
        shown = ", ".join(f"{path} ({explained[path]})" if explained.get(path) else path for path in self.paths)
        reason = self.reason.replace(named, shown, 1) if named else self.reason
        if reason == self.reason:
            return self
        return SmokeCheckFailed(self.check, reason, self.fix, self.paths, self.pages)


_SERVER_ERROR_AT = re.compile(r"(?:^|: )Internal Server Error: (\S+)$")
"""Django's django.request line for a 5xx: alone, or after a handler's "LEVEL logger: " (the
suite's own stderr handler in gunicorn.conf.py writes "ERROR django.request: Internal Server Error: /x")."""
_RAISED_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::\s?(.*))?$")
"""A traceback's last line: the exception's dotted name, then its message."""
_LOG_PREFIX = re.compile(r"^\S+\s+\|\s?")  # compose's "web-1  | "


def view_errors(log: str) -> dict[str, str]:
    """Each path Django logged "Internal Server Error: <path>" for in web's log, with the
    exception line ending its traceback (SECURE-VULNERABLE's /core/search/: TemplateDoesNotExist:
    search.html; Sana451's books: NoReverseMatch: Reverse for 'index' not found...), the
    exception's module path shortened to its class; a chained traceback's last exception wins."""
    found: dict[str, str] = {}
    path, in_traceback = "", False
    for raw in log.splitlines():
        line = _LOG_PREFIX.sub("", raw.rstrip(), count=1)
        at = _SERVER_ERROR_AT.search(line)
        if at:
            path, in_traceback = at.group(1), False
        elif path and line.startswith("Traceback (most recent call last):"):
            in_traceback = True
        elif in_traceback and line and not line[0].isspace():
            raised = _RAISED_LINE.match(line)
            if raised:
                name, message = raised.group(1).rsplit(".", 1)[-1], raised.group(2)
                found[path] = f"{name}: {message}"[:200] if message else name
            in_traceback = False
    return found


_NOT_MIGRATED = re.compile(
    r"""\((?:1146, ["']Table '([\w$.-]+)' doesn't exist|1054, ["']Unknown column '([\w$.-]+)' in)"""
)
"""MySQL's errors 1146 and 1054 in a traceback: a model's table, or a field's column, that migrate
did not make (howtoartyom/wallet-transaction-api's Wallet.version: Unknown column
'wallet_transaction_api_wallet.version' in 'SELECT')."""


def not_migrated(log: str) -> str:
    """What a query found missing after migrate ran, the last one: 'table app.doctor', 'column
    app_wallet.version' ('' when none was)."""
    found = _NOT_MIGRATED.findall(log)
    if not found:
        return ""
    table, column = found[-1]
    return f"table {table}" if table else f"column {column}"


def _without_migration(missing: str) -> str:
    return "its model has no migration" if missing.startswith("table ") else "its model's field has no migration"


MAKE_MIGRATIONS = (
    "run `{makemigrations}` (for an app without a migrations folder, `{manage} -- makemigrations <app>`) "
    "and commit the migration files"
)


def unmigrated_cause(log: str) -> str:
    """Why a service failed, when its log says a query met a table or column migrate never made
    ('table app.user_user does not exist after migrate: its model has no migration'), else ''.
    SmeagoIIum/django_mysql_docker's user app has a model and an empty migrations folder: web's
    health path (its home page) answered 500 on the missing table."""
    missing = not_migrated(log)
    return f"{missing} does not exist after migrate: {_without_migration(missing)}" if missing else ""


class TableNotMigrated(SmokeCheckFailed):
    """A smoke check failed on a table or column migrate never made: a model change without its migration."""

    def __init__(self, failed: SmokeCheckFailed, missing: str) -> None:
        CheckFailed.__init__(
            self,
            f"{failed.what} ({missing} does not exist after migrate: {_without_migration(missing)})",
            MAKE_MIGRATIONS,
        )


class ImageCheckFailed(CheckFailed):
    def __init__(self, tag: str, problem: str, fix: str) -> None:
        super().__init__(f"{tag}: {problem}", fix)


class ReportUnreadable(CheckFailed):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"the test report {path} cannot be read ({reason})",
            "see pytest's output above; run the tests again (`{test}`)",
        )


# --- The last resort ---------------------------------------------------------------------------


class Unexpected(DockstageError):
    """A failure nothing above foresaw (a docker call or a parse no call site translated)."""

    def __init__(self, action: str, detail: str = "", *, note: str = "") -> None:
        super().__init__(
            f"{action} failed unexpectedly{f' ({note})' if note else ''}",
            "rerun with DOCKSTAGE_DEBUG=1 for the details; `{doctor}` checks the engine",
            detail=detail,
        )


# --- The one translation from python-on-whales' DockerException --------------------------------

_MISSING_VARIABLE = re.compile(r"required variable (\w+) is missing|\b(\w+) is not set")  # \b: linear on long words
_SERVICE = re.compile(r"(?:container|service) \"?([\w.-]+?)\"? (?:is unhealthy|exited|didn't complete)")
_NO_DAEMON = re.compile(r"Cannot connect to the Docker daemon at (\S+?)\.? Is the docker daemon running")
_LOST_SIGNS = ("error during connect", "rpc error: code = Unavailable")
_DEFAULT_SOCKET = "unix:///var/run/docker.sock"
_LEADERLESS = (
    "does not have a leader",
    "rpc error: code = Unavailable",
    "rpc error: code = DeadlineExceeded",
    "context deadline exceeded",
)
_REMOVED: dict[type[DockerException], str] = {
    NoSuchContainer: "container",
    NoSuchVolume: "volume",
    NoSuchNetwork: "network",
    NoSuchService: "swarm service",
}
"""python-on-whales' typed exceptions for an object that is not (or no longer) there."""


def docker_detail(exc: DockerException) -> str:
    """Everything python-on-whales knows about a failed docker call, for debug output."""
    command = " ".join(str(part) for part in exc.docker_command)
    return f"$ {command}\nexit code {exc.return_code}\n{(exc.stdout or '').strip()}\n{(exc.stderr or '').strip()}"


def docker_action(exc: DockerException) -> str:
    """`docker compose ps`, `docker image inspect`...: what the failed call was, without its options
    (nor the `env -u NAME...` the suite's client runs docker under)."""
    command = [str(part) for part in exc.docker_command]
    start = next((i for i, part in enumerate(command) if part.rsplit("/", 1)[-1] == "docker"), 0)
    words, parts = command[start + 1 :], ["docker"]
    index = 0
    while index < len(words) and len(parts) < 3:
        word = words[index]
        if word.startswith("-"):  # options before the verb all take a value (--config X, --file X...)
            index += 1 if "=" in word else 2
            continue
        parts.append(word)
        if word not in ("compose", "buildx", "image", "container", "volume", "network", "service", "stack",
                        "node", "secret", "config", "system", "swarm"):  # fmt: skip
            break
        index += 1
    return " ".join(parts)


def _last_lines(exc: DockerException) -> str:
    """docker's own complaint: the last lines of its output (a build log or a container's output
    above them is not read)."""
    return "\n".join((exc.stderr or exc.stdout or "").strip().splitlines()[-3:])


def engine_error(exc: DockerException, action: str) -> EngineError | None:
    """The engine-level meaning of a failed call (no engine, or the engine gone mid-way), else None."""
    text = _last_lines(exc)
    detail = docker_detail(exc)
    if "permission denied while trying to connect" in text:
        return NoEngine("", detail)
    found = _NO_DAEMON.search(text)
    if found or "Cannot connect to the Docker daemon" in text:
        host = found.group(1) if found else ""
        return NoEngine("" if host == _DEFAULT_SOCKET else host, detail)
    if any(sign in text for sign in _LOST_SIGNS):
        return EngineLost(action, detail)
    return None


def swarm_electing(exc: DockerException) -> bool:
    """The engine answered, but its swarm has no leader to ask right now (an election after a
    manager died takes seconds; too few managers up lasts until one is back)."""
    return any(sign in _last_lines(exc) for sign in _LEADERLESS)


def swarm_unreachable(exc: DockerException) -> bool:
    """The swarm's manager is out of this client's reach: no engine at its socket, the engine gone
    mid-call, or a swarm with no leader."""
    return engine_error(exc, "") is not None or swarm_electing(exc)


def from_docker(
    exc: DockerException,
    action: str,
    *,
    port: int = 0,
    another_port: str = "DOCKSTAGE_WEB_PORT=18080",
    otherwise: Callable[[DockerException], DockstageError] | None = None,
    unforeseen: bool = False,
    engine_first: bool = True,
) -> DockstageError:
    """The error a failed docker call means for the user (docker's output kept in detail).

    The engine's own trouble comes first; then the call site's meaning (`otherwise`: a build that
    failed, a command that exited non-zero; its output is the app's, never matched here); else
    python-on-whales' typed exceptions and compose's messages; else a stack error (`unforeseen`:
    an unexpected one, for a call nobody translated). `engine_first=False`: the call site's meaning
    wins even over the engine's trouble (when it says what state the user's data is in)."""
    detail = docker_detail(exc)
    engine = engine_error(exc, action)
    if engine is not None and (engine_first or otherwise is None):
        return engine
    if isinstance(exc, NoSuchContainer) and engine_first:  # gone under the command: not the call's own failure
        return RemovedMeanwhile(action, "container", detail)
    if otherwise is not None:
        error = otherwise(exc)
        error.detail = error.detail or detail
        return error
    text = f"{exc.stderr or ''}\n{exc.stdout or ''}"
    if "port is already allocated" in text or "address already in use" in text:
        return PortInUse(port, detail, another=another_port)
    missing = _MISSING_VARIABLE.search(text)
    if missing:
        return MissingSetting(missing.group(1) or missing.group(2), detail)
    if isinstance(exc, NoSuchImage) or "pull access denied" in text or "failed to resolve reference" in text:
        return ImageMissing(action, detail)
    if isinstance(exc, NotASwarmManager):
        return NotSwarmManager(detail)
    for kind, name in _REMOVED.items():
        if isinstance(exc, kind):
            return RemovedMeanwhile(action, name, detail)
    if any(sign in text for sign in ("is unhealthy", "exited with code", "exited (", "didn't complete successfully")):
        return ServiceFailed(action, dict.fromkeys(_SERVICE.findall(text)), detail)
    if unforeseen:
        return Unexpected(action, detail, note=f"docker exit {exc.return_code}")
    return StackError(
        f"{action} failed (docker exit {exc.return_code})",
        "rerun with DOCKSTAGE_DEBUG=1 for docker's output; `{doctor}` checks the engine",
        detail=detail,
    )


@contextmanager
def docker_errors(
    action: str,
    *,
    port: int = 0,
    another_port: str = "DOCKSTAGE_WEB_PORT=18080",
    otherwise: Callable[[DockerException], DockstageError] | None = None,
    engine_first: bool = True,
) -> Iterator[None]:
    """Docker calls inside become the error `from_docker` says they mean."""
    try:
        yield
    # The one place a docker failure is translated (execute() catches what no call site wrapped).
    except DockerException as exc:
        raise from_docker(
            exc, action, port=port, another_port=another_port, otherwise=otherwise, engine_first=engine_first
        ) from None


@contextmanager
def swallowed(why: str) -> Iterator[None]:
    """A docker call whose failure is expected or does not matter, for the reason `why` (logged
    under DOCKSTAGE_DEBUG=1, without docker's output: it may hold what a container printed);
    nothing after the failing call in the block runs."""
    try:
        yield
    # The one place a docker failure is ignored, always with its reason.
    except DockerException as exc:
        log.debug("ignored: %s failed (exit %s): %s", docker_action(exc), exc.return_code, why)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value (8+ characters) replaced by ***."""
    for value in sorted((s for s in secrets if len(s) >= 8), key=len, reverse=True):
        text = text.replace(value, "***")
    return text
