"""Benchmark (issues 5 and 13): what users wait for, and the seed guide's way measured beside it.

`python -m harness.bench [--quick] [--fresh-machine [TOOL]]` (or `nox -s bench`) builds both
Dockerfiles on the same base in the same run, times cold / no-op / app-change / dependency-change
builds of all four stages, sizes every stage, times the suite's stack from `up` to healthy, times
the pipeline (warm, after an app change, after a dependency change) on a copy of the checkout, and
load-tests on 127.0.0.1 only (wrk where present): the suite's gunicorn against the machine's CPU
ceiling and against the seed guide's prod, with runserver as a reference. It writes
benchmarks/results/latest.json, benchmarks/REPORT.md and chart.png. Every Docker call goes through
python-on-whales; its own images, stacks and volumes are removed, nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from python_on_whales import DockerClient
from python_on_whales.components.compose.cli_wrapper import ComposeCLI
from python_on_whales.exceptions import DockerException

from dockstage.core import config
from dockstage.core.errors import CheckFailed, DockstageError, ServiceFailed
from dockstage.core.report import Reporter
from dockstage.flows.run import Run
from dockstage.images import stages
from dockstage.images.bases import BaseImages
from dockstage.stack import smoke
from dockstage.stack.compose import Stack
from harness.bench import devloop, loadgen, pipelines, rollout
from harness.bench import stats as benchstats
from harness.bench import swarm as benchswarm

ROOT = Path(__file__).resolve().parents[2]

BENCH_IMAGES = {"suite": "dockstage-bench/suite", "seed": "dockstage-bench/seed"}
BASE_REPO = "dockstage-bench/base"
BENCH_LABEL = "harness.bench.run"
SEED_DOCKERFILE = "benchmarks/Dockerfile.seed"
PROJECT = "dockstage-bench"
REBUILD_ORDER = ("prod", "dev", "test", "stage")  # prod first: "change code, rebuild prod" is timed alone
NOTES = 50
FRESH_MACHINE_TOOL = ROOT.parent / "shared" / "tools" / "fresh-machine"
SEED_PROD_OVERRIDE = """\
# Written by the bench for one run: web from the seed guide's prod image, started as that image
# says (its ENTRYPOINT: gunicorn with its defaults, one sync worker). It has no HEALTHCHECK.
services:
  web:
    image: {image}
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]
"""


def _elapsed(action: Callable[[], object]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def _dockerfile(run: Run, variant: str, context: Path) -> Path:
    """The suite's Dockerfile as the settings resolve it (the package's, or the project's own copy),
    which builds any context; the seed guide's from the context itself."""
    return run.settings.path(run.settings.dockerfile) if variant == "suite" else context / SEED_DOCKERFILE


def _build(
    run: Run, context: Path, dockerfile: Path, tag: str, target: str | None, base: str, *, cache: bool = True
) -> float:
    """One stage build of either Dockerfile through the suite's own stage build; its seconds."""
    built = stages.build_stage(
        run.settings,
        run.docker,
        BaseImages("bench", base, ""),
        run.reporter,
        target or "",
        tag=tag,
        dockerfile=dockerfile,
        context=context,
        cache=cache,
    )
    return built.seconds


def _fresh_base(run: Run, workdir: Path, python_base: str) -> str:
    """The base plus one tiny file naming the run, so no build cache of an earlier run applies.

    A label-only copy is not enough: BuildKit keys its cache on the base's layers, not its config.
    """
    name = uuid.uuid4().hex[:12]
    tag = f"{BASE_REPO}:{name}"
    workdir = workdir / name
    workdir.mkdir(parents=True)
    (workdir / "Dockerfile.base").write_text(
        f"FROM {python_base}\nLABEL {BENCH_LABEL}={name}\nRUN echo {name} > /etc/dockstage-bench-run\n",
        encoding="utf-8",
    )
    _build(run, workdir, workdir / "Dockerfile.base", tag, None, python_base)
    return tag


def _context_copy(root: Path, into: Path) -> Path:
    """A throwaway copy of what the build context holds (the real checkout is never modified)."""
    context = into / "context"
    shutil.copytree(root / "app", context / "app", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "staticfiles"))
    (context / "benchmarks").mkdir()
    shutil.copy2(root / SEED_DOCKERFILE, context / SEED_DOCKERFILE)
    shutil.copy2(root / ".dockerignore", context / ".dockerignore")
    return context


