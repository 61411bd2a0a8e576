"""Pure parts of what adopted projects tripped on: the Host the suite sends and ALLOWED_HOSTS, a
manifest static storage before the tests, the URL crawl's failure lines and skip patterns, a
healthcheck's 400, a test run that never started, and init's probe lines."""

from __future__ import annotations

import datetime
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from python_on_whales.components.container.models import ContainerState

from dockstage.adopt import learn
from dockstage.adopt.cli import main as init_main
from dockstage.adopt.inspect import Findings
from dockstage.adopt.probe import apply, probed_line
from dockstage.core.appconfig import SmokeCheck, parse_app
from dockstage.core.errors import (
    ServiceFailed,
    SmokeCheckFailed,
    health_diagnosis,
    hopeless,
    never_healthy,
    view_errors,
)
from dockstage.core.report import Reporter
from dockstage.flows import pipeline
from dockstage.stack import compose, smoke
from tests.unit.test_adopt_helpers import helper


@pytest.mark.parametrize(
    ("hosts", "allowed"),
    [
        (["127.0.0.1"], False),
        ([".railway.app", ".pythonanywhere.com", "127.0.0.1"], False),
        (["*"], True),
        (["localhost"], True),
        ([".localhost"], True),
        (["LOCALHOST"], True),
        (["example.com", ".ocalhost"], False),
        ([], False),
    ],
)
def test_allowed_hosts_are_judged_by_the_host_the_suite_sends(hosts: list[str], allowed: bool) -> None:
    assert learn.allows(hosts) is allowed


def _probe_answer(**values: object) -> dict[str, object]:
    return {
        "module": "site.settings",
        "ok": True,
        "env": {"DATABASE_URL": "mysql://u1x:p1x@h1x.probe:47001/n1x", "DJANGO_SECRET_KEY": "ds2s"},
        "reads": ["DATABASE_URL", "DJANGO_SECRET_KEY"],
        "values": {
            "DATABASES": {"default": {"ENGINE": "django.db.backends.mysql", "HOST": "h1x.probe", "PORT": 47001}},
            "SECRET_KEY": "ds2s",
            "DEBUG": False,
            "STATIC_ROOT": "/app/staticfiles",
            "INSTALLED_APPS": ["django.contrib.staticfiles"],
            **values,
        },
    }


def test_hard_coded_hosts_without_localhost_are_overlaid() -> None:
    learned = learn.interpret(_probe_answer(ALLOWED_HOSTS=[".railway.app", ".pythonanywhere.com", "127.0.0.1"]))
    assert learned.overlay == ["allowed-hosts"]
    assert "does not take localhost" in learned.reasons[0]
    assert learn.interpret(_probe_answer(ALLOWED_HOSTS=["localhost", "127.0.0.1"])).overlay == []


