"""The build helpers that run inside the images (dockstage/data/*.py), on the host's Python."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from dockstage.core import resources
from dockstage.core.appconfig import DEFAULT_PROD_EXCLUDE, App
from dockstage.core.errors import StageBuildFailed
from dockstage.images import buildfiles


def helper(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, resources.path(resources.SUPPORT) / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prod_gets_the_app_minus_tests_docs_and_tooling(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    for relative in (
        "manage.py",
        "CHANGELOG.md",
        "mysite/settings.py",
        "mysite/templates/docs/intro.md",
        "polls/tests.py",
        "polls/tests/test_views.py",
        "polls/test_models.py",
        "polls/static/polls/site.css",
        "polls/data/names.csv",
        "docs/index.md",
        "tests/conftest.py",
        ".env",
        "noxfile.py",
        "requirements.txt",
        "mysite/__pycache__/settings.cpython-311.pyc",
    ):
        (src / relative).parent.mkdir(parents=True, exist_ok=True)
        (src / relative).write_text("x")
    copied, left_out, used = helper("prune").prune(src, dst, list(DEFAULT_PROD_EXCLUDE))
    kept = sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*") if p.is_file())
    assert kept == [
        "CHANGELOG.md",
        "manage.py",
        "mysite/settings.py",
        "mysite/templates/docs/intro.md",  # only the top-level docs/ is left out
        "polls/data/names.csv",
        "polls/static/polls/site.css",
    ]
    assert copied == len(kept)
    assert {"polls/tests.py", "polls/tests/", "polls/test_models.py", "docs/", ".env"} <= set(left_out)
    assert used == {}


@pytest.mark.parametrize(
    ("output", "counts"),
    [
        ("Ran 12 tests in 1.2s\n\nOK\n", {"tests": 12, "failures": 0, "errors": 0, "skipped": 0}),
        ("Ran 5 tests in 0.1s\n\nOK (skipped=2)\n", {"tests": 5, "failures": 0, "errors": 0, "skipped": 2}),
        (
            "Ran 9 tests in 3s\n\nFAILED (failures=1, errors=2)\n",
            {"tests": 9, "failures": 1, "errors": 2, "skipped": 0},
        ),
        (
            "Found 0 test(s).\nRan 0 tests in 0.000s\n\nNO TESTS RAN\n",
            {"tests": 0, "failures": 0, "errors": 0, "skipped": 0},
        ),
    ],
    ids=["ok", "skipped", "failed", "none"],
)
def test_manage_py_test_counts(output: str, counts: dict[str, int]) -> None:
    assert helper("testcommand").unittest_counts(output) == counts


def test_the_suites_pytest_options_are_told_from_the_users() -> None:
    ours, junit, rest = helper("testcommand").split_args(
        ["-p", "no:cacheprovider", "--junitxml=/tmp/junit.xml", "-o", "console_output_style=classic", "polls", "-v"]
    )
    assert (junit, rest) == ("/tmp/junit.xml", ["polls", "-v"])
    assert ours[:2] == ["-p", "no:cacheprovider"]


def test_python_conflict_names_the_version_to_set() -> None:
    text = (
        "cause: Because the current Python version (3.11.2) does not satisfy Python>=3.12 and django==6.0 "
        "depends on Python>=3.12, we can conclude that django==6.0 cannot be used."
    )
    match = helper("install").PYTHON_CONFLICT.search(text)
    assert match and match.groups() == ("3.11.2", ">=3.12")


UWSGI_ON_311 = """\
error: Failed to build `uwsgi==2.0.19.1`
  cause: The build backend returned an error
      plugins/python/python_plugin.c:1535:64: error: \u2018PyThreadState\u2019 {aka \u2018struct _ts\u2019} has no member named \u2018frame\u2019; did you mean \u2018cframe\u2019?
"""
RUAMEL_ON_311 = """\
error: Failed to build `ruamel-yaml-clib==0.2.6`
      _ruamel_yaml.c:198:12: fatal error: longintrepr.h: No such file or directory
hint: This error likely indicates that you need to install a library that provides `longintrepr.h`
"""
TYPED_AST_ON_311 = """\
error: Failed to build `typed-ast==1.5.1`
      ast27/Custom/../Include/compile.h:5:10: fatal error: code.h: No such file or directory
