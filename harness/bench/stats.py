"""Pure parts of the benchmark: statistics, ratios, the targets, and the JSON/markdown/PNG outputs."""

from __future__ import annotations

import json
import math
import statistics
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCENARIOS = ("cold", "noop", "app_change", "dependency_change")
PIPELINE_SCENARIOS = ("warm", "app_change", "dependency_change")
SERVERS = ("gunicorn", "seed_prod", "runserver")
SERVER_NAMES = {
    "gunicorn": "gunicorn (suite prod)",
    "seed_prod": "seed prod (gunicorn defaults: 1 sync worker)",
    "runserver": "runserver (dev, reference)",
}
STAGE_NAMES = ("dev", "test", "stage", "prod")


def median(values: Sequence[float]) -> float:
    """The median; NaN for no values."""
    return float(statistics.median(values)) if values else math.nan


def percentile(values: Sequence[float], pct: float) -> float:
    """The pct-th percentile (0-100) with linear interpolation between ranks; NaN for no values."""
    if not values:
        return math.nan
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile {pct} is outside 0-100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing, NaN or the denominator is 0."""
    if numerator is None or denominator is None or math.isnan(numerator) or math.isnan(denominator) or denominator == 0:
        return None
    return numerator / denominator


def summarize_load(latencies_s: Sequence[float], errors: int, elapsed_s: float) -> dict[str, float | int]:
    """Requests per second and latency percentiles of one load run (successful requests only)."""
    return {
        "requests": len(latencies_s),
        "errors": errors,
        "elapsed_seconds": round(elapsed_s, 3),
        "rps": round(len(latencies_s) / elapsed_s, 1) if elapsed_s > 0 else 0.0,
        "p50_ms": round(percentile(latencies_s, 50) * 1000, 2) if latencies_s else math.nan,
        "p99_ms": round(percentile(latencies_s, 99) * 1000, 2) if latencies_s else math.nan,
    }


def median_of_runs(runs: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Per key, the median over runs (each run a {key: number} mapping); keeps the raw runs too."""
    keys = [k for k in runs[0]] if runs else []
    return {k: round(median([float(r[k]) for r in runs if k in r]), 3) for k in keys}


def ceiling_rps(cores: float, cpu_seconds_per_request: float | None) -> float | None:
    """The machine's ceiling: requests/s when every core does nothing but serve (and load) requests."""
    if cpu_seconds_per_request is None or math.isnan(cpu_seconds_per_request) or cpu_seconds_per_request <= 0:
        return None
    return cores / cpu_seconds_per_request


def cpu_figures(
    cores: int,
    *,
    requests: int,
    elapsed_s: float,
    rps: float,
    cpu_seconds: Mapping[str, float | None],
    machine_busy_cores: float | None,
) -> dict[str, float]:
    """CPU ms per request of each part (web, db, client), their total, the ceiling and rps's share of it.

    The ceiling is cores / (CPU seconds per request of every part, the load generator's share
    included); `used_cores` is what those parts used during the run, `other_cores` what the rest of
    the machine used at the same time (NaN where a counter was unreadable).
    """
    nan = math.nan
    out: dict[str, float] = {}
    for name, seconds in cpu_seconds.items():
        out[f"{name}_cpu_ms_per_request"] = seconds / requests * 1e3 if seconds is not None and requests else nan
    parts = list(cpu_seconds.values())
    total = sum(s for s in parts if s is not None) if parts and all(s is not None for s in parts) else None
    per_request = total / requests if total is not None and requests else None
    ceiling = ceiling_rps(cores, per_request)
    fraction = ratio(rps, ceiling)
    used = total / elapsed_s if total is not None and elapsed_s > 0 else None
    out["cpu_ms_per_request"] = per_request * 1e3 if per_request is not None else nan
    out["ceiling_rps"] = ceiling if ceiling is not None else nan
    out["fraction_of_ceiling"] = fraction if fraction is not None else nan
    out["used_cores"] = used if used is not None else nan
    out["machine_busy_cores"] = machine_busy_cores if machine_busy_cores is not None else nan
    out["other_cores"] = machine_busy_cores - used if machine_busy_cores is not None and used is not None else nan
    return out


