"""The stage graph of the Dockerfile, and one stage build through buildx."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from python_on_whales import DockerClient, Image
from python_on_whales.exceptions import DockerException, NoSuchImage

from dockstage import STAGES
from dockstage.core import files
from dockstage.core.config import Settings
from dockstage.core.errors import DockstageError, StageBuildFailed, UnknownStage, docker_detail, docker_errors
from dockstage.core.report import Reporter, log
from dockstage.images import buildfiles, buildmemo, contextguard, provenance
from dockstage.images.bases import BaseImages

NEEDS: dict[str, tuple[str, ...]] = {"dev": (), "test": ("dev",), "stage": ("dev",), "prod": ("stage",)}
CA_SECRET_ID = "pip_cert"  # noqa: S105 - the BuildKit secret id, not a secret


@dataclass(frozen=True)
class Built:
    """What one stage build produced."""

    stage: str
    tag: str
    size_bytes: int
    seconds: float
    cached: bool


def plan(*targets: str) -> list[str]:
    """The stages to build, in order, so each target's prerequisites come first."""
    order: list[str] = []

    def visit(stage: str) -> None:
        if stage not in NEEDS:
            raise UnknownStage(stage, STAGES)
        for need in NEEDS[stage]:
            visit(need)
        if stage not in order:
            order.append(stage)

    for target in targets or STAGES:
        visit(target)
    return sorted(order, key=STAGES.index)


def build_args(settings: Settings, images: BaseImages, context: Path | None = None) -> dict[str, str]:
    """The Dockerfile's build arguments: these base images and the app's [tool.dockstage] values
    (the files they name are staged into the context's .dockstage/build first)."""
    return buildfiles.build_args(settings, images, context)


NPMRC_SECRET_ID = "npmrc"  # noqa: S105 - the BuildKit secret ids of the assets stage
NPM_CA_SECRET_ID = "npm_cert"  # noqa: S105


def secrets(settings: Settings) -> list[str]:
    """BuildKit secrets (never a layer): the host's proxy CA bundle when there is one; with an
    assets build, the host's npm config and npm's CA file too."""
    found = [f"id={CA_SECRET_ID},src={settings.ca_bundle}"] if settings.ca_bundle else []
    if settings.app.assets_command:
        found += [f"id={NPMRC_SECRET_ID},src={settings.npmrc}"] if settings.npmrc else []
        found += [f"id={NPM_CA_SECRET_ID},src={settings.npm_ca}"] if settings.npm_ca else []
    return found


def _image(docker: DockerClient, tag: str) -> Image | None:
    try:
        return docker.image.inspect(tag)
    except NoSuchImage:  # not built yet: nothing to compare with
        return None


SUITE_FILES = ("manage.py", "pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini", "conftest.py")
"""Files at the app dir the suite's stages read (the tests' configuration), when the project has them."""
ASSETS_FILES = ("package.json", "package-lock.json", "npm-shrinkwrap.json")


def suite_needs(settings: Settings, context: Path, stage: str = "") -> list[Path]:
    """Files of the app the suite's stages run (manage.py, the test configuration, package.json when
    there is an assets-command, the settings and wsgi modules; for the test stage the tests' settings
    module of test-env too), relative to the context: kept in the build whatever the project's
    .dockerignore says."""
    app = settings.app
    folder = context / settings.app_dir.strip("/")
    names = [*SUITE_FILES, *(ASSETS_FILES if app.assets_command else ())]
    files = [(folder / name).relative_to(context) for name in names if (folder / name).is_file()]
    modules = [m for m in (app.settings_module, app.wsgi) if m]
    if stage == "test" and app.test_env.get("DJANGO_SETTINGS_MODULE"):
        # linkding's .dockerignore removes settings/dev.py from its images, and its tests run on it:
        # the test image (built from devdeps, not from dev) gets it; dev, stage and prod do not.
        modules.append(app.test_env["DJANGO_SETTINGS_MODULE"])
    return [*files, *contextguard.module_files(context, settings.app_dir, modules, app.python_path)]