"""
ZONEINFO_ON_311 = """\
error: Failed to build `backports-zoneinfo==0.2.1`
      lib/zoneinfo_module.c:600:19: error: \u2018_PyLong_One\u2019 undeclared (first use in this function)
"""
PILLOW_ON_311 = """\
error: Failed to build `pillow==9.1.1`
  cause: The build backend returned an error
         RequiredDependencyException: jpeg
         The headers or library files could not be found for jpeg,
         a required dependency when compiling Pillow from source.
"""
WRAPT_ON_311 = """\
error: Failed to build `wrapt==1.13.3`
  cause: The build backend returned an error
      File "/root/.cache/uv/sdists-v11/pypi/wrapt/1.13.3/X/src/src/wrapt/decorators.py", line 34, in <module>
        from inspect import ismethod, isclass, formatargspec
    ImportError: cannot import name 'formatargspec' from 'inspect' (/usr/lib/python3.11/inspect.py)
"""
LDAP_HEADER = """\
error: Failed to build `python-ldap==3.4.0`
      Modules/constants.h:7:10: fatal error: lber.h: No such file or directory
"""


PANDAS_ON_311 = """\
error: Failed to build `pandas==1.1.5`
      pandas/_libs/algos.c:785:10: fatal error: numpy/arrayobject.h: No such file or directory
"""
"""jefffang19/django_mysql_docker pins pandas==1.1.5: no Debian package is the fix, its release is."""


DRIP_PINS = """\
error: No solution found when resolving dependencies:
  cause: Because astroid==2.9.0 depends on wrapt>=1.11,<1.14 and you require astroid==2.9.0, we can conclude that you require wrapt>=1.11,<1.14.
         And because you require wrapt==1.16.0, we can conclude that your requirements are unsatisfiable.
"""


@pytest.mark.parametrize(
    "stderr", [DRIP_PINS, DRIP_PINS.replace("  cause: ", "  \u2570\u2500\u25b6 ") + "\n  hint: x\n"]
)
def test_pins_that_contradict_each_other_are_said_with_uvs_reason(stderr: str) -> None:
    """Drip pinned wrapt 1.16.0 as told (1.13.3 does not build on 3.11) beside astroid 2.9.0, which
    wants wrapt<1.14: the build said only "read the build output above"."""
    line = helper("install").unsatisfiable(stderr, "runtime")
    error = StageBuildFailed("dev", 1, f"#11 {line}\n")
    assert "runtime requirements cannot all be installed together (Because astroid==2.9.0" in error.what
    assert error.what.endswith("your requirements are unsatisfiable.)") and "hint" not in error.what
    assert error.fix.startswith("change one of the pins uv names")
    assert helper("install").unsatisfiable(UWSGI_ON_311, "runtime") == ""


RALPH_PINS = """\
error: No solution found when resolving dependencies
  cause: Because openstacksdk==1.5.0 depends on one of:
             pbr>=2.0.0,<2.1.0
             pbr>2.1.0
         and you require openstacksdk==1.5.0, we can conclude that you require one of:
             pbr>=2.0.0,<2.1.0
             pbr>2.1.0

         And because you require pbr==1.8.1, we can conclude that your requirements are unsatisfiable.
"""


def test_a_conflict_explained_over_a_blank_line_keeps_the_pin_that_closes_it() -> None:
    """allegro/ralph pins pbr 1.8.1 beside openstacksdk 1.5.0: uv's reason goes on after a blank line,
    and the line said stopped before it, so the pin to change was not named."""
    line = helper("install").unsatisfiable(RALPH_PINS, "runtime")
    assert "Because openstacksdk==1.5.0 depends on one of: pbr>=2.0.0,<2.1.0 pbr>2.1.0 and you require" in line
    assert "And because you require pbr==1.8.1, we can conclude that your requirements are unsatisfiable.)" in line
    long = RALPH_PINS.replace("pbr>2.1.0\n", "pbr>2.1.0\n" + "             pbr>9.9.9\n" * 40, 1)
    said = helper("install").unsatisfiable(long, "runtime")
    assert " ... " in said and said.count("pbr>9.9.9") < 40  # cut in the middle
    assert "And because you require pbr==1.8.1" in said  # the end, which names the pin, is kept


GCD_GIT = """\
error: Git operation failed
  cause: failed to clone into: /root/.cache/uv/git-v2/db/cddf87124a967997
  cause: failed to fetch commit `0ac0261cd499fa2b0cee04d955d2abf361192475`
  cause: process didn't exit successfully: `/usr/bin/git fetch --force --update-head-ok 'https://github.com/mikemanger/django-queryset-csv' '+0ac0261c:refs/commit/0ac0261c'` (exit status: 128)
         --- stderr
         fatal: unable to access 'https://github.com/mikemanger/django-queryset-csv/': Could not resolve host: github.com
