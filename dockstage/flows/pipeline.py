"""The pipeline's flows: doctor, builds, the app's tests in the test image, the prod smoke test.

Each flow takes the command's Run and raises DockstageError; the pipeline hands its build
results to the steps after it, so no stage is built twice in one command.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import json
import re
import shlex
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from python_on_whales.exceptions import DockerException

from dockstage.core import bareimports
from dockstage.core.engine import Check
from dockstage.core.errors import (
    DockstageError,
    EngineError,
    NoTestsSelected,
    ReportUnreadable,
    SmokeCheckFailed,
    StepsFailed,
    TableNotMigrated,
    TestsFailed,
    TestsNotOnStackDatabase,
    docker_errors,
    engine_error,
    not_migrated,
    swallowed,
    view_errors,
)
from dockstage.flows import mysqlnotes, workdirnote
from dockstage.flows.run import Run
from dockstage.images import bases, imagechecks, offline, stages
from dockstage.stack import envfile, smoke
from dockstage.stack.compose import Stack

PYTEST_NO_TESTS = 5  # pytest's exit status when it collected nothing
JUNIT_IN_CONTAINER = "/tmp/junit.xml"  # noqa: S108 - inside the test container
TEST_COMMAND = (
    "pytest",
    "-p",
    "no:cacheprovider",
    f"--junitxml={JUNIT_IN_CONTAINER}",
    "-o",
    "console_output_style=classic",
)
"""The one test command line: the test image's entrypoint (testcommand.py) runs the configured
[tool.dockstage] test-command with these options (pytest) or their junit report (any other)."""


@dataclass
class Summary:
    """Rows for the final table of a multi-step flow."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, step: str, result: str, seconds: float) -> None:
        self.rows.append((step, result, f"{seconds:.1f}"))


def doctor(run: Run) -> list[Check]:
    """Every preflight check plus the base images; one line each; raises the first failure."""
    checks = run.run_checks()
    if all(c.passed for c in checks):
        checks.append(bases_check(run))
    for check in checks:
        if check.error is None:
            run.reporter.ok(f"{check.name}: {check.detail}")
        else:
            run.reporter.fail(f"{check.name}: {check.error.message(run.commands)}")
    failed = next((c.error for c in checks if c.error is not None), None)
    if failed is not None:
        raise failed
    return checks


def bases_check(run: Run) -> Check:
    """Which base images the suite will use, and whether they are here (or can be built here)."""
    try:
        images = run.bases()
    except EngineError as exc:
        return Check("bases", "not available", exc)
    absent = bases.missing(images, run.docker)
    used = f"{images.flavour}: {images.python}, {images.mysql}"
    if not absent:
        return Check("bases", f"{used} (present)")
    return Check("bases", f"{used} (missing, built on first use: {', '.join(absent)})")


def build_bases(run: Run, flavour: str, force: bool = False) -> list[offline.BuiltBase]:
    """Build the stand-in base images of one flavour (or all)."""
    names = bases.FLAVOURS if flavour == "all" else (flavour,)
    for name in names:
        offline.stand_in(name)  # an unknown flavour fails before any Docker call
    run.preflight("buildx", "disk")
    built = []
    for name in names:
        built += offline.build_bases(run.docker, name, force=force, reporter=run.reporter)
    run.reporter.table(
        "base images",
        ("tag", "size", "seconds", "built"),
        ((b.tag, f"{b.size_bytes / 1e6:.0f} MB", f"{b.seconds:.1f}", "yes" if b.built else "present") for b in built),
    )
    return built


def build(
    run: Run, *targets: str, check: bool = True, bases_first: tuple[str, ...] = offline.BASE_PARTS
) -> list[stages.Built]:
    """Build the target stages and what they need, print the table, then check the images."""
    built = run.build(*targets, bases_first=bases_first)
    images = run.bases()
    services = "".join(f", {name} {getattr(images, name, '')}" for name in run.settings.app.services)
    run.reporter.info(f"base images ({images.flavour}): python {images.python}, mysql {images.mysql}{services}")
    stages.table(run.reporter, built)
    if check:
        for stage in stages.plan(*targets):
            run.check_image(stage)
    return built


