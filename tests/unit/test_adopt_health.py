"""The health path chosen by resolving candidates in the project's URLconf (the probe, after
django.setup()), not guessed: a project's health URL, then `/`, then the admin's login page as
the URLconf reverses it (i18n_patterns, a prefix from the settings)."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from dockstage.adopt import learn, render
from dockstage.adopt.inspect import HEALTH_WORDS, Findings
from dockstage.adopt.probe import apply
from dockstage.core.appconfig import APP_KEYS, parse_app
from tests.unit.test_adopt_probe import probe

SETTINGS = """\
SECRET_KEY = "x"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "proj.urls"
USE_I18N = True
LANGUAGE_CODE = "en-us"  # as startproject: LocaleMiddleware serves it as /en/
SECRET_ADMIN_PREFIX = "a7-admin/"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
"""
I18N_URLS = """\
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.http import HttpResponse
from django.urls import path

urlpatterns = i18n_patterns(
    path(settings.SECRET_ADMIN_PREFIX, admin.site.urls),
    path("deal/<int:pk>/", lambda request, pk: HttpResponse("deal")),
)
"""
HEALTH_URLS = """\
from django.contrib import admin
from django.http import HttpResponse
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", lambda request: HttpResponse("home")),
    path("ops/ping/", lambda request: HttpResponse("pong")),
]
"""


def run(tmp_path: Path, urls: str, paths: list[str], settings: str = SETTINGS) -> dict[str, object]:
    health = {"paths": paths, "words": list(HEALTH_WORDS)}
    (result,) = probe(tmp_path, {"settings": settings, "urls": urls}, [], health)
    return result


def test_root_not_resolving_falls_to_the_admin_login_under_its_prefix(tmp_path: Path) -> None:
    result = run(tmp_path, I18N_URLS, [])
    chosen = learn.health(result["health"])
    assert chosen.path == "/en/a7-admin/login/" and chosen.admin_path == "/en/a7-admin/"
    assert "/ does not resolve" in chosen.line and "the admin's login page" in chosen.line
    found = Findings(root=tmp_path, settings_module="proj.settings")
    found.notes.append("no health URL found: using / (it must answer 200); set health-path")
    apply(found, [result])
    assert found.health_path == "/en/a7-admin/login/" and not any("no health URL" in n for n in found.notes)
    assert [line for line in found.found if line.startswith("health-path ")] == [chosen.line]
    section = render.tool_section(found)
    assert 'health-path = "/en/a7-admin/login/"' in section
    assert section.count('path = "/en/a7-admin/login/"') == 1  # health-path; the health smoke check follows it
    table = tomllib.loads(section)["tool"]["dockstage"]
    app = parse_app({k.replace("-", "_"): v for k, v in table.items() if k.replace("-", "_") in APP_KEYS})
    assert [(c.name, c.path) for c in app.smoke_checks] == [("health", "/en/a7-admin/login/")]
    app = dataclasses.replace(app, health_path="/healthz/")  # an edited health-path: the smoke test asks it too
    assert [(c.name, c.path) for c in app.smoke_checks] == [("health", "/healthz/")]


def test_a_health_url_of_the_project_wins_over_the_root(tmp_path: Path) -> None:
    chosen = learn.health(run(tmp_path, HEALTH_URLS, [])["health"])
    assert chosen.path == "/ops/ping/" and "the project's health URL" in chosen.line


def test_a_health_word_inside_a_hyphenated_segment_counts(tmp_path: Path) -> None:
    """Held-out PARTs_WebAPI: /public/api-status/ is its health view (no `/` in its URLconf)."""
    urls = HEALTH_URLS.replace('path("", lambda request: HttpResponse("home")),\n', "").replace(
        "ops/ping/", "public/api-status/"
    )
    chosen = learn.health(run(tmp_path, urls, [])["health"])
    assert chosen.path == "/public/api-status/" and "the project's health URL" in chosen.line


def test_a_health_worded_url_behind_a_login_is_passed_over(tmp_path: Path) -> None:
    """Held-out yuvalaha/Vacation-Statistics: /api/vacations_status (a "status" word) answers 401 without
    a login; it became health-path and the smoke stack's web never got healthy."""
    urls = HEALTH_URLS.replace(
        'path("ops/ping/", lambda request: HttpResponse("pong")),',
        'path("api/vacations_status", lambda request: HttpResponse("login first", status=401)),',
    )
    chosen = learn.health(run(tmp_path, urls, [])["health"])
    assert chosen.path == "/", chosen.line
    assert "/api/vacations_status answers 401, as it would the healthcheck" in chosen.line