def junit_seconds(xml_text: str) -> float:
    """pytest's own duration: the `time` attribute of the (first) testsuite of a junit report."""
    root = ET.fromstring(xml_text)  # noqa: S314 - written by our own pytest run in the test image
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None or suite.get("time") is None:
        raise ValueError("the junit report has no testsuite time")
    return float(suite.get("time", "nan"))


def over_unavoidable(pipeline_s: float, parts: Mapping[str, float | None]) -> dict[str, float]:
    """A pipeline's seconds against the sum of its unavoidable parts (db healthy, pytest, web healthy)."""
    known = [p for p in parts.values() if p is not None and not math.isnan(p)]
    total = sum(known) if len(known) == len(parts) and parts else None
    share = ratio(pipeline_s, total)
    return {
        "unavoidable_seconds": total if total is not None else math.nan,
        "over_unavoidable": share if share is not None else math.nan,
    }


@dataclass(frozen=True)
class Target:
    """One goal of the benchmark, and whether this run met it (`failed`: the thing timed did not succeed)."""

    name: str
    value: float | None
    limit: float
    unit: str
    comparison: str  # "<=" or ">="
    failed: bool = False

    @property
    def met(self) -> bool | None:
        if self.failed:
            return False
        if self.value is None or math.isnan(self.value):
            return None
        return self.value <= self.limit if self.comparison == "<=" else self.value >= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met}

    def verdict(self) -> str:
        if self.failed:
            return "NOT met (failed)"
        return {True: "met", False: "NOT met", None: "not measured"}[self.met]


def lookup(data: Mapping[str, Any], *keys: str) -> float | None:
    """The number at data[k1][k2]..., or None when it is missing or not a number."""
    node: Any = data
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def _fresh_machine(results: Mapping[str, Any]) -> tuple[float | None, bool]:
    """(seconds, failed) of the fresh-machine run; (None, False) when it was not measured."""
    fresh = results.get("fresh_machine")
    if not isinstance(fresh, Mapping) or not fresh.get("measured"):
        return None, False
    return lookup(fresh, "seconds"), not fresh.get("green", False)


def evaluate_targets(results: Mapping[str, Any]) -> list[Target]:
    """The targets (issue 5's sizes and rebuilds, issue 13's throughput and waits), from latest.json's shape."""
    b = ("builds",)
    notes = ("http", "gunicorn", "notes")
    fresh_seconds, fresh_failed = _fresh_machine(results)
    return [
        Target(
            "prod bytes over base <= 25% of the baseline's",
            ratio(
                lookup(results, "sizes", "suite", "prod", "over_base_bytes"),
                lookup(results, "sizes", "seed", "prod", "over_base_bytes"),
            ),
            0.25,
            "ratio",
            "<=",
        ),
        Target(
            "no-op rebuild of all four stages <= 2 s",
            lookup(results, *b, "suite", "noop", "all_four_seconds"),
            2.0,
            "s",
            "<=",
        ),
        Target(
            "app-code change -> prod rebuilt <= 5 s",
            lookup(results, *b, "suite", "app_change", "prod_seconds"),
            5.0,
            "s",
            "<=",
        ),
        Target(
            "dependency change (all four) <= 50% of the baseline's",
            ratio(
                lookup(results, *b, "suite", "dependency_change", "all_four_seconds"),
                lookup(results, *b, "seed", "dependency_change", "all_four_seconds"),
            ),
            0.5,
            "ratio",
            "<=",
        ),
        Target(
            "gunicorn >= 90% of the machine's ceiling on /api/notes/",
            lookup(results, *notes, "fraction_of_ceiling"),
            0.9,
            "of the ceiling",
            ">=",
        ),
        Target(
            "gunicorn >= 1.8x the seed guide's prod requests/s on /api/notes/",
            ratio(lookup(results, *notes, "rps"), lookup(results, "http", "seed_prod", "notes", "rps")),
            1.8,
            "x",
            ">=",
        ),
        Target(
            "warm pipeline (images cached, nothing changed) <= 5 s",
            lookup(results, "pipelines", "warm", "seconds"),
            5.0,
            "s",
            "<=",
            failed=bool(lookup(results, "pipelines", "warm", "failed_runs")),
        ),
        Target(
            "app-code change -> pipeline green <= 8 s",
            lookup(results, "pipelines", "app_change", "seconds"),
            8.0,
            "s",
            "<=",
            failed=bool(lookup(results, "pipelines", "app_change", "failed_runs")),
        ),
        Target(
            "failed requests during `invoke up` of a changed release = 0",
            lookup(results, "rollout", "changed_release", "failed_requests"),
            0.0,
            "requests",
            "<=",
            failed=bool(lookup(results, "rollout", "changed_release", "failed_runs")),
        ),
        Target(
            "failed requests during `invoke up` of a broken release = 0",
            lookup(results, "rollout", "broken_release", "failed_requests"),
            0.0,
            "requests",
            "<=",
            failed=bool(lookup(results, "rollout", "broken_release", "failed_runs")),
        ),
        Target(
            "fresh machine -> pipeline green <= 90 s",
            fresh_seconds,
            90.0,
            "s",
            "<=",
            failed=fresh_failed,
        ),
    ]