def build_stage(
    settings: Settings,
    docker: DockerClient,
    images: BaseImages,
    reporter: Reporter,
    stage: str,
    *,
    tag: str | None = None,
    dockerfile: Path | None = None,
    context: Path | None = None,
    cache: bool = True,
    origin: Mapping[str, str] | None = None,
    ignored: list[Path] | None = None,
) -> Built:
    """Build one stage of the Dockerfile (its prerequisites come from the BuildKit cache) and tag it.

    `dockerfile`, `context` and `tag` default to the project's; the benchmark builds other ones.
    `origin`: the provenance labels, when the caller read them once for several stages; `ignored`:
    what git ignores in the context, likewise.
    """
    tag = tag or settings.tag(stage)
    previous = _image(docker, tag)
    before = previous.id if previous is not None else None
    reporter.step(f"building {stage} -> {tag}")
    log.debug("build stage %s -> %s", stage, tag)
    started = time.monotonic()
    project_build = dockerfile is None and context is None and cache  # the only builds the memo answers
    left_out: list[Path] = []
    if dockerfile is None:  # the project's build: a dump in its context, whatever its name, stays out
        needs = suite_needs(settings, context or settings.root, stage)
        left_out = (
            contextguard.left_out(ignored, needs)
            if ignored is not None
            else contextguard.git_ignored(context or settings.root, needs)
        )
        dockerfile, dumps = contextguard.guarded_dockerfile(
            settings.path(settings.dockerfile),
            context or settings.root,
            settings.path(settings.state_dir),
            needs,
            "test" if stage == "test" else "",
            left_out,
        )
        if dumps:
            names = ", ".join(str(dump) for dump in dumps)
            reporter.warn(f"database dumps left out of the {stage} image: {names} (keep dumps outside the project)")
    options: dict[str, Any] = {
        "context_path": context or settings.root,
        "file": dockerfile,
        "target": stage,
        "tags": [tag],
        "load": True,
        "cache": cache,
        "build_args": build_args(settings, images, context),
        "labels": {
            "dockstage.flavour": images.flavour,
            "dockstage.image": settings.image,
            **(origin if origin is not None else provenance.labels(settings.root, docker, images.python)),
        },
        "secrets": secrets(settings),
    }

    state_dir = settings.path(settings.state_dir)
    inputs = buildmemo.inputs_digest(settings.root, dockerfile, options, left_out) if project_build else ""
    if inputs and previous is not None and buildmemo.recall(state_dir, tag, inputs) == previous.id:
        reporter.info(
            f"{stage} image {previous.id.removeprefix('sha256:')[:12]} was built from these inputs, unchanged "
            f"(not built again; remove {state_dir / buildmemo.MEMO_FILE} to build it)"
        )
        return Built(stage, tag, previous.size or 0, time.monotonic() - started, cached=True)

    def failed(exc: DockerException) -> DockstageError:
        if settings.quiet:  # the build output was hidden: show the part that says why
            reporter.raw("\n".join((exc.stderr or exc.stdout or "").strip().splitlines()[-25:]))
        return StageBuildFailed(stage, exc.return_code, docker_detail(exc))

    with docker_errors(f"building stage {stage}", otherwise=failed):
        if reporter.plain or settings.quiet:
            # Streamed: one buildx process and no builder look-ups around it (python-on-whales makes
            # two per loading build otherwise); plain lines through the reporter, or none when quiet.
            lines = cast(Iterator[str], docker.buildx.build(**options, progress="plain", stream_logs=True))
            for line in lines:
                if not settings.quiet:
                    reporter.raw(line)
        else:  # a terminal: BuildKit's own live display
            docker.buildx.build(**options, progress="auto")
    seconds = time.monotonic() - started
    image = docker.image.inspect(tag)
    remember(settings, image.id)
    if inputs:
        buildmemo.keep(state_dir, tag, inputs, image.id)
    return Built(stage, tag, image.size or 0, seconds, cached=before == image.id)


BUILT_LIST = "built-images.txt"
"""In the state dir: the image ids this checkout built (`clean` removes only those when dangling).
A label would do it too, but would make the same build differ from one checkout to the next."""
KEPT_IDS = 400


_REMEMBERING = threading.Lock()  # stages built side by side add to the one list


def remember(settings: Settings, image_id: str) -> None:
    """Add `image_id` to the checkout's list of the images it built (the newest KEPT_IDS)."""
    path = settings.path(settings.state_dir) / BUILT_LIST
    with _REMEMBERING:
        ids = built_here(settings)
        if image_id in ids:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        files.write_private(path, "\n".join([*ids, image_id][-KEPT_IDS:]) + "\n")


def built_here(settings: Settings) -> list[str]:
    """The image ids this checkout built, oldest first."""
    path = settings.path(settings.state_dir) / BUILT_LIST
    return path.read_text(encoding="utf-8").split() if path.is_file() else []


def table(reporter: Reporter, built: list[Built]) -> None:
    """Print the build summary."""
    reporter.table(
        "builds",
        ("stage", "tag", "size", "seconds", "cached"),
        (
            (b.stage, b.tag, f"{b.size_bytes / 1e6:.1f} MB", f"{b.seconds:.1f}", "yes" if b.cached else "no")
            for b in built
        ),
    )