@pytest.mark.parametrize(
    ("values", "storage"),
    [
        (
            {"STORAGES": {"staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}},
            "whitenoise.storage.CompressedManifestStaticFilesStorage",
        ),
        (
            {"STATICFILES_STORAGE": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
            "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
        ),
        ({"STORAGES": {"staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"}}}, ""),
        ({"STORAGES": None, "STATICFILES_STORAGE": None}, ""),
        (  # held-out ds-feedback: Django 6 never reads STATICFILES_STORAGE (gone in 5.1)
            {
                "STATICFILES_STORAGE": "whitenoise.storage.CompressedManifestStaticFilesStorage",
                "DJANGO_VERSION": [6, 0],
            },
            "",
        ),
        (
            {
                "STATICFILES_STORAGE": "whitenoise.storage.CompressedManifestStaticFilesStorage",
                "DJANGO_VERSION": [5, 0],
            },
            "whitenoise.storage.CompressedManifestStaticFilesStorage",
        ),
    ],
)
def test_a_manifest_storage_is_recognised(values: dict[str, object], storage: str) -> None:
    assert learn.manifest_storage(values) == storage


def test_a_manifest_storage_gets_collectstatic_before_the_tests() -> None:
    answer = _probe_answer(
        ALLOWED_HOSTS=["*"],
        STORAGES={"staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}},
    )
    found = Findings(Path("."), settings_module="site.settings")
    apply(found, [answer])
    assert found.test_setup == [learn.COLLECTSTATIC]
    assert any("CompressedManifestStaticFilesStorage" in line and "test-setup" in line for line in found.found)
    apply(found, [answer])  # once only
    assert found.test_setup == [learn.COLLECTSTATIC]
    plain = Findings(Path("."), settings_module="site.settings")
    apply(plain, [_probe_answer(ALLOWED_HOSTS=["*"])])
    assert plain.test_setup == []


def test_without_static_root_the_tests_get_it_for_collectstatic() -> None:
    answer = _probe_answer(
        ALLOWED_HOSTS=["*"],
        STATIC_ROOT=None,
        STATICFILES_STORAGE="django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
    )
    found = Findings(Path("."), settings_module="site.settings")
    apply(found, [answer])
    assert "static-root" in found.overlay and found.test_overlay == ["static-root"]


def test_the_probe_line_names_what_imported_and_what_did_not() -> None:
    both = [{"module": "config.base", "ok": False}, {"module": "config.test", "ok": True}]
    line = probed_line(both, "1 s, no network")
    assert line == "probed config.test in it; importing config.base failed (see below) (1 s, no network)"
    assert probed_line([{"module": "a.settings", "ok": True}], "2 s") == "probed a.settings in it (2 s)"
    assert "probed nothing" in probed_line([{"module": "a.settings", "ok": False}], "2 s")


def test_a_page_says_its_title_or_first_line() -> None:
    page = b"\n<!DOCTYPE html>\n<html><head><title>\n  Server Error (500) &amp; more\n</title></head></html>"
    assert smoke.page_text(page) == "Server Error (500) & more"
    assert smoke.page_text(b"<html><body><style>p{}</style><h1>Server Error (500)</h1></body></html>") == (
        "Server Error (500)"
    )
    assert smoke.page_text(b"") == ""
    long = smoke.page_text(b"<title>" + b"x" * 500 + b"</title>")
    assert len(long) == smoke.SHOWN_TEXT and long.endswith("...")


@pytest.mark.parametrize(
    ("path", "patterns", "skipped"),
    [
        ("/accounts/login/code/confirm/", ["/accounts/login/code/*"], True),
        ("/accounts/login/", ["/accounts/login/code/*"], False),
        ("/a/b/c/", ["/a/*"], True),
        ("/oauth/google/login/", ["*/google/*", "/x/"], True),
        ("/x/", [], False),
    ],
)
def test_skip_patterns_are_globs(path: str, patterns: list[str], skipped: bool) -> None:
    assert smoke.skipped(path, patterns) is skipped


def test_smoke_skip_is_a_list_of_strings() -> None:
    assert parse_app({"smoke_skip": ["/a/*", "/b/"]}).smoke_skip == ("/a/*", "/b/")


class _Pages(http.server.BaseHTTPRequestHandler):
    """500 with a real-looking page under /broken/, a redirect from /go/ to projects/ (relative) and
    from /away/ to another site, 200 elsewhere."""

    def do_GET(self) -> None:
        if self.path in ("/go/", "/away/"):
            self.send_response(302)
            self.send_header("Location", "projects/" if self.path == "/go/" else "https://example.org/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        broken = self.path.startswith("/broken/")
        body = b"\n<!DOCTYPE html>\n<html><head><title>Server Error (500)</title></head><body>x</body></html>"
        self.send_response(500 if broken else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def pages() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_crawl_names_every_failing_url_one_line_each(pages: str, capsys: pytest.CaptureFixture[str]) -> None:
    paths = ["/", "/broken/a/", "/broken/b/", "/ok/"]
    with pytest.raises(SmokeCheckFailed) as failed:
        smoke.crawl(pages, paths, Reporter())
    shown = capsys.readouterr()
    lines = [line for line in (shown.out + shown.err).splitlines() if "smoke urls" in line]
    assert len(lines) == 2 and all("gave 500: Server Error (500)" in line for line in lines)
    assert "DOCTYPE" not in shown.out + shown.err
    message = failed.value.one_line()
    assert "2 of 4 URLs" in message and "/broken/a/, /broken/b/" in message and "smoke-skip" in message
    # yasmeenq/superbuy-react-django-mysql's view catches its exception and answers 500 itself, so web's
    # log holds no traceback: the page's line explains the path instead; a traceback's cause wins
    explained = failed.value.with_causes({"/broken/b/": "ZeroDivisionError: division by zero"}).one_line()
    assert "/broken/a/ (Server Error (500)), /broken/b/ (ZeroDivisionError: division by zero)" in explained


def test_a_check_that_got_an_html_error_page_says_its_title(pages: str) -> None:
    """Held-out practica-ecco-pagos: its home page's 500 filled the one line with the page's HTML."""
    with pytest.raises(AssertionError) as failed:
        smoke.run_check(pages, SmokeCheck("/broken/x/", name="health"), {}, {})
    assert str(failed.value) == "GET /broken/x/ gave 500, not 200: 'Server Error (500)'"


def test_skipped_urls_are_not_fetched(pages: str) -> None:
    line = smoke.crawl(pages, ["/", "/broken/a/", "/broken/b/"], Reporter(), ["/broken/*"])
    assert line.startswith("1 URLs without parameters, 2 left out by smoke-skip, no 5xx: 1x 200")


def test_the_crawl_lists_a_bounded_number_of_failures(pages: str) -> None:
    paths = [f"/broken/{n}/" for n in range(smoke.SHOWN_FAILURES + 5)]
    with pytest.raises(SmokeCheckFailed) as failed:
        smoke.crawl(pages, paths, Reporter())
    assert "(+5 more)" in failed.value.one_line()


def test_a_healthcheck_answered_400_is_named_disallowed_host() -> None:
    why, fix = health_diagnosis(["unhealthy: GET /admin/login/ gave 400 (Host: localhost; DisallowedHost?)"])
    assert "DisallowedHost" in why and "ALLOWED_HOSTS" in why and "allowed-hosts" in fix and "overlay" in fix
    assert health_diagnosis(["unhealthy: HTTP Error 400: Bad Request"])[0]
    assert health_diagnosis(["unhealthy: <urlopen error [Errno 111] Connection refused>", ""]) == ("", "")
    error = ServiceFailed("starting the smoke stack", ["web"], why=why, fix=fix)
    assert "web did not become healthy (its healthcheck got 400" in error.one_line()


def test_a_healthcheck_answered_500_names_the_path_and_the_log() -> None:
    """Held-out practica-ecco-pagos: its static storage (Azure, unset) failed every page; the
    error said only "web did not become healthy"."""
    why, fix = health_diagnosis(["", "unhealthy: GET /admin/login/ gave 500"])
    assert why == "its healthcheck got 500 on /admin/login/: the app failed there"
    assert "web's log" in fix and "health-path" in fix
    line = ServiceFailed("starting the smoke stack", ["web"], why=why, fix=fix).one_line()
    assert "web did not become healthy (its healthcheck got 500 on /admin/login/" in line
    # A refused Host wins: it is the cause the fix names.
    assert "DisallowedHost" in health_diagnosis(["unhealthy: GET / gave 500", REFUSED])[0]
    # mrityunjaygr8/django-uv-knox-test's /health/: the exception web's log ends the path's traceback on
    log = (
        "web-1  | ERROR django.request: Internal Server Error: /health/\nweb-1  | Traceback (most recent call last):\n"
        'web-1  |   File "/app/config/urls.py", line 30, in health_check\n'
        "web-1  | ModuleNotFoundError: No module named 'redis'\n"
    )
    why, _fix = health_diagnosis(["unhealthy: GET /health/ gave 500"], view_errors(log))
    assert (
        why
        == "its healthcheck got 500 on /health/: the app failed there (ModuleNotFoundError: No module named 'redis')"
    )
    assert health_diagnosis(["unhealthy: GET /health/ gave 500"], {"/other/": "KeyError: 1"})[0].endswith("there")


REFUSED = "unhealthy: GET /admin/login/ gave 400 (Host: localhost; DisallowedHost?)"
REFUSED_CONNECTION = "unhealthy: <urlopen error [Errno 111] Connection refused>"


@pytest.mark.parametrize(
    ("probes", "never"),
    [
        ([(1, REFUSED), (1, REFUSED)], True),  # Django answers, and refuses the Host: no wait helps
        ([(1, REFUSED_CONNECTION), (1, REFUSED), (1, REFUSED)], True),  # gunicorn was starting first
        ([(1, REFUSED)], False),  # one probe is not yet a pattern
        ([(1, REFUSED), (1, REFUSED_CONNECTION)], False),  # the last probe says something else
        ([(1, REFUSED), (0, "")], False),  # healthy now
        ([(1, REFUSED_CONNECTION), (1, REFUSED_CONNECTION)], False),  # still starting: wait
        ([(1, "unhealthy: GET /healthz gave 500"), (1, "unhealthy: GET /healthz gave 500")], False),
        ([], False),
    ],
)
def test_a_web_that_never_becomes_healthy_is_told_from_one_still_starting(
    probes: list[tuple[int, str]], never: bool
) -> None:
    assert never_healthy(probes) is never


def test_the_last_error_line_of_a_run_that_stopped() -> None:
    output = (
        "Creating test database for alias 'default'...\n"
        "Traceback (most recent call last):\n"
        '  File "manage.py", line 22, in <module>\n'
        "django.db.utils.OperationalError: (1067, \"Invalid default value for 'created'\")\n"
        "\n"
    )
    command = helper("testcommand")
    assert (
        command.last_error(output)
        == "django.db.utils.OperationalError: (1067, \"Invalid default value for 'created'\")"
    )
    assert command.last_error("something\nlast words\n") == "last words"
    checks = (  # thalestmm/django-mysql: its ImageField and no Pillow; the header said nothing of which check
        "SystemCheckError: System check identified some issues:\n\nERRORS:\n"
        "content.Instructor.profile_photo: (fields.E210) Cannot use ImageField because Pillow is not installed.\n"
        '\tHINT: Get Pillow at https://pypi.org/project/Pillow/ or run command "python -m pip install Pillow".\n\n'
        "System check identified 1 issue (0 silenced).\n"
    )
    stopped = command.last_error(checks)
    assert stopped == (
        "SystemCheckError: content.Instructor.profile_photo: (fields.E210) Cannot use ImageField because Pillow is "
        "not installed."
    )
    syntax = (  # Bernapai/Blog-APIrest-Django-MySql's api/urls.py: its message names no file
        "Traceback (most recent call last):\n"
        '  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed\n'
        '  File "/app/api/urls.py", line 2\n'
        "    from .views import UserListView,\n"
        "                                    ^\n"
        "SyntaxError: trailing comma not allowed without surrounding parentheses\n"
    )
    assert command.last_error(syntax) == (
        "SyntaxError: trailing comma not allowed without surrounding parentheses (api/urls.py:2)"
    )
    from dockstage.images.imagechecks import last_exception

    assert last_exception(syntax) == command.last_error(syntax)
    from dockstage.core.errors import TestsFailed

    assert TestsFailed(1, f"the tests did not start: {stopped}", "/r").fix.startswith("add Pillow to the runtime")


def test_a_run_that_never_started_says_so(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    command = helper("testcommand")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    command.write_junit(str(junit), counts, ["python", "manage.py", "test"], "OperationalError: <1050> & 'x'")
    assert pipeline.junit_counts(junit) == counts
    stopped = pipeline.junit_stopped(junit)
    assert stopped == "OperationalError: <1050> & 'x'"
    assert pipeline.failed_summary(counts, stopped) == f"the tests did not start: {stopped}"
    ran = {"tests": 3, "failures": 1, "errors": 0, "skipped": 0}
    assert pipeline.failed_summary(ran, "") == "3 tests, 1 failed, 0 errors, 0 skipped"
    command.write_junit(str(junit), counts, ["python", "manage.py", "test"])
    assert pipeline.junit_stopped(junit) == ""


def test_init_that_could_not_probe_ends_partial_and_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dockstage.adopt import probe

    def unbuildable(root: Path, found: Findings, said: list[str]) -> None:
        found.unprobed = (4, "the dev image did not build: pip could not install foo")

    (tmp_path / "manage.py").write_text(
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site1.settings')\n"
    )
    (tmp_path / "site1").mkdir()
    (tmp_path / "site1" / "__init__.py").write_text("")
    (tmp_path / "site1" / "settings.py").write_text("SECRET_KEY = 'x'\nALLOWED_HOSTS = []\n")
    (tmp_path / "site1" / "wsgi.py").write_text("")
    (tmp_path / "requirements.txt").write_text("Django==5.2\n")
    monkeypatch.setattr(probe, "run_probe", unbuildable)
    assert init_main(["init", str(tmp_path)]) == 4
    shown = capsys.readouterr()
    # DOCKSTAGE_DEBUG's lines (a test before it on this worker may leave them on) are no part of it
    said = "".join(line for line in shown.err.splitlines(keepends=True) if not line.startswith("debug "))
    assert said.startswith("partial: settings not probed (the dev image did not build")
    assert "dockstage init --force" in said and "next " not in shown.out
    assert (tmp_path / "pyproject.toml").is_file()  # what the text gave is still written
    assert "smoke-skip" in shown.out


def test_the_texts_manifest_guess_is_replaced_by_the_probe(tmp_path: Path) -> None:
    from dockstage.adopt.inspect import MANIFEST_GUESS, inspect

    (tmp_path / "manage.py").write_text(
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site1.settings')\n"
    )
    (tmp_path / "site1").mkdir()
    (tmp_path / "site1" / "settings.py").write_text(
        "STATIC_ROOT = '/srv/static'\n"
        "# STATICFILES_STORAGE = 'django.contrib.staticfiles.storage.ManifestStaticFilesStorage'  (off)\n"
    )
    found = inspect(tmp_path)
    assert found.test_setup == [learn.COLLECTSTATIC]  # read from the text: a guess
    assert any(line.startswith(MANIFEST_GUESS) for line in found.found)
    apply(found, [_probe_answer(ALLOWED_HOSTS=["*"])])  # the probe saw the default storage
    assert found.test_setup == [] and not any(line.startswith(MANIFEST_GUESS) for line in found.found)

    found = inspect(tmp_path)
    answer = _probe_answer(
        ALLOWED_HOSTS=["*"], STATICFILES_STORAGE="django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    )
    apply(found, [answer])
    assert found.test_setup == [learn.COLLECTSTATIC]
    assert [line for line in found.found if "static manifest" in line or line.startswith(MANIFEST_GUESS)] == [
        "ManifestStaticFilesStorage: the tests' pages need the static manifest, so "
        f"`{learn.COLLECTSTATIC}` runs before the tests (test-setup)"
    ]


def test_the_health_check_follows_the_sites_own_redirects_as_the_healthcheck_does(pages: str) -> None:
    """Held-out shape: the root redirects to /projects/ (200). The prod HEALTHCHECK follows it and
    web was healthy, but the smoke's health check said "GET / gave 302, not 200"."""
    health = SmokeCheck("/go/", name="health", follow=True)
    assert smoke.run_check(pages, health, {}, {}) == "GET /go/ gave 200 (via /go/projects/)"
    with pytest.raises(AssertionError, match="gave 302, not 200"):
        smoke.run_check(pages, SmokeCheck("/go/"), {}, {})  # a check of one's own stays exact
    with pytest.raises(AssertionError, match="gave 302, not 200"):
        smoke.run_check(pages, SmokeCheck("/away/", follow=True), {}, {})  # never off the site
    assert parse_app({"health_path": "/go/"}).smoke_checks[0].follow is True


SERVER_500 = "unhealthy: GET / gave 500: Server Error (500)"
NOT_FOUND = "unhealthy: GET / gave 404"


@pytest.mark.parametrize(
    ("probes", "running_for", "hopeless_now"),
    [
        ([(1, SERVER_500)] * 3, 11.0, True),  # YOYO-DR/practica-ecco-pagos: its home view fails on an empty db
        ([(1, SERVER_500)] * 3, 4.0, False),  # just started: a start-up's 500 may pass
        ([(1, SERVER_500)] * 2, 30.0, False),  # two are not yet a pattern
        ([(1, SERVER_500), (0, ""), (1, SERVER_500), (1, SERVER_500)], 11.0, False),  # it answered 200 between
        ([(1, SERVER_500), (1, SERVER_500), (1, "unhealthy: GET /healthz gave 500")], 11.0, False),  # other paths
        ([(1, "unhealthy: GET / gave 503")] * 3, 30.0, False),  # a health view's own "not ready": wait
        ([(1, REFUSED), (1, REFUSED)], 0.0, True),  # the Host refused: at once, as before
        ([(1, NOT_FOUND)] * 3, 1.0, True),  # south-admin-django: no such URL, the app is up
        ([(1, NOT_FOUND), (1, NOT_FOUND)], 1.0, False),
        ([(1, NOT_FOUND), (0, ""), (1, NOT_FOUND)], 1.0, False),
    ],
)
def test_a_500_that_lasts_ends_the_wait(probes: list[tuple[int, str]], running_for: float, hopeless_now: bool) -> None:
    said = hopeless(probes, running_for)
    assert bool(said) is hopeless_now
    if said and "500" in said:
        assert said == "its healthcheck got 500 3 times in a row, 11 s after it started"
    if said and "404" in said:
        assert said == "its healthcheck got 404 3 times in a row, which no wait changes"
        why, fix = health_diagnosis([probes[-1][1]])
        assert why == "its healthcheck got 404 on /: the app has no such URL" and fix.startswith("set health-path in")


def _state(started: str, probes: list[tuple[str, int, str]]) -> ContainerState:
    """A container's state as `docker inspect` gives it: its start and its health log."""
    return ContainerState.model_validate(
        {
            "Running": True,
            "StartedAt": started,
            "Health": {
                "Status": "starting",
                "FailingStreak": 0,
                "Log": [{"Start": at, "End": at, "ExitCode": code, "Output": said} for at, code, said in probes],
            },
        }
    )


def test_probes_and_seconds_before_web_may_count_are_left_out() -> None:
    """web started beside migrate: its 500s on tables migrate had not made yet are not its error
    (Stack.counted_from_now), so the wait's watcher reads only the probes begun after."""
    state = _state(
        "2026-12-07T10:00:00Z",
        [("2026-12-07T10:00:20Z", 1, SERVER_500)] * 3 + [("2026-12-07T10:00:31Z", 0, "")],
    )
    after = datetime.datetime(2026, 12, 7, 10, 0, 30, tzinfo=datetime.UTC)
    assert len(compose.health_probes(state)) == 4
    assert compose.health_probes(state, after) == [(0, "")]
    assert not hopeless(compose.health_probes(state, after), 40.0)
    assert hopeless(compose.health_probes(state)[:3], 40.0)  # the same probes, counted: a 500 that lasts
    since_start, since_after = compose.running_for(state), compose.running_for(state, after)
    assert since_start - since_after == pytest.approx(30.0, abs=0.5)