def fmt(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def pct(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.0%}"


def summary_rows(results: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, suite, seed baseline, suite/baseline) rows: the table printed and written to REPORT.md."""
    rows: list[tuple[str, str, str, str]] = []
    for scenario in SCENARIOS:
        for key in ("all_four_seconds", "prod_seconds"):
            s = lookup(results, "builds", "suite", scenario, key)
            o = lookup(results, "builds", "seed", scenario, key)
            rows.append((f"build {scenario}: {key}", fmt(s), fmt(o), fmt(ratio(s, o))))
    for stage in STAGE_NAMES:
        for key in ("bytes", "over_base_bytes"):
            s = lookup(results, "sizes", "suite", stage, key)
            o = lookup(results, "sizes", "seed", stage, key)
            rows.append((f"size {stage}: {key} (MB)", fmt(s and s / 1e6, 1), fmt(o and o / 1e6, 1), fmt(ratio(s, o))))
    for volume in ("fresh_volume", "existing_volume"):
        for key in ("db_seconds", "web_up_seconds", "web_seconds"):
            rows.append((f"up->healthy {volume}: {key}", fmt(lookup(results, "health", volume, key)), "", ""))
    for scenario in PIPELINE_SCENARIOS:
        value = lookup(results, "pipelines", scenario, "seconds")
        rows.append((f"pipeline {scenario}: seconds", fmt(value), "", ""))
    rows.append(
        (
            "dependency change seen by invoke dev: seconds",
            fmt(lookup(results, "devloop", "dependency_change_seconds"), 1),
            "",
            "",
        )
    )
    for scenario in ("changed_release", "broken_release"):
        for key in ("seconds", "failed_requests", "requests"):
            value = lookup(results, "rollout", scenario, key)
            rows.append((f"invoke up of a {scenario.replace('_', ' ')}: {key}", fmt(value, 1), "", ""))
    for path in ("healthz", "notes"):
        for key in ("rps", "p50_ms", "p99_ms"):
            g = lookup(results, "http", "gunicorn", path, key)
            o = lookup(results, "http", "seed_prod", path, key)
            rows.append((f"http {path}: {key} (gunicorn | seed prod)", fmt(g, 1), fmt(o, 1), fmt(ratio(g, o))))
    return rows


def pipeline_rows(results: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """What users wait for: each pipeline's seconds against the sum of its unavoidable parts."""
    parts = results.get("pipelines", {}).get("parts", {})
    db, web = lookup(parts, "db_healthy_seconds"), lookup(parts, "web_healthy_seconds")
    rows: list[tuple[str, ...]] = []
    labels = {
        "warm": "warm (images cached, nothing changed)",
        "app_change": "after an app-code change",
        "dependency_change": "after a dependency change",
    }
    for scenario in PIPELINE_SCENARIOS:
        node = ("pipelines", scenario)
        failed = int(lookup(results, *node, "failed_runs") or 0)
        rows.append(
            (
                labels[scenario] + (f" ({failed} run(s) failed)" if failed else ""),
                fmt(lookup(results, *node, "seconds")),
                fmt(db),
                fmt(lookup(results, *node, "pytest_seconds")),
                fmt(web),
                fmt(lookup(results, *node, "unavoidable_seconds")),
                fmt(lookup(results, *node, "over_unavoidable")),
            )
        )
    fresh_seconds, fresh_failed = _fresh_machine(results)
    fresh = results.get("fresh_machine", {})
    shown = "not measured" if not fresh.get("measured") else fmt(fresh_seconds) + (" (failed)" if fresh_failed else "")
    split = fresh.get("split") or {}
    if split:
        shown += " (" + ", ".join(f"{step} {fmt(seconds)}" for step, seconds in split.items()) + ")"
    rows.append(("fresh machine: the README's main job", shown, "", "", "", "", ""))
    return rows


def throughput_rows(results: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """Each server and path: req/s, latency, CPU per request by part, the ceiling and the share of it."""
    rows: list[tuple[str, ...]] = []
    for server in SERVERS:
        for path, shown in (("notes", "/api/notes/"), ("healthz", "/healthz")):
            node = ("http", server, path)
            if lookup(results, *node, "rps") is None:
                continue
            rows.append(
                (
                    SERVER_NAMES[server],
                    shown,
                    fmt(lookup(results, *node, "rps"), 1),
                    fmt(lookup(results, *node, "p50_ms")),
                    fmt(lookup(results, *node, "p99_ms")),
                    fmt(lookup(results, *node, "errors"), 0),
                    fmt(lookup(results, *node, "web_cpu_ms_per_request"), 3),
                    fmt(lookup(results, *node, "db_cpu_ms_per_request"), 3),
                    fmt(lookup(results, *node, "client_cpu_ms_per_request"), 3),
                    fmt(lookup(results, *node, "proxy_cpu_ms_per_request"), 3),
                    fmt(lookup(results, *node, "ceiling_rps"), 0),
                    pct(lookup(results, *node, "fraction_of_ceiling")),
                    fmt(lookup(results, *node, "used_cores")),
                    fmt(lookup(results, *node, "other_cores")),
                )
            )
    return rows


PIPELINE_HEADER = (
    "pipeline",
    "seconds",
    "db healthy s",
    "pytest s",
    "web healthy s",
    "unavoidable s",
    "pipeline / unavoidable",
)
THROUGHPUT_HEADER = (
    "server",
    "path",
    "req/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "web CPU ms/req",
    "db CPU ms/req",
    "load gen CPU ms/req",
    "docker-proxy CPU ms/req",
    "ceiling req/s",
    "of ceiling",
    "cores used (ours)",
    "cores used (others)",
)


SWARM_PHASES = {
    "first_deploy": "first deploy (migrate job, every web replica healthy)",
    "rolling_update": "rolling update to a new digest",
    "rollback": "rollback (`invoke rollback`)",
    "failed_update": "failed healthcheck, rolled back by swarm",
}
SWARM_HEADER = ("phase", "seconds", "requests", "failed", "outcome")
HARNESS_HEADER = ("scenario", "requests", "failed", "seconds", "passed", "note")


def read_harness(path: Path) -> dict[str, Any] | None:
    """The three-node harness's results (benchmarks/results/swarm.json, `nox -s swarm`) when a run
    left a readable one: its nodes, replicas, scenarios and verdict, and the file's age; else None."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        modified = path.stat().st_mtime
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("scenarios"), list):
        return None
    rows = [
        {key: row.get(key) for key in ("name", "requests", "failed", "seconds", "passed", "note")}
        for row in doc["scenarios"]
        if isinstance(row, dict) and row.get("name")
    ]
    return {
        "path": str(path),
        "modified": datetime.fromtimestamp(modified, UTC).isoformat(timespec="seconds"),
        "nodes": doc.get("nodes"),
        "replicas": doc.get("replicas"),
        "passed": doc.get("passed"),
        "scenarios": rows,
    }


def _count(value: object) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "-"


def swarm_rows(results: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """One row per measured phase of the one-node swarm section (none when it was not measured)."""
    phases = results.get("swarm", {}).get("phases", {})
    return [
        (
            label,
            fmt(lookup(phases, key, "seconds"), 1),
            _count(phases[key].get("requests")),
            _count(phases[key].get("failed")),
            str(phases[key].get("outcome", "")),
        )
        for key, label in SWARM_PHASES.items()
        if isinstance(phases.get(key), Mapping)
    ]


def harness_rows(results: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The three-node harness's scenarios as read from its JSON (none when no run left one)."""
    harness = results.get("swarm", {}).get("harness") or {}
    return [
        (
            str(row.get("name")),
            _count(row.get("requests")),
            _count(row.get("failed")),
            fmt(row.get("seconds") if isinstance(row.get("seconds"), int | float) else None, 1),
            {True: "yes", False: "NO"}.get(row.get("passed"), "-"),
            str(row.get("note") or ""),
        )
        for row in harness.get("scenarios", [])
    ]


def swarm_markdown(results: Mapping[str, Any]) -> list[str]:
    """REPORT.md's "Swarm: rollout and rollback" section: the one-node figures and the harness's table."""
    swarm = results.get("swarm") or {}
    lines = ["## Swarm: rollout and rollback", ""]
    rows = swarm_rows(results)
    if rows:
        load = swarm.get("load", {})
        lines += [
            f"One-node swarm on this engine, {swarm.get('replicas')} web replicas, the path `invoke registry`, "
            f"`release`, `deploy`, `rollback` take; seconds until swarm converged; load: {load.get('connections')} "
            f"keep-alive connections of paced GETs of /api/notes/ from 127.0.0.1 through the proxy "
            f"(at most {load.get('max_requests')} requests, {load.get('max_seconds')} s).",
            "",
            _md_table(SWARM_HEADER, rows),
            "",
        ]
    else:
        reason = swarm.get("reason") or "run the bench with `--swarm` (alone: `python -m harness.bench --only swarm`)"
        lines += [f"One-node swarm: not measured ({reason}).", ""]
    harness = swarm.get("harness")
    if harness:
        lines += [
            f"Three-node harness (`nox -s swarm`, {harness.get('nodes')} nodes, {harness.get('replicas')} web "
            f"replicas), as its last run left `{Path(str(harness.get('path'))).name}` ({harness.get('modified')}):",
            "",
            _md_table(HARNESS_HEADER, harness_rows(results)),
            "",
        ]
    else:
        lines += ["Three-node harness: no results file (`nox -s swarm` writes benchmarks/results/swarm.json).", ""]
    return lines


def write_json(path: Path, results: Mapping[str, Any]) -> Path:
    """Write the results (NaN becomes null) with sorted keys, creating the directory."""

    def clean(node: Any) -> Any:
        if isinstance(node, float) and (math.isnan(node) or math.isinf(node)):
            return None
        if isinstance(node, Mapping):
            return {str(k): clean(v) for k, v in node.items()}
        if isinstance(node, list | tuple):
            return [clean(v) for v in node]
        return node

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(clean(results), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _md_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def incidents(results: Mapping[str, Any]) -> list[str]:
    """What went wrong during the run (retried stack starts, failed pipelines, a failed fresh machine)."""
    lines = [f"- stack start retried once: `{line}`" for line in results.get("meta", {}).get("stack_retries", [])]
    lines += [f"- pipeline failed: `{line}`" for line in results.get("pipelines", {}).get("errors", [])]
    fresh = results.get("fresh_machine", {})
    if fresh.get("measured") and not fresh.get("green"):
        tail = " / ".join(str(line).replace("`", "'") for line in fresh.get("output_tail", [])[-5:])
        lines.append(f"- fresh machine: exit {fresh.get('exit_code')}; last lines: `{tail}`")
    return ["## Incidents in this run", "", *lines, ""] if lines else []


def write_markdown(
    path: Path, results: Mapping[str, Any], targets: Sequence[Target], chart_name: str = "chart.png"
) -> Path:
    """REPORT.md: the run's context, the targets stated plainly, every figure, and the chart."""
    meta = results.get("meta", {})
    lines = [
        "# dockstage benchmark: what users wait for, and the seed guide's way beside it",
        "",
        "Generated by `python -m harness.bench" + (" --quick" if meta.get("quick") else "") + "` (`nox -s bench`); "
        "figures from `results/latest.json`, the same run. Medians over "
        f"{meta.get('runs', '?')} run(s); ratios are within this run.",
        "",
        f"- when: {meta.get('timestamp', '?')}; quick: {meta.get('quick')}; cores: {meta.get('cpu_count')}; "
        f"engine: {meta.get('engine_version')}; load average at the start: {meta.get('loadavg_start', '?')}",
        f"- base: {meta.get('flavour')} `{meta.get('python_base')}` / `{meta.get('mysql_base')}`; "
        f"baseline: `benchmarks/Dockerfile.seed`",
        f"- load generator: {meta.get('load_generator', '?')}; load: {meta.get('load', {})}",
        "",
        "## Targets",
        "",
        _md_table(
            ("target", "value", "limit", "result"),
            [(t.name, fmt(t.value), f"{t.comparison} {t.limit:g} {t.unit}", f"**{t.verdict()}**") for t in targets],
        ),
        "",
        "## What users wait for (seconds)",
        "",
        _md_table(PIPELINE_HEADER, pipeline_rows(results)),
        "",
        "## Throughput against the machine's ceiling",
        "",
        _md_table(THROUGHPUT_HEADER, throughput_rows(results)),
        "",
        "## Figures",
        "",
        _md_table(("measure", "suite", "seed baseline", "suite / baseline"), summary_rows(results)),
        "",
        f"![sizes, build times, pipelines and throughput]({chart_name})",
        "",
        *swarm_markdown(results),
        "## Method",
        "",
        *[f"- {note}" for note in results.get("notes", [])],
        "",
        *incidents(results),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def write_chart(path: Path, results: Mapping[str, Any]) -> Path:
    """A PNG: size per stage and build seconds (suite vs seed), pipeline seconds, requests/s vs the ceiling."""
    import matplotlib  # type: ignore[import-not-found,unused-ignore]  # the bench's optional extra

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found,unused-ignore]

    fig, axes = plt.subplots(1, 4, figsize=(20, 4.5))
    width = 0.38

    def bars(
        ax: Any, labels: Sequence[str], left: Sequence[float], right: Sequence[float], names: tuple[str, str]
    ) -> None:
        xs = range(len(labels))
        ax.bar([x - width / 2 for x in xs], left, width, label=names[0])
        ax.bar([x + width / 2 for x in xs], right, width, label=names[1])
        ax.set_xticks(list(xs), labels)
        ax.legend()

    def val(*keys: str, scale: float = 1.0) -> float:
        v = lookup(results, *keys)
        return 0.0 if v is None or math.isnan(v) else v / scale

    bars(
        axes[0],
        STAGE_NAMES,
        [val("sizes", "suite", s, "bytes", scale=1e6) for s in STAGE_NAMES],
        [val("sizes", "seed", s, "bytes", scale=1e6) for s in STAGE_NAMES],
        ("suite", "seed baseline"),
    )
    axes[0].set_title("image size per stage (MB)")
    bars(
        axes[1],
        SCENARIOS,
        [val("builds", "suite", s, "all_four_seconds") for s in SCENARIOS],
        [val("builds", "seed", s, "all_four_seconds") for s in SCENARIOS],
        ("suite", "seed baseline"),
    )
    axes[1].set_title("build all four stages (s, median)")
    axes[1].tick_params(axis="x", labelrotation=15)
    bars(
        axes[2],
        PIPELINE_SCENARIOS,
        [val("pipelines", s, "seconds") for s in PIPELINE_SCENARIOS],
        [val("pipelines", s, "unavoidable_seconds") for s in PIPELINE_SCENARIOS],
        ("pipeline", "unavoidable parts"),
    )
    axes[2].set_title("pipeline to green (s)")
    axes[2].tick_params(axis="x", labelrotation=15)
    bars(
        axes[3],
        ("gunicorn", "seed prod", "runserver"),
        [val("http", s, "notes", "rps") for s in SERVERS],
        [val("http", s, "notes", "ceiling_rps") for s in SERVERS],
        ("requests/s", "machine's ceiling"),
    )
    axes[3].set_title("/api/notes/ requests/s (median)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