def build_scenarios(run: Run, root: Path, variant: str, base: str, workdir: Path) -> dict[str, dict[str, float]]:
    """One run of the four build scenarios for one Dockerfile; seconds per stage, all four, prod."""
    context = _context_copy(root, workdir / variant)
    image, dockerfile = BENCH_IMAGES[variant], _dockerfile(run, variant, context)

    def four(order: Sequence[str], cold: bool = False) -> dict[str, float]:
        times = {
            s: _build(run, context, dockerfile, f"{image}:{s}", s, base, cache=not (cold and i == 0))
            for i, s in enumerate(order)
        }
        return {
            "all_four_seconds": sum(times.values()),
            "prod_seconds": times["prod"],
            **{f"{s}_seconds": t for s, t in times.items()},
        }

    out: dict[str, dict[str, float]] = {}
    run.reporter.info(f"{variant}: cold build (fresh base, dev with no cache)")
    out["cold"] = four(benchstats.STAGE_NAMES, cold=True)
    run.reporter.info(f"{variant}: no-op rebuild")
    out["noop"] = four(REBUILD_ORDER)
    views = context / "app" / "notes" / "views.py"
    views.write_text(views.read_text(encoding="utf-8") + f"\n# bench change {uuid.uuid4().hex}\n", encoding="utf-8")
    run.reporter.info(f"{variant}: rebuild after an app source change")
    out["app_change"] = four(REBUILD_ORDER)
    with (context / "app" / "requirements" / "base.txt").open("a", encoding="utf-8") as handle:
        handle.write("six\n")
    run.reporter.info(f"{variant}: rebuild after adding a dependency (six)")
    out["dependency_change"] = four(REBUILD_ORDER)
    run.reporter.info(f"{variant}: " + ", ".join(f"{k} {v['all_four_seconds']:.1f}s" for k, v in out.items()))
    return out


def image_sizes(docker: DockerClient, base: str) -> dict[str, Any]:
    """Bytes of each bench image and bytes added over the base image."""
    base_bytes = docker.image.inspect(base).size or 0
    sizes: dict[str, Any] = {"base_bytes": base_bytes}
    for variant, image in BENCH_IMAGES.items():
        sizes[variant] = {}
        for stage in benchstats.STAGE_NAMES:
            size = docker.image.inspect(f"{image}:{stage}").size or 0
            sizes[variant][stage] = {"bytes": size, "over_base_bytes": size - base_bytes}
    return sizes


def _container_ids(stack: Stack, services: Sequence[str] = ("web", "db")) -> dict[str, str]:
    """The running container id of each service (whose cgroup counters the load is measured by)."""
    ids = {}
    for service in services:
        for container in stack.compose.ps(services=[service]):
            ids[service] = container.id
    return ids


def _seed_prod_stack(prod: Stack, workdir: Path) -> Stack:
    """The same compose project with web from the seed guide's prod image (a compose override file)."""
    override = workdir / "compose.seed-prod.yaml"
    override.write_text(SEED_PROD_OVERRIDE.format(image=f"{BENCH_IMAGES['seed']}:prod"), encoding="utf-8")
    client_config = prod.compose.client_config
    files = [*(client_config.compose_files or []), override]
    return Stack(
        prod.settings,
        prod.docker,
        ComposeCLI(dataclasses.replace(client_config, compose_files=files)),
        prod.reporter,
    )


def _up(stack: Stack, services: list[str], retried: list[str], reporter: Reporter) -> None:
    """`up` with one retry when a service fails to come up (recorded: the engine is shared, and a
    neighbour's network changes have made a fresh container miss the db's name here)."""
    try:
        stack.up(services)
    except ServiceFailed as exc:
        retried.append(f"{stack.project} up {' '.join(services)}: {exc.one_line()}")
        reporter.warn(f"{retried[-1]}; retrying once")
        stack.up(services)


