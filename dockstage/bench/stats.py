"""Pure parts of the benchmark: statistics, ratios, the targets, and the JSON/markdown/PNG outputs."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SCENARIOS = ("cold", "noop", "app_change", "dependency_change")
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


@dataclass(frozen=True)
class Target:
    """One goal of the benchmark, and whether this run met it."""

    name: str
    value: float | None
    limit: float
    unit: str
    comparison: str  # "<=" or ">="

    @property
    def met(self) -> bool | None:
        if self.value is None or math.isnan(self.value):
            return None
        return self.value <= self.limit if self.comparison == "<=" else self.value >= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met}

    def verdict(self) -> str:
        return {True: "met", False: "NOT met", None: "not measured"}[self.met]


def _get(data: Mapping[str, Any], *keys: str) -> float | None:
    node: Any = data
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return float(node) if isinstance(node, int | float) else None


def evaluate_targets(results: Mapping[str, Any]) -> list[Target]:
    """The five targets of issue 5, from a results mapping shaped like latest.json."""
    b = ("builds",)
    return [
        Target(
            "prod bytes over base <= 25% of the baseline's",
            ratio(
                _get(results, "sizes", "suite", "prod", "over_base_bytes"),
                _get(results, "sizes", "seed", "prod", "over_base_bytes"),
            ),
            0.25,
            "ratio",
            "<=",
        ),
        Target(
            "no-op rebuild of all four stages <= 2 s",
            _get(results, *b, "suite", "noop", "all_four_seconds"),
            2.0,
            "s",
            "<=",
        ),
        Target(
            "app-code change -> prod rebuilt <= 5 s",
            _get(results, *b, "suite", "app_change", "prod_seconds"),
            5.0,
            "s",
            "<=",
        ),
        Target(
            "dependency change (all four) <= 50% of the baseline's",
            ratio(
                _get(results, *b, "suite", "dependency_change", "all_four_seconds"),
                _get(results, *b, "seed", "dependency_change", "all_four_seconds"),
            ),
            0.5,
            "ratio",
            "<=",
        ),
        Target(
            "gunicorn >= 5x runserver requests/s on /api/notes/",
            ratio(
                _get(results, "http", "gunicorn", "notes", "rps"), _get(results, "http", "runserver", "notes", "rps")
            ),
            5.0,
            "x",
            ">=",
        ),
    ]


def fmt(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def summary_rows(results: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, suite, baseline, suite/baseline) rows: the table printed and written to REPORT.md."""
    rows: list[tuple[str, str, str, str]] = []
    for scenario in SCENARIOS:
        for key in ("all_four_seconds", "prod_seconds"):
            s = _get(results, "builds", "suite", scenario, key)
            o = _get(results, "builds", "seed", scenario, key)
            rows.append((f"build {scenario}: {key}", fmt(s), fmt(o), fmt(ratio(s, o))))
    for stage in STAGE_NAMES:
        for key in ("bytes", "over_base_bytes"):
            s = _get(results, "sizes", "suite", stage, key)
            o = _get(results, "sizes", "seed", stage, key)
            rows.append((f"size {stage}: {key} (MB)", fmt(s and s / 1e6, 1), fmt(o and o / 1e6, 1), fmt(ratio(s, o))))
    for volume in ("fresh_volume", "existing_volume"):
        for key in ("db_seconds", "web_seconds"):
            rows.append((f"up->healthy {volume}: {key}", fmt(_get(results, "health", volume, key)), "", ""))
    for path in ("healthz", "notes"):
        for key in ("rps", "p50_ms", "p99_ms"):
            g = _get(results, "http", "gunicorn", path, key)
            r = _get(results, "http", "runserver", path, key)
            rows.append((f"http {path}: {key} (gunicorn | runserver)", fmt(g, 1), fmt(r, 1), fmt(ratio(g, r))))
    return rows


def write_json(path: Path, results: Mapping[str, Any]) -> Path:
    """Write the results (NaN becomes null) with sorted keys, creating the directory."""

    def clean(node: Any) -> Any:
        if isinstance(node, float) and math.isnan(node):
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


def write_markdown(
    path: Path, results: Mapping[str, Any], targets: Sequence[Target], chart_name: str = "chart.png"
) -> Path:
    """REPORT.md: the run's context, the targets stated plainly, every figure, and the chart."""
    meta = results.get("meta", {})
    lines = [
        "# dockstage benchmark: the suite's Dockerfile vs the seed guide's way",
        "",
        "Generated by `python -m dockstage.bench" + (" --quick" if meta.get("quick") else "") + "` (`nox -s bench`); "
        "figures from `results/latest.json`, the same run. Medians over "
        f"{meta.get('runs', '?')} run(s); ratios are suite / baseline (or gunicorn / runserver) within this run.",
        "",
        f"- when: {meta.get('timestamp', '?')}; quick: {meta.get('quick')}; cores: {meta.get('cpu_count')}; "
        f"engine: {meta.get('engine_version')}",
        f"- base: {meta.get('flavour')} `{meta.get('python_base')}` / `{meta.get('mysql_base')}`; "
        f"baseline: `benchmarks/Dockerfile.seed`",
        f"- load: {meta.get('load', {})}",
        "",
        "## Targets",
        "",
        _md_table(
            ("target", "value", "limit", "result"),
            [(t.name, fmt(t.value), f"{t.comparison} {t.limit:g} {t.unit}", f"**{t.verdict()}**") for t in targets],
        ),
        "",
        "## Figures",
        "",
        _md_table(("measure", "suite / gunicorn", "baseline / runserver", "ratio"), summary_rows(results)),
        "",
        f"![sizes, build times and throughput]({chart_name})",
        "",
        "## Method",
        "",
        *[f"- {note}" for note in results.get("notes", [])],
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def write_chart(path: Path, results: Mapping[str, Any]) -> Path:
    """A PNG: image size per stage, build seconds per scenario (suite vs baseline), requests/s."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
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
        v = _get(results, *keys)
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
        ("/healthz", "/api/notes/"),
        [val("http", "gunicorn", p, "rps") for p in ("healthz", "notes")],
        [val("http", "runserver", p, "rps") for p in ("healthz", "notes")],
        ("gunicorn (prod)", "runserver (dev)"),
    )
    axes[2].set_title("requests/s (median)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