"""


def test_a_git_requirement_that_cannot_be_fetched_is_named_with_gits_reason() -> None:
    """GrandComicsDatabase/gcd-django pins two packages to git commits on GitHub; where builds reach
    only the package index, the build said only "read the build output above"."""
    line = helper("install").git_fetch_failure(GCD_GIT)
    error = StageBuildFailed("dev", 1, f"#11 {line}\n")
    assert error.what.startswith(
        "building stage 'dev' failed: fetching the requirement from https://github.com/mikemanger/django-queryset-csv "
        "failed (unable to access"
    )
    assert error.what.endswith("Could not resolve host: github.com)")
    assert error.fix.startswith("the build clones it, so its host must be reachable from builds here")
    assert helper("install").git_fetch_failure(DRIP_PINS) == ""


UV_NEWER_GIT = """\
error: Failed to download and build `black @ git+https://github.com/psf/black@899002399a26348198612503ce6ca2fc298551a6`
  cause: Git operation failed
  cause: failed to fetch into: /root/.cache/uv/git-v2/db/df8930125ae7020e
  cause: process didn't exit successfully: `/usr/bin/git fetch --force --update-head-ok 'https://github.com/psf/black' \
'+8990:refs/commit/8990'` (exit status: 128)
         --- stderr
         fatal: unable to access 'https://github.com/psf/black/': Could not resolve host: github.com
"""


def test_a_git_requirement_in_uvs_newer_words_is_named_too() -> None:
    """100ASSASSIN's frozen black @ git+https://...: the uv in the image says "cause: Git operation
    failed" under the error line, where 0.5 said "error: Git operation failed"."""
    line = helper("install").git_fetch_failure(UV_NEWER_GIT)
    assert line.startswith("dockstage: error: fetching the requirement from https://github.com/psf/black failed (")
    assert "Could not resolve host: github.com" in line


def test_a_requirement_from_a_folder_no_build_has_is_named() -> None:
    stderr = "  x Failed to resolve\nerror: Distribution not found at: file:///home/assassin/ShellGPT/command-ai\n"
    line = helper("install").local_path_missing(stderr)
    error = StageBuildFailed("dev", 1, f"#11 {line}\n")
    assert error.what == (
        "building stage 'dev' failed: a requirement points at file:///home/assassin/ShellGPT/command-ai, a folder of "
        "the machine that wrote the requirements (pip freeze writes `name @ file:///...` for a package installed "
        "from a folder), and no build has it"
    )
    assert error.fix.startswith("require a release from the package index there (name==version)")
    assert helper("install").local_path_missing(DRIP_PINS) == ""


@pytest.mark.parametrize(
    ("stderr", "says", "fix"),
    [
        (UWSGI_ON_311, "uwsgi==2.0.19.1 does not compile for Python 3.", "raise its pin to a release that supports"),
        (RUAMEL_ON_311, "ruamel-yaml-clib==0.2.6 does not compile for Python", "raise its pin"),
        (TYPED_AST_ON_311, "typed-ast==1.5.1 does not compile for Python", "raise its pin"),
        (ZONEINFO_ON_311, "backports-zoneinfo==0.2.1 is a backport of the standard library's zoneinfo", "remove it"),
        (WRAPT_ON_311, "wrapt==1.13.3 does not build on Python 3.", "raise its pin to a release made for"),
        (LDAP_HEADER, "python-ldap==3.4.0 has no wheel for Python 3.", "add Debian's libldap2-dev to apt-build"),
        (PILLOW_ON_311, "pillow==9.1.1 has no wheel for Python 3.", "add Debian's libjpeg-dev zlib1g-dev to apt-build"),
        (
            PANDAS_ON_311,
            "pandas==1.1.5 has no wheel for Python 3.",
            "raise its pin to a release with a wheel for Python",
        ),
        ("error: Failed to build `odd==1.0`\n  cause: setup.py said no\n", "odd==1.0 has no wheel", "raise its pin"),
        (  # aishenghuomeidaoli/docker-django-mysql-celery: the general line said only "raise its pin"
            "error: Failed to build `mysqlclient==1.3.7`\n  _mysql.c:2675:15: warning: assignment discards\n",
            "mysqlclient==1.3.7 does not build on Python 3.",
            "raise its pin to 1.4.3 or later",
        ),
    ],
    ids=[
        "python-internals",
        "moved-header",
        "moved-code-header",
        "backport",
        "stdlib-name-gone",
        "missing-header",
        "pillow-library",
        "numpy-header",
        "other",
        "predates-python",
    ],
)
def test_a_failed_source_build_names_the_package_cause_and_fix(stderr: str, says: str, fix: str) -> None:
    line = helper("install").source_build_failure(stderr)
    error = StageBuildFailed("dev", 1, f"#11 {line}\n")  # the helper's line, as the build output carries it
    assert says in error.what
    assert error.fix.startswith(fix) or fix in error.fix


