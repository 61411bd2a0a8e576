"""The dev loop's other half: a change to what the dev image is built from rebuilds it.

Code under the app dir is bind-mounted into the dev web (runserver reloads on an edit). What is
baked into the dev image is watched instead (with watchfiles: inotify, no polling loop of ours):
the runtime and dev requirement sets with their -r/-c includes, their lock files, pyproject.toml
([tool.dockstage]: requirements, apt packages) and the project's own Dockerfile when it has one.
A change rebuilds the dev stage (its cached layers: only what changed runs) in a fresh Run with
the settings read again, then recreates web on the new image, and says so in one line with the
seconds it took. A build that fails leaves the running web alone and prints the build's error.

With tests on (`invoke dev --test`), the code under the app dir is watched too, and after every
change the app's tests run in the rebuilt test image against the dev stack's database server,
ending in one line: passed, with counts and seconds, or failed.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import watchfiles

from dockstage.core import config
from dockstage.core.config import Settings
from dockstage.core.errors import ConfigError, DockstageError
from dockstage.flows import pipeline
from dockstage.flows.run import Run
from dockstage.images import buildfiles

DEBOUNCE_MS = 400
"""Changes closer together than this are one change (an editor's save is several writes)."""


def dev_inputs(settings: Settings) -> set[Path]:
    """The files the dev image is built from, outside the bind-mounted code (see the module doc)."""
    root = settings.root
    found: dict[str, bytes] = {}
    wanted: set[Path] = {root / "pyproject.toml"}
    for entry in (*settings.app.requirements, *settings.app.dev_requirements):
        try:
            buildfiles.requirement_files(root, entry, found)
        except ConfigError:  # a file that does not exist yet: watched, so creating it counts
            if entry.endswith((".txt", ".in", ".lock", ".toml")):
                wanted.add(root / entry.split("[")[0].split(":")[0])
    wanted |= {root / name for name in found if (root / name).is_file()}
    dockerfile = settings.path(settings.dockerfile)
    if dockerfile.is_relative_to(root):
        wanted.add(dockerfile)
    return {path.resolve() for path in wanted}


def describe(paths: Iterable[Path], root: Path) -> str:
    """The changed files, relative to the project, shortest first (at most three named)."""
    names = sorted((p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p) for p in paths), key=len)
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def reloaded(settings: Settings) -> Settings:
    """The settings read again (pyproject or .env may have changed), keeping the running stack's
    identity: its image name, compose project, port and .env file."""
    fresh = config.load(settings.root, settings.shell, quiet=settings.quiet)
    return fresh.with_(
        image=settings.image, project=settings.project, web_port=settings.web_port, env_file=settings.env_file
    )


def rebuild(run: Run, changed: Iterable[Path]) -> bool:
    """Rebuild dev and recreate web on it in a fresh Run; one line either way. True on success."""
    names = describe(changed, run.settings.root)
    started = time.monotonic()
    try:
        settings = reloaded(run.settings)
        with Run.open(settings, run.commands) as fresh:
            fresh.reporter.step(f"{names} changed: rebuilding the dev image")
            fresh.build("dev")
            stack = fresh.stack("dev")
            stack.up(["web"], action="recreating web on the new dev image", dependencies=False)
    except DockstageError as exc:
        run.reporter.warn(f"{names} changed, but {exc.one_line(run.commands)}; the running web was kept")
        return False
    run.reporter.ok(f"{names} changed: dev image rebuilt and web recreated in {time.monotonic() - started:.1f} s")
    return True


def run_tests(run: Run, changed: Iterable[Path]) -> bool:
    """The app's tests in the (re)built test image against the dev stack's database server, in a
    fresh Run (all of them: each run is a new container, with no cache of the last failures).
    One line either way; True when they passed."""
    names = describe(changed, run.settings.root)
    started = time.monotonic()
    try:
        with Run.open(reloaded(run.settings), run.commands) as fresh:
            counts = pipeline.test_image(fresh, stack=fresh.stack("test"))
    except DockstageError as exc:
        run.reporter.warn(f"{names} changed: {exc.one_line(run.commands)}")
        return False
    seconds = time.monotonic() - started
    run.reporter.ok(f"{names} changed: tests passed in {seconds:.1f} s ({pipeline.describe_counts(counts)})")
    return True


