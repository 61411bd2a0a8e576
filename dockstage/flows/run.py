"""One run per command: the settings, the client, the bases, the reporter, what was built.

The front-end makes one Run for each command and hands it to the flows. Within a run the
preflight checks run once, the base images are decided once, each stage is built at most once,
and every file the run generated is removed when it ends (also on failure).
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from python_on_whales import DockerClient

from dockstage.core import engine, files
from dockstage.core.config import Settings
from dockstage.core.engine import Check
from dockstage.core.errors import ConfigError, DockstageError, StageBuildFailed, docker_errors, engine_error
from dockstage.core.report import Reporter, log
from dockstage.images import bases, checkmemo, contextguard, imagechecks, offline, provenance, stages
from dockstage.images.bases import BaseImages
from dockstage.stack import envfile, workers
from dockstage.stack.compose import (
    Stack,
    app_env_file,
    app_variant,
    compose_values,
    generated_env_file,
    test_env_file,
)

BUILD_CHECKS = ("engine", "buildx", "disk")
STACK_CHECKS = ("engine", "compose")


@dataclass
class Run:
    """What one command knows and has done."""

    settings: Settings
    reporter: Reporter
    docker: DockerClient
    checks: dict[str, Check] = field(default_factory=dict)
    built: dict[str, stages.Built] = field(default_factory=dict)
    checked_images: dict[str, list[str]] = field(default_factory=dict)
    generated: list[Path] = field(default_factory=list)
    pending: list[threading.Thread] = field(default_factory=list)
    # Names the files this run generates; the pid in it tells a later command whether they are stale.
    id: str = field(default_factory=lambda: f"{os.getpid()}-{uuid.uuid4().hex[:6]}")
    _bases: BaseImages | None = None
    built_bases: list[offline.BuiltBase] = field(default_factory=list)  # stand-ins this run had to build
    _bases_provided: set[str] = field(default_factory=set)  # of offline.BASE_PARTS
    _bases_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _env_ready: bool = False
    commands: Mapping[str, str] = field(default_factory=dict)  # the front-end's commands, for fix hints

    @classmethod
    @contextmanager
    def open(cls, settings: Settings, commands: Mapping[str, str] | None = None) -> Iterator[Run]:
        """A run for one command (`commands`: how its front-end names commands in a fix); its
        generated files are removed when it ends."""
        run = cls(settings, Reporter(quiet=settings.quiet, ci=settings.ci), engine.client(settings))
        run.commands = commands or {}
        remove_stale_env_files(settings)
        for note in settings.overridden:  # a .env line beating [tool.dockstage]: said, not silent
            run.reporter.warn(note)
        try:
            yield run
        finally:
            run.close()

    def close(self) -> None:
        """Wait for work left in the background (teardowns), then remove the files this run generated."""
        for thread in self.pending:
            thread.join()
        self.pending.clear()
        for path in self.generated:
            path.unlink(missing_ok=True)
        self.generated.clear()

    def later(self, name: str, action: Callable[[], object]) -> None:
        """Run `action` in the background; the run waits for it before it ends."""

        def guarded() -> None:
            try:
                action()
            except Exception as exc:  # noqa: BLE001 - a failed teardown is reported, not raised
                said = exc.message(self.commands) if isinstance(exc, DockstageError) else exc
                self.reporter.warn(f"{name} failed in the background: {said}")

        thread = threading.Thread(target=guarded, name=name, daemon=False)
        thread.start()
        self.pending.append(thread)

    def _generate(self, path: Path, text: str) -> Path:
        """Write a file this run owns (private: env files hold secrets); removed when the run ends."""
        files.write_private(path, text)
        if path not in self.generated:
            self.generated.append(path)
        return path

    # --- preflight ---------------------------------------------------------------------------

    def run_checks(self, names: Iterable[str] = engine.ENGINE_CHECKS) -> list[Check]:
        """The named preflight checks, each run at most once per command (doctor shows them all)."""
        todo = [name for name in names if name not in self.checks]
        if todo and not any(not c.passed for c in self.checks.values()):
            for check in engine.run_checks(self.docker, self.settings, todo):
                self.checks[check.name] = check
        return [self.checks[name] for name in names if name in self.checks]

    def preflight(self, *names: str) -> None:
        """Raise the error of the first failing check among `names` (engine always first)."""
        for check in self.run_checks(["engine", *names]):
            if check.error is not None:
                raise check.error

    # --- base images -------------------------------------------------------------------------

    def bases(self) -> BaseImages:
        """The base images, decided once per command (official ones pulled when missing)."""
        if self._bases is None:
            self.preflight()
            settings = self.settings
            self._bases = bases.decide(
                settings.flavour, self.docker, self.reporter, settings.app.python, settings.app.services,
                mirror=settings.hub_mirror,
            )  # fmt: skip
            log.debug("base images (%s): %s, %s", self._bases.flavour, self._bases.python, self._bases.mysql)
        return self._bases

    def provided_bases(self, *parts: str) -> BaseImages:
        """The base images, with any missing stand-in of `parts` (offline.BASE_PARTS: all by
        default) built first; a part another thread of the run is building is waited for."""
        images = self.bases()
        wanted = parts or offline.BASE_PARTS
        if not set(wanted) <= self._bases_provided:
            with self._bases_lock:
                todo = tuple(part for part in wanted if part not in self._bases_provided)
                if todo:
                    provided = offline.provide(images, self.docker, self.reporter, self.settings.app.services, todo)
                    self.built_bases += [b for b in provided if b.built]
                    self._bases_provided.update(todo)
        return images

    def proxy_image(self) -> str:
        """The image of the proxy in front of web in `invoke up` (nginx, or its stand-in from
        Debian), pulled or built when missing."""
        images = self.bases()
        if images.stand_in:
            provided = offline.provide(images, self.docker, self.reporter, ("proxy",))
            self.built_bases += [b for b in provided if b.built]
        elif not self.docker.image.exists(images.proxy):
            mirror = self.settings.hub_mirror
            failed = bases.pull(images.proxy, self.docker, self.reporter, quiet=False, mirror=mirror)
            if failed is not None:
                raise engine_error(failed, f"pulling {images.proxy}") or bases.pull_failed(images.proxy, failed, mirror)
        return images.proxy

    # --- builds ------------------------------------------------------------------------------

    def build(
        self, *targets: str, check: bool = False, bases_first: tuple[str, ...] = offline.BASE_PARTS
    ) -> list[stages.Built]:
        """Build the targets and what they need, in order; a stage already built by this run is
        not built again. With `check`, each target's image checks run after its build. The
        `bases_first` parts are provided before (the python base always; a pipeline makes the
        database's beside the build)."""
        order = stages.plan(*targets)  # an unknown stage fails before any Docker call
        if not (self.settings.app.settings_module and self.settings.app.wsgi):
            raise ConfigError(
                "[tool.dockstage] does not name the app's settings-module and wsgi",
                "run `dockstage init` in the project, or set both in [tool.dockstage] of pyproject.toml",
            )
        self.preflight(*BUILD_CHECKS)
        images = self.provided_bases("python", *bases_first)
        todo = [stage for stage in order if stage not in self.built]
        log.debug("stages already built by this run: %s", [stage for stage in order if stage in self.built])
        # One reading of the provenance (git, the base's digest) and of what git ignores for the stages of this call.
        origin = provenance.labels(self.settings.root, self.docker, images.python) if todo else {}
        ignored = contextguard.git_ignored(self.settings.root) if todo else []
        self._say_git_ignored(ignored)
        for stage in todo[:1]:  # the first with its output live: the layers the others share are built there
            self.built[stage] = self._build_stage(stage, images, origin, ignored, self.reporter)
        for wave in build_waves(todo[1:], assets=bool(self.settings.app.assets_command)):
            self.built.update(self._build_side_by_side(wave, images, origin, ignored))
        if check:
            for stage in order:
                self.check_image(stage)
        return [self.built[stage] for stage in order]

    def _say_git_ignored(self, ignored: list[Path]) -> None:
        """Name what git ignores that the images leave out, beyond what no image ever holds."""
        found = contextguard.worth_saying(ignored)
        if found:
            shown = ", ".join(f"{path.as_posix()}{'/' * (self.settings.root / path).is_dir()}" for path in found[:5])
            more = f" and {len(found) - 5} more" if len(found) > 5 else ""
            self.reporter.info(f"left out of the images, as git ignores them: {shown}{more}")

    def _build_stage(
        self, stage: str, images: BaseImages, origin: Mapping[str, str], ignored: list[Path], reporter: Reporter
    ) -> stages.Built:
        return stages.build_stage(self.settings, self.docker, images, reporter, stage, origin=origin, ignored=ignored)

    def _build_side_by_side(
        self, todo: list[str], images: BaseImages, origin: Mapping[str, str], ignored: list[Path]
    ) -> dict[str, stages.Built]:
        """Build `todo` at once (BuildKit shares what they have in common; prod waits on stage's
        layers), each stage's output kept and printed whole, in order; the first failure in that
        order is raised once all have ended."""
        if len(todo) < 2:
            return {stage: self._build_stage(stage, images, origin, ignored, self.reporter) for stage in todo}
        reporters = {stage: self.reporter.buffered(plain=True) for stage in todo}
        built: dict[str, stages.Built] = {}
        failed: dict[str, BaseException] = {}

        def work(stage: str) -> None:
            try:
                built[stage] = self._build_stage(stage, images, origin, ignored, reporters[stage])
            except BaseException as exc:  # noqa: BLE001 - raised below, in the caller's thread
                failed[stage] = exc

        threads = [threading.Thread(target=work, args=(stage,), name=f"build-{stage}") for stage in todo]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for stage in todo:
            reporters[stage].flush_into(self.reporter)
        ordered = [failed[stage] for stage in todo if stage in failed]
        if ordered:
            raise build_failure_to_raise(ordered)
        return built

    def check_image(self, stage: str) -> list[str]:
        """The image checks of one built stage, run once per command."""
        if stage not in self.checked_images:
            tag, state_dir = self.settings.tag(stage), self.settings.path(self.settings.state_dir)
            with docker_errors(f"inspecting {tag}"):
                image_id = self.docker.image.inspect(tag).id
            memo_key = checkmemo.key(image_id, stage, imagechecks.inputs(stage, self.settings))
            lines = checkmemo.recall(state_dir, memo_key)
            if lines is None:
                lines = imagechecks.run(self.docker, stage, tag, self.settings)
                checkmemo.keep(state_dir, memo_key, lines)
            else:
                self.reporter.info(
                    f"{stage} image {image_id.removeprefix('sha256:')[:12]} passed these checks before, "
                    f"unchanged (not run again; remove {state_dir / checkmemo.MEMO_FILE} to rerun them)"
                )
            for line in lines:
                self.reporter.ok(f"{stage} image: {line}")
            self.checked_images[stage] = lines
        return self.checked_images[stage]

    # --- stacks ------------------------------------------------------------------------------

    def ensure_env(self) -> Settings:
        """Create .env on first use (fresh secrets) and validate it; the run's settings then hold it."""
        if not self._env_ready:
            self.settings = envfile.ensure(self.settings, self.reporter)
            self._env_ready = True
        return self.settings

    def stack(self, variant: str = "prod", *, suffix: str = "") -> Stack:
        """The project's compose stack (or a throwaway `<project>-<suffix>` on any free port, its
        health polled as often as is cheap: core.timing)."""
        self.preflight(*STACK_CHECKS)
        settings = self.ensure_env()
        if suffix:
            settings = settings.with_(project=f"{settings.project}-{suffix}", web_port=0)
        env_path = generated_env_file(settings, self.id)
        test_env = None
        if variant == "test":
            test_env = self._generate(
                test_env_file(settings, self.id), envfile.render_generated(envfile.app_env(settings, "test"))
            )
        # The app containers read only the app's environment, from a file of the project (one per
        # throwaway stack's run): what compose alone needs (images, ports, this command's paths)
        # stays out of them, so a release keeps the same configuration from one command to the
        # next (compose's config hash: `up` keeps a web that is current). `down` removes it.
        app_text = envfile.render_generated(envfile.app_env(settings, app_variant(variant), throwaway=bool(suffix)))
        if suffix:
            app_path = self._generate(app_env_file(settings, self.id), app_text)
        else:
            app_path = app_env_file(settings)
            files.write_private(app_path, app_text)
        values = compose_values(settings, self.bases(), variant, app_path, test_env, throwaway=bool(suffix))
        generated = self._generate(env_path, envfile.render_generated(values))
        extra = [path for path in [workers.write(settings, variant)] if path]  # workers, tmpfs, services, if any
        env_files = [settings.path(settings.env_file), generated]
        # What the suite resolved is interpolated from its env file only: Settings beat the shell.
        return Stack.of(settings, self.docker, self.reporter, variant, env_files, extra, resolved=values)

    @contextmanager
    def throwaway(self, suffix: str, variant: str) -> Iterator[Stack]:
        """A throwaway compose project (own name, own volume, any free port), torn down in the
        background as soon as it is left (the run waits for that before it ends)."""
        stack = self.stack(variant, suffix=suffix)
        try:
            yield stack
        finally:
            # Nothing in it is kept: its containers are killed at once, not stopped gracefully.
            self.later(f"tearing down {stack.project}", stack.discard)

    def secrets(self) -> list[str]:
        """The secret values of this project's .env (kept out of every message)."""
        keys = envfile.secret_keys(self.settings.app)
        return [self.settings.value(key) for key in keys if self.settings.value(key)]


def build_waves(stages_left: list[str], *, assets: bool) -> list[list[str]]:
    """The stages after the first, in groups built at once, one group after the other. With an
    assets stage, stage goes before test: the two copy different files of the context, so BuildKit
    does not see their shared assets stage as one step and ran the npm build twice at once
    (encouragemint: 56 s each); after stage it is a cache hit for test."""
    if not assets or "test" not in stages_left or "stage" not in stages_left:
        return [stages_left] if stages_left else []
    return [["stage"], [s for s in stages_left if s != "stage"]]


def build_failure_to_raise(failures: list[BaseException]) -> BaseException:
    """Of builds run at once that failed (in stage order), the error to raise: the first whose
    cause a build helper said. Builds sharing a failing step get its log in one of them only
    (BuildKit streams it to one session): stage's error could say only "exit 1", prod's the why."""
    said = [exc for exc in failures if isinstance(exc, StageBuildFailed) and exc.diagnosed]
    return (said or failures)[0]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def remove_stale_env_files(settings: Settings) -> list[Path]:
    """The generated env files (secrets inside) of this project whose command is gone (killed
    before it could remove them): removed. The ones of commands still running are kept."""
    state = settings.path(settings.state_dir)
    pattern = re.compile(rf"{re.escape(settings.project)}-(\d+)-[0-9a-f]{{6}}(?:\.test|\.app)?\.env")
    stale = []
    for path in state.glob(f"{settings.project}-*.env") if state.is_dir() else ():
        match = pattern.fullmatch(path.name)
        if match and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            stale.append(path)
    return stale
