"""What a nox session or an invoke task does, once: each flow takes Settings and raises DockstageError."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage import engine, offline, report, smoke, stack, stages
from dockstage.config import Settings, read_env_file
from dockstage.errors import CheckFailed
from dockstage.offline import BaseImages

BUILD_CHECKS = ("buildx", "disk")
STACK_CHECKS = ("compose",)


@dataclass
class Summary:
    """Rows for the final table of a multi-step flow."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, step: str, result: str, seconds: float) -> None:
        self.rows.append((step, result, f"{seconds:.1f}"))

    def show(self, title: str) -> None:
        report.table(title, ("step", "result", "seconds"), self.rows)


def prepare(settings: Settings, *checks: str) -> tuple[DockerClient, BaseImages]:
    """Preflight the checks this flow needs, resolve the base images and say which are used."""
    report.set_quiet(settings.quiet)
    docker = engine.client(settings)
    engine.require(docker, *checks)
    bases = offline.resolve(settings.flavour, docker)
    report.info_once(f"base images ({bases.flavour}): python {bases.python}, mysql {bases.mysql}")
    return docker, bases


def doctor(settings: Settings) -> list[engine.Check]:
    """Every preflight check plus the base images; prints one line each."""
    docker = engine.client(settings)
    checks = engine.run_checks(docker)
    if all(c.passed for c in checks):
        checks.append(bases_check(settings, docker))
    for check in checks:
        (report.ok if check.passed else report.fail)(
            f"{check.name}: {check.detail}" + (f" -> {check.fix}" if check.fix else "")
        )
    return checks


def bases_check(settings: Settings, docker: DockerClient) -> engine.Check:
    """Which base images the suite will use, and whether they are here (or can be built here)."""
    bases = offline.resolve(settings.flavour, docker)
    absent = offline.missing(bases, docker)
    used = f"{bases.flavour}: {bases.python}, {bases.mysql}"
    if not absent:
        return engine.Check("bases", True, f"{used} (present)")
    if bases.flavour == "official":
        return engine.Check(
            "bases",
            False,
            f"{used}: {', '.join(absent)} missing and not pullable",
            "pull them where a registry is reachable, or use the stand-ins: DOCKSTAGE_FLAVOUR=bookworm",
        )
    return engine.Check("bases", True, f"{used} (missing, built on first use: {', '.join(absent)})")


def build_bases(settings: Settings, flavour: str, force: bool = False) -> list[offline.BuiltBase]:
    """Build the stand-in base images of one flavour (or all)."""
    docker, _ = prepare(settings, *BUILD_CHECKS)
    built = []
    for name in offline.FLAVOURS if flavour == "all" else (flavour,):
        built += offline.build_bases(docker, name, force=force)
    report.table(
        "base images",
        ("tag", "size", "seconds", "built"),
        ((b.tag, f"{b.size_bytes / 1e6:.0f} MB", f"{b.seconds:.1f}", "yes" if b.built else "present") for b in built),
    )
    return built


def build(settings: Settings, *targets: str) -> list[stages.Built]:
    """Build the target stages and what they need, in order, and print the table."""
    stages.plan(*targets)  # an unknown stage fails before any Docker call
    docker, bases = prepare(settings, *BUILD_CHECKS)
    offline.ensure(bases, docker)
    built = stages.build(settings, docker, bases, *targets)
    stages.table(built)
    return built


@contextmanager
def ephemeral_stack(settings: Settings, suffix: str, variant: str) -> Iterator[tuple[Settings, DockerClient]]:
    """A throwaway compose project (own name, own volume, any free port), always torn down."""
    scoped = settings.with_(project=f"{settings.project}-{suffix}", web_port=0)
    _, bases = prepare(scoped, *STACK_CHECKS)
    docker = stack.project(scoped, bases, variant)
    try:
        yield scoped, docker
    finally:
        stack.down(docker, volumes=True)


