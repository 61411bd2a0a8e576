"""The benchmark's pure logic: statistics, ratios, targets and the files it writes. No Docker, no timing."""

from __future__ import annotations

import http.server
import json
import math
import threading
from pathlib import Path
from typing import Any

import pytest

from dockstage.bench import loadgen
from dockstage.bench import run as bench
from dockstage.bench import stats as benchstats
from dockstage.errors import EXIT_CODES


def results(**over: Any) -> dict[str, Any]:
    """A results mapping shaped like latest.json."""
    scen = {
        s: {"all_four_seconds": 10.0, "prod_seconds": 2.0, "runs": [{"all_four_seconds": 10.0}]}
        for s in benchstats.SCENARIOS
    }
    seed = {s: {"all_four_seconds": 40.0, "prod_seconds": 8.0} for s in benchstats.SCENARIOS}
    data: dict[str, Any] = {
        "meta": {"quick": True, "runs": 1, "cpu_count": 2, "engine_version": "20.10.24", "timestamp": "t"},
        "builds": {"suite": scen, "seed": seed},
        "sizes": {
            "base_bytes": 100,
            "suite": {s: {"bytes": 150, "over_base_bytes": 50} for s in benchstats.STAGE_NAMES},
            "seed": {s: {"bytes": 600, "over_base_bytes": 500} for s in benchstats.STAGE_NAMES},
        },
        "health": {"fresh_volume": {"db_seconds": 5.0, "web_seconds": 9.0}},
        "http": {
            "gunicorn": {"healthz": {"rps": 900.0, "p50_ms": 5.0, "p99_ms": 20.0}, "notes": {"rps": 600.0}},
            "runserver": {"healthz": {"rps": 100.0}, "notes": {"rps": 100.0}},
        },
        "notes": ["a method note"],
    }
    data.update(over)
    return data


def test_median_and_percentile() -> None:
    assert benchstats.median([3.0, 1.0, 2.0]) == 2.0
    assert benchstats.median([1.0, 2.0, 3.0, 4.0]) == 2.5
    assert math.isnan(benchstats.median([]))
    values = [float(v) for v in range(1, 101)]
    assert benchstats.percentile(values, 50) == pytest.approx(50.5)
    assert benchstats.percentile(values, 99) == pytest.approx(99.01)
    assert benchstats.percentile(values, 0) == 1.0
    assert benchstats.percentile(values, 100) == 100.0
    assert benchstats.percentile([7.0], 99) == 7.0
    assert math.isnan(benchstats.percentile([], 50))
    with pytest.raises(ValueError, match="outside"):
        benchstats.percentile(values, 101)


def test_ratio_guards_missing_and_zero() -> None:
    assert benchstats.ratio(1.0, 4.0) == 0.25
    assert benchstats.ratio(None, 4.0) is None
    assert benchstats.ratio(1.0, 0.0) is None
    assert benchstats.ratio(math.nan, 1.0) is None


def test_summarize_load_and_median_of_runs() -> None:
    summary = benchstats.summarize_load([0.01, 0.02, 0.03, 0.04], errors=1, elapsed_s=2.0)
    assert summary["requests"] == 4
    assert summary["errors"] == 1
    assert summary["rps"] == 2.0
    assert summary["p50_ms"] == pytest.approx(25.0)
    assert benchstats.summarize_load([], 0, 0.0)["rps"] == 0.0
    assert benchstats.median_of_runs([{"a": 1.0, "b": 5.0}, {"a": 3.0, "b": 6.0}, {"a": 2.0, "b": 7.0}]) == {
        "a": 2.0,
        "b": 6.0,
    }


def test_targets_met_and_not_met() -> None:
    targets = {t.name: t for t in benchstats.evaluate_targets(results())}
    assert len(targets) == 5
    by_start = {name.split(" ")[0]: t for name, t in targets.items()}
    assert by_start["prod"].value == pytest.approx(0.1)
    assert by_start["prod"].met is True
    assert by_start["no-op"].value == 10.0
    assert by_start["no-op"].met is False  # 10 s > 2 s
    assert by_start["app-code"].met is True  # 2 s <= 5 s
    assert by_start["dependency"].value == pytest.approx(0.25)
    assert by_start["gunicorn"].value == pytest.approx(6.0)
    assert by_start["gunicorn"].met is True
    assert by_start["gunicorn"].verdict() == "met"
    assert by_start["no-op"].verdict() == "NOT met"


def test_targets_not_measured_when_figures_are_missing() -> None:
    targets = benchstats.evaluate_targets({"builds": {}, "http": {}})
    assert all(t.met is None for t in targets)
    assert {t.verdict() for t in targets} == {"not measured"}


def test_write_json_turns_nan_into_null(tmp_path: Path) -> None:
    path = benchstats.write_json(tmp_path / "results" / "latest.json", {"x": math.nan, "y": [1.0, math.nan]})
    assert json.loads(path.read_text()) == {"x": None, "y": [1.0, None]}


def test_write_markdown_states_every_target(tmp_path: Path) -> None:
    data = results()
    targets = benchstats.evaluate_targets(data)
    text = benchstats.write_markdown(tmp_path / "REPORT.md", data, targets).read_text()
    for target in targets:
        assert target.name in text
    assert "**NOT met**" in text
    assert "**met**" in text
    assert "![" in text
    assert "chart.png" in text
    assert "a method note" in text
    assert "| build noop: all_four_seconds | 10.00 | 40.00 | 0.25 |" in text


def test_write_outputs_writes_all_three_files(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    paths = bench.write_outputs(results(), tmp_path)
    assert [p.name for p in paths] == ["latest.json", "chart.png", "REPORT.md"]
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "results" / "latest.json").read_text())["meta"]["quick"] is True


def test_load_refuses_anything_but_loopback() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        loadgen.load("http://example.com:80", "/", connections=1, requests=1, max_seconds=1)


def test_load_is_bounded_by_request_count_against_a_local_server() -> None:
    served: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            served.append(self.path)
            body = b"ok"
            self.send_response(200 if len(served) % 10 else 500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = loadgen.load(
            f"http://127.0.0.1:{server.server_address[1]}", "/x", connections=3, requests=40, max_seconds=20
        )
    finally:
        server.shutdown()
        server.server_close()
    assert len(served) == 40
    assert result["requests"] == 36 and result["errors"] == 4


def test_main_reports_a_dockstage_error_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No engine at DOCKER_HOST: the bench stops at its preflight with the one line and exit 3."""
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    assert bench.main(["--quick"]) == EXIT_CODES["engine"]
    assert capsys.readouterr().err.strip() == (
        "engine: no Docker engine answers at unix:///nonexistent.sock: "
        "DOCKER_HOST is unix:///nonexistent.sock: point it at a running engine or unset it"
    )