def test_a_server_the_images_replace_may_be_left_out() -> None:
    """nissato-hitoshi/docker-django_mysql pins uwsgi==2.0.18 (its own deployment's server)."""
    error = StageBuildFailed("dev", 1, f"#11 {helper('install').source_build_failure(UWSGI_ON_311)}\n")
    assert error.fix.endswith(
        "; or leave uwsgi out of the runtime requirements: the images serve the app with gunicorn"
    ), error.fix
    other = helper("install").source_build_failure(RUAMEL_ON_311)
    assert "gunicorn" not in other


def test_a_release_that_installs_but_fails_when_used_on_this_python_stops_the_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Terrenceluo pins mysqlclient==1.4.2.post1 (and gunicorn==19.9.0): it built on 3.11 and migrate died at the first query
    (SystemError: PY_SSIZE_T_CLEAN macro must be defined), after every stage had built."""
    install = helper("install")
    monkeypatch.setattr(install.sys, "version_info", (3, 11, 4, "final", 0))
    line = install.broken_at_run_time({"django": "2.2.4", "mysqlclient": "1.4.2.post1"})
    error = StageBuildFailed("dev", 1, f"#11 {line}\n")
    assert "mysqlclient==1.4.2.post1 installs on Python 3.11" in error.what, error.what
    assert error.fix == "raise its pin (mysqlclient to 1.4.3) or later", error.fix
    both = StageBuildFailed(
        "dev", 1, f"#11 {install.broken_at_run_time({'mysqlclient': '1.4.2', 'gunicorn': '19.9.0'})}\n"
    )
    assert "; and gunicorn==19.9.0 installs on Python 3.11 but its threaded workers import collections.Mapping" in (
        both.what
    )
    assert both.fix == "raise their pins (mysqlclient to 1.4.3, gunicorn to 20.0.0) or later", both.fix
    assert install.broken_at_run_time({"mysqlclient": "1.4.3", "gunicorn": "20.0.4"}) == ""
    assert install.broken_at_run_time({"mysqlclient": "2.2.4"}) == ""
    monkeypatch.setattr(install.sys, "version_info", (3, 9, 18, "final", 0))
    assert install.broken_at_run_time({"mysqlclient": "1.4.2.post1"}) == ""  # it was made for 3.9


ALLAUTH_ON_SETUPTOOLS_70 = """\
  \u00d7 Failed to build `django-allauth==0.42.0`
  \u251c\u2500\u25b6 The build backend returned an error
  \u2570\u2500\u25b6 Call to `setuptools.build_meta:__legacy__.get_requires_for_build_wheel` failed (exit status: 1)

      [stderr]
      Traceback (most recent call last):
        File "<string>", line 8, in <module>
      ImportError: cannot import name 'convert_path' from 'setuptools' (/root/.cache/uv/builds-v0/.tmp/setuptools/__init__.py)
"""


PYYAML_ON_CYTHON_3 = """\
error: Failed to build `pyyaml==5.4.1`
  cause: The build backend returned an error
             raise AttributeError(attr)
         AttributeError: cython_sources
"""
NEWER_ATTRIBUTE_ERROR = "AttributeError: 'build_ext' object has no attribute 'cython_sources'"
"""How eyobofficial/DRF-Starter's Pipfile.lock (PyYAML 5.4.1) failed in a build environment of 2026."""
CONVERT_PATH = ("uses convert_path, which setuptools 70 removed", "setuptools<70")


