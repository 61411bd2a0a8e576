"""The benchmark's pure logic: statistics, wrk and cgroup parsing, the ceiling, targets and the files it
writes. No Docker, no timing asserted."""

from __future__ import annotations

import http.server
import json
import math
import threading
from pathlib import Path
from typing import Any

import pytest

from dockstage.core.errors import EXIT_CODES
from harness.bench import cpu, loadgen, pipelines
from harness.bench import run as bench
from harness.bench import stats as benchstats


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
            "gunicorn": {
                "healthz": {"rps": 900.0, "p50_ms": 5.0, "p99_ms": 20.0},
                "notes": {"rps": 600.0, "ceiling_rps": 640.0, "fraction_of_ceiling": 0.9375},
            },
            "seed_prod": {"healthz": {"rps": 450.0}, "notes": {"rps": 300.0, "fraction_of_ceiling": 0.5}},
            "runserver": {"healthz": {"rps": 100.0}, "notes": {"rps": 100.0}},
        },
        "pipelines": {
            "parts": {"db_healthy_seconds": 3.0, "web_healthy_seconds": 4.0},
            "warm": {"seconds": 12.0, "pytest_seconds": 2.0, "unavoidable_seconds": 9.0, "over_unavoidable": 1.33},
            "app_change": {"seconds": 14.0, "pytest_seconds": 2.0, "unavoidable_seconds": 9.0},
            "dependency_change": {"seconds": 20.0, "pytest_seconds": 2.0, "unavoidable_seconds": 9.0},
        },
        "fresh_machine": {"measured": False},
        "rollout": {
            "changed_release": {"seconds": 9.0, "failed_requests": 0, "requests": 2000, "failed_runs": 0},
            "broken_release": {"seconds": 14.0, "failed_requests": 3, "requests": 2500, "failed_runs": 0},
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
    assert len(targets) == 11

    def target(start: str) -> benchstats.Target:
        (found,) = [t for name, t in targets.items() if name.startswith(start)]
        return found

    assert target("prod bytes").value == pytest.approx(0.1)
    assert target("prod bytes").met is True
    assert target("no-op").value == 10.0
    assert target("no-op").met is False  # 10 s > 2 s
    assert target("app-code change -> prod").met is True  # 2 s <= 5 s
    assert target("dependency").value == pytest.approx(0.25)
    ceiling = target("gunicorn >= 90%")
    assert ceiling.value == pytest.approx(0.9375)
    assert ceiling.met is True
    assert ceiling.verdict() == "met"
    seed = target("gunicorn >= 1.8x")
    assert seed.value == pytest.approx(2.0)  # 600 / 300
    assert seed.met is True
    assert target("warm pipeline").met is False  # 12 s > 5 s
    assert target("warm pipeline").verdict() == "NOT met"
    assert target("app-code change -> pipeline").met is False  # 14 s > 8 s
    assert target("fresh machine").verdict() == "not measured"  # no --fresh-machine
    assert target("failed requests during `invoke up` of a changed").met is True  # 0 <= 0
    assert target("failed requests during `invoke up` of a broken").met is False  # 3 > 0


def test_rollout_target_fails_when_the_release_did_not_go_live() -> None:
    rolled = {"changed_release": {"failed_requests": 0, "failed_runs": 1}, "broken_release": {}}
    targets = benchstats.evaluate_targets(results(rollout=rolled))
    (changed,) = [t for t in targets if "changed release" in t.name]
    assert changed.verdict() == "NOT met (failed)"


@pytest.mark.parametrize(
    ("fresh", "value", "verdict"),
    [
        ({"measured": False}, None, "not measured"),
        ({"measured": True, "seconds": 75.0, "green": True}, 75.0, "met"),
        ({"measured": True, "seconds": 400.0, "green": True}, 400.0, "NOT met"),
        ({"measured": True, "seconds": 30.0, "green": False}, 30.0, "NOT met (failed)"),
    ],
    ids=["not-measured", "green-in-time", "green-too-slow", "failed-fast"],
)
def test_fresh_machine_target(fresh: dict[str, Any], value: float | None, verdict: str) -> None:
    (target,) = [t for t in benchstats.evaluate_targets(results(fresh_machine=fresh)) if t.name.startswith("fresh")]
    assert target.value == value
    assert target.verdict() == verdict
    assert target.as_dict()["met"] is {"met": True, "not measured": None}.get(verdict, False)


@pytest.mark.parametrize(
    ("gunicorn", "seed", "met"),
    [(0.89, 1.79, (False, False)), (0.9, 1.8, (True, True)), (0.95, 1.2, (True, False))],
    ids=["both-short", "both-at-limit", "ceiling-only"],
)
def test_throughput_targets_at_their_limits(gunicorn: float, seed: float, met: tuple[bool, bool]) -> None:
    http = {
        "gunicorn": {"notes": {"rps": 1000.0 * seed, "fraction_of_ceiling": gunicorn}},
        "seed_prod": {"notes": {"rps": 1000.0}},
    }
    by_name = {t.name.split(" ")[2]: t for t in benchstats.evaluate_targets(results(http=http)) if "gunicorn" in t.name}
    assert (by_name["90%"].met, by_name["1.8x"].met) == met


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
    assert "| warm (images cached, nothing changed) | 12.00 | 3.00 | 2.00 | 4.00 | 9.00 | 1.33 |" in text
    assert "| fresh machine: the README's main job | not measured |" in text
    assert "| gunicorn (suite prod) | /api/notes/ | 600.0 |" in text
    assert "| 640 | 94% |" in text


def test_write_outputs_writes_all_three_files(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    paths = bench.write_outputs(results(), tmp_path)
    assert [p.name for p in paths] == ["latest.json", "chart.png", "REPORT.md"]
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "results" / "latest.json").read_text())["meta"]["quick"] is True


