"""Pure logic of the front-ends and the pipeline: argument mapping, compose versions, junit reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockstage import STAGES
from dockstage.core import engine
from dockstage.core.errors import ReportUnreadable
from dockstage.flows import pipeline
from dockstage.frontends import invoketasks, noxsessions
from dockstage.frontends.common import NOX_COMMANDS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("posargs", "expected"),
    [
        ([], ("bookworm", False)),
        (["trixie"], ("trixie", False)),
        (["all", "--force"], ("all", True)),
        (["--force"], ("bookworm", True)),
    ],
    ids=["default", "trixie", "all-force", "force-only"],
)
def test_bases_posargs(posargs: list[str], expected: tuple[str, bool]) -> None:
    assert noxsessions.bases_args(posargs) == expected


@pytest.mark.parametrize(
    ("posargs", "expected"),
    [([], (False, ())), (["--quiet"], (True, ())), (["-k", "health", "--quiet"], (True, ("-k", "health")))],
    ids=["none", "quiet", "pytest-args-and-quiet"],
)
def test_quiet_is_the_suites_and_the_rest_is_pytests(
    posargs: list[str], expected: tuple[bool, tuple[str, ...]]
) -> None:
    assert noxsessions.quiet_and_rest(posargs) == expected


def test_invoke_collection_has_every_task_with_help() -> None:
    ns = invoketasks.collection(ROOT)
    expected = {
        "dev", "watch", "up", "down", "ps", "logs", "build", "test", "smoke", "shell", "manage", "migrate",
        "makemigrations", "db-shell", "db-dump", "db-restore", "clean", "doctor", "bases",
        "registry", "release", "sbom", "deploy", "rollback", "stack-ps", "stack-logs", "undeploy",
    }  # fmt: skip
    assert set(ns.task_names) == expected
    for name in expected:
        assert ns[name].__doc__, name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Docker Compose version v2.26.1", (2, "2.26.1")),
        ("Docker Compose version 2.40.3", (2, "2.40.3")),
        ("docker-compose version 1.29.2, build unknown", (1, "1.29.2")),
        ("no version here", None),
    ],
    ids=["v2-prefixed", "v2-bare", "v1", "garbage"],
)
def test_compose_version_parsing(text: str, expected: tuple[int, str] | None) -> None:
    assert engine.compose_major_version(text) == expected


@pytest.mark.parametrize(
    "xml",
    [
        '<testsuites><testsuite tests="4" failures="1" errors="0" skipped="2"/></testsuites>',
        '<testsuite tests="4" failures="1" errors="0" skipped="2"></testsuite>',
    ],
    ids=["wrapped", "bare"],
)
def test_junit_counts(tmp_path: Path, xml: str) -> None:
    report = tmp_path / "junit.xml"
    report.write_text(xml)
    counts = pipeline.junit_counts(report)
    assert counts == {"tests": 4, "failures": 1, "errors": 0, "skipped": 2}
    assert pipeline.describe_counts(counts) == "4 tests, 1 failed, 0 errors, 2 skipped"


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        ("<testsuites/>", "no testsuite in it"),
        ('<testsuite tests="4" failures="1"', "not valid XML"),  # cut short, as by a full disk
        ('<testsuite tests="four"/>', "a count is not a number"),
    ],
    ids=["no-suite", "truncated", "bad-count"],
)
def test_an_unreadable_junit_report_is_one_line(tmp_path: Path, xml: str, reason: str) -> None:
    report = tmp_path / "junit.xml"
    report.write_text(xml)
    with pytest.raises(ReportUnreadable) as refused:
        pipeline.junit_counts(report)
    line = refused.value.one_line(NOX_COMMANDS)
    assert line.startswith(f"check: the test report {report} cannot be read ({reason}")
    assert "`nox -s test_image`" in line and refused.value.return_code == 7


def test_a_build_session_per_stage() -> None:
    text = (ROOT / "dockstage" / "frontends" / "noxsessions.py").read_text()
    assert all(stage in noxsessions._BUILD_DOCS for stage in STAGES)
    assert 'name=f"build_{stage}"' in text


def test_swarm_options_come_from_the_settings(tmp_path: Path) -> None:
    from dockstage.core import config
    from dockstage.swarm.options import SwarmOptions

    (tmp_path / ".env").write_text("DOCKSTAGE_PROXY_PORT=9090\n")
    environ = {"DOCKSTAGE_WEB_REPLICAS": "3", "DOCKSTAGE_ENDPOINT_MODE": "vip"}
    options = SwarmOptions.from_settings(config.load(tmp_path, environ=environ))
    assert (options.proxy_port, options.replicas, options.endpoint_mode, options.registry_port) == (
        9090,
        3,
        "vip",
        5000,
    )


def test_messages_keep_their_square_brackets() -> None:
    """A message naming `[tool.dockstage]` or a TOML list is printed as written, never read as
    rich markup (held-out django-blog: 'set test-command in  to where they are')."""
    import io

    from dockstage.core.report import Reporter

    buffer = io.StringIO()
    reporter = Reporter(ci=True, buffer=buffer)
    reporter.warn('set test-command in [tool.dockstage]; smoke-skip = ["/x/*"]')
    reporter.ok("[bold]as written[/]")
    reporter.step("[tool.dockstage] read")
    reporter.fail("[red]x[/]")
    text = buffer.getvalue()
    assert 'set test-command in [tool.dockstage]; smoke-skip = ["/x/*"]' in text
    assert "[bold]as written[/]" in text and "[tool.dockstage] read" in text and "[red]x[/]" in text