@pytest.mark.parametrize(
    ("stderr", "found"),
    [
        (ALLAUTH_ON_SETUPTOOLS_70, ("django-allauth==0.42.0", *CONVERT_PATH)),
        (
            "error: Failed to build `old==1.0`\n  File setup.py\n  ModuleNotFoundError: No module named 'pkg_resources'\n",
            ("old==1.0", "uses pkg_resources, which setuptools 81 removed", "setuptools<81"),
        ),
        (
            "error: Failed to build `odd==2.0`\n  AttributeError: module 'setuptools.dist' has no attribute 'easy_install'\n",
            ("odd==2.0", "uses easy_install, which setuptools 70 removed", "setuptools<70"),
        ),
        (PYYAML_ON_CYTHON_3, ("pyyaml==5.4.1", "fails on Cython 3 (cython_sources)", "Cython<3")),
        (
            PYYAML_ON_CYTHON_3.replace("AttributeError: cython_sources", NEWER_ATTRIBUTE_ERROR),
            ("pyyaml==5.4.1", "fails on Cython 3 (cython_sources)", "Cython<3"),
        ),
        (  # a plain path requirement: uv names no package
            "error: The build backend returned an error\n  ImportError: cannot import name 'convert_path' from 'setuptools'\n",
            ("a local package", *CONVERT_PATH),
        ),
        (LDAP_HEADER, None),  # a missing header is not a build tool's doing
        ("ImportError: cannot import name 'convert_path' from 'setuptools'\n", None),  # no failed build
        # another package's build failed; the one whose output names the tool is the one said
        (LDAP_HEADER + ALLAUTH_ON_SETUPTOOLS_70, ("django-allauth==0.42.0", *CONVERT_PATH)),
        # uv wraps a long name over two lines
        (
            "error: Failed to build `oldpkg @\n       file:///tmp/oldpkg`\n  No module named 'pkg_resources'\n",
            ("oldpkg @ file:///tmp/oldpkg", "uses pkg_resources, which setuptools 81 removed", "setuptools<81"),
        ),
    ],
    ids=[
        "convert_path",
        "pkg_resources",
        "attribute",
        "cython",
        "cython-newer-setuptools",
        "local-path",
        "header",
        "no-build",
        "second-build",
        "wrapped",
    ],
)
def test_a_build_that_needs_an_older_build_tool_is_told(stderr: str, found: tuple[str, str, str] | None) -> None:
    """Hopetree/izone pins django-allauth 0.42, whose setup.py imports convert_path: the build
    environment's newest setuptools has none, so the set is built again with setuptools<70; shynet's
    lock pins PyYAML 5.4.1, whose build breaks on Cython 3."""
    assert helper("install").too_new_for(stderr) == found


def test_a_requirement_the_index_does_not_have_is_named() -> None:
    """djangosnippets.org's lock pins django-generic-aggregation 0.4.0, which the index here lacks."""
    install = helper("install")
    missing = (
        "  cause: Because django-generic-aggregation was not found in the package registry and you require "
        "django-generic-aggregation==0.4.0, we can conclude that your requirements are unsatisfiable."
    )
    assert install.not_on_index(missing).startswith(
        "dockstage: error: django-generic-aggregation is not on the package index the build uses (PyPI unless "
        "index-url is set in [tool.dockstage]); fix: check the name and version"
    )
    no_version = "Because there is no version of django==9.9 and you require django==9.9, we can conclude"
    assert install.not_on_index(no_version).startswith("dockstage: error: no release of django==9.9 is on the package")
    assert install.not_on_index("error: Failed to build `odd==1.0`") == ""


def test_a_failure_without_a_source_build_gets_no_build_diagnosis() -> None:
    assert helper("install").source_build_failure("error: No solution found when resolving dependencies") == ""


