"""What users wait for: the pipeline, timed on a throwaway copy of the checkout.

Each timing is `pipeline.pipeline(run)` on a fresh Run (its own client, preflight and bases),
with the bench's own image name and compose project, so the user's images, stacks and `.env`
are never touched. The copy gets its own `.env` (fresh secrets) on first use, as a new checkout
does. Optionally, the README's main job on a simulated fresh machine (a tool outside the project).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dockstage.core import config
from dockstage.core.config import Settings
from dockstage.core.errors import DockstageError
from dockstage.core.report import Reporter
from dockstage.flows import pipeline
from dockstage.flows.run import Run
from harness.bench import stats as benchstats

IMAGE = "dockstage-bench/pipeline"
PROJECT = "dockstage-bench-pipeline"
MAIN_JOB = "bash .ci/provision && bash .ci/bootstrap && nox -s pipeline"  # the README's main job
FRESH_MACHINE_LIMIT_S = 1800

# What a new clone would not have: VCS data, caches, virtualenvs, generated state, the user's .env.
_NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".nox",
    ".venv",
    ".dockstage",
    ".env",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".benchmarks",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    "staticfiles",
    "db.sqlite3",
)

VIEWS = Path("app/notes/views.py")
REQUIREMENTS = Path("app/requirements/base.txt")


def checkout_copy(root: Path, into: Path) -> Path:
    """A copy of the checkout's working tree as a new clone would have it (no .git, caches or .env)."""
    target = into / "checkout"
    shutil.copytree(root, target, ignore=_NOT_COPIED, symlinks=True)
    return target


def copy_settings(settings: Settings, checkout: Path) -> Settings:
    """The run's settings re-read for the copy (same shell), with the bench's image and project."""
    return config.load(checkout, settings.shell, image=IMAGE, project=PROJECT, quiet=True)


def change_app_code(checkout: Path) -> None:
    """A comment appended to a view: the smallest app-code change (unique, so no cache holds it)."""
    views = checkout / VIEWS
    views.write_text(views.read_text(encoding="utf-8") + f"\n# bench change {uuid.uuid4().hex}\n", encoding="utf-8")


def change_dependency(checkout: Path, original: str) -> None:
    """`six` added to the runtime requirements; its comment is unique, so every run's change is new."""
    (checkout / REQUIREMENTS).write_text(original + f"six  # bench change {uuid.uuid4().hex}\n", encoding="utf-8")


def timed_pipeline(settings: Settings) -> dict[str, float]:
    """The pipeline on a fresh Run: its seconds (Run opened to Run closed) and pytest's own seconds."""
    junit = settings.path(settings.state_dir) / "reports" / "junit-app.xml"
    junit.unlink(missing_ok=True)
    started = time.monotonic()
    with Run.open(settings) as run:
        pipeline.pipeline(run)
    seconds = time.monotonic() - started
    return {"seconds": seconds, "pytest_seconds": benchstats.junit_seconds(junit.read_text(encoding="utf-8"))}


def measure(
    settings: Settings, workdir: Path, runs: int, parts: dict[str, float | None], reporter: Reporter
) -> dict[str, Any]:
    """A first pipeline (bench image name absent), then per run: warm, after an app change, after a dependency change."""
    checkout = checkout_copy(settings.root, workdir)
    original = (checkout / REQUIREMENTS).read_text(encoding="utf-8")
    scenarios: dict[str, Callable[[], None]] = {
        "warm": lambda: None,
        "app_change": lambda: change_app_code(checkout),
        "dependency_change": lambda: change_dependency(checkout, original),
    }

    errors: list[str] = []

    def one(name: str) -> dict[str, float]:
        started = time.monotonic()
        try:
            timed = timed_pipeline(copy_settings(settings, checkout))  # read afresh, as each command does
        except DockstageError as exc:  # recorded, not fatal: the run's other figures still stand
            errors.append(f"{name}: {exc.one_line()}")
            reporter.warn(f"pipeline {name} failed: {exc.one_line()}")
            return {"seconds": time.monotonic() - started, "green": 0.0}
        figures = {
            **timed,
            "green": 1.0,
            **benchstats.over_unavoidable(timed["seconds"], {**parts, "pytest": timed["pytest_seconds"]}),
        }
        reporter.info(
            f"pipeline {name}: {figures['seconds']:.1f}s (pytest {figures['pytest_seconds']:.1f}s, "
            f"{figures['over_unavoidable']:.2f}x its unavoidable parts)"
        )
        return figures

    reporter.step(f"pipeline on a copy of the checkout ({checkout}), image {IMAGE}, project {PROJECT}")
    first = one("first (bench image name absent, build cache as found)")
    results: dict[str, list[dict[str, float]]] = {name: [] for name in scenarios}
    for i in range(runs):
        for name, change in scenarios.items():
            reporter.step(f"run {i + 1}/{runs}: pipeline {name}")
            change()
            results[name].append(one(name))
    return {
        "first": first,
        "parts": {f"{k}_healthy_seconds": v for k, v in parts.items()},
        **{name: summarize(rs) for name, rs in results.items()},
        "errors": errors,
    }


def summarize(runs: list[dict[str, float]]) -> dict[str, Any]:
    """Medians over the green runs, how many failed, and every run as measured."""
    green = [r for r in runs if r.get("green") == 1.0]
    return {**benchstats.median_of_runs(green), "failed_runs": len(runs) - len(green), "runs": runs}


def fresh_machine(tool: Path, root: Path, reporter: Reporter, limit_s: int = FRESH_MACHINE_LIMIT_S) -> dict[str, Any]:
    """The README's main job in a simulated fresh machine (the checkout's committed HEAD), timed."""
    argv = [str(tool), str(root), MAIN_JOB, str(limit_s)]
    reporter.step(f"fresh machine: {shlex.join(argv)} (at most {limit_s} s)")
    started = time.monotonic()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=limit_s + 120, check=False)
        code, output = done.returncode, (done.stdout + done.stderr)
    except subprocess.TimeoutExpired as exc:
        code, output = -1, str(exc)
    seconds = time.monotonic() - started
    result: dict[str, Any] = {
        "measured": True,
        "command": MAIN_JOB,
        "tool": str(tool),
        "seconds": seconds,
        "exit_code": code,
        "green": code == 0,
        "split": fresh_split(output),
    }
    if code != 0:
        result["output_tail"] = output.strip().splitlines()[-20:]
        reporter.warn(f"fresh machine: the main job exited {code} after {seconds:.0f} s")
    else:
        reporter.info(f"fresh machine: pipeline green after {seconds:.1f}s")
    return result


_SPLIT_LINES = (
    ("provision", re.compile(r"^\[provision\] .*ready in (\d+) s$", re.MULTILINE)),
    ("bootstrap", re.compile(r"^\[bootstrap\] installed in (\d+) s$", re.MULTILINE)),
)
_SPLIT_ROW = re.compile(
    r"^│ (doctor|bases|build|db beside the build|test_image|image checks|smoke_prod) +│[^│\n]*│ ([\d.]+) +│$",
    re.MULTILINE,
)


def fresh_split(output: str) -> dict[str, float]:
    """Where the main job's seconds went, from its own output: provision and bootstrap (their last
    lines), then the pipeline's table (doctor, bases, build, the db beside it, tests, image checks, smoke)."""
    split = {name: float(found[1]) for name, pattern in _SPLIT_LINES if (found := pattern.search(output))}
    split.update({row[1]: float(row[2]) for row in _SPLIT_ROW.finditer(output)})
    return split
