"""A copy of the bundled project (pyproject.toml, tasks.py, app/) outside the checkout, to change
the way a user changes their project (a release, a requirement) without touching the checkout."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from python_on_whales import Container, DockerClient
from python_on_whales.exceptions import DockerException

from dockstage.core import loopback
from dockstage.images import stages
from tests.conftest import ROOT, RUN_ID, TEST_FLAVOUR, free_port

COPIED = ("pyproject.toml", "tasks.py", ".dockerignore", ".env.example")


@dataclass
class Site:
    """The copied project, its front-end environment and the port its proxy publishes."""

    root: Path
    env: dict[str, str]
    port: int
    image: str
    project: str

    def invoke(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "invoke", *args],
            cwd=self.root,
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def status(self, path: str = "/healthz") -> int:
        with loopback.Connection(self.port) as conn:
            return conn.request("GET", path).status

    def append(self, relative: str, text: str) -> None:
        """`text` appended, as a line, to one of the copy's files (app/...)."""
        path = self.root / relative
        path.write_text(path.read_text(encoding="utf-8") + f"\n{text}\n", encoding="utf-8")

    def web_containers(self, docker: DockerClient) -> list[Container]:
        """The project's running web containers."""
        return docker.container.list(
            filters=[
                ("label", f"com.docker.compose.project={self.project}"),
                ("label", "com.docker.compose.service=web"),
            ]
        )

    def webs(self, docker: DockerClient) -> list[str]:
        """The image ids of the project's running web containers."""
        return [c.image for c in self.web_containers(docker)]


@contextlib.contextmanager
def site_copy(root: Path, docker: DockerClient, name: str) -> Iterator[Site]:
    """The copy under `root`, its own image name, compose project and port; downed with its volume
    and its images removed afterwards."""
    for file in COPIED:
        shutil.copy2(ROOT / file, root / file)
    shutil.copytree(ROOT / "app", root / "app", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    image, project, port = f"dockstage-it-{RUN_ID}/{name}", f"dsit-{RUN_ID}-{name}", free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKSTAGE_")}
    env.update(
        DOCKSTAGE_IMAGE=image,
        DOCKSTAGE_PROJECT=project,
        DOCKSTAGE_WEB_PORT=str(port),
        DOCKSTAGE_FLAVOUR=TEST_FLAVOUR,
        NO_COLOR="1",
        PYTHONUNBUFFERED="1",
    )
    site = Site(root, env, port, image, project)
    try:
        yield site
    finally:
        site.invoke("down", "--volumes", "--yes")
        for stage in stages.STAGES:
            with contextlib.suppress(DockerException):
                docker.image.remove(f"{image}:{stage}", force=True)