def stack_bench(
    run: Run, runs: int, params: dict[str, Any], generator: loadgen.Generator, workdir: Path, retried: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Up-to-healthy times (fresh and existing volume), then load: gunicorn, the seed's prod, runserver."""
    run.settings = run.settings.with_(image=BENCH_IMAGES["suite"], project=PROJECT, web_port=0, quiet=True)
    prod = run.stack("smoke")  # web publishes its own port (no proxy): gunicorn itself is measured
    health: dict[str, list[dict[str, float]]] = {"fresh_volume": [], "existing_volume": []}
    try:
        prod.down(volumes=True)
        for _ in range(runs):
            for volume in ("fresh_volume", "existing_volume"):
                prod.down(volumes=volume == "fresh_volume")
                started = time.monotonic()
                _up(prod, ["db"], retried, run.reporter)
                db = time.monotonic() - started
                _up(prod, ["web"], retried, run.reporter)
                web = time.monotonic() - started
                health[volume].append({"db_seconds": db, "web_up_seconds": web - db, "web_seconds": web})
                run.reporter.info(f"{volume}: db healthy {db:.1f}s, then web healthy {web - db:.1f}s")
        url = prod.url()
        token = run.settings.value("API_TOKEN")
        run.reporter.step(f"seeding {NOTES} notes through the API at {url}")
        for i in range(NOTES):
            created = smoke.fetch(f"{url}/api/notes/", method="POST", body={"text": f"bench note {i}"}, token=token)
            if created.status != 201:
                raise CheckFailed(f"seeding notes failed: POST gave {created.status}", "see `docker compose logs web`")
        results: dict[str, Any] = {}
        run.reporter.step(f"load ({generator.describe()}): gunicorn (the suite's prod image)")
        results["gunicorn"] = loadgen.http_bench(generator, url, runs, params, _container_ids(prod), run.reporter)
        run.reporter.step("load: the seed guide's prod (gunicorn defaults), same db volume and data")
        seed = _seed_prod_stack(prod, workdir)
        _up(seed, ["web"], retried, run.reporter)
        results["seed_prod"] = loadgen.http_bench(
            generator, seed.url(), runs, params, _container_ids(seed), run.reporter
        )
        run.reporter.step("load: runserver (dev image, same db volume and data), a reference")
        dev = run.stack("dev")
        _up(dev, ["web"], retried, run.reporter)
        results["runserver"] = loadgen.http_bench(generator, dev.url(), runs, params, _container_ids(dev), run.reporter)
    finally:
        prod.down(volumes=True)
    return {k: benchstats.median_of_runs(v) for k, v in health.items()}, results


def _cleanup(docker: DockerClient, extra: Sequence[str]) -> None:
    images = [*BENCH_IMAGES.values(), pipelines.IMAGE, rollout.IMAGE, devloop.IMAGE]
    tags = [f"{image}:{stage}" for image in images for stage in benchstats.STAGE_NAMES] + list(extra)
    for tag in tags:
        with contextlib.suppress(DockerException):
            docker.image.remove(tag, force=True)
    # Images a later bench build replaced: untagged ones with the fresh base's label, or built under
    # the bench pipeline's image name (the suite labels each build with its image name).
    for label in (BENCH_LABEL, f"dockstage.image={pipelines.IMAGE}"):
        for image in docker.image.list(filters=[("dangling", "true"), ("label", label)]):
            with contextlib.suppress(DockerException):
                docker.image.remove(image.id)


def measure(run: Run, quick: bool, fresh_machine_tool: Path | None = None, swarm: bool = False) -> dict[str, Any]:
    """Every measurement; returns the results mapping written to latest.json."""
    run.preflight("buildx", "compose", "disk")
    bases = run.provided_bases()
    docker = run.docker
    runs = 1 if quick else 3
    cores = os.cpu_count() or 1
    generator = loadgen.find_generator()
    params: dict[str, Any] = {
        "cores": cores,
        "connections": 8,
        "threads": min(cores, 8),
        "seconds": 10 if quick else 20,
        "warmup_seconds": 2 if quick else 5,
        "max_requests": 30_000 if quick else 60_000,  # the Python generator's count bound (wrk has none)
    }
    loadavg_start = [round(v, 2) for v in os.getloadavg()]
    run.reporter.step(
        f"bench ({'quick, ' if quick else ''}{runs} run(s)) on {bases.python}; load average {loadavg_start}"
    )
    root = run.settings.root
    created: list[str] = []
    builds: dict[str, list[dict[str, dict[str, float]]]] = {"suite": [], "seed": []}
    fresh: dict[str, Any] = {"measured": False}
    retried: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="dockstage-bench-", dir="/var/tmp") as tmp:
            for i in range(runs):
                base = _fresh_base(run, Path(tmp), bases.python)
                created.append(base)
                for variant in ("suite", "seed"):
                    run.reporter.step(f"run {i + 1}/{runs}: {variant} builds")
                    builds[variant].append(build_scenarios(run, root, variant, base, Path(tmp) / f"r{i}"))
            run.reporter.step("sizes, on the real checkout and the resolved base")
            for variant, image in BENCH_IMAGES.items():
                for stage in benchstats.STAGE_NAMES:
                    _build(run, root, _dockerfile(run, variant, root), f"{image}:{stage}", stage, bases.python)
            sizes = image_sizes(docker, bases.python)
            run.reporter.step("stack: up -> healthy, then load")
            health, http = stack_bench(run, runs, params, generator, Path(tmp), retried)
            parts: dict[str, float | None] = {
                "db": benchstats.lookup(health, "fresh_volume", "db_seconds"),
                "web": benchstats.lookup(health, "fresh_volume", "web_up_seconds"),
            }
            timed = pipelines.measure(run.settings, Path(tmp) / "pipelines", runs, parts, run.reporter)
            rolled = rollout.measure(run.settings, Path(tmp) / "rollout", runs, run.reporter)
            looped = devloop.measure(run.settings, Path(tmp) / "devloop", runs, run.reporter)
            shipped: dict[str, Any] = {"measured": False, "reason": "not asked for: `--swarm`"}
            if swarm:  # the prod image built from the real checkout for the sizes
                run.reporter.step("swarm: rollout and rollback on a one-node swarm")
                shipped = benchswarm.measure(
                    run.settings, docker, run.reporter, f"{BENCH_IMAGES['suite']}:prod", Path(tmp)
                )
            shipped.setdefault("harness", benchstats.read_harness(root / benchswarm.HARNESS_JSON))
        if fresh_machine_tool is not None:
            fresh = pipelines.fresh_machine(fresh_machine_tool, root, run.reporter)
    finally:
        _cleanup(docker, created)
    try:
        engine_version = str(docker.version().server.version)  # type: ignore[union-attr]
    except (DockerException, AttributeError):
        engine_version = "unknown"
    results: dict[str, Any] = {
        "meta": {
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "quick": quick,
            "runs": runs,
            "cpu_count": cores,
            "loadavg_start": loadavg_start,
            "engine_version": engine_version,
            "flavour": bases.flavour,
            "python_base": bases.python,
            "mysql_base": bases.mysql,
            "load_generator": generator.describe(),
            "load": params,
            "stack_retries": retried,
        },
        "builds": {
            v: {
                s: {**benchstats.median_of_runs([r[s] for r in rs]), "runs": [r[s] for r in rs]}
                for s in benchstats.SCENARIOS
            }
            for v, rs in builds.items()
        },
        "sizes": sizes,
        "health": health,
        "pipelines": timed,
        "fresh_machine": fresh,
        "http": http,
        "rollout": rolled,
        "devloop": looped,
        "swarm": shipped,
        "notes": _method_notes(params, generator),
    }
    notes_rps = {server: benchstats.lookup(http, server, "notes", "rps") for server in benchstats.SERVERS}
    results["ratios"] = {
        **{
            f"{s}_all_four": benchstats.ratio(
                results["builds"]["suite"][s]["all_four_seconds"], results["builds"]["seed"][s]["all_four_seconds"]
            )
            for s in benchstats.SCENARIOS
        },
        "prod_over_base_bytes": benchstats.ratio(
            sizes["suite"]["prod"]["over_base_bytes"], sizes["seed"]["prod"]["over_base_bytes"]
        ),
        "gunicorn_over_seed_prod_notes_rps": benchstats.ratio(notes_rps["gunicorn"], notes_rps["seed_prod"]),
        "gunicorn_over_runserver_notes_rps": benchstats.ratio(notes_rps["gunicorn"], notes_rps["runserver"]),
        "gunicorn_notes_fraction_of_ceiling": benchstats.lookup(http, "gunicorn", "notes", "fraction_of_ceiling"),
        **{
            f"pipeline_{s}_over_unavoidable": benchstats.lookup(timed, s, "over_unavoidable")
            for s in benchstats.PIPELINE_SCENARIOS
        },
    }
    results["targets"] = [t.as_dict() for t in benchstats.evaluate_targets(results)]
    return results