def test_an_admin_login_a_middleware_sends_elsewhere_gets_no_smoke_check(tmp_path: Path) -> None:
    """Held-out Kangkangithub/Mysql-Django-Cinema-Management: its middleware sends every page but its
    own login to /login/; init proposed the admin smoke check, which failed on the 302."""
    settings = SETTINGS + 'MIDDLEWARE = [*MIDDLEWARE, "proj.urls.LoginFirst"]\n'
    urls = HEALTH_URLS.replace('path("ops/ping/", lambda request: HttpResponse("pong")),', "") + (
        "\n\nclass LoginFirst:\n"
        "    def __init__(self, get_response):\n"
        "        self.get_response = get_response\n\n"
        "    def __call__(self, request):\n"
        "        from django.http import HttpResponseRedirect\n"
        "        return self.get_response(request) if request.path == '/' else HttpResponseRedirect('/login/')\n"
    )
    chosen = learn.health(run(tmp_path, urls, [], settings)["health"])
    assert chosen.path == "/" and chosen.admin_path == "", chosen
    assert "no admin smoke check: /admin/login/ answers 302 (to /login/)" in chosen.line
    found = Findings(root=tmp_path, health_path=chosen.path, admin_path=chosen.admin_path)
    assert [check["name"] for check in render.smoke_checks(found)] == ["health"]
    (tmp_path / "plain").mkdir()
    plain = learn.health(run(tmp_path / "plain", HEALTH_URLS.replace("ops/ping/", "x/"), [])["health"])
    assert plain.admin_path == "/admin/" and "no admin smoke check" not in plain.line


def test_a_urlconf_with_no_root_admin_or_login_gives_its_first_page_that_answers(tmp_path: Path) -> None:
    """Held-out ligiaboliveira/docker-django-mysql-study: its only URL is /hello_mundo/; init found no
    health path and the smoke stack's web never got healthy on / (404)."""
    urls = (
        "from django.http import HttpResponse\nfrom django.urls import path\n\n"
        "urlpatterns = [\n"
        '    path("a-private/", lambda request: HttpResponse("no", status=403)),\n'
        '    path("clear_all/", lambda request: HttpResponse("cleared")),\n'  # never a healthcheck's GET
        '    path("hello_mundo/", lambda request: HttpResponse("hello")),\n'
        '    path("item/<int:pk>/", lambda request, pk: HttpResponse("item")),\n'
        "]\n"
    )
    chosen = learn.health(run(tmp_path, urls, [])["health"])
    assert chosen.path == "/hello_mundo/", chosen.line
    assert "a page of the site without parameters" in chosen.line and "/a-private/ answers 403" in chosen.line


def test_a_text_found_path_that_takes_parameters_is_passed_over(tmp_path: Path) -> None:
    chosen = learn.health(run(tmp_path, I18N_URLS, ["/en/deal/7/"])["health"])
    assert chosen.path == "/en/a7-admin/login/"
    assert "/en/deal/7/ takes parameters" in chosen.line


def test_an_answer_without_a_path_keeps_the_guess_and_says_so() -> None:
    assert learn.health(None) == learn.Health()
    failed = learn.health({"path": "", "error": "ImportError: no module named x"})
    assert failed.path == "" and "did not load in the probe" in failed.note
    error = "ImportError: cannot import name 'url' from 'django.conf.urls' (/opt/venv/lib/python3.11/...)"
    removed = learn.health({"path": "", "error": error})  # audiowurscht: `Django` unpinned, its URLconf made for 2.x
    assert "(django.conf.urls.url went in Django 4.0 and the requirements let a newer Django in" in removed.note
    none = learn.health({"path": "", "tried": ["/ does not resolve"], "admin": ""})
    assert none.path == "" and "/ does not resolve" in none.note and "set health-path" in none.note


REDIRECTING_URLS = """\
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.urls import path

crm_site = AdminSite(name="site")
urlpatterns = i18n_patterns(
    path(settings.SECRET_ADMIN_PREFIX, admin.site.urls),
    path("crm/", crm_site.urls),
)
"""
AWAY_FROM_ADMIN = """\
from django.http import HttpResponseRedirect


class Away:  # as django-crm's AdminRedirectMiddleware: the admin is sent to a path that is not there
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "a7-admin/" in request.path:
            return HttpResponseRedirect(request.path.replace("a7-admin/", "nowhere/"))
        return self.get_response(request)
"""