def test_load_refuses_anything_but_loopback() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        loadgen.load("http://example.com:80", "/", connections=1, requests=1, max_seconds=1)
    wrk = loadgen.Generator("wrk", "/nonexistent/wrk", "4.1.0")
    params = {"seconds": 1, "threads": 1, "connections": 1}
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        loadgen.drive(wrk, "http://localhost:8000", "/", params)  # refused before anything runs


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


# --- wrk ---------------------------------------------------------------------------------------

# Captured here: wrk 4.1.0 (Debian) against the suite's gunicorn on /api/notes/, on a busy 2-core VM.
WRK_GUNICORN = """\
Running 5s test @ http://127.0.0.1:32772/api/notes/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    50.32ms   68.26ms 628.86ms   90.22%
    Req/Sec   122.99     66.77   260.00     60.22%
  Latency Distribution
     50%   27.83ms
     75%   52.42ms
     90%  118.04ms
     99%  356.61ms
  1184 requests in 5.04s, 3.47MB read
Requests/sec:    235.07
Transfer/sec:    704.52KB
"""

# Captured here: a Python server answering every 10th request with 500.
WRK_NON_2XX = """\
Running 3s test @ http://127.0.0.1:18931/api/notes/
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    53.10ms   25.15ms 199.95ms   84.90%
    Req/Sec    38.40     12.32    60.00     63.16%
  Latency Distribution
     50%   44.88ms
     75%   52.14ms
     90%   84.26ms
     99%  147.00ms
  233 requests in 3.07s, 71.76KB read
  Non-2xx or 3xx responses: 23
Requests/sec:     75.87
Transfer/sec:     23.37KB
"""

# Captured here: a socket that accepts and never answers (one connection closed on accept).
WRK_SOCKET_ERRORS = """\
Running 3s test @ http://127.0.0.1:18932/api/notes/
  1 threads and 3 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     0.00      0.00     0.00      -nan%
  Latency Distribution
     50%    0.00us
     75%    0.00us
     90%    0.00us
     99%    0.00us
  0 requests in 3.04s, 0.00B read
  Socket errors: connect 0, read 1, write 0, timeout 0
Requests/sec:      0.00
Transfer/sec:       0.00B
"""