def junit_counts(path: Path) -> dict[str, int]:
    """tests/failures/errors/skipped from a junit XML report."""
    root = ET.parse(path).getroot()  # noqa: S314 - written by our own pytest run in the test image
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    return {key: int(suite.get(key, "0")) for key in ("tests", "failures", "errors", "skipped")}


def test_image(settings: Settings, pytest_args: tuple[str, ...] = ()) -> dict[str, int]:  # noqa: PT028 - a flow, not a test
    """The app's pytest suite in the test image against the stack's MySQL; junit copied to the host."""
    build(settings, "test")
    report_dir = settings.path(settings.state_dir) / "reports"
    report_dir.mkdir(parents=True, exist_ok=True)
    junit = report_dir / "junit-app.xml"
    junit.unlink(missing_ok=True)
    with ephemeral_stack(settings, "test", "test") as (scoped, docker):
        report.step("starting db for the tests")
        stack.up(scoped, docker, ["db"])
        name = f"{scoped.project}-pytest-{int(time.time())}"
        command = [
            "pytest",
            "-p",
            "no:cacheprovider",
            "--junitxml=/tmp/junit.xml",
            "-o",
            "console_output_style=classic",
            *pytest_args,
        ]
        report.step(f"pytest in {scoped.tag('test')}")
        failed: DockerException | None = None
        try:
            report.stream(docker.compose.run("test", command, name=name, tty=False, stream=True, remove=False))
        except DockerException as exc:
            failed = exc
        try:
            docker.container.copy((name, "/tmp/junit.xml"), junit)  # noqa: S108 - inside the test container
        except DockerException:
            report.warn("no junit report was written")
        finally:
            docker.container.remove(name, force=True)
        if failed is not None:
            report.step("db logs")
            stack.show_logs(docker, ["db"], tail=40)
            counts = junit_counts(junit) if junit.exists() else {}
            raise CheckFailed(
                f"the app's tests failed in the test image (pytest exit {failed.return_code}; {counts or 'no report'})",
                f"see pytest's output above and {junit}",
                return_code=failed.return_code or 1,
            )
    counts = junit_counts(junit)
    report.ok(
        f"app tests: {counts['tests']} run, {counts['failures']} failed, {counts['errors']} errors; report {junit}"
    )
    return counts


def smoke_prod(settings: Settings) -> list[str]:
    """The prod image's contents, then db + web from it, checked over real HTTP on 127.0.0.1."""
    build(settings, "prod")  # preflights the engine too
    lines = smoke.check_prod_image(engine.client(settings), settings.tag("prod"))
    with ephemeral_stack(settings, "smoke", "prod") as (scoped, compose):
        report.step("starting db, migrate and web from the prod image")
        stack.up(scoped, compose, ["web"])
        base = stack.web_url(compose)
        token = read_env_file(scoped.path(scoped.env_file)).get("API_TOKEN", "")
        report.step(f"smoke checks against {base}")
        try:
            lines += smoke.run_http_checks(base, token)
        except CheckFailed:
            stack.show_logs(compose, ["web", "migrate"], tail=60)
            raise
    return lines


def pipeline(settings: Settings) -> Summary:
    """doctor -> build all four stages -> app tests in the test image -> prod smoke test."""
    summary = Summary()
    started = time.monotonic()
    report.step("doctor")
    checks = doctor(settings)
    failing = [c for c in checks if not c.passed]
    if failing:
        raise failing[0].error()
    summary.add("doctor", "all checks green", time.monotonic() - started)
    steps: tuple[tuple[str, Callable[[], str]], ...] = (
        ("build", lambda: f"{len(build(settings))} stages"),
        ("test_image", lambda: "{tests} tests, {failures} failures".format(**test_image(settings))),
        ("smoke_prod", lambda: f"{len(smoke_prod(settings))} checks passed"),
    )
    for name, run in steps:
        started = time.monotonic()
        summary.add(name, run(), time.monotonic() - started)
    summary.show("pipeline")
    return summary