def _method_notes(params: dict[str, Any], generator: loadgen.Generator) -> list[str]:
    return [
        "Both Dockerfiles build from the same context copy in /var/tmp (app/, the seed's Dockerfile, .dockerignore; "
        "dockstage stages its .dockstage/build files into it, as for any build); the suite's Dockerfile is the one "
        "the settings resolve (the package's dockstage/data/Dockerfile unless the project has its own copy). They "
        "build on the resolved python base plus one "
        "33-byte file naming the run (made fresh for each run), so no earlier layer cache applies; "
        "the first stage of the cold build also passes --no-cache. BuildKit cache mounts (the suite's apt and "
        "uv caches) are not cleared: the engine is shared, and keeping them is how the suite is meant to run.",
        "Scenarios build the four stages one buildx call each; rebuilds build prod first so prod_seconds is the "
        "time to get a new prod image after the change. App change: a comment appended to app/notes/views.py; "
        "dependency change: `six` appended to app/requirements/base.txt (in the copy only).",
        "Sizes: images rebuilt from the real checkout on the resolved base; over_base_bytes = size - base size.",
        "Up->healthy: compose project dockstage-bench, `up --wait` of db, then of web (migrate included); "
        "db_seconds is `up db` to healthy, web_up_seconds `up web` (db already healthy) to healthy, web_seconds "
        "both together.",
        f"Pipelines: `pipeline.pipeline(run)` on a fresh Run (own client, preflight, bases), timed from opening "
        f"the Run to closing it, on a copy of the checkout's working tree in /var/tmp (no .git, caches or .env; "
        f"the copy makes its own .env) with image `{pipelines.IMAGE}` and project `{pipelines.PROJECT}`: the user's "
        "images, stacks and .env are never touched. Python and nox start-up are not included. A first pipeline "
        "(bench image name absent, BuildKit cache as found) is recorded, not a target. Then per run: warm "
        "(nothing changed), after a comment appended to app/notes/views.py, after `six` added to "
        "app/requirements/base.txt (the line carries a unique comment so each run's change is new to the cache; "
        "from run 2 on six is already there, the build redoes the same install). Unavoidable parts: db healthy "
        "and web healthy from this run's fresh-volume up->healthy figures, pytest's own duration from the junit "
        "report's `time` attribute of that pipeline; pipeline / unavoidable is the ratio.",
        "Fresh machine: only with --fresh-machine: the README's main job "
        f"(`{pipelines.MAIN_JOB}`) run by ../shared/tools/fresh-machine (docker-in-docker, a clone of the "
        "committed HEAD, no images or caches), timed around the tool; else `not measured`.",
        f"Load: {generator.describe()} against 127.0.0.1 only, {params['connections']} connections, "
        f"{params['threads']} threads, {params['warmup_seconds']} s warm-up then {params['seconds']} s per run "
        f"(the Python fallback also stops at {params['max_requests']} requests); {NOTES} notes seeded through the "
        "API first. req/s counts 2xx/3xx answers only. gunicorn (the suite's prod) runs GUNICORN_WORKERS "
        "(compose default 3) gthread workers of GUNICORN_THREADS (4) threads, keep-alive on. Seed prod: "
        "benchmarks/Dockerfile.seed's prod, built from the real checkout on the same base, started by its own "
        "ENTRYPOINT (gunicorn's defaults: 1 sync worker, no keep-alive) in the same compose project, db volume "
        "and data, with a /healthz healthcheck added (the seed image has none). runserver: the dev image, "
        "threaded, DEBUG on, a reference row.",
        "CPU: each container's cgroup counter (v1 cpuacct.usage, v2 cpu.stat usage_usec) read before and after "
        "each run; the load generator's own CPU from getrusage (wrk: RUSAGE_CHILDREN around its run; the Python "
        "generator: this process). The healthchecks' probes (web and db, every 2 s) run inside those cgroups and "
        "are counted. docker-proxy: dockerd's userland proxy, which relays every connection to a port published "
        "on 127.0.0.1 (its default), from /proc/<pid>/stat of the processes serving that port (none, so no "
        "column, where the proxy is off). Ceiling = cores / (CPU seconds per request of web + db + load "
        "generator + docker-proxy): the req/s if the machine's every core did nothing else. `of ceiling` = "
        "req/s / ceiling, i.e. the share of the cores those parts kept busy. `cores used (others)` is the rest of the machine during the run, from "
        "/proc/stat: other work on a shared machine lowers req/s, not the ceiling.",
    ]