def test_parse_wrk_reads_a_real_gunicorn_run() -> None:
    parsed = loadgen.parse_wrk(WRK_GUNICORN)
    assert parsed["requests"] == 1184
    assert parsed["errors"] == 0
    assert parsed["elapsed_seconds"] == pytest.approx(5.04)
    assert parsed["rps"] == pytest.approx(1184 / 5.04, abs=0.1)
    assert parsed["wrk_rps"] == pytest.approx(235.07)
    assert parsed["p50_ms"] == pytest.approx(27.83)
    assert parsed["p99_ms"] == pytest.approx(356.61)
    assert set(parsed) >= set(benchstats.summarize_load([0.1], 0, 1.0))  # same keys as the Python generator


def test_parse_wrk_counts_non_2xx_and_socket_errors_as_errors() -> None:
    non2xx = loadgen.parse_wrk(WRK_NON_2XX)
    assert (non2xx["requests"], non2xx["errors"]) == (210, 23)
    assert non2xx["rps"] == pytest.approx(210 / 3.07, abs=0.1)  # successes only; wrk's own 75.87 counts all
    assert non2xx["p99_ms"] == pytest.approx(147.0)
    broken = loadgen.parse_wrk(WRK_SOCKET_ERRORS)
    assert (broken["requests"], broken["errors"], broken["rps"]) == (0, 1, 0.0)
    assert math.isnan(float(broken["p50_ms"]))


def test_parse_wrk_units_and_garbage() -> None:
    text = WRK_GUNICORN.replace("27.83ms", "812.00us").replace("356.61ms", "1.20s").replace("in 5.04s", "in 1.00m")
    parsed = loadgen.parse_wrk(text)
    assert parsed["p50_ms"] == pytest.approx(0.812)
    assert parsed["p99_ms"] == pytest.approx(1200.0)
    assert parsed["elapsed_seconds"] == pytest.approx(60.0)
    with pytest.raises(ValueError, match="requests in"):
        loadgen.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def test_wrk_argv_is_a_bounded_list() -> None:
    argv = loadgen.wrk_argv("/usr/bin/wrk", "http://127.0.0.1:8000/api/notes/", threads=2, connections=8, seconds=10)
    assert argv == [
        "/usr/bin/wrk",
        "-t",
        "2",
        "-c",
        "8",
        "-d",
        "10s",
        "--timeout",
        "5s",
        "--latency",
        "http://127.0.0.1:8000/api/notes/",
    ]


def test_find_generator_falls_back_to_python(tmp_path: Path) -> None:
    assert loadgen.find_generator(lambda _: None).name == "python"
    fake = tmp_path / "wrk"
    fake.write_text("#!/bin/sh\necho 'wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer'\nexit 1\n")
    fake.chmod(0o755)
    found = loadgen.find_generator(lambda _: str(fake))
    assert (found.name, found.version, found.path) == ("wrk", "debian/4.1.0-3+b2", str(fake))
    mute = tmp_path / "mute"
    mute.write_text("#!/bin/sh\nexit 0\n")
    mute.chmod(0o755)
    assert loadgen.find_generator(lambda _: str(mute)).name == "python"


# --- CPU counters --------------------------------------------------------------------------------

CID = "35baad29db692383fb526f349229d8d2b8a66cb003300519f32650ba0ceae3bd"
CPU_STAT_V2 = "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 0\nnr_throttled 0\n"


def test_cgroup_counters_parse() -> None:
    assert cpu.parse_cpuacct_usage("657949648\n") == pytest.approx(0.657949648)  # read here, cgroup v1
    assert cpu.parse_cpu_stat(CPU_STAT_V2) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="usage_usec"):
        cpu.parse_cpu_stat("user_usec 1\n")