class CodeFilter(watchfiles.DefaultFilter):
    """Changes to the app's code (watchfiles' default ignores: caches, VCS, editors' swap files),
    never to the suite's own state folder."""

    def __init__(self, ignored: Iterable[Path]) -> None:
        super().__init__()
        self.ignored = tuple(ignored)

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        resolved = Path(path).resolve()
        return not any(resolved.is_relative_to(folder) for folder in self.ignored) and super().__call__(change, path)


def _only(wanted: set[Path]) -> Callable[[watchfiles.Change, str], bool]:
    """watchfiles' filter: changes to the files of `wanted` (a set the caller keeps up to date)."""
    return lambda _change, path: Path(path).resolve() in wanted


def _feed(
    into: queue.Queue[set[Path]],
    folders: list[Path],
    keep: Callable[[watchfiles.Change, str], bool],
    stop: threading.Event,
    *,
    recursive: bool,
) -> None:
    """One watchfiles watcher: each batch of changes it sees, put on `into`, until `stop`."""
    if not folders:
        return
    for changes in watchfiles.watch(
        *folders, watch_filter=keep, debounce=DEBOUNCE_MS, stop_event=stop, recursive=recursive, raise_interrupt=False
    ):
        into.put({Path(path).resolve() for _change, path in changes})


def _start_feed(
    into: queue.Queue[set[Path]],
    folders: list[Path],
    keep: Callable[[watchfiles.Change, str], bool],
    *,
    recursive: bool,
    name: str,
) -> threading.Event:
    """A watcher thread feeding `into` (see _feed); the event that stops it."""
    stop = threading.Event()
    threading.Thread(
        target=_feed, args=(into, folders, keep, stop), kwargs={"recursive": recursive}, daemon=True, name=name
    ).start()
    return stop


def _folders(files: Iterable[Path]) -> list[Path]:
    """The existing folders of `files`, each once, sorted (what a non-recursive watcher watches)."""
    return sorted({path.parent for path in files if path.parent.is_dir()})


def watch(run: Run, stop: threading.Event | None = None, *, test: bool = False) -> None:
    """Rebuild on every change to the dev image's inputs until `stop` is set (or Ctrl-C); with
    `test`, also run the app's tests after every change to its code or its dev image."""
    stop = stop or threading.Event()
    settings = run.settings
    inputs = dev_inputs(settings)
    changes: queue.Queue[set[Path]] = queue.Queue()
    feeds = [_start_feed(changes, _folders(inputs), _only(inputs), recursive=False, name="watch-inputs")]
    what = f"{len(inputs)} file(s) the dev image is built from ({describe(inputs, settings.root)})"
    if test:
        code = settings.path(settings.app_dir).resolve()
        ignored = [settings.path(settings.state_dir).resolve(), settings.root / ".git", settings.root / ".nox"]
        feeds.append(_start_feed(changes, [code], CodeFilter(ignored), recursive=True, name="watch-code"))
        what += f" and the code under {settings.app_dir}/ (the tests run after each change)"
    run.reporter.info(f"watching {what}: a change to the first rebuilds the dev image and recreates web")
    try:
        while not stop.is_set():
            try:
                changed = changes.get(timeout=0.5)
            except queue.Empty:
                continue
            while not changes.empty():  # what arrived meanwhile is part of the same change
                changed |= changes.get_nowait()
            built = {path for path in changed if path in inputs}
            ready = rebuild(run, built) if built else True
            if test and ready:
                run_tests(run, changed)
            try:
                now = dev_inputs(reloaded(run.settings))
            except DockstageError:
                now = set(inputs)  # pyproject unreadable now: the build just said so; keep watching
            if now != inputs:  # a new include or lock: watched too (the inputs' watcher restarted)
                inputs.clear()
                inputs.update(now)
                feeds[0].set()
                feeds[0] = _start_feed(changes, _folders(inputs), _only(inputs), recursive=False, name="watch-inputs")
    finally:
        for feed in feeds:
            feed.set()
