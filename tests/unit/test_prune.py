"""The prod prune's decisions (dockstage/data/prune.py): patterns drop tests and tooling, never code
that kept code imports or names, never modules Django finds by their place."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from dockstage.core.appconfig import DEFAULT_PROD_EXCLUDE
from tests.unit.test_adopt_helpers import helper

prune = helper("prune")
PATTERNS = list(DEFAULT_PROD_EXCLUDE)


def test_a_tests_package_an_app_imports_is_kept_with_the_packages_above_it() -> None:
    files = {
        "shop/__init__.py": "",
        "shop/views.py": "from shop.tests.factories import make_order\n",
        "shop/tests/__init__.py": "",
        "shop/tests/factories.py": "from .helpers import price\n",
        "shop/tests/helpers.py": "price = 1\n",
        "shop/tests/test_views.py": "import pytest\n",
    }
    dropped, kept = prune.decide(files, PATTERNS)
    assert dropped == {"shop/tests/test_views.py": "shop/tests/"}
    assert set(kept) == {"shop/tests/__init__.py", "shop/tests/factories.py", "shop/tests/helpers.py"}
    assert kept["shop/tests/factories.py"] == "shop/views.py uses shop.tests.factories"
    assert kept["shop/tests/helpers.py"].startswith("shop/tests/factories.py uses shop.tests.helpers")


def test_relative_imports_and_dotted_strings_count_as_uses() -> None:
    files = {
        "mysite/__init__.py": "",
        "mysite/settings.py": 'INSTALLED_APPS = ["django.contrib.admin", "tests.testapp"]\n',
        "mysite/urls.py": "from . import views\nfrom ..tests import urls_helpers\n",
        "mysite/views.py": "",
        "tests/__init__.py": "",
        "tests/testapp/__init__.py": "",
        "tests/testapp/models.py": "",
        "tests/urls_helpers.py": "",
        "tests/test_other.py": "",
    }
    dropped, kept = prune.decide(files, PATTERNS)
    # The installed app "tests.testapp" is kept whole (Django imports its models by their place).
    assert set(kept) == {
        "tests/__init__.py",
        "tests/testapp/__init__.py",
        "tests/testapp/models.py",
        "tests/urls_helpers.py",
    }
    assert kept["tests/testapp/models.py"] == "mysite/settings.py names the app tests.testapp"
    assert set(dropped) == {"tests/test_other.py"}


def test_an_app_named_without_a_dot_is_kept_whole() -> None:
    """INSTALLED_APPS = [..., "tests"]: a project whose app is called tests (a default pattern)."""
    files = {
        "site/__init__.py": "",
        "site/settings.py": 'INSTALLED_APPS = ["django.contrib.auth", "tests"]\nTITLE = "tests"\n',
        "tests/__init__.py": "",
        "tests/models.py": "",
        "tests/migrations/0001_initial.py": "",
        "tests/templates/tests/page.html": "",
        "tests/test_views.py": "",  # the app's own tests stay out
        "other/__init__.py": "",
        "other/tests/__init__.py": "",
        "other/tests/test_x.py": "",
    }
    dropped, kept = prune.decide(files, PATTERNS)
    assert {"tests/__init__.py", "tests/models.py", "tests/templates/tests/page.html"} <= set(kept)
    assert kept["tests/models.py"] == "site/settings.py names the app tests"
    assert set(dropped) == {"tests/test_views.py", "other/tests/__init__.py", "other/tests/test_x.py"}


def test_an_app_config_path_keeps_its_package_and_a_plain_string_names_nothing() -> None:
    files = {
        "site/settings.py": 'INSTALLED_APPS = ("shop.apps.ShopConfig",)\nif "test" in ARGV: pass\n',
        "shop/__init__.py": "",
        "shop/apps.py": "",
        "shop/tests/__init__.py": "",
        "shop/tests/test_a.py": "",
        "test/__init__.py": "",
        "test/test_b.py": "",
    }
    dropped, kept = prune.decide(files, PATTERNS)
    assert not kept  # shop/ itself was never dropped, its tests stay out; "test" is no module name here
    assert set(dropped) == {"shop/tests/__init__.py", "shop/tests/test_a.py", "test/__init__.py", "test/test_b.py"}


def test_a_management_command_named_like_a_test_file_is_kept() -> None:
    """`**/*_tests.py` matches send_tests.py; Django finds commands by their place, so it stays."""
    files = {
        "mail/__init__.py": "",
        "mail/management/__init__.py": "",
        "mail/management/commands/__init__.py": "",
        "mail/management/commands/send_tests.py": "",
        "mail/migrations/0001_initial.py": "",
        "mail/model_tests.py": "",
    }
    dropped, kept = prune.decide(files, PATTERNS)
    assert dropped == {"mail/model_tests.py": "mail/model_tests.py"}
    assert kept == {"mail/management/commands/send_tests.py": "Django finds it by its place"}


def test_a_module_that_does_not_parse_uses_nothing() -> None:
    assert prune.names_used("def (:", "x", False) == set()
    assert prune.module_name("my-scripts/run.py") == "" and prune.module_name("a/b/__init__.py") == "a.b"


def test_prune_copies_what_is_used_and_lists_what_is_left_out(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    for relative, text in {
        "app/__init__.py": "",
        "app/views.py": "import app.tests.fixtures\n",
        "app/tests/__init__.py": "",
        "app/tests/fixtures.py": "",
        "app/tests/test_x.py": "",
        "node_modules/pkg/index.js": "",
        ".git/HEAD": "",
    }.items():
        (src / relative).parent.mkdir(parents=True, exist_ok=True)
        (src / relative).write_text(text)
    copied, left_out, kept = prune.prune(src, dst, PATTERNS)
    assert sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*.py")) == [
        "app/__init__.py",
        "app/tests/__init__.py",
        "app/tests/fixtures.py",
        "app/views.py",
    ]
    assert copied == 4 and left_out == [".git/", "app/tests/", "node_modules/"]
    assert "app/tests/fixtures.py" in kept


def test_a_missing_module_is_traced_to_the_path_the_prune_left_out() -> None:
    from dockstage.images.imagechecks import diagnose

    traceback = "Traceback (most recent call last):\n  File \"x\"\nModuleNotFoundError: No module named 'shop.tests.factories'\n"
    what, fix = diagnose(traceback, ["pytest.ini", "shop/tests/"])
    assert what == "No module named 'shop.tests.factories': the prune left out shop/tests/"
    assert "prod-exclude" in fix
    what, fix = diagnose(traceback, ["docs/"])
    assert (what, fix) == (
        "No module named 'shop.tests.factories'",
        "add the package that provides it to the runtime requirements",
    )
    # django-healthcare's manage.py imports pymysql, which its requirements do not list
    fix = diagnose("Traceback...\nModuleNotFoundError: No module named 'pymysql'\n", [])[1]
    assert fix == "add PyMySQL (it provides pymysql) to the runtime requirements"
    assert (
        diagnose("No module named 'qwertyz'\n", [])[1]
        == "add the package that provides qwertyz to the runtime requirements"
    )


def test_a_crash_is_named_by_its_exception_not_as_checklist_findings() -> None:
    from dockstage.images.imagechecks import diagnose

    denied = "Traceback...\nPermissionError: [Errno 13] Permission denied: '/tmp/django_cache.lock'\n"
    assert diagnose(denied, [])[0] == "the non-root user cannot write /tmp/django_cache.lock"
    assert diagnose("boom\nKeyError: 'DJKEY'\n", [])[0] == "KeyError: 'DJKEY'"
    assert diagnose("", []) == ("it failed without output", "run the image's command by hand to see why")


def test_a_build_step_failing_on_a_pruned_module_says_which_path_and_the_error_shows_it() -> None:
    from dockstage.core.errors import StageBuildFailed

    buildsteps = helper("buildsteps")
    output = "Traceback...\nModuleNotFoundError: No module named 'shop.extras'\n"
    assert buildsteps.pruned_cause(output, ["docs/", "shop/extras/"]) == (
        "No module named 'shop.extras': the prune left out shop/extras/"
    )
    assert buildsteps.pruned_cause(output, ["docs/"]) == ""
    log = "#26 0.7 dockstage: error: `python manage.py collectstatic` failed: it; fix: take it out of prod-exclude\n"
    error = StageBuildFailed("stage", 1, log)
    assert (error.what, error.fix) == (
        "building stage 'stage' failed: `python manage.py collectstatic` failed: it",
        "take it out of prod-exclude",
    )


def test_naming_an_app_keeps_none_of_its_sub_packages_a_pattern_drops() -> None:
    """INSTALLED_APPS names "shop" and, by a computed string, "shop.extras": a pattern dropping
    shop/extras/ still drops it (the build's import check then names it), and shop's own tests."""
    files = {
        "shop/__init__.py": "",
        "shop/settings.py": 'INSTALLED_APPS = ["shop"] + ["shop." + n for n in EXTRA]\nEXTRA = ["extras"]\n',
        "shop/models.py": "",
        "shop/extras/__init__.py": "",
        "shop/extras/apps.py": 'NAME = "shop.extras"\n',
        "shop/extras/templates/extras/page.html": "",
        "shop/tests/__init__.py": "",
        "shop/tests/test_shop.py": "",
    }
    dropped, kept = prune.decide(files, [*PATTERNS, "shop/extras/"])
    assert not kept
    assert set(dropped) == {
        "shop/extras/__init__.py",
        "shop/extras/apps.py",
        "shop/extras/templates/extras/page.html",
        "shop/tests/__init__.py",
        "shop/tests/test_shop.py",
    }


def test_check_deploy_errors_are_said_one_per_kind_before_the_warnings() -> None:
    """shark's models leave CharFields without max_length (PostgreSQL's, Django 4.2+): `check --deploy`
    listed four E120s among its warnings; said once, with the objects and what it means on MySQL."""
    from dockstage.images.imagechecks import check_errors

    output = (
        "SystemCheckError: System check identified some issues:\n\nERRORS:\n"
        "billing.InvoiceItem.unit: (fields.E120) CharFields must define a 'max_length' attribute.\n"
        "billing.Invoice.number: (fields.E120) CharFields must define a 'max_length' attribute.\n\n"
        "WARNINGS:\n?: (security.W004) You have not set a value for the SECURE_HSTS_SECONDS setting.\n"
    )
    assert check_errors(output) == (
        "fields.E120 CharFields must define a 'max_length' attribute. (billing.InvoiceItem.unit, "
        "billing.Invoice.number); PostgreSQL alone lets a CharField go without one (Django 4.2+): give each a "
        "max_length"
    )
    assert check_errors("WARNINGS:\n?: (security.W004) You have not set a value for SECURE_HSTS_SECONDS.\n") == ""
    from dockstage.core.errors import known_fix

    pillow = check_errors(  # thalestmm/django-mysql: an ImageField, and no Pillow in its requirements
        "ERRORS:\ncontent.Instructor.profile_photo: (fields.E210) Cannot use ImageField because Pillow is not installed.\n"
    )
    assert known_fix(pillow).startswith("add Pillow to the runtime requirements") and known_fix(output) == ""


def test_a_build_step_failing_on_a_module_the_image_lacks_names_the_file(tmp_path: Path) -> None:
    """tranlong58's settings import mysite.secret_key, which its .gitignore names: collectstatic
    failed at build time on it, and the build said only to read its output."""
    buildsteps = helper("buildsteps")
    (tmp_path / "mysite").mkdir()
    (tmp_path / "mysite/__init__.py").write_text("")
    output = "Traceback...\nModuleNotFoundError: No module named 'mysite.secret_key'\n"
    assert buildsteps.absent_module_cause(output, tmp_path) == (
        "No module named 'mysite.secret_key': mysite/secret_key.py is not in the image"
    )
    assert buildsteps.absent_module_cause("ModuleNotFoundError: No module named 'celery'\n", tmp_path) == ""
    (tmp_path / "mysite/secret_key.py").write_text("MY_SECRET_KEY = 'x'\n")  # there: another cause
    assert buildsteps.absent_module_cause(output, tmp_path) == ""


def test_a_build_step_failing_on_a_package_no_requirement_installs_names_what_provides_it(tmp_path: Path) -> None:
    """TejasJogi's INSTALLED_APPS names rest_framework_simplejwt, which its requirements.txt lacks:
    collectstatic failed at build time and the line said only to read the build output (init's
    probe had named the package; the pipeline did not)."""
    from dockstage.core.errors import StageBuildFailed

    buildsteps = helper("buildsteps")
    (tmp_path / "library").mkdir()
    output = "Traceback (most recent call last):\nModuleNotFoundError: No module named 'rest_framework_simplejwt'\n"
    cause = buildsteps.uninstalled_module_cause(output, [tmp_path])
    assert cause == "No module named 'rest_framework_simplejwt', and no requirement installs rest_framework_simplejwt"
    assert buildsteps.uninstalled_module_cause(output.replace("rest_framework_simplejwt", "library"), [tmp_path]) == ""
    assert (
        buildsteps.uninstalled_module_cause(output.replace("rest_framework_simplejwt", "distutils"), [tmp_path]) == ""
    )
    assert buildsteps.uninstalled_module_cause(output.replace("rest_framework_simplejwt", "json.x"), [tmp_path]) == ""
    assert buildsteps.uninstalled_module_cause("KeyError: 'SECRET'\n", [tmp_path]) == ""
    line = (  # the helper's line, as the build output holds it: the fix names the package on the host
        "#23 4.445 dockstage: error: `python manage.py collectstatic --noinput -v 0` failed at build time: "
        f"{cause}; fix: add the package that provides rest_framework_simplejwt to the runtime requirements "
        "(requirements in [tool.dockstage])\n"
    )
    failed = StageBuildFailed("stage", 1, line)
    assert failed.fix == (
        "add djangorestframework-simplejwt (it provides rest_framework_simplejwt) to the runtime requirements "
        "(requirements in [tool.dockstage])"
    )
    assert "no requirement installs rest_framework_simplejwt" in failed.what


def test_a_build_step_failing_on_a_bare_import_of_the_projects_own_module_says_how_to_import_it(tmp_path: Path) -> None:
    """JamesSullivan/akasaka's URLconf imports sec.query, whose `from models import Sub` finds sec/models.py
    only when Python runs from sec/: collectstatic failed and the fix said to add a package providing models."""
    from dockstage.core.errors import StageBuildFailed

    buildsteps = helper("buildsteps")
    for folder in ("fs_viewer", "sec"):  # the importer's own folder's is the one meant
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "models.py").write_text("")
    output = (
        "Traceback (most recent call last):\n"
        f'  File "{tmp_path}/sec/query.py", line 9, in <module>\n    from models import Sub\n'
        "ModuleNotFoundError: No module named 'models'\n"
    )
    assert buildsteps.uninstalled_module_cause(output, [tmp_path]) == ""  # not a missing requirement
    what, dotted = buildsteps.misimported_cause(output, tmp_path)
    assert dotted == "sec.models"
    assert (
        what
        == f"No module named 'models': {tmp_path}/sec/query.py:9 imports it bare, and the project's own is sec/models.py"
    )
    assert buildsteps.misimported_cause(output.replace("'models'", "'elsewhere'"), tmp_path) == ("", "")
    failed = StageBuildFailed(
        "stage", 1, f"#23 4.4 dockstage: error: `python manage.py collectstatic` failed at build time: {what}; fix: x\n"
    )
    assert failed.fix == "x" and "the project's own is sec/models.py" in failed.what


def test_a_missing_module_near_a_package_of_the_project_names_it(tmp_path: Path) -> None:
    """torresender5/django-mysql-api lists 'company' in INSTALLED_APPS and include('company.urls'); its
    app is companies/: the fix said to add the package that provides company."""
    buildsteps = helper("buildsteps")
    for name in ("companies", "app"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / "static").mkdir()  # not a package: never a suggestion
    assert buildsteps.near_names("company", [tmp_path]) == ["companies"]
    assert buildsteps.near_names("rest_framework", [tmp_path]) == []


def test_a_static_dir_the_image_lacks_is_named() -> None:
    """sgofficial10/django-mysqlCrud's STATICFILES_DIRS names /var/www/static: collectstatic failed at
    build time and the line said only to read the build output."""
    buildsteps = helper("buildsteps")
    output = (
        "Traceback (most recent call last):\n"
        '  File "/opt/venv/lib/python3.11/site-packages/django/contrib/staticfiles/finders.py", line 131, in list\n'
        '  File "/opt/venv/lib/python3.11/site-packages/django/core/files/storage.py", line 329, in listdir\n'
        "FileNotFoundError: [Errno 2] No such file or directory: '/var/www/static'\n"
    )
    assert buildsteps.missing_static_dir(output) == "/var/www/static"
    assert buildsteps.missing_static_dir(output.replace("staticfiles/finders.py", "app/views.py")) == ""
    assert buildsteps.missing_static_dir("KeyError: 'SECRET'\n") == ""


FINDER_OF_DJANGO_22 = """import os, sys
wanted = os.path.join(os.path.dirname(os.path.abspath(__file__)), "common_static")
if not os.path.isdir(wanted):  # Django 2.2's FileSystemFinder.list on a STATICFILES_DIRS entry
    sys.stderr.write(
        "Traceback (most recent call last):\\n"
        '  File "/opt/venv/lib/python3.8/site-packages/django/contrib/staticfiles/finders.py", line 130, in list\\n'
        "FileNotFoundError: [Errno 2] No such file or directory: '%s'\\n" % wanted
    )
    sys.exit(1)
print("collected")
"""


def test_a_static_dir_git_did_not_keep_is_made_empty_and_the_step_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Terrenceluo's STATICFILES_DIRS names common_static, an empty folder git did not keep: Django
    2.2's collectstatic failed at build time. The folder is made, once, and not called one the app writes."""
    buildsteps = helper("buildsteps")
    app = tmp_path / "app"
    app.mkdir()
    (app / "manage.py").write_text(FINDER_OF_DJANGO_22)
    monkeypatch.setattr(buildsteps, "APP", app)
    monkeypatch.chdir(app)
    monkeypatch.setenv("COLLECTSTATIC", "false")
    monkeypatch.setenv("BUILD_COMMANDS", json.dumps([[sys.executable, "manage.py"]]))
    assert buildsteps.main() == 0
    said = capfd.readouterr()
    assert (app / "common_static").is_dir()
    assert "made it empty for the build; put a .gitkeep in it" in said.out
    assert said.out.count("collected") == 1 and "Traceback" not in said.err
    assert "under the app dir: given to the app user" not in said.out
    # A folder outside the app dir is the project's to fix, not made.
    outside = str(tmp_path / "elsewhere")
    assert buildsteps.empty_static_dir_made(outside, set()) is False
    assert not Path(outside).exists()