def write_outputs(results: dict[str, Any], out_dir: Path) -> list[Path]:
    """latest.json, REPORT.md and chart.png under out_dir (benchmarks/)."""
    targets = benchstats.evaluate_targets(results)
    return [
        benchstats.write_json(out_dir / "results" / "latest.json", results),
        benchstats.write_chart(out_dir / "chart.png", results),
        benchstats.write_markdown(out_dir / "REPORT.md", results, targets),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 run of each timing and a shorter load (minutes, not tens)"
    )
    parser.add_argument(
        "--fresh-machine",
        nargs="?",
        const=str(FRESH_MACHINE_TOOL),
        default=None,
        metavar="TOOL",
        help="also time the README's main job on a simulated fresh machine, run by TOOL "
        f"(default {FRESH_MACHINE_TOOL}); without it that figure is 'not measured'",
    )
    parser.add_argument(
        "--swarm",
        action="store_true",
        help="also time rollout and rollback on a one-node swarm (about 5 minutes; not part of --quick)",
    )
    parser.add_argument(
        "--only",
        choices=["swarm"],
        help="run one section alone: its tables printed and written to benchmarks/results/<section>-only.json "
        "(latest.json and REPORT.md are left as they are)",
    )
    args = parser.parse_args(argv)
    if args.only == "swarm":
        return swarm_only()
    tool = Path(args.fresh_machine).resolve() if args.fresh_machine else None
    if tool is not None and not tool.is_file():
        parser.error(f"--fresh-machine: {tool} does not exist")
    reporter = Reporter()
    try:
        with Run.open(config.load(ROOT, quiet=True)) as run:
            results = measure(run, args.quick, tool, swarm=args.swarm)
        paths = write_outputs(results, ROOT / "benchmarks")
    except DockstageError as exc:
        print(exc.one_line(), file=sys.stderr)
        return exc.return_code
    reporter.table(
        "bench: suite vs seed baseline",
        ("measure", "suite", "seed baseline", "suite / baseline"),
        benchstats.summary_rows(results),
    )
    reporter.table("what users wait for", benchstats.PIPELINE_HEADER, benchstats.pipeline_rows(results))
    reporter.table("throughput against the ceiling", benchstats.THROUGHPUT_HEADER, benchstats.throughput_rows(results))
    _swarm_tables(reporter, results)
    targets = benchstats.evaluate_targets(results)
    reporter.table(
        "targets",
        ("target", "value", "limit", "result"),
        [(t.name, benchstats.fmt(t.value), f"{t.comparison} {t.limit:g} {t.unit}", t.verdict()) for t in targets],
    )
    for path in paths:
        reporter.ok(f"wrote {path.relative_to(ROOT)}")
    return 0