def junit_counts(path: Path) -> dict[str, int]:
    """tests/failures/errors/skipped from a junit XML report."""
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - written by our own pytest run in the test image
    except ET.ParseError as exc:
        raise ReportUnreadable(str(path), f"not valid XML: {exc}") from None
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        raise ReportUnreadable(str(path), "no testsuite in it")
    try:
        return {key: int(suite.get(key, "0")) for key in ("tests", "failures", "errors", "skipped")}
    except ValueError as exc:
        raise ReportUnreadable(str(path), f"a count is not a number: {exc}") from None


def junit_stopped(path: Path) -> str:
    """Why the runner ran no test, as the test command kept it in the report (its system-err), or ''."""
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - written by our own test command in the test image
    except ET.ParseError:
        return ""
    found = root.find(".//system-err")
    return (found.text or "").strip() if found is not None else ""


_ON_SETUP = re.compile(r'^failed on setup with "(.*)"$', re.DOTALL)
_PYTEST_E = re.compile(r"^E\s+", re.MULTILINE)  # pytest's mark on the lines of the exception it shows


def junit_setup_error(path: Path) -> str:
    """What stopped the run before its tests, from the report: the one error every errored test
    had on setup (their test database's migrations failing on MySQL: SISOC's 2955), or the test
    files that did not import (pytest stops at collection: SECURE-VULNERABLE's ImportError); ''
    when the errors differ or are the tests' own."""
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - written by our own test command in the test image
    except ET.ParseError:
        return ""
    errors = [(case, error) for case in root.iter("testcase") for error in case.iter("error")]
    uncollected = [
        (case.get("name") or "").replace(".", "/") + ".py"
        for case, error in errors
        if error.get("message") == "collection failure"
    ]
    if uncollected:
        shown = "\n".join(
            _PYTEST_E.sub("", line) for line in (errors[0][1].text or "").splitlines() if _PYTEST_E.match(line)
        )
        raised = imagechecks.last_exception(shown)
        why = f" ({raised})" if raised else ""
        return f"pytest stopped as {', '.join(uncollected)} did not import{why}"
    messages = {str(error.get("message") or "") for _, error in errors}
    found = [_ON_SETUP.match(message) for message in messages]
    return found[0].group(1) if len(found) == 1 and found[0] else ""


def failed_summary(counts: dict[str, int], stopped: str, setup_error: str = "") -> str:
    """The counts of a failed run, or, when it ran no test, that the tests did not start and why;
    an error every errored test had on setup is named."""
    if counts["tests"] == 0 and counts["errors"] == 0:
        return f"the tests did not start: {stopped or 'the runner stopped before its first test (its output is above)'}"
    if setup_error.startswith("pytest stopped as "):
        return f"{describe_counts(counts)}; {setup_error}"
    one = "its error" if counts["errors"] == 1 else f"each of the {counts['errors']} errors"
    return describe_counts(counts) + (f"; {one} on setup: {setup_error}" if setup_error else "")


def describe_counts(counts: dict[str, int]) -> str:
    """'40 tests, 1 failed, 0 errors, 2 skipped' for a junit summary."""
    return (
        f"{counts['tests']} tests, {counts['failures']} failed, {counts['errors']} errors, {counts['skipped']} skipped"
    )


@contextmanager
def _stack_for(run: Run, given: Stack | None, suffix: str, variant: str) -> Iterator[Stack]:
    """The stack a flow was handed (speaking through the flow's reporter), else its own throwaway."""
    if given is not None:
        yield dataclasses.replace(given, reporter=run.reporter)
        return
    with run.throwaway(suffix, variant) as stack:
        yield stack


