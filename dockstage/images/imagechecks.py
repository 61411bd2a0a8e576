"""Checks of a built image, in one home: run by the core after a build when asked.

stage: Django's `check --deploy --fail-level WARNING` under the prod settings.
prod: every installed app and the URLconf import (what the prune left out is named when one does
not); runs non-root; no compilers, headers, pytest or node; `_mysql` imports and every compiled
module of the venv links its libraries.
Adding a check is one Probe here (a script run in the image, a judge of its output), listed in
PROBES under its stage; a stage's probes share one container.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage.core import absentfiles, distributions
from dockstage.core.errors import DockstageError, ImageCheckFailed, docker_errors, known_fix, swallowed

if TYPE_CHECKING:
    from dockstage.core.config import Settings

TOOLS = ("gcc", "cc", "make", "c++", "pkg-config", "node", "npm")
PRUNED_LIST = "/usr/local/share/dockstage/pruned.txt"  # what the prune left out (Dockerfile, stage)
URL_LISTER = "/usr/local/lib/dockstage/urllist.py"
_EXCEPTION = re.compile(r"^(\w+(?:\.\w+)*(?:Error|Exception|Warning)\b.*)$", re.MULTILINE)
_NO_MODULE = re.compile(r"No module named '([\w.]+)'")
_DENIED = re.compile(r"PermissionError: \[Errno 13\] Permission denied: '([^']+)'")
_SERVICE_UNREACHED = (
    re.compile(r"redis\.exceptions\.ConnectionError: Error -?\d+ connecting to ([\w.-]+):\d+"),
    re.compile(
        r"OperationalError: \(\d+, \"(?:Unknown (?:MySQL )?server host|Can't connect to (?:MySQL )?server on) '([\w.-]+)"
    ),
)
"""An import that reached a service of the stack (redis, the database), which the image check has not."""


def service_at_import(output: str) -> str:
    """The service host an import died reaching (an app that reads its cache when its URLconf
    loads), or '' when the failure is another one."""
    for pattern in _SERVICE_UNREACHED:
        found = pattern.search(output)
        if found:
            return found.group(1)
    return ""


class _ServiceAtImport(ImageCheckFailed):
    """The import reached a service the check runs without: the smoke stack checks it with them."""

    def __init__(self, tag: str, service: str) -> None:
        super().__init__(tag, f"the import reached {service}", "")
        self.service = service


HEADER_DIRS = ("/usr/include/mysql", "/usr/include/mariadb")

MARK = "@@dockstage-probe"


@dataclass(frozen=True)
class Probe:
    """One check of an image: a shell script run in it, and the judge of what the script printed
    (its output, its exit status and the image's configured user; a line, or ImageCheckFailed)."""

    script: str
    judge: Callable[[str, str, int, str], str]


def _probes(docker: DockerClient, tag: str, probes: tuple[Probe, ...]) -> list[str]:
    """Every probe in one throwaway container of the image (one start, not one per check), judged in order."""
    script = "".join(
        f"echo {MARK} {i}; ( {probe.script} ) 2>&1; echo {MARK} {i} status $?; " for i, probe in enumerate(probes)
    )
    with docker_errors(
        f"checking {tag}",
        otherwise=lambda exc: ImageCheckFailed(
            tag, f"its check container failed (exit {exc.return_code})", "rerun with DOCKSTAGE_DEBUG=1 for its output"
        ),
    ):
        output = str(docker.run(tag, ["-c", script + "true"], entrypoint="sh", remove=True))
        user = docker.image.inspect(tag).config.user or ""
    lines = []
    for i, probe in enumerate(probes):
        begin, finish = f"{MARK} {i}\n", f"{MARK} {i} status "
        body = output.split(begin, 1)[1].split(finish, 1)
        status = int(body[1].split(maxsplit=1)[0])
        lines.append(probe.judge(tag, body[0], status, user))
    return lines


def diagnose(output: str, pruned: list[str]) -> tuple[str, str]:
    """(what failed, the fix) from a Django command's output: the exception it ended with, the
    pruned path behind a missing module, the root-owned file behind a permission error."""
    missing = _NO_MODULE.findall(output)
    if missing:
        module = missing[-1]
        path = module.replace(".", "/")
        culprit = next(
            (p for p in pruned if f"{path}/".startswith(p.rstrip("/") + "/") or p in (f"{path}.py", f"{path}/")), ""
        )
        if culprit:
            return (
                f"No module named {module!r}: the prune left out {culprit}",
                f"take the pattern matching {culprit} out of prod-exclude in [tool.dockstage]",
            )
        named = distributions.provider(module) if "." not in module else "the package that provides it"
        return f"No module named {module!r}", known_fix(output) or f"add {named} to the runtime requirements"
    denied = _DENIED.findall(output)
    if denied:
        return (
            f"the non-root user cannot write {denied[-1]}",
            "a build step left it owned by root: write it under a tmpfs path (tmpfs in [tool.dockstage]) or at run time",
        )
    found = last_exception(output)
    if found:
        return found, known_fix(found) or CRASH_FIX
    tail = [line for line in output.strip().splitlines() if line.strip()][-3:]
    return "; ".join(tail)[:300] or "it failed without output", "run the image's command by hand to see why"


CRASH_FIX = "fix the app or its settings; the traceback is above"
"""diagnose's fix for an exception it knows nothing more of."""


def _absent_file(output: str, settings: Settings | None, fix: str) -> str:
    """`fix`, or, when it is CRASH_FIX and the crash follows a read of an app file the checkout
    lacks (absentfiles), that file's fix."""
    if settings is None or fix != CRASH_FIX:
        return fix  # a cause already named comes first
    return absentfiles.absent_file_fix(output, settings.path(settings.app_dir)) or fix


def last_exception(output: str) -> str:
    """The last exception line a Python command printed (a traceback's end), or ''; Django's
    SystemCheckError with the errors it lists, as its own line names none."""
    found = _EXCEPTION.findall(output)
    if not found:
        return ""
    last = str(found[-1]).strip()
    if last.startswith("SystemCheckError"):
        listed = check_errors(output.rsplit("SystemCheckError", 1)[-1])
        last = f"SystemCheckError: {listed}" if listed else last
    return (last + _app_where(output, last))[:300]


_SOURCE_LINE = re.compile(r'File "/app/([^"]+)", line (\d+)')


def _app_where(output: str, last: str) -> str:
    """' (api/urls.py:2)': the app's own file and line the exception came from, from its traceback
    (manage.py, where every command starts, is no cause), else ''. A syntax error's message names
    no file (Bernapai's api/urls.py ends an import line with a comma); 123REN-HJ's migrate ended on
    "AttributeError: 'NoneType' object has no attribute 'id'", raised by reservations/models.py:11
    (a field default that reads the first superuser, which a new database does not have)."""
    before = output.rsplit(last, 1)[0]
    found = _SOURCE_LINE.findall(before.rsplit("Traceback (most recent call last):", 1)[-1])
    found = [(path, line) for path, line in found if path != "manage.py"]
    return f" ({found[-1][0]}:{found[-1][1]})" if found else ""


_FINDING = re.compile(r"^\s*(?P<obj>[\w.?]+): \((?P<id>[\w.]+\.[EW]\d+)\) (?P<msg>.+)$", re.MULTILINE)


def deploy_findings(output: str) -> str:
    """`check --deploy`'s findings, each its id and first sentence: "3: security.W004 You have not
    set a value for the SECURE_HSTS_SECONDS setting; ..." ('' when it printed none in that form)."""
    found = [f"{m['id']} {m['msg'].split('. ', 1)[0].rstrip('.')}" for m in _FINDING.finditer(output)]
    return f"{len(found)}: {'; '.join(found)}" if found else ""


def checklist_findings(output: str) -> str:
    """What a failed `check --deploy` found, or '' when it found nothing but crashed: a traceback
    with no finding is a crash, whatever else its output says (digiTTrain2's mediapipe printed absl's
    "WARNING: All log messages before absl::InitializeLog()..." before its ImportError)."""
    findings = deploy_findings(output)
    if findings:
        return findings
    lines = [line for line in output.splitlines() if "?:" in line or "WARN" in line]
    return "; ".join(lines)[:300] if lines and not last_exception(output) else ""


CHECK_HINTS = {"fields.E120": "PostgreSQL alone lets a CharField go without one (Django 4.2+): give each a max_length"}
"""What a system check error met on MySQL means for a project that ran on PostgreSQL."""


def check_errors(output: str) -> str:
    """Django's system check errors in `output`, one per kind, with the objects that have it:
    "fields.E120 CharFields must define a 'max_length' attribute (app.Model.field, ...)"."""
    kinds: dict[tuple[str, str], list[str]] = {}
    for match in _FINDING.finditer(output):
        if match["id"].rsplit(".", 1)[1].startswith("W"):
            continue  # a warning (the line's id ends in .E or .W and a number)
        kinds.setdefault((match["id"], match["msg"].strip()), []).append(match["obj"])
    said = []
    for (ident, message), objects in kinds.items():
        hint = f"; {CHECK_HINTS[ident]}" if ident in CHECK_HINTS else ""
        said.append(f"{ident} {message} ({', '.join(objects)}){hint}")
    return "; ".join(said)


def _failure_output(exc: DockerException) -> str:
    return "\n".join(part for part in (exc.stdout, exc.stderr) if part)


def _run_merged(
    docker: DockerClient, tag: str, argv: list[str], envs: dict[str, str], tmpfs: tuple[str, ...] = ()
) -> str:
    """`argv` in a throwaway container with its stderr in its stdout: python-on-whales captures only
    stdout of `docker run`, and a traceback is on stderr (an empty detail otherwise). `tmpfs`: the
    extra writable paths prod's containers get ([tool.dockstage] tmpfs and writable-dirs)."""
    return str(
        docker.run(
            tag, ["-c", 'exec "$@" 2>&1', "sh", *argv], entrypoint="sh", envs=envs, remove=True, tmpfs=list(tmpfs)
        )
    )


def _pruned(docker: DockerClient, tag: str) -> list[str]:
    # Safe: an image without the prune list (built before it, or nothing pruned) names no culprit.
    with swallowed("the image has no list of pruned paths"):
        return str(docker.run(tag, [PRUNED_LIST], entrypoint="cat", remove=True)).split()
    return []


def check_imports(docker: DockerClient, tag: str, settings: Settings | None = None) -> str:
    """Every installed app and the URLconf import in the image (as `manage.py check` would), with
    the app's environment names given placeholders; a failure names what the prune left out."""
    from dockstage.core.appconfig import App
    from dockstage.images import buildfiles

    app = settings.app if settings else App()

    def refused(exc: DockerException) -> DockstageError:
        text, pruned = _failure_output(exc), _pruned(docker, tag)
        service = service_at_import(text)
        if service and not _NO_MODULE.search(text):  # a module the prune left out comes first
            return _ServiceAtImport(tag, service)
        what, fix = diagnose(text, pruned)
        fix = _absent_file(text, settings, fix)
        return ImageCheckFailed(tag, f"the apps or the URLconf do not import: {what}", fix)

    try:
        with docker_errors(f"checking {tag}", otherwise=refused):
            output = _run_merged(docker, tag, ["python", URL_LISTER], buildfiles.placeholders(app), app.tmpfs_mounts)
    except _ServiceAtImport as reached:
        return (
            f"the apps or the URLconf reach {reached.service} when they load (not here): "
            "their import is checked in the smoke stack, which has it"
        )
    urls = json.loads(str(output).strip().splitlines()[-1])
    return f"every installed app and the URLconf import ({len(urls)} URLs without parameters)"


def check_deploy(docker: DockerClient, tag: str, settings: Settings) -> str:
    """Django's deployment checklist passes with the image's own settings (a throwaway key), at
    [tool.dockstage] deploy-check's level, the app's environment names given placeholders."""
    from dockstage.images import buildfiles  # the app's names with harmless values, as at build time

    app = settings.app
    if app.deploy_check == "off":
        return "check --deploy: off (deploy-check)"
    envs = {
        **buildfiles.placeholders(app),
        **{name: secrets.token_urlsafe(50) for name in app.env.get("secret-key", ())},
        **{name: "app.example.com" for name in app.env.get("allowed-hosts", ())},
    }

    def refused(exc: DockerException) -> DockstageError:
        text = _failure_output(exc)
        code_errors = check_errors(text)
        if code_errors:  # the code's errors, one per kind with its objects, before the checklist's warnings
            return ImageCheckFailed(
                tag,
                f"`check --deploy` reports errors: {code_errors}",
                known_fix(code_errors)
                or "fix them where they are named (deploy-check in [tool.dockstage] sets the level the checklist's "
                "warnings fail at)",
            )
        found = checklist_findings(text)
        if found:
            return ImageCheckFailed(
                tag,
                f"`check --deploy` reports {found}",
                "fix the prod settings so the deployment checklist passes (deploy-check in [tool.dockstage] sets its level)",
            )
        service = service_at_import(text)
        if service and not _NO_MODULE.search(text):  # the apps reach the stack when they load
            return ImageCheckFailed(
                tag,
                f"`check --deploy` could not run: the apps reach {service} when they load, and the check runs "
                "without the stack",
                f"switch that off where the environment has {buildfiles.NO_DATABASE_ENV}=1 (build steps and "
                'image checks), or set deploy-check = "off" in [tool.dockstage]',
            )
        what, fix = diagnose(text, _pruned(docker, tag))  # it crashed: not the checklist's findings
        fix = _absent_file(text, settings, fix)
        return ImageCheckFailed(tag, f"`check --deploy` crashed: {what}", fix)

    with docker_errors(f"checking {tag}", otherwise=refused):
        output = _run_merged(
            docker,
            tag,
            ["python", "manage.py", "check", "--deploy", "--fail-level", app.deploy_check],
            envs,
            app.tmpfs_mounts,
        )
    last = str(output).strip().splitlines()[-1] if str(output).strip() else "clean"
    level = "" if app.deploy_check == "WARNING" else f" (fail level {app.deploy_check})"
    return f"check --deploy{level}: {last}"


def _judge_user(tag: str, output: str, status: int, user: str) -> str:
    uid = output.strip()
    if user.split(":")[0] in ("", "0", "root") or uid == "0" or status != 0:
        raise ImageCheckFailed(tag, "runs as root", "set a numeric non-root USER in the stage stage of the Dockerfile")
    return f"runs as user {user} (uid {uid})"


NON_ROOT = Probe("id -u", _judge_user)
"""The image's user is not root, by name and by the uid it really runs as."""


_NO_TOOLS_LINE = "no gcc/cc/make/pkg-config/node/npm, no MySQL headers"


def _judge_toolchain(tag: str, output: str, status: int, user: str) -> str:
    found = output.split()
    if found:
        raise ImageCheckFailed(
            tag, f"holds what prod must not: {', '.join(found)}", "keep build tools in the dev stage"
        )
    return f"{_NO_TOOLS_LINE}, no pytest"


_NO_TOOLS = (
    f"for t in {' '.join(TOOLS)}; do command -v $t >/dev/null 2>&1 && echo tool:$t; done; "
    f"for d in {' '.join(HEADER_DIRS)}; do [ -e $d ] && echo headers:$d; done; "
)
NO_TOOLCHAIN = Probe(_NO_TOOLS + "python -c 'import pytest' 2>/dev/null && echo package:pytest; true", _judge_toolchain)
"""No compiler, build tool, MySQL headers or pytest."""


def _app_asks_for(tools: list[str]) -> Probe:
    """NO_TOOLCHAIN for an app whose own runtime requirements name pytest: no compiler, build tool
    or headers; pytest is there by the app's choice, said (not failed) with where to move it."""

    def judge(tag: str, output: str, status: int, user: str) -> str:
        _judge_toolchain(tag, output, status, user)
        return (
            f"{_NO_TOOLS_LINE}; {', '.join(tools)} in prod because the app's "
            "runtime requirements name them: move them to test-requirements (or a dev group) to leave them out"
        )

    return Probe(_NO_TOOLS + "true", judge)


def _judge_links(tag: str, output: str, status: int, user: str) -> str:
    if status != 0:
        raise ImageCheckFailed(
            tag, "mysqlclient's _mysql does not import", "install its runtime library (libmariadb3) in stage"
        )
    unresolved = unresolved_links(output)
    optional = {m: libs for m, libs in unresolved.items() if any(f"/{p}" in f"/{m}" for p in ON_DEMAND_PLUGINS)}
    driver = {m: libs for m, libs in unresolved.items() if m not in optional and all(map(from_gpu_driver, libs))}
    needed = {
        m: [lib for lib in libs if not from_gpu_driver(lib)]
        for m, libs in unresolved.items()
        if m not in optional and m not in driver
    }
    if needed:
        shown = "; ".join(f"{module} needs {', '.join(libs)}" for module, libs in needed.items())
        names = sorted({debian_package(lib) for libs in needed.values() for lib in libs})
        raise ImageCheckFailed(
            tag,
            f"compiled modules link missing libraries: {shown}",
            # dev lacks them too (stage installs what dev's copy of the venv links): apt-build fixes every stage
            f"add the Debian packages that hold them to apt-build in [tool.dockstage] (likely {', '.join(names)}, "
            "by Debian's soname rule): dev then loads them, and stage installs what dev links",
        )
    line = "_mysql and every compiled module of the venv link their libraries"
    if optional:
        line += f" (not the plugins loaded only for their own method, which do not here: {_needs(optional)})"
    if driver:
        line += f" (but the GPU driver's, which a GPU host's container runtime gives at run time: {_needs(driver)})"
    return line


def _needs(unresolved: dict[str, list[str]]) -> str:
    """'libcaffe2_nvrtc.so needs libcuda.so.1; ...': each module by its file name, with what it lacks."""
    return "; ".join(f"{m.rsplit('/', 1)[-1]} needs {', '.join(libs)}" for m, libs in unresolved.items())


GPU_DRIVER_LIBS = ("libcuda.so", "libnvidia-", "libnvcuvid.so", "libnvoptix.so")
"""Libraries of the GPU driver, which no image holds: the host's container runtime (NVIDIA's
container toolkit) mounts its own at run time, and packages open them only to use the GPU
(vlavanya14/Django-MariaDB-Enhanced-Integration's torch: libcaffe2_nvrtc.so needs libcuda.so.1,
which the check sent to apt-build as "libcuda1", a package no base has)."""


def from_gpu_driver(library: str) -> bool:
    """Whether `library` (a soname) is the GPU driver's (GPU_DRIVER_LIBS)."""
    return library.startswith(GPU_DRIVER_LIBS)


ON_DEMAND_PLUGINS = ("site-packages/mysql/vendor/plugin/",)
"""Shared objects a package opens only when asked for that feature, not Python modules: the
MySQL client's authentication plugins mysql-connector-python vendors (esqueleto_web's 8.0.33:
authentication_fido_client.so needs libudev.so.0, which no Debian release has any more)."""


_SONAME = re.compile(r"^(lib[\w.+-]*?)\.so\.([\d.]+)$")


def debian_package(soname: str) -> str:
    """The Debian package a shared library's soname names by Debian's policy (8.1): libodbc.so.2 is
    in libodbc2, libpango-1.0.so.0 in libpango-1.0-0 (a hyphen after a name ending in a digit). Most
    libraries follow it; a few do not (libz.so.1 is zlib1g), so it is said as a likely name."""
    found = _SONAME.match(soname)
    if not found:
        return soname
    name, version = found.groups()
    return f"{name}{'-' if name[-1].isdigit() else ''}{version}".lower().replace("_", "-")


def unresolved_links(output: str) -> dict[str, list[str]]:
    """The libraries `ldd FILE...` could not find, per module (its path below the venv)."""
    found: dict[str, list[str]] = {}
    current = ""
    for line in output.splitlines():
        if line.startswith("/") and line.rstrip().endswith(":"):
            current = line.rstrip()[:-1].removeprefix("/opt/venv/")
        elif "=> not found" in line and line.split()[0] not in found.get(current, []):
            found.setdefault(current, []).append(line.split()[0])
    return found


LINKS = Probe(
    "python -c 'import MySQLdb._mysql' || exit 3; "
    "find /opt/venv -type f -name '*.so' -not -path '*.libs/*' -exec ldd {} + 2>/dev/null; exit 0",
    _judge_links,
)
"""mysqlclient's `_mysql` imports, and every compiled module of the runtime venv finds the shared
libraries it links to (a C extension built against apt-build headers needs their library in prod).
A wheel's bundled libraries (`<pkg>.libs/`) are reached through their module's RPATH: ldd of the
module follows them; alone they would not find their siblings."""


def check_non_root(docker: DockerClient, tag: str) -> str:
    return _probes(docker, tag, (NON_ROOT,))[0]


def check_no_toolchain(docker: DockerClient, tag: str) -> str:
    return _probes(docker, tag, (NO_TOOLCHAIN,))[0]


PROBES: dict[str, tuple[Probe, ...]] = {
    "prod": (NON_ROOT, NO_TOOLCHAIN, LINKS),
}
"""Each stage's probes, run together in one container of its image."""
DEPLOY_CHECKED = ("stage",)
"""The stages whose image gets Django's `check --deploy` (a container of its own: the app's environment)."""
IMPORTS_CHECKED = ("prod",)
"""The stages whose image must import every installed app and the URLconf after the prune."""


def count(stage: str) -> int:
    """How many checks `stage` gets."""
    return len(PROBES.get(stage, ())) + (stage in DEPLOY_CHECKED) + (stage in IMPORTS_CHECKED)


def inputs(stage: str, settings: Settings) -> dict[str, object]:
    """What the checks of `stage` hand their containers or judge by, beside the image itself (the
    check memo's key: a changed setting checks the image again)."""
    from dockstage.images import buildfiles

    app = settings.app
    return {
        "deploy-check": app.deploy_check if stage in DEPLOY_CHECKED else "",
        "placeholders": buildfiles.placeholders(app),  # every name of app.env (secret key, hosts) is a key here
        "tmpfs": list(app.tmpfs_mounts),
        "asked": buildfiles.runtime_test_tools(settings) if stage in PROBES else [],
    }


def run(docker: DockerClient, stage: str, tag: str, settings: Settings) -> list[str]:
    """Every check of `stage` on `tag`, in order; raises ImageCheckFailed at the first that fails."""
    lines = [check_deploy(docker, tag, settings)] if stage in DEPLOY_CHECKED else []
    lines += [check_imports(docker, tag, settings)] if stage in IMPORTS_CHECKED else []
    from dockstage.images import buildfiles  # what the app's runtime requirements ask for

    probes = PROBES.get(stage, ())
    asked = buildfiles.runtime_test_tools(settings) if NO_TOOLCHAIN in probes else []
    if asked:
        probes = tuple(_app_asks_for(asked) if probe is NO_TOOLCHAIN else probe for probe in probes)
    return lines + (_probes(docker, tag, probes) if probes else [])