@pytest.mark.parametrize(
    ("relative", "text", "seconds"),
    [
        (f"cpuacct/docker/{CID}/cpuacct.usage", "1500000000\n", 1.5),
        (f"cpu,cpuacct/docker/{CID}/cpuacct.usage", "250000000\n", 0.25),
        (f"system.slice/docker-{CID}.scope/cpu.stat", CPU_STAT_V2, 2.5),
        (f"docker/{CID}/cpu.stat", CPU_STAT_V2, 2.5),
    ],
    ids=["v1", "v1-comounted", "v2-systemd", "v2-cgroupfs"],
)
def test_container_seconds_finds_each_layout(tmp_path: Path, relative: str, text: str, seconds: float) -> None:
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    path.write_text(text)
    assert cpu.container_seconds(CID, tmp_path) == pytest.approx(seconds)
    assert cpu.container_seconds("0" * 64, tmp_path) is None


def test_proc_stat_and_busy_cores() -> None:
    before = cpu.parse_proc_stat("cpu  91917 0 47062 71997 3708 0 1557 4860 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n")
    assert before == cpu.Ticks(busy=91917 + 47062 + 1557 + 4860, total=221101)
    after = cpu.Ticks(busy=before.busy + 150, total=before.total + 200)  # 75% busy over 2 cores
    assert cpu.busy_cores(before, after, 2) == pytest.approx(1.5)
    assert cpu.busy_cores(before, None, 2) is None
    assert cpu.busy_cores(after, before, 2) is None
    with pytest.raises(ValueError, match="cpu line"):
        cpu.parse_proc_stat("intr 1 2 3\n")


# --- the ceiling ---------------------------------------------------------------------------------


def test_ceiling_is_cores_over_cpu_per_request() -> None:
    assert benchstats.ceiling_rps(2, 0.002) == pytest.approx(1000.0)
    assert benchstats.ceiling_rps(2, 0.0) is None
    assert benchstats.ceiling_rps(2, None) is None


def test_cpu_figures_count_the_load_generator() -> None:
    """ENGINE.md's figures: web 1.13 ms, db 0.19 ms a request; the load generator 0.3 ms; 1,230 req/s."""
    requests, elapsed = 12_300, 10.0
    figures = benchstats.cpu_figures(
        2,
        requests=requests,
        elapsed_s=elapsed,
        rps=requests / elapsed,
        cpu_seconds={"web": 1.13e-3 * requests, "db": 0.19e-3 * requests, "client": 0.3e-3 * requests},
        machine_busy_cores=1.99,
    )
    assert figures["web_cpu_ms_per_request"] == pytest.approx(1.13)
    assert figures["client_cpu_ms_per_request"] == pytest.approx(0.3)
    assert figures["cpu_ms_per_request"] == pytest.approx(1.62)
    assert figures["ceiling_rps"] == pytest.approx(2 / 1.62e-3)
    assert figures["fraction_of_ceiling"] == pytest.approx(1230 * 1.62e-3 / 2)  # = cores kept busy / cores
    assert figures["used_cores"] == pytest.approx(1.62e-3 * 1230)
    assert figures["other_cores"] == pytest.approx(1.99 - 1.62e-3 * 1230)


def test_cpu_figures_without_a_counter_have_no_ceiling() -> None:
    figures = benchstats.cpu_figures(
        2,
        requests=100,
        elapsed_s=1.0,
        rps=100.0,
        cpu_seconds={"web": None, "db": 0.1, "client": 0.1},
        machine_busy_cores=None,
    )
    assert math.isnan(figures["web_cpu_ms_per_request"])
    assert figures["db_cpu_ms_per_request"] == pytest.approx(1.0)
    assert all(math.isnan(figures[k]) for k in ("ceiling_rps", "fraction_of_ceiling", "used_cores", "other_cores"))
    assert target_verdict(figures["fraction_of_ceiling"]) == "not measured"