def test_build_steps_take_collectstatic_and_commands_from_build_args(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[list[str]] = []

    class Done:
        returncode = 0
        stderr = ""

    steps = helper("buildsteps")
    monkeypatch.setattr(steps.subprocess, "run", lambda command, env, check, **kw: ran.append(command) or Done())
    monkeypatch.setenv("BUILD_COMMANDS", json.dumps([["python", "manage.py", "compress"]]))
    monkeypatch.setenv("COLLECTSTATIC", "true")
    assert steps.main() == 0
    assert ran == [
        ["python", "manage.py", "collectstatic", "--noinput", "-v", "0"],
        ["python", "manage.py", "compress"],
    ]


def test_a_build_step_that_reaches_for_the_database_names_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # The shape of a real failure (django-prometheus's AppConfig.ready() exports migrations, so
    # collectstatic connects to MySQL while the image builds): run for real, in a subprocess.
    package = tmp_path / "site-packages" / "metricsapp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "migrations.py").write_text(
        "class OperationalError(Exception):\n    pass\n\n\n"
        "def export():\n    raise OperationalError(2003, \"Can't connect to MySQL server on 'db'\")\n"
    )
    (package / "apps.py").write_text("from metricsapp.migrations import export\n\n\ndef ready():\n    export()\n")
    script = "from metricsapp.apps import ready; ready()"
    steps = helper("buildsteps")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site-packages"))
    monkeypatch.setenv("COLLECTSTATIC", "false")
    monkeypatch.setenv("BUILD_COMMANDS", json.dumps([[sys.executable, "-c", script]]))
    assert steps.main() == 1
    err = capfd.readouterr().err
    line = err.strip().splitlines()[-1]
    assert line.startswith("dockstage: error: `") and "failed at build time: it connected to the database (" in line
    assert "metricsapp/apps.py:5 in ready -> metricsapp/migrations.py:6 in export" in line
    assert "; fix: " in line and 'not os.environ.get("DOCKSTAGE_NO_DATABASE")' in line
    assert steps.NO_DATABASE_ENV == buildfiles.NO_DATABASE_ENV  # the name the build's environment sets


def test_a_build_step_failing_on_what_this_python_dropped_names_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """izone's collectstatic on 3.11: celery 4.4 imports vine 1.3, whose five.py imports
    inspect.formatargspec (gone in 3.11). Run for real: the package is named, with its line."""
    package = tmp_path / "site-packages" / "vine"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from .five import Callable\n")
    (package / "five.py").write_text("import sys\n\nfrom inspect import formatargspec\nCallable = object\n")
    steps = helper("buildsteps")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site-packages"))
    monkeypatch.setenv("COLLECTSTATIC", "false")
    monkeypatch.setenv("BUILD_COMMANDS", json.dumps([[sys.executable, "-c", "import vine"]]))
    assert steps.main() == 1
    line = capfd.readouterr().err.strip().splitlines()[-1]
    python = f"Python {sys.version_info.major}.{sys.version_info.minor}"
    assert line.startswith("dockstage: error: `")
    assert line.endswith(
        f"failed at build time: vine (vine/five.py:3) uses inspect.formatargspec, which {python} no longer has; "
        "fix: raise vine's pin to a release made for this Python (or set python in [tool.dockstage] to the "
        "Python the pins were made for)"
    )
    assert steps.python_gone_cause("ImportError: cannot import name 'x' from 'django.utils' (/opt/x.py)") == ""
    assert steps.python_gone_cause("AttributeError: module 'collections' has no attribute 'Callable'") == (
        f"the code uses collections.Callable, which {python} no longer has"
    )


def test_a_compiled_module_that_does_not_start_on_this_python_names_its_package() -> None:
    """UCL/frrant's collectstatic on 3.11: psycopg2 2.8.6 builds, then its _psycopg fails to start."""
    steps = helper("buildsteps")
    python = f"Python {sys.version_info.major}.{sys.version_info.minor}"
    output = (
        "Traceback (most recent call last):\n"
        '  File "/app/manage.py", line 43, in <module>\n'
        '  File "/opt/venv/lib/python3.11/site-packages/django/contrib/postgres/search.py", line 1, in <module>\n'
        "    import psycopg2\n"
        '  File "/opt/venv/lib/python3.11/site-packages/psycopg2/__init__.py", line 51, in <module>\n'
        "    from psycopg2._psycopg import (                     # noqa\n"
        "SystemError: initialization of _psycopg raised unreported exception\n"
    )
    assert steps.python_gone_cause(output) == (
        f"psycopg2 (psycopg2/__init__.py:51): its compiled module _psycopg does not start on {python} "
        "(SystemError: initialization of _psycopg raised unreported exception)"
    )
    assert steps.python_gone_cause("SystemError: initialization of _x raised unreported exception") == ""