def test_image(
    run: Run,
    pytest_args: tuple[str, ...] = (),  # noqa: PT028 - a flow, not a test
    stack: Stack | None = None,  # noqa: PT028
    *,
    db_ready: bool = False,  # noqa: PT028
    db_wait: bool = False,  # noqa: PT028
) -> dict[str, int]:
    """The app's pytest suite in the test image against the stack's MySQL; junit copied to the host.

    `stack`: a test-variant stack whose db the tests share (the pipeline's), else a throwaway one;
    `db_ready`: its backing services are up already, so no compose `up` is made here (the
    pipeline's smoke branch makes its own on the same project at this moment, and two `up`s on
    one project race: compose may remove a container the other is using); `db_wait`: db may still
    be initialising: the tests' connections are tried again until it answers (DOCKSTAGE_DB_WAIT,
    for the settings' wait timeout), so their start overlaps its."""
    run.build("test")
    settings = run.settings
    report_dir = settings.path(settings.state_dir) / "reports"
    report_dir.mkdir(parents=True, exist_ok=True)
    junit = report_dir / "junit-app.xml"
    junit.unlink(missing_ok=True)
    with _stack_for(run, stack, "test", "test") as stack:
        if not db_ready:
            run.reporter.step("waiting for db for the tests")
            stack.up(stack.backing, action="starting db for the tests")
        name = f"{stack.project}-pytest-{uuid.uuid4().hex[:8]}"
        run.reporter.step(f"pytest in {settings.tag('test')}")
        failed: DockerException | None = None
        output: deque[bytes] = deque(maxlen=OUTPUT_KEPT)  # the runner's last chunks: what its report may not hold
        try:
            run.reporter.stream(
                kept_in(
                    output,
                    stack.compose.run(
                        "test",
                        [*TEST_COMMAND, *pytest_args],
                        envs={envfile.DB_WAIT: str(settings.wait_timeout)} if db_wait else {},
                        name=name,
                        tty=False,
                        stream=True,
                        remove=False,
                        dependencies=False,  # up and healthy (above, or by the caller): no second convergence
                    ),
                )
            )
        # pytest's exit status is the result (its output was shown); only the engine's own trouble is raised.
        except DockerException as exc:
            lost = engine_error(exc, "running the app's tests")
            if lost is not None:
                raise lost from None
            failed = exc
        proof = report_dir / "db-proof.json"
        proof.unlink(missing_ok=True)
        # Both copied at once; the exited container is removed with its throwaway stack (by label).
        with concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="copy") as copies:
            for source, target, missing in (
                (JUNIT_IN_CONTAINER, junit, "pytest wrote no junit report"),
                (DB_PROOF, proof, "the tests wrote no database proof"),
            ):
                copies.submit(_copy_out, run, name, source, target, missing)
        if not junit.exists():
            run.reporter.warn("no junit report was written in this run")
        runner = shlex.join(settings.app.test_command)
        if failed is not None:
            if failed.return_code == PYTEST_NO_TESTS:
                raise NoTestsSelected(pytest_args)
            run.reporter.step("db logs")
            stack.show_logs(["db"], tail=40)
            summary = (
                failed_summary(junit_counts(junit), junit_stopped(junit), junit_setup_error(junit))
                if junit.exists()
                else "no junit report in this run"
            )
            found = json.loads(proof.read_text(encoding="utf-8")) if proof.is_file() else {}
            ours, used = database_used(found)
            if not ours:  # the cause before the failures it made
                raise TestsNotOnStackDatabase(used, str(found.get("settings") or ""), summary)
            if found:  # said as when they pass: a failure is read knowing where the tests ran
                run.reporter.info(tests_ran_on(used, found, started="did not start" not in summary))
            said = b"".join(output).decode("utf-8", "replace")
            failed_tests = mysqlnotes.failures(junit, said)
            for line in mysqlnotes.differences(failed_tests):  # from SQLite
                run.reporter.info(f"MySQL, not SQLite: {line}")
            for line in mysqlnotes.standin_differences(failed_tests):
                run.reporter.info(f"the MariaDB stand-in, not MySQL 8: {line}")
            for line in workdirnote.notes(failed_tests, settings.path(settings.app_dir)):
                run.reporter.info(f"the tests' working directory: {line}")
            raise TestsFailed(
                failed.return_code,
                summary,
                str(junit),
                runner,
                used if found else "",
                not_migrated(said),
                bareimports.hint(said, settings.path(settings.app_dir)),
                said[-20000:],
            )
    counts = junit_counts(junit) if junit.exists() else {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    used = check_database(run, proof)
    if junit.exists() and counts["tests"] == 0:  # green, but nothing was tested
        passed_over = junit_stopped(junit)  # test modules the runner's discovery could not see
        run.reporter.warn(
            f"`{runner}` ran no test: the pipeline checks the build, the migrations and the smoke checks "
            f"only; {passed_over or 'add tests (or set test-command in [tool.dockstage] to where they are)'}"
        )
        return counts
    run.reporter.ok(f"app tests (`{runner}`): {describe_counts(counts)} on {used}; report {junit}")
    return counts


def _copy_out(run: Run, container: str, source: str, target: Path, missing: str) -> None:
    """Copy one file out of the exited test container; a missing one is said by the caller (no
    junit report: a warning, and pytest's result stands; no database proof: check_database)."""
    with swallowed(missing):
        run.docker.container.copy((container, source), target)


OUTPUT_KEPT = 4000
"""Chunks of the test runner's output kept to read its failures when its report holds none (manage.py test)."""


def kept_in(output: deque[bytes], chunks: object) -> Iterator[tuple[str, bytes]]:
    """The (source, bytes) stream of python-on-whales as it is, each chunk also added to `output`."""
    assert isinstance(chunks, Iterable), "expected a stream of (source, bytes)"
    for source, chunk in chunks:
        output.append(chunk)
        yield source, chunk


DB_PROOF = "/tmp/dockstage-db.json"  # noqa: S108 - written in the test container by dockstage_dbproof
STACK_DB_HOST = "db"  # the compose service the suite hands the app as database-host


def database_used(found: dict[str, object]) -> tuple[bool, str]:
    """(whether it was the stack's MySQL, how to name it) from the test run's database proof."""
    vendor, host = found.get("vendor"), str(found.get("host") or "")
    if vendor is None:
        return True, "an unknown database (the tests did not set up Django)"
    if vendor == "mysql" and host == STACK_DB_HOST:
        return True, f"MySQL at {host}"
    where = f" at {host}" if host else ""
    return False, f"{'SQLite' if vendor == 'sqlite' else vendor}{where}"


def tests_ran_on(used: str, found: dict[str, object], *, started: bool = True) -> str:  # noqa: PT028 - not a test
    """The line naming the database the tests used (vendor and host) and the settings they ran with;
    of tests that did not start (their test database failed), the database they were given."""
    settings = f"settings {found['settings']}" if found.get("settings") else ""
    if not started:
        return f"the app's tests did not start; their database was {used}" + (f" ({settings})" if settings else "")
    return f"the app's tests ran on {used}" + (f" ({settings})" if settings else "")


def check_database(run: Run, proof: Path) -> str:
    """Which database the tests used; raises when it was not the stack's MySQL."""
    if not proof.is_file():
        run.reporter.warn("the test command wrote no database proof: which database the tests used is unknown")
        return "an unknown database"
    found = json.loads(proof.read_text(encoding="utf-8"))
    ours, used = database_used(found)
    if not ours:
        raise TestsNotOnStackDatabase(used, str(found.get("settings") or ""))
    return used


def smoke_prod(run: Run) -> list[str]:
    """The prod image's checks, then db + web from it, checked over real HTTP on 127.0.0.1."""
    run.build("prod")
    return [*run.check_image("prod"), *smoke_stack(run)]


def smoke_stack(
    run: Run, stack: Stack | None = None, *, db_ready: bool = False, db_wait: Callable[[Stack], None] | None = None
) -> list[str]:
    """db + migrate + web from the built prod image in a throwaway stack (or `stack`, sharing its
    db server: the tests use their own test_ database on it; `db_ready`: its backing services are
    up and healthy already; `db_wait`: returns once they are, called when web has started),
    checked over HTTP.

    Each step starts when the one before has ended (health and exit seen at once), not when
    compose's dependency poll next looks: that poll cost up to a second a step. web starts beside
    migrate (its gunicorn boots while migrate works; what it says before migrate ends does not
    count), the project's workers after it."""
    lines: list[str] = []
    with _stack_for(run, stack, "smoke", "smoke") as stack:
        services = ["web", *stack.added_services()]  # the project's workers start too, and must stay up
        run.reporter.step(f"starting db, migrate and {', '.join(services)} from the prod image")
        if not db_ready:
            stack.up(stack.backing, action="starting db for the smoke stack")
        stack.start_beside("web", action="starting web beside migrate")
        with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="urls") as early:
            # The URLconf needs no database: listed in web while migrate works (again below if that failed).
            listed = early.submit(_urls_of, stack) if run.settings.app.smoke_urls else None
            # migrate's connections wait for db (envfile.DB_WAIT): it starts before db's wait ends
            meanwhile = None if db_wait is None else functools.partial(db_wait, stack)
            stack.run_once("migrate", action="migrating the smoke stack's database", meanwhile=meanwhile)
            stack.counted_from_now("web", action="starting the smoke stack")
            stack.up(services, action="starting the smoke stack", dependencies=False)
            base = stack.url()
            run.reporter.step(f"smoke checks against {base}")
            try:
                lines += smoke.run_http_checks(base, run.reporter, run.settings)
                if listed is not None:
                    urls = listed.result() if listed.exception() is None else _urls_of(stack)
                    lines.append(smoke.crawl(base, urls, run.reporter, run.settings.app.smoke_skip))
            except SmokeCheckFailed as failed:
                stack.show_logs(["migrate"], tail=20)
                log = stack.show_logs(["web"], tail=150)  # last: a 5xx's traceback ends right above
                missing = not_migrated(log)
                if missing:
                    raise TableNotMigrated(failed, missing) from None
                raise failed.with_causes(view_errors(log)) from None
    return lines