def test_a_login_that_redirects_to_a_404_is_passed_over_for_another_admin_site(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "away.py").write_text(AWAY_FROM_ADMIN)
    settings = SETTINGS + 'MIDDLEWARE.append("proj.away.Away")\n'
    result = run(tmp_path, REDIRECTING_URLS, [], settings)
    chosen = learn.health(result["health"])
    assert chosen.path == "/en/crm/login/" and chosen.admin_path == "/en/crm/", chosen
    assert "passed over: / does not resolve, /en/a7-admin/login/ answers 404 (redirected to /en/nowhere/login/)" in (
        chosen.line
    )
    found = Findings(root=tmp_path, settings_module="proj.settings", admin_path="/en/a7-admin/")
    apply(found, [result])
    assert [c["path"] for c in render.smoke_checks(found)] == ["/en/crm/login/"]  # no check on the redirected one


def test_an_admin_login_sent_elsewhere_gets_no_smoke_check(tmp_path: Path) -> None:
    answer = {
        "path": "/",
        "kind": "root",
        "tried": ["/en/x/login/ answers 404 (redirected to /en/y/)"],
        "admin": "/en/x/login/",
    }
    assert learn.health(answer).admin_path == ""
    answer["tried"] = []
    assert learn.health(answer).admin_path == "/en/x/"


def test_a_urlconf_that_does_not_load_keeps_the_guess_and_names_the_error(tmp_path: Path) -> None:
    broken = "import os\nCACHE = int(os.environ.get('SITE_CACHE_URL', 'x'))  # as a cache reached at import\n"
    result = run(tmp_path, broken + I18N_URLS, [])
    assert result["ok"] is True
    answer = result["health"]
    assert isinstance(answer, dict) and answer["path"] == "" and "ValueError" in answer["error"]
    found = Findings(root=tmp_path, settings_module="proj.settings", health_path="/health/", health_found=True)
    apply(found, [result])
    assert found.health_path == "/health/"
    assert any(n.startswith("the URLconf did not load in the probe (ValueError: invalid literal") for n in found.notes)


def test_without_locale_middleware_the_prefix_is_language_code_itself(tmp_path: Path) -> None:
    settings = SETTINGS.replace('    "django.middleware.locale.LocaleMiddleware",\n', "")
    chosen = learn.health(run(tmp_path, I18N_URLS, [], settings)["health"])
    assert chosen.path == "/en-us/a7-admin/login/", chosen


PREFIXED_URLS = """\
import os

from django.http import HttpResponse
from django.urls import path

prefix = os.environ.get("SITE_CONTEXT_PATH", "")
urlpatterns = [path(prefix + "health", lambda request: HttpResponse("ok"))]
"""


def test_the_health_path_is_resolved_with_prods_environment_even_when_it_is_empty(tmp_path: Path) -> None:
    """Held-out shape: the URLconf prefixes every route with an app-own name (a context path) and the
    settings read none of the suite's names, so prod's environment is empty. The health path came out
    as /ds1shealth (the probe's sentinel) and web never became healthy."""
    settings = SETTINGS.replace(
        'SECRET_KEY = "x"\n', 'import os\nSECRET_KEY = "x"\nos.environ.get("SITE_CONTEXT_PATH")\n'
    )
    result = run(tmp_path, PREFIXED_URLS, [], settings)
    assert result["alone"]["ok"] and result["alone"]["env"] == {}
    assert learn.health(result["health"]).path == "/health"


def test_a_urlconf_that_fails_on_what_this_python_dropped_says_so() -> None:
    """pinry's URLconf imports urllib3 1.x, which imports collections.Mapping (gone in 3.10)."""
    error = "ImportError: cannot import name 'Mapping' from 'collections' (/usr/lib/python3.11/collections/__init__.py)"
    chosen = learn.health({"error": error})
    assert chosen.note == (
        f"the URLconf did not load in the probe ({error}) (a package it imports uses collections.Mapping, which "
        "this Python no longer has): health-path is the text's guess; check that it answers 200"
    )
    other = learn.health({"error": "KeyError: 'API_HOST'"}).note
    assert (
        other
        == "the URLconf did not load in the probe (KeyError: 'API_HOST'): health-path is the text's guess; check that it answers 200"
    )


def test_an_admin_whose_templates_no_loader_finds_is_passed_over(tmp_path: Path) -> None:
    """AsankaL/django-starter sets APP_DIRS False with only its own templates dir: its admin login
    answered 500 (TemplateDoesNotExist admin/login.html) in every stack, after init had taken it."""
    no_app_dirs = SETTINGS.replace('"APP_DIRS": True', '"APP_DIRS": False, "DIRS": []')
    result = run(tmp_path, I18N_URLS, [], no_app_dirs)
    chosen = learn.health(result["health"])
    assert chosen.path == ""
    assert "/en/a7-admin/login/ fails: no template loader finds admin/login.html, the admin's own" in chosen.note