def test_compress_with_no_compress_tag_anywhere_is_not_a_failed_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """gjae/django-attendance-check (cookiecutter-django): COMPRESS_OFFLINE is on and no template
    has a {% compress %} tag, so `manage.py compress` raised OfflineGenerationError and the stage
    failed. The build goes on (the steps after it run); compress failing otherwise still fails."""
    steps = helper("buildsteps")
    no_tags = (
        "import sys; sys.stderr.write(\"compressor.exceptions.OfflineGenerationError: No 'compress' template tags "
        'found in templates.Try running compress command with --follow-links\\n"); sys.exit(1)'
    )
    after = tmp_path / "after"
    monkeypatch.setenv("COLLECTSTATIC", "false")
    commands = [[sys.executable, "-c", no_tags, "compress"], [sys.executable, "-c", f"open({str(after)!r}, 'w')"]]
    monkeypatch.setenv("BUILD_COMMANDS", json.dumps(commands))
    assert steps.main() == 0
    assert after.exists()  # the step after compress ran
    assert "found no {% compress %} tag in any template: nothing to compress offline" in capfd.readouterr().out
    other = (
        "import sys; sys.stderr.write('OfflineGenerationError: You have offline compression enabled\\n'); sys.exit(1)"
    )
    monkeypatch.setenv("BUILD_COMMANDS", json.dumps([[sys.executable, "-c", other, "compress"]]))
    assert steps.main() == 1


def test_a_build_step_failing_otherwise_is_not_blamed_on_the_database() -> None:
    steps = helper("buildsteps")
    assert (
        steps.database_cause('Traceback (most recent call last):\n  File "/app/x.py", line 1, in <module>\nKeyError: 1')
        == ""
    )
    told = steps.database_cause(
        "django.db.utils.OperationalError: (2005, \"Unknown MySQL server host 'database' (-2)\")"
    )
    assert told == "it connected to the database, and there is none while the image builds"


def test_the_build_and_the_image_checks_say_there_is_no_database() -> None:
    env = buildfiles.placeholders(App())
    assert env[buildfiles.NO_DATABASE_ENV] == "1"


def test_the_test_overlay_wins_over_a_projects_own_ds_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AsankaL/django-starter's addopts say --ds=core.settings.test (SQLite): pytest-django takes an
    option before the environment, so the suite's overlay went unused. Its own --ds comes after."""
    testcommand = helper("testcommand")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "dockstage_settings")
    plugin = tmp_path / "pytest_django"
    plugin.mkdir()
    (plugin / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))  # where pytest-django is installed, as in the test image
    assert testcommand.overlay_option(True) == ["--ds=dockstage_settings"]
    assert testcommand.overlay_option(False) == []  # `python manage.py test` reads the environment
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "core.settings.test")  # no overlay: the project's own
    assert testcommand.overlay_option(True) == []


