"""A name Django removed, met by an old project whose requirements let the newest Django in."""

from __future__ import annotations

import pytest

from dockstage.core import djangoapi
from dockstage.core.errors import ServiceFailed, StageBuildFailed, TestsFailed, known_fix
from dockstage.images import imagechecks

AUDIOWURSCHT = (
    "ImportError: cannot import name 'url' from 'django.conf.urls' "
    "(/opt/venv/lib/python3.11/site-packages/django/conf/urls/__init__.py)"
)


@pytest.mark.parametrize(
    ("line", "release", "pin"),
    [
        (AUDIOWURSCHT, "4.0", "Django~=3.2"),
        ("ImportError: cannot import name 'ugettext_lazy' from 'django.utils.translation'", "4.0", "Django~=3.2"),
        ("ModuleNotFoundError: No module named 'django.utils.six'", "3.0", "Django~=2.2"),
        ("AttributeError: module 'django.utils.timezone' has no attribute 'utc'", "5.0", "Django~=4.2"),
        # the most common removal in projects this old (Django 2.0): the series before it is 1.11
        ("ModuleNotFoundError: No module named 'django.core.urlresolvers'", "2.0", "Django~=1.11"),
        # audiowurscht pinned to Django~=3.2: its templates still load staticfiles (web's log, a 500)
        (
            "web-1  | django.template.exceptions.TemplateSyntaxError: 'staticfiles' is not a registered tag "
            "library. Must be one of:\nweb-1  | admin_list",
            "3.0",
            "Django~=2.2",
        ),
    ],
)
def test_a_removed_name_says_the_release_and_the_pin(line: str, release: str, pin: str) -> None:
    fix = djangoapi.removed(line)
    assert f"went in Django {release}" in fix and f"pin Django<{release} (e.g. {pin}" in fix


@pytest.mark.parametrize(
    "line",
    [
        "ImportError: cannot import name 'path' from 'django.urls'",  # there: a broken install, not a removal
        "ImportError: cannot import name 'url' from 'mylib.conf.urls'",
        "TemplateSyntaxError: 'my_tags' is not a registered tag library. Must be one of:",
        "django.db.utils.OperationalError: (2002, \"Can't connect to server on 'db'\")",
    ],
)
def test_anything_else_is_not_said_to_be_a_removal(line: str) -> None:
    assert djangoapi.removed(line) == ""


def test_the_migrate_and_image_check_failures_carry_it() -> None:
    """audiowurscht's pipeline: migrate exited 1 and check --deploy crashed on the same import."""
    failed = ServiceFailed("migrating the smoke stack's database", ["migrate"], exited=1, why=AUDIOWURSCHT)
    assert failed.fix.startswith("django.conf.urls.url went in Django 4.0")
    traceback = f'Traceback (most recent call last):\n  File "/app/audiowurscht/urls.py", line 2\n{AUDIOWURSCHT}\n'
    what, fix = imagechecks.diagnose(traceback, [])
    assert what.startswith("ImportError: cannot import name 'url'") and fix.startswith("django.conf.urls.url went")


def test_a_removed_module_whose_names_moved_says_where() -> None:
    fix = djangoapi.removed("ModuleNotFoundError: No module named 'django.core.urlresolvers'")
    assert "import it from django.urls, or pin Django<2.0" in fix
    assert "port the code, or pin Django<4.0" in djangoapi.removed(
        "ImportError: cannot import name 'url' from 'django.conf.urls' (/opt/venv/...)"
    )