def target_verdict(fraction: float) -> str:
    http = {"gunicorn": {"notes": {"fraction_of_ceiling": fraction}}}
    (target,) = [t for t in benchstats.evaluate_targets(results(http=http)) if "ceiling" in t.name]
    return target.verdict()


# --- pipelines -----------------------------------------------------------------------------------

# Written by pytest 8 (`--junitxml`), as in the test image.
JUNIT = (
    '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="0" '
    'failures="0" skipped="0" tests="2" time="3.512" timestamp="2026-12-02T03:32:52.347007+00:00" hostname="vm">'
    '<testcase classname="test_x" name="test_a" time="0.001" /><testcase classname="test_x" name="test_b" '
    'time="0.001" /></testsuite></testsuites>'
)


def test_junit_seconds_is_pytests_own_duration() -> None:
    assert benchstats.junit_seconds(JUNIT) == pytest.approx(3.512)
    assert benchstats.junit_seconds('<testsuite tests="1" time="0.5"/>') == pytest.approx(0.5)
    with pytest.raises(ValueError, match="time"):
        benchstats.junit_seconds("<testsuites/>")


def test_pipeline_over_its_unavoidable_parts() -> None:
    figures = benchstats.over_unavoidable(18.0, {"db": 3.0, "web": 4.0, "pytest": 2.0})
    assert figures == {"unavoidable_seconds": 9.0, "over_unavoidable": 2.0}
    missing = benchstats.over_unavoidable(18.0, {"db": None, "web": 4.0, "pytest": 2.0})
    assert math.isnan(missing["unavoidable_seconds"]) and math.isnan(missing["over_unavoidable"])