def _urls_of(stack: Stack) -> list[str]:
    """The parameterless URLs of the app's URLconf, resolved by its own Django in the running web."""
    with docker_errors(
        "listing the URLconf in web",
        otherwise=lambda exc: SmokeCheckFailed("urls", f"listing the URLconf in web failed: {str(exc).strip()[-300:]}"),
    ):
        output = stack.execute_in_web(["python", imagechecks.URL_LISTER])
    try:
        return [str(p) for p in json.loads(str(output).strip().splitlines()[-1])]
    except (ValueError, IndexError):
        raise SmokeCheckFailed(
            "urls", f"listing the URLconf in web printed no URL list: {str(output)[-300:]}"
        ) from None


def failed_row(exc: BaseException) -> str:
    """The summary's result for a step that failed: a user-caused error's what, else its type."""
    return f"FAILED: {exc.what if isinstance(exc, DockstageError) else type(exc).__name__}"


def side_by_side(
    run: Run, steps: dict[str, Callable[[Run], str]], summary: Summary | None = None
) -> dict[str, tuple[str, float]]:
    """Run steps at once, each with its own buffered output (printed whole, in order, when all
    are done); every step's row goes to `summary`, failed ones too. One failure is raised as it
    is, several as one error naming each step."""
    results: dict[str, tuple[str, float]] = {}
    failures: dict[str, DockstageError] = {}
    crashed: dict[str, Exception] = {}  # not a user-caused error: the boundary above reports it
    seconds: dict[str, float] = {}
    branches = {name: dataclasses.replace(run, reporter=run.reporter.buffered()) for name in steps}

    def work(name: str) -> None:
        started = time.monotonic()
        try:
            results[name] = (steps[name](branches[name]), time.monotonic() - started)
        except DockstageError as exc:
            failures[name] = exc
        except Exception as exc:  # noqa: BLE001 - not lost in the thread: raised below, after the table
            crashed[name] = exc
        finally:
            seconds[name] = time.monotonic() - started

    threads = [threading.Thread(target=work, args=(name,), name=name) for name in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in steps:
        run.reporter.step(name)
        branches[name].reporter.flush_into(run.reporter)
    if summary is not None:
        for name in steps:
            shown = results[name][0] if name in results else failed_row(failures.get(name) or crashed[name])
            summary.add(name, shown, seconds.get(name, 0.0))
    if crashed:
        raise next(iter(crashed.values()))
    failed = [(name, failures[name]) for name in steps if name in failures]
    if len(failed) == 1:
        raise failed[0][1]
    if failed:
        raise StepsFailed(failed)
    return {name: results[name] for name in steps}


@contextmanager
def beside(run: Run, name: str, step: Callable[[Run], str], summary: Summary) -> Iterator[None]:
    """Run `step` in a thread while the body runs (its output buffered, printed after); its row
    goes to `summary` and its error is raised once both have ended (the body's error first)."""
    branch = dataclasses.replace(run, reporter=run.reporter.buffered())
    outcome: list[str] = []
    failed: list[BaseException] = []
    seconds: list[float] = []

    def work() -> None:
        started = time.monotonic()
        try:
            outcome.append(step(branch))
        except BaseException as exc:  # noqa: BLE001 - raised below, in the caller's thread
            failed.append(exc)
        finally:
            seconds.append(time.monotonic() - started)

    thread = threading.Thread(target=work, name=name)
    thread.start()
    try:
        yield
    finally:
        thread.join()
        run.reporter.step(name)
        branch.reporter.flush_into(run.reporter)
        summary.add(name, outcome[0] if outcome else failed_row(failed[0]), seconds[0])
    if failed:
        raise failed[0]


def pipeline(run: Run) -> Summary:
    """doctor -> the python base -> build all four stages, and beside the build the database's
    base and db started (it initialises while the images build) -> side by side: the app's tests
    (started at once, their connections waiting for db), the image checks and the prod smoke stack
    (web started, db healthy, migrate), tests and smoke on the one db server (a database each) ->
    summary (the stack is torn down behind it)."""
    summary = Summary()
    run.reporter.step("doctor")
    started = time.monotonic()
    summary.add("doctor", f"{len(doctor(run))} checks green", time.monotonic() - started)
    run.ensure_env()  # once, before the branches share the run
    started = time.monotonic()
    run.provided_bases("python")  # the build's; the database's is made beside the build
    if run.built_bases:
        summary.add("bases", f"{len(run.built_bases)} stand-in images built", time.monotonic() - started)
    with run.throwaway("pipeline", "test") as stack:

        def database(branch: Run) -> str:
            made = len(branch.built_bases)
            branch.provided_bases()  # a missing stand-in is built before its db can start
            branch.reporter.step("starting db (it initialises while the images build)")
            stack.up(stack.backing, action="starting db", wait=False)
            built = len(branch.built_bases) - made
            return f"{built} stand-in image{'s' * (built != 1)} built, db started" if built else "db started"

        with beside(run, "db beside the build", database, summary):
            run.reporter.step("build")
            started = time.monotonic()
            summary.add("build", f"{len(build(run, check=False, bases_first=()))} stages", time.monotonic() - started)
        started = time.monotonic()
        db_failed, smoke_ended = threading.Event(), threading.Event()

        def wait_for_db(branch_stack: Stack) -> None:
            """db healthy (one `up`, in the smoke branch: the tests' compose run makes none), or the
            tests and migrate, which wait for it by themselves, stopped with it."""
            branch_stack.reporter.step("waiting for db")
            try:
                branch_stack.up(branch_stack.backing, action="starting db")
            except BaseException:
                db_failed.set()
                branch_stack.kill("test", "migrate")
                raise

        def tests(branch: Run) -> str:
            try:
                return describe_counts(test_image(branch, stack=stack, db_ready=True, db_wait=True))
            except DockstageError:
                smoke_ended.wait()  # where db's wait ends: failed there, it is the cause to say
                if db_failed.is_set():
                    return "stopped: db did not become healthy"
                raise

        def smoke_branch(branch: Run) -> str:
            try:
                return f"{len(smoke_stack(branch, stack=stack, db_ready=True, db_wait=wait_for_db))} checks passed"
            finally:
                smoke_ended.set()

        try:
            side_by_side(
                run,
                {
                    "test_image": tests,
                    "image checks": lambda branch: (
                        f"{sum(len(branch.check_image(s)) for s in ('stage', 'prod'))} passed"
                    ),
                    "smoke_prod": smoke_branch,
                },
                summary,
            )
        finally:
            summary.add("all of them, side by side", "", time.monotonic() - started)
            run.reporter.table("pipeline", ("step", "result", "seconds"), summary.rows)
    return summary
