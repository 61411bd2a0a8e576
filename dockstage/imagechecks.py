"""Checks of a built image, in one home: run by the core after a build when asked.

stage: Django's `check --deploy --fail-level WARNING` under the prod settings.
prod: runs non-root; no compilers, headers or pytest; `_mysql` links every library.
Adding a check is one function here, listed in CHECKS under its stage.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage.errors import ImageCheckFailed

if TYPE_CHECKING:
    from dockstage.config import Settings

TOOLS = ("gcc", "cc", "make", "c++", "pkg-config")
HEADER_DIRS = ("/usr/include/mysql", "/usr/include/mariadb")

ImageCheck = Callable[[DockerClient, str], str]


def _probe(docker: DockerClient, tag: str, script: str, *, user: str | None = None) -> str:
    """Run a shell script in a throwaway container of the image; its output (raises on non-zero)."""
    return str(docker.run(tag, ["-c", script], entrypoint="sh", user=user, remove=True))


def check_deploy(docker: DockerClient, tag: str, settings: Settings | None = None) -> str:
    """Django's deployment checklist passes with the image's own settings (a throwaway key), at
    [tool.dockstage] deploy-check's level, the app's environment names given placeholders."""
    from dockstage import buildfiles  # the app's names with harmless values, as at build time
    from dockstage.appconfig import App

    app = settings.app if settings else App()
    if app.deploy_check == "off":
        return "check --deploy: off (deploy-check)"
    envs = {
        **buildfiles.placeholders(app),
        **{name: secrets.token_urlsafe(50) for name in app.env.get("secret-key", ())},
        **{name: "app.example.com" for name in app.env.get("allowed-hosts", ())},
    }
    try:
        output = docker.run(
            tag,
            ["python", "manage.py", "check", "--deploy", "--fail-level", app.deploy_check],
            envs=envs,
            remove=True,
        )
    except DockerException as exc:
        found = [line for line in (exc.stderr or exc.stdout or "").splitlines() if "?:" in line or "WARN" in line]
        raise ImageCheckFailed(
            tag,
            f"`check --deploy` reports {len(found) or 'errors'}: {'; '.join(found)[:300]}",
            "fix the prod settings (settings.py) so the deployment checklist passes",
        ) from None
    last = str(output).strip().splitlines()[-1] if str(output).strip() else "clean"
    level = "" if app.deploy_check == "WARNING" else f" (fail level {app.deploy_check})"
    return f"check --deploy{level}: {last}"


def check_non_root(docker: DockerClient, tag: str) -> str:
    """The image's user is not root, by name and by the uid it really runs as."""
    user = docker.image.inspect(tag).config.user or ""
    uid = _probe(docker, tag, "id -u").strip()
    if user.split(":")[0] in ("", "0", "root") or uid == "0":
        raise ImageCheckFailed(tag, "runs as root", "set a numeric non-root USER in the stage stage of the Dockerfile")
    return f"runs as user {user} (uid {uid})"


def check_no_toolchain(docker: DockerClient, tag: str) -> str:
    """No compiler, build tool, MySQL headers or pytest."""
    script = (
        f"for t in {' '.join(TOOLS)}; do command -v $t >/dev/null 2>&1 && echo tool:$t; done; "
        f"for d in {' '.join(HEADER_DIRS)}; do [ -e $d ] && echo headers:$d; done; "
        "python -c 'import pytest' 2>/dev/null && echo package:pytest; true"
    )
    found = _probe(docker, tag, script).split()
    if found:
        raise ImageCheckFailed(
            tag, f"holds what prod must not: {', '.join(found)}", "keep build tools in the dev stage"
        )
    return "no gcc/cc/make/pkg-config, no MySQL headers, no pytest"


def check_mysql_links(docker: DockerClient, tag: str) -> str:
    """mysqlclient's `_mysql` extension finds every shared library it links to."""
    script = "so=$(python -c 'import MySQLdb._mysql as m; print(m.__file__)') && ldd \"$so\""
    try:
        linked = _probe(docker, tag, script)
    except DockerException:
        raise ImageCheckFailed(
            tag, "mysqlclient's _mysql does not import", "install its runtime library (libmariadb3) in stage"
        ) from None
    unresolved = [line.split()[0] for line in linked.splitlines() if "not found" in line]
    if unresolved:
        raise ImageCheckFailed(
            tag, f"_mysql links missing libraries: {', '.join(unresolved)}", "install them in the stage stage"
        )
    return "_mysql links every library"


CHECKS: dict[str, tuple[ImageCheck, ...]] = {
    "stage": (check_deploy,),
    "prod": (check_non_root, check_no_toolchain, check_mysql_links),
}


def run(docker: DockerClient, stage: str, tag: str, settings: Settings | None = None) -> list[str]:
    """Every check of `stage` on `tag`, in order; raises ImageCheckFailed at the first that fails."""
    return [
        check_deploy(docker, tag, settings) if check is check_deploy else check(docker, tag)
        for check in CHECKS.get(stage, ())
    ]