def _swarm_tables(reporter: Reporter, results: dict[str, Any]) -> None:
    if benchstats.swarm_rows(results):
        reporter.table(
            "swarm: rollout and rollback (one node)", benchstats.SWARM_HEADER, benchstats.swarm_rows(results)
        )
    if benchstats.harness_rows(results):
        reporter.table(
            "swarm: the three-node harness (last run)", benchstats.HARNESS_HEADER, benchstats.harness_rows(results)
        )


def swarm_only() -> int:
    """`--only swarm`: the swarm section alone on the checkout's prod image (built if needed)."""
    reporter = Reporter()
    try:
        with Run.open(config.load(ROOT, quiet=True)) as run:
            source = run.build("prod")[-1].tag
            with tempfile.TemporaryDirectory(prefix="dockstage-bench-swarm-", dir="/var/tmp") as tmp:
                shipped = benchswarm.measure(run.settings, run.docker, reporter, source, Path(tmp))
    except DockstageError as exc:
        print(exc.one_line(), file=sys.stderr)
        return exc.return_code
    results = {
        "meta": {"timestamp": datetime.now(UTC).isoformat(timespec="seconds"), "only": "swarm"},
        "swarm": shipped,
    }
    path = benchstats.write_json(ROOT / "benchmarks" / "results" / "swarm-only.json", results)
    _swarm_tables(reporter, results)
    reporter.ok(f"wrote {path.relative_to(ROOT)} (latest.json and REPORT.md untouched)")
    return 0 if shipped.get("measured") else 1


if __name__ == "__main__":
    raise SystemExit(main())