SIGNOFTHEFOUR_BUILD = """#25 0.763   File "/opt/venv/lib/python3.11/site-packages/django/apps/config.py", line 269, in import_models
#25 0.763     self.models_module = import_module(models_module_name)
#25 0.763   File "/app/materialdb/models.py", line 6, in <module>
#25 0.763     from compositefk.fields import CompositeForeignKey
#25 0.763   File "/opt/venv/lib/python3.11/site-packages/compositefk/fields.py", line 15, in <module>
#25 0.763     from django.utils.translation import ugettext_lazy as _
#25 0.763 ImportError: cannot import name 'ugettext_lazy' from 'django.utils.translation' \
(/opt/venv/lib/python3.11/site-packages/django/utils/translation/__init__.py)
#25 0.764 dockstage: `python manage.py collectstatic --noinput -v 0` failed (exit 1) at build time: fix the app, \
or collectstatic / build-commands in [tool.dockstage]
#25 ERROR: executor failed running [/bin/bash -o pipefail -c python /mnt/dockstage/buildsteps.py]: exit code: 1
"""


def test_a_removed_name_met_in_an_installed_package_names_the_package_at_build_time() -> None:
    """signofthefour/django_mysql_webapp: an unpinned Django and django-composite-foreignkey, whose
    compositefk/fields.py imports ugettext_lazy; collectstatic failed at build time."""
    failed = StageBuildFailed("stage", 1, SIGNOFTHEFOUR_BUILD)
    assert failed.fix.startswith(
        "django.utils.translation.ugettext_lazy went in Django 4.0 (installed package compositefk uses it)"
    ), failed.fix
    assert "raise the pin of the package providing compositefk to a release made for Django 4.0" in failed.fix
    assert "or pin Django<4.0 (e.g. Django~=3.2" in failed.fix


def test_the_projects_own_import_still_says_port_the_code() -> None:
    own = SIGNOFTHEFOUR_BUILD.replace("/opt/venv/lib/python3.11/site-packages/compositefk/fields.py", "/app/x.py")
    fix = djangoapi.removed(own)
    assert "port the code, or pin Django<4.0" in fix and "installed package" not in fix


ALLAUTH_BUILD = """#25 0.743   File "/opt/venv/lib/python3.11/site-packages/allauth/account/apps.py", line 21, in ready
#25 0.743     raise ImproperlyConfigured(
#25 0.743 django.core.exceptions.ImproperlyConfigured: allauth.account.middleware.AccountMiddleware must be \
added to settings.MIDDLEWARE
#25 0.744 dockstage: `python manage.py collectstatic --noinput -v 0` failed (exit 1) at build time
#25 ERROR: executor failed running [/bin/bash -o pipefail -c python /mnt/dockstage/buildsteps.py]: exit code: 1
"""


def test_an_unpinned_allauth_newer_than_the_settings_is_named_at_build_time() -> None:
    """nissato-hitoshi/docker-django_mysql lists django-allauth unpinned; 0.56 made its middleware
    a must, and collectstatic failed at build time with 'read the build output above'."""
    fix = StageBuildFailed("stage", 1, ALLAUTH_BUILD).fix
    assert fix.startswith("django-allauth 0.56 and newer need allauth.account.middleware.AccountMiddleware"), fix
    assert "add it to MIDDLEWARE, or pin django-allauth<0.56" in fix
    assert known_fix("django.core.exceptions.ImproperlyConfigured: Set the X environment variable") == ""


def test_a_fixture_not_found_by_the_tests_says_yaml_needs_pyyaml() -> None:
    """TheTemptingSavior/docker-django-wiki: its tests load .yaml fixtures and its requirements lack
    PyYAML; the three test classes errored with only the counts in the line."""
    output = (
        "ERROR: setUpClass (wiki_api.tests.ArticleTests)\n"
        "    raise CommandError(\"No fixture named '%s' found.\" % fixture_name)\n"  # Django's line, in the traceback
        "django.core.management.base.CommandError: No fixture named '1-content-types' found.\n"
    )
    failed = TestsFailed(
        1, "0 tests, 0 failed, 3 errors, 0 skipped", "junit-app.xml", "python manage.py test", output=output
    )
    assert failed.fix.startswith("no fixture named 1-content-types was found: a .yaml fixture needs PyYAML"), failed.fix
    assert TestsFailed(1, "1 tests, 1 failed", "r.xml", output="AssertionError: 1 != 2").fix.startswith(
        "see the runner"
    )