def test_test_modules_in_a_folder_without_init_are_named(tmp_path: Path) -> None:
    """bubaley's user/tests/test_user.py: no user/tests/__init__.py, so `manage.py test` found 0
    tests and the pipeline said only "add tests"; it now names the module and the folder."""
    unfound_tests = helper("testcommand").unfound_tests
    for name in ("user/__init__.py", "user/tests/test_user.py", "notes/__init__.py", "notes/tests.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / ".venv/lib/test_x.py").parent.mkdir(parents=True)
    (tmp_path / ".venv/lib/test_x.py").write_text("")
    said = unfound_tests(tmp_path)
    assert "user/tests/test_user.py (user/tests has no __init__.py)" in said
    assert "notes" not in said and ".venv" not in said
    (tmp_path / "user/tests/__init__.py").write_text("")
    assert unfound_tests(tmp_path) == ""


def test_a_build_step_that_never_ends_is_stopped_and_named(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """kkuchar2/docker-django-backend's manage.py waits for the database before any command: its
    collectstatic at build time slept in that loop with no end (9 minutes, and on)."""
    steps = helper("buildsteps")
    waits = "import time; print('Waiting for database...', flush=True); time.sleep(60)"
    monkeypatch.setenv("COLLECTSTATIC", "false")
    monkeypatch.setenv("BUILD_COMMANDS", json.dumps([[sys.executable, "-c", waits]]))
    monkeypatch.setenv(steps.STEP_SECONDS_ENV, "1")
    assert steps.main() == 1
    out, err = capfd.readouterr()
    assert "Waiting for database..." in out
    line = next(x for x in err.splitlines() if x.startswith("dockstage: error: "))
    assert "did not end within 1 s at build time" in line and "fix: wait for the database where it is used" in line
    failed = StageBuildFailed("stage", 1, f"#25 {line}\n")
    assert failed.what.endswith(
        "did not end within 1 s at build time (its output is above): a build has no "
        "database and no service of the stack, so a manage.py or settings that wait for "
        "one (a `Waiting for database...` loop) never end"
    ), failed.what


KHOOSHRIN_COLLECTSTATIC = """Traceback (most recent call last):
  File "/app/manage.py", line 22, in <module>
    main()
  File "/opt/venv/lib/python3.11/site-packages/django/apps/registry.py", line 116, in populate
    app_config.import_models()
  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed
  File "/app/dashboard/models.py", line 1, in <module>
    from asyncio.windows_events import NULL
  File "/usr/lib/python3.11/asyncio/windows_events.py", line 6, in <module>
    raise ImportError('win32 only')
ImportError: win32 only
"""


def test_a_build_step_that_raised_names_the_exception_and_the_apps_line(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Khooshrin/Courtroom-Management-System-Django-MySQL's models import asyncio.windows_events (an
    editor's auto-import): the build said only "failed (exit 1)", the summary "read the build output"."""
    steps = helper("buildsteps")
    assert steps.raised_cause(KHOOSHRIN_COLLECTSTATIC) == "ImportError: win32 only (dashboard/models.py:1)"
    assert steps.raised_cause("CommandError: no such app\n") == ""  # no traceback: nothing to quote
    settings = 'Traceback (most recent call last):\n  File "/opt/x.py", line 3, in f\n' + (
        "django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty.\n"
    )
    assert steps.raised_cause(settings) == (
        "django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty."
    )
    fails = f"import sys; sys.stderr.write({KHOOSHRIN_COLLECTSTATIC!r}); sys.exit(1)"
    monkeypatch.setenv("COLLECTSTATIC", "false")
    monkeypatch.setenv("BUILD_COMMANDS", json.dumps([[sys.executable, "-c", fails]]))
    assert steps.main() == 1
    said = capfd.readouterr().err.splitlines()[-1]
    assert said.startswith("dockstage: error: `") and said.endswith(
        "failed at build time: ImportError: win32 only (dashboard/models.py:1); fix: the app, or collectstatic / "
        "build-commands in [tool.dockstage]"
    )


ILDARTORONTO_PARSE = """error: Couldn't parse requirement in `backend/requirements.txt` at position 40
  cause: no such comparison operator "~>", must be one of ~= == != <= >= < > ===
         djangorestframework~>3.9.1
                            ^^^^^^^
"""


def test_a_requirement_line_uv_cannot_read_is_quoted(tmp_path: Path) -> None:
    """ildartoronto/docker-django-react-mysql writes `djangorestframework~>3.9.1` (Ruby's operator): the
    dev build said only "failed (exit 1): read the build output above"."""
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend/requirements.txt").write_text(
        "django-cors-headers<3.0.0\nDjango>=3.1.9\ndjangorestframework~>3.9.1\npsycopg2>=2.7,<3.0\n"
    )
    install = helper("install")
    assert install.unreadable_line(ILDARTORONTO_PARSE, str(tmp_path)) == (
        "dockstage: error: backend/requirements.txt has a line uv cannot read (line 3, `djangorestframework~>3.9.1`: "
        'no such comparison operator "~>", must be one of ~= == != <= >= < > ===); fix: write it as a requirement '
        "(name, then an operator such as == >= ~= and a version)"
    )
    assert "(no such comparison" in install.unreadable_line(ILDARTORONTO_PARSE, str(tmp_path / "gone"))
    assert install.unreadable_line(DRIP_PINS, str(tmp_path)) == ""
    error = StageBuildFailed("dev", 1, "#11 0.2 " + install.unreadable_line(ILDARTORONTO_PARSE, str(tmp_path)) + "\n")
    assert "backend/requirements.txt has a line uv cannot read (line 3" in error.one_line()
