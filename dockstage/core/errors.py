"""One exception family: every error says what happened and what to do about it.

As in cibuildwheel's errors.py, a subclass owns its message and its exit code; call sites pass
data. A fix may name a command as `{build}`, `{up}`, `{logs}`...: the front-end in use fills it in
(`nox -s build_prod` under nox, `invoke build` under invoke). Docker's own output never reaches
the one line: it is kept in `detail`, shown with DOCKSTAGE_DEBUG=1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from python_on_whales.exceptions import DockerException

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

    def one_line(self, commands: Mapping[str, str] | None = None) -> str:
        """The message shown to the user, with the front-end's command names filled in."""
        fix = _COMMAND.sub(lambda m: (commands or {}).get(m.group(1), m.group(1)), self.fix)
        return f"{self.label}: {self.what}: {fix}" if fix else f"{self.label}: {self.what}"


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
                "run `bash .ci/provision` (installs and starts Debian's docker.io, buildx, compose v2)",
                detail=detail,
            )


class NoDockerCli(EngineError):
    def __init__(self) -> None:
        super().__init__("no docker CLI on PATH", "apt-get install docker.io (or run `bash .ci/provision`)")


class PluginMissing(EngineError):
    def __init__(self, plugin: str, detail: str = "") -> None:
        name = "compose v2" if plugin == "compose" else plugin
        super().__init__(
            f"{name} is missing or unusable",
            f"install the docker-{name} plugin (`bash .ci/provision` does it on Debian 12/13)",
            detail=detail,
        )


class ComposeTooOld(EngineError):
    def __init__(self, version: str) -> None:
        super().__init__(f"compose is too old ({version})", "install compose v2 (the docker-compose CLI plugin)")