def test_checkout_copy_leaves_out_what_a_clone_has_not(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for name in ("app/notes/views.py", "app/requirements/base.txt", ".env", ".env.example", ".git/HEAD"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x = 1\n" if name.endswith(".py") else "Django\n")
    (root / "app/notes/__pycache__").mkdir()
    (root / ".dockstage/reports").mkdir(parents=True)
    copy = pipelines.checkout_copy(root, tmp_path / "work")
    assert sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file()) == [
        ".env.example",
        "app/notes/views.py",
        "app/requirements/base.txt",
    ]
    original = (copy / pipelines.REQUIREMENTS).read_text()
    pipelines.change_app_code(copy)
    pipelines.change_dependency(copy, original)
    first = (copy / pipelines.REQUIREMENTS).read_text()
    pipelines.change_dependency(copy, original)
    second = (copy / pipelines.REQUIREMENTS).read_text()
    assert first.startswith("Django\nsix  # bench change ") and second.startswith("Django\nsix  # ")
    assert first != second  # each run's change is new to the build cache
    assert (copy / pipelines.VIEWS).read_text().startswith("x = 1\n\n# bench change ")
    assert (root / "app/notes/views.py").read_text() == "x = 1\n"  # the checkout itself is untouched


def test_a_failed_pipeline_fails_its_target_and_is_reported(tmp_path: Path) -> None:
    data = results()
    data["pipelines"]["app_change"] = {"failed_runs": 1, "runs": [{"seconds": 40.0, "green": 0.0}]}
    data["pipelines"]["errors"] = ["app_change: check: the app's tests failed"]
    data["meta"]["stack_retries"] = ["dockstage-bench up web: stack: migrate did not become healthy"]
    data["fresh_machine"] = {
        "measured": True,
        "seconds": 30.0,
        "green": False,
        "exit_code": 3,
        "output_tail": ["a `b`"],
    }
    targets = benchstats.evaluate_targets(data)
    (app,) = [t for t in targets if t.name.startswith("app-code change -> pipeline")]
    assert (app.met, app.verdict()) == (False, "NOT met (failed)")
    text = benchstats.write_markdown(tmp_path / "REPORT.md", data, targets).read_text()
    assert "| after an app-code change (1 run(s) failed) | - |" in text
    assert "## Incidents in this run" in text
    assert "- pipeline failed: `app_change: check: the app's tests failed`" in text
    assert "- stack start retried once: `dockstage-bench up web" in text
    assert "- fresh machine: exit 3; last lines: `a 'b'`" in text
    assert "Incidents" not in benchstats.write_markdown(tmp_path / "clean.md", results(), targets).read_text()


def test_pipeline_medians_are_over_green_runs() -> None:
    runs = [{"seconds": 9.0, "green": 1.0}, {"seconds": 50.0, "green": 0.0}, {"seconds": 11.0, "green": 1.0}]
    summary = pipelines.summarize(runs)
    assert summary["seconds"] == 10.0
    assert summary["failed_runs"] == 1
    assert summary["runs"] == runs


# --- the swarm section -------------------------------------------------------------------------
HARNESS = {
    "nodes": 3,
    "replicas": 3,
    "scenarios": [
        {"name": "a rolling update", "requests": 2412, "failed": 0, "seconds": 91.5, "passed": True, "note": "v2"},
        {"name": "d redeploy", "requests": 4726, "failed": 4490, "seconds": 69.8, "passed": False, "note": "lost"},
    ],
    "official_bases": {"passed": True, "checks": []},
    "passed": False,
}
PHASES = {
    "first_deploy": {"seconds": 14.04, "outcome": "created", "requests": None, "failed": None, "errors": {}},
    "rollback": {"seconds": 30.0, "outcome": "updated to v1", "requests": 1200, "failed": 0, "errors": {}},
    "rolling_update": {"seconds": 31.26, "outcome": "updated", "requests": 1300, "failed": 2, "errors": {"502": 2}},
}


def test_read_harness_keeps_the_table_and_refuses_what_is_not_one(tmp_path: Path) -> None:
    path = tmp_path / "swarm.json"
    assert benchstats.read_harness(path) is None  # no run left one
    path.write_text("{not json")
    assert benchstats.read_harness(path) is None
    path.write_text(json.dumps({"nodes": 3}))
    assert benchstats.read_harness(path) is None
    path.write_text(json.dumps(HARNESS))
    read = benchstats.read_harness(path)
    assert read is not None
    assert (read["nodes"], read["replicas"], read["passed"], read["path"]) == (3, 3, False, str(path))
    assert [row["name"] for row in read["scenarios"]] == ["a rolling update", "d redeploy"]
    assert "official_bases" not in read and read["modified"].endswith("+00:00")


def test_swarm_rows_in_phase_order_with_no_load_on_the_first_deploy() -> None:
    rows = benchstats.swarm_rows({"swarm": {"phases": PHASES}})
    assert rows == [
        ("first deploy (migrate job, every web replica healthy)", "14.0", "-", "-", "created"),
        ("rolling update to a new digest", "31.3", "1300", "2", "updated"),
        ("rollback (`invoke rollback`)", "30.0", "1200", "0", "updated to v1"),
    ]  # the failed-update phase was not measured: no row
    assert benchstats.swarm_rows({}) == []


def test_harness_rows_say_yes_and_no(tmp_path: Path) -> None:
    (tmp_path / "swarm.json").write_text(json.dumps(HARNESS))
    rows = benchstats.harness_rows({"swarm": {"harness": benchstats.read_harness(tmp_path / "swarm.json")}})
    assert rows == [
        ("a rolling update", "2412", "0", "91.5", "yes", "v2"),
        ("d redeploy", "4726", "4490", "69.8", "NO", "lost"),
    ]
    assert benchstats.harness_rows({"swarm": {"harness": None}}) == []


def test_report_has_the_swarm_table_or_says_how_to_get_it(tmp_path: Path) -> None:
    (tmp_path / "swarm.json").write_text(json.dumps(HARNESS))
    data = results(
        swarm={
            "measured": True,
            "replicas": 2,
            "load": {"connections": 2, "max_requests": 20000, "max_seconds": 300.0},
            "phases": PHASES,
            "harness": benchstats.read_harness(tmp_path / "swarm.json"),
        }
    )
    text = benchstats.write_markdown(tmp_path / "REPORT.md", data, benchstats.evaluate_targets(data)).read_text()
    assert "## Swarm: rollout and rollback" in text
    assert "| phase | seconds | requests | failed | outcome |" in text
    assert "| rolling update to a new digest | 31.3 | 1300 | 2 | updated |" in text
    assert "| a rolling update | 2412 | 0 | 91.5 | yes | v2 |" in text
    assert "at most 20000 requests, 300.0 s" in text
    bare = results(swarm={"measured": False, "reason": "not asked for: `--swarm`", "harness": None})
    text = benchstats.write_markdown(tmp_path / "bare.md", bare, benchstats.evaluate_targets(bare)).read_text()
    assert "One-node swarm: not measured (not asked for: `--swarm`)." in text
    assert "Three-node harness: no results file" in text


def test_only_swarm_without_an_engine_ends_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    assert bench.main(["--only", "swarm"]) == EXIT_CODES["engine"]
    assert capsys.readouterr().err.strip().startswith("engine: no Docker engine answers at unix:///nonexistent.sock")


def test_docker_proxy_of_a_port_is_found_by_its_command_line(tmp_path: Path) -> None:
    def proc(pid: int, *args: str) -> None:
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in args) + b"\0")

    proc(10, "/usr/sbin/docker-proxy", "-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "32768")
    proc(11, "/usr/sbin/docker-proxy", "-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "32769")
    proc(12, "/usr/bin/python3", "-host-port", "32768")
    (tmp_path / "self").mkdir()
    assert cpu.proxy_pids(32768, tmp_path) == [10]
    assert cpu.proxy_pids(8000, tmp_path) == []


def test_pid_stat_gives_user_plus_system_seconds() -> None:
    # a command name with spaces and a paren, as /proc shows it; utime 250, stime 50 ticks
    text = "4242 (docker-proxy (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 123 0 0"
    assert cpu.parse_pid_stat(text, 100) == 3.0


FRESH_OUTPUT = """\
[provision] installing docker.io (engine, containerd, runc)
[provision] engine 20.10.24+dfsg1, github.com/docker/buildx 0.13.1+ds1, 2.26.1-4; ready in 15 s
[bootstrap] installing the suite (pip install -e .)
[bootstrap] installed in 6 s
┏━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━┓
┃ step         ┃ result                  ┃ seconds ┃
┡━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━┩
│ doctor       │ 5 checks green          │ 0.4     │
│ bases        │ 3 stand-in images built │ 42.3    │
│ build        │ 4 stages                │ 31.3    │
│ db beside the build │ 1 stand-in image built, db started │ 17.4    │
│ test_image   │ 47 tests, 0 failed      │ 3.0     │
│ image checks │ 5 passed                │ 1.7     │
│ smoke_prod   │ 7 checks passed         │ 3.6     │
└──────────────┴─────────────────────────┴─────────┘
"""


def test_the_fresh_machines_split_is_read_from_its_output_and_reported(tmp_path: Path) -> None:
    split = pipelines.fresh_split(FRESH_OUTPUT)
    assert split == {
        "provision": 15.0,
        "bootstrap": 6.0,
        "doctor": 0.4,
        "bases": 42.3,
        "build": 31.3,
        "db beside the build": 17.4,
        "test_image": 3.0,
        "image checks": 1.7,
        "smoke_prod": 3.6,
    }
    assert pipelines.fresh_split("[provision] fast path: engine ... already present\n") == {}
    data = results(fresh_machine={"measured": True, "seconds": 107.0, "green": True, "split": split})
    targets = benchstats.evaluate_targets(data)
    text = benchstats.write_markdown(tmp_path / "REPORT.md", data, targets).read_text()
    assert (
        "| fresh machine: the README's main job | 107.00 (provision 15.00, bootstrap 6.00, doctor 0.40, bases 42.30,"
        in text
    )