class LowDisk(EngineError):
    def __init__(self, free_gb: float, where: str) -> None:
        super().__init__(
            f"only {free_gb:.1f} GB free under {where}",
            "free space: `invoke clean`, `docker builder prune`, or remove old images",
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
        super().__init__(f"{tool} is not installed", f"apt-get install {package} (or run `bash .ci/provision`)")


class NeedsRoot(EngineError):
    def __init__(self) -> None:
        super().__init__(
            "building a stand-in base image needs root (debootstrap makes a root filesystem)",
            "run it as root, e.g. `sudo -E env PATH=$PATH {bases}`, or use DOCKSTAGE_FLAVOUR=official",
        )


# --- Builds ------------------------------------------------------------------------------------


_PYTHON_HINT = re.compile(
    r"dockstage: a requirement needs Python (\S+) and this base image has ([\d.]+): (set .+?)\s*$", re.M
)
"""The install helper's last line (dockstage/data/install.py) when uv finds no solution for the base's Python."""


class StageBuildFailed(BuildError):
    def __init__(self, stage: str, exit_code: int | None, detail: str = "") -> None:
        hint = _PYTHON_HINT.search(detail)
        if hint:  # the one fix there is: the Python version (and with it the flavour) to set
            needs, have, fix = hint.groups()
            what = f"building stage {stage!r} failed: a requirement needs Python {needs}, the base image has {have}"
        else:
            what = f"building stage {stage!r} failed (exit {exit_code})"
            fix = build_fix(detail)
        super().__init__(what, fix, detail=detail)


_MISSING_NAME = re.compile(r"KeyError: '([A-Z][A-Z0-9_]*)'")


def build_fix(detail: str) -> str:
    """Where to look when a build step failed: the [tool.dockstage] keys behind that step."""
    missing = _MISSING_NAME.search(detail)
    if missing:
        return (
            f"the settings read {missing.group(1)}, which has no value at build time: name it in "
            "[tool.dockstage.env] (or give it one in [tool.dockstage.env-values]), or run `dockstage init --force`"
        )
    if "buildsteps.py" in detail or "collectstatic" in detail:
        return (
            "read the build output above: fix the app, or collectstatic / build-commands / overlay in [tool.dockstage]"
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


# --- Stacks ------------------------------------------------------------------------------------


class PortInUse(StackError):
    def __init__(self, port: int, detail: str = "") -> None:
        super().__init__(
            f"port {port} on 127.0.0.1 is already in use",
            "stop what listens there, or pick another: DOCKSTAGE_WEB_PORT=18080 (shell or .env)",
            detail=detail,
        )


class ImageMissing(StackError):
    def __init__(self, action: str, detail: str = "") -> None:
        super().__init__(
            f"{action}: an image the stack needs is missing",
            "build it first (`{build}`) or check DOCKSTAGE_FLAVOUR",
            detail=detail,
        )


class ServiceFailed(StackError):
    def __init__(self, action: str, services: Iterable[str], detail: str = "") -> None:
        names = ", ".join(services) or "a service"
        super().__init__(
            f"{action}: {names} did not become healthy",
            "its log is above; fix the cause and run again",
            detail=detail,
        )


class NoPublishedPort(StackError):
    def __init__(self, service: str) -> None:
        super().__init__(f"the {service} service publishes no port", "start it with `{up}` and check `{ps}`")


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

    def __init__(self, pytest_exit: int | None, summary: str, report: str, runner: str = "pytest") -> None:
        super().__init__(
            f"the app's tests failed in the test image ({runner} exited {pytest_exit}; {summary})",
            f"see the runner's output above and {report}",
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
        super().__init__(
            f"{len(failures)} steps failed: " + "; ".join(f"{name}: {error.what}" for name, error in failures),
            " / ".join(dict.fromkeys(error.fix for _, error in failures if error.fix)),
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
    def __init__(self, check: str, reason: str) -> None:
        super().__init__(f"smoke check {check!r} failed: {reason}", "see the container logs above")


class ImageCheckFailed(CheckFailed):
    def __init__(self, tag: str, problem: str, fix: str) -> None:
        super().__init__(f"{tag}: {problem}", fix)


# --- The one translation from python-on-whales' DockerException --------------------------------

_MISSING_VARIABLE = re.compile(r"required variable (\w+) is missing|(\w+) is not set")
_SERVICE = re.compile(r"(?:container|service) \"?([\w.-]+?)\"? (?:is unhealthy|exited|didn't complete)")


def docker_detail(exc: DockerException) -> str:
    """Everything python-on-whales knows about a failed docker call, for debug output."""
    command = " ".join(str(part) for part in exc.docker_command)
    return f"$ {command}\nexit code {exc.return_code}\n{(exc.stdout or '').strip()}\n{(exc.stderr or '').strip()}"


def from_docker(exc: DockerException, action: str, *, port: int = 0) -> DockstageError:
    """The error a failed compose/engine call means for the user (docker's output kept in detail)."""
    text = f"{exc.stderr or ''}\n{exc.stdout or ''}"
    detail = docker_detail(exc)
    if "Cannot connect to the Docker daemon" in text or "permission denied while trying to connect" in text:
        return NoEngine("", detail)
    if "port is already allocated" in text or "address already in use" in text:
        return PortInUse(port, detail)
    missing = _MISSING_VARIABLE.search(text)
    if missing:
        return MissingSetting(missing.group(1) or missing.group(2), detail)
    if "No such image" in text or "pull access denied" in text or "failed to resolve reference" in text:
        return ImageMissing(action, detail)
    if any(sign in text for sign in ("is unhealthy", "exited with code", "exited (", "didn't complete successfully")):
        return ServiceFailed(action, dict.fromkeys(_SERVICE.findall(text)), detail)
    return StackError(
        f"{action} failed (docker exit {exc.return_code})",
        "rerun with DOCKSTAGE_DEBUG=1 for docker's output; `{doctor}` checks the engine",
        detail=detail,
    )


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value (8+ characters) replaced by ***."""
    for value in sorted((s for s in secrets if len(s) >= 8), key=len, reverse=True):
        text = text.replace(value, "***")
    return text
