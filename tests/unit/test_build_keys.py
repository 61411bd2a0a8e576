"""Issue 20's build keys as pure logic: assets, tmpfs, test-setup, smoke-urls, npm's config and CA."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dockstage.adopt.inspect import inspect
from dockstage.core import cabundle
from dockstage.core.appconfig import parse_app
from dockstage.core.config import Settings
from dockstage.core.errors import ConfigError, ImageCheckFailed
from dockstage.images import buildfiles, imagechecks
from dockstage.stack import workers
from tests.unit.test_adopt_helpers import helper
from tests.unit.test_adopt_inspect import startproject


def test_the_new_keys_parse_and_a_relative_tmpfs_is_refused() -> None:
    app = parse_app(
        {
            "assets_command": "npm run build",
            "assets_output": ["node_modules"],
            "test_setup": ["python manage.py compilejsi18n"],
            "tmpfs": ["/app/media"],
            "smoke_urls": True,
        }
    )
    assert app.assets_command == ("npm", "run", "build") and app.assets_output == ("node_modules",)
    assert app.test_setup == (("python", "manage.py", "compilejsi18n"),) and app.smoke_urls
    with pytest.raises(ConfigError, match="not an absolute path"):
        parse_app({"tmpfs": ["media"]})
    with pytest.raises(ConfigError, match="smoke-urls must be true or false"):
        parse_app({"smoke_urls": "yes"})


def test_more_tmpfs_paths_reach_migrate_web_and_the_workers(tmp_path: Path) -> None:
    app = parse_app({"tmpfs": ["/app/media", "/log:size=1m"], "workers": {"mailer": "python manage.py x"}})
    # each the app user's: a tmpfs over a dir of the image would be root's, not writable by the app
    owned = ["/app/media:uid=10001,gid=10001", "/log:size=1m,uid=10001,gid=10001"]
    assert app.tmpfs_mounts == tuple(owned)
    services = json.loads(workers.render(app).split("\n", 1)[1])["services"]
    assert services["web"] == {"tmpfs": owned} and services["migrate"] == {"tmpfs": owned}
    assert services["mailer"]["tmpfs"] == ["/tmp", "/var/tmp", *owned]
    assert parse_app({"tmpfs": ["/x:uid=0"]}).tmpfs_mounts == ("/x:uid=0",)  # an owner given is kept
    settings = Settings(root=tmp_path, state_dir=".ds")
    assert workers.write(settings.with_(app=app)) == tmp_path / ".ds" / "compose.generated.yaml"
    assert workers.write(settings) is None  # nothing to add: no generated compose file


def test_writable_dirs_are_made_in_the_build_and_tmpfs_in_prod(tmp_path: Path) -> None:
    app = parse_app({"writable_dirs": ["data", "var/cache/"], "workers": {"tasks": "python manage.py run_huey"}})
    assert app.writable_paths == ("/app/data", "/app/var/cache")
    services = json.loads(workers.render(app).split("\n", 1)[1])["services"]
    owned = ["/app/data:uid=10001,gid=10001", "/app/var/cache:uid=10001,gid=10001"]
    assert services["web"] == {"tmpfs": owned}
    assert services["tasks"]["tmpfs"] == ["/tmp", "/var/tmp", *owned]
    settings = Settings(root=tmp_path, state_dir=".ds").with_(app=parse_app({"writable_dirs": ["data"]}))
    assert workers.write(settings) == tmp_path / ".ds" / "compose.generated.yaml"  # a tmpfs alone writes it


@pytest.mark.parametrize("bad", ["/app/data", "../data", ".", "a b", "data/./x", ""])
def test_a_writable_dir_outside_the_app_dir_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"writable-dirs .* is not a path inside the app dir"):
        parse_app({"writable_dirs": [bad]})


def test_init_finds_the_npm_build_and_statici18n(tmp_path: Path) -> None:
    settings = 'INSTALLED_APPS = ["statici18n"]\nSTATICFILES_DIRS = [BASE_DIR / "node_modules"]\n'
    root = startproject(
        tmp_path,
        settings,
        {"package.json": '{"scripts": {"build": "vite build"}}', "requirements.txt": "Django>=5.2,<6\n"},
    )
    found = inspect(root)
    assert (found.assets_command, found.assets_output) == ("npm run build", ["node_modules"])
    assert found.test_setup == ["python manage.py compilejsi18n"]
    (root / "package.json").write_text('{"scripts": {"test": "jest"}}')
    assert inspect(root).assets_command == ""


def test_the_assets_build_copies_what_it_wrote_outside_node_modules() -> None:
    assets = helper("assets")
    before = {"package.json": 1.0, "app/static/site.css": 1.0}
    after = {**before, "app/static/site.css": 2.0, "app/static/dist/app.js": 2.0}
    assert assets.made(before, after) == ["app/static/dist/app.js", "app/static/site.css"]


def test_npm_config_and_ca_come_from_the_users_npmrc_then_the_global_one(tmp_path: Path) -> None:
    ca, npmrc = tmp_path / "ca.pem", tmp_path / ".npmrc"
    ca.write_text("cert")
    npmrc.write_text(f'audit=false\ncafile = "{ca}"\n')
    environ = {"HOME": str(tmp_path), "PATH": ""}
    assert cabundle.npm_user_config(environ) == npmrc
    assert cabundle.npm_cafile(environ) == ca
    npmrc.write_text("audit=false\n")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "npmrc").write_text(f"cafile={ca}\n")
    assert cabundle.npm_cafile({**environ, "PREFIX": str(tmp_path)}) == ca
    assert cabundle.npm_user_config({"HOME": str(tmp_path / "nobody")}) is None


def test_the_tools_venv_may_not_hold_another_version_of_an_app_package() -> None:
    install = helper("install")
    app = install.pins("Django==6.0.10\nasgiref==3.9.1\n# comment\n-e file:///x\n")
    assert app == {"django": "6.0.10", "asgiref": "3.9.1"}
    tools = install.pins("django==6.1.3\nasgiref==3.9.1\npytest==9.0.0\n")
    assert install.mismatches(app, tools) == ["django 6.1.3 (tools) vs 6.0.10 (app)"]
    assert install.mismatches(app, {"pytest": "9.0.0", "asgiref": "3.9.1"}) == []


@pytest.mark.parametrize(
    ("dev", "expected"),
    [
        ("mysqlclient==2.2.8\n", ["gunicorn", "mysqlclient==2.2.8"]),
        ("Gunicorn == 23.0.0  # prod server\nmysqlclient>=2.2\n", ["gunicorn==23.0.0", "mysqlclient>=2.2"]),
        ("mysqlclient~=2.2.8  ; python_version >= '3.8'\n", ["gunicorn", "mysqlclient~=2.2.8"]),
        ("mysqlclient >= 2.2, < 2.3\n", ["gunicorn", "mysqlclient>=2.2,<2.3"]),
        ("django==5.2\nmysqlclient-stubs==1.0\n", ["gunicorn", "mysqlclient"]),
    ],
    ids=["dev-pins-mysqlclient", "dev-pins-gunicorn-and-a-range", "compatible-release", "range", "no-pin"],
)
def test_the_suites_runtime_packages_take_the_apps_own_pins(dev: str, expected: list[str]) -> None:
    """The runtime set adds gunicorn and mysqlclient; a dev/test file pinning one (healthchecks pins
    mysqlclient==2.2.8) gets that version in the runtime set too, not the newest release."""
    assert (
        buildfiles.suite_runtime({"requirements-dev.txt": dev.encode(), "args": b"-r requirements-dev.txt\n"})
        == expected
    )


def test_the_test_tools_the_apps_runtime_requirements_name(tmp_path: Path) -> None:
    """Held-out spending_tracker lists pytest and pytest-django in its only requirements.txt."""
    settings = Settings(root=tmp_path)
    assert buildfiles.runtime_test_tools(settings) == []
    runtime = tmp_path / buildfiles.STAGED / "requirements" / "runtime"
    runtime.mkdir(parents=True)
    (runtime / "requirements.txt").write_text("Django==5.2\npytest==9.0.2\nPytest-Django>=4 ; python_version>'3'\n")
    (runtime / "args").write_text("-r requirements.txt\npytest-xdist\n")  # the suite's own args: not the app's
    assert buildfiles.runtime_test_tools(settings) == ["pytest", "pytest-django"]
    # held-out python-project-52: uv.lock, pytest in [project] dependencies (the lock lists every group)
    (runtime / "requirements.txt").unlink()
    (runtime / "export").write_text(".\n--no-default-groups\n")
    (runtime / "uv.lock").write_text('[[package]]\nname = "pytest-cov"\n')
    (runtime / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["django>=5", "pytest>=8.4.0", "pytestify==1"]\n'
        '[dependency-groups]\ndev = ["pytest-cov"]\n'
    )
    assert buildfiles.runtime_test_tools(settings) == ["pytest"]


def test_the_test_tools_of_a_requirements_file_in_a_folder(tmp_path: Path) -> None:
    """testdrivenio/django-celery: project/requirements.txt names pytest; it is staged under its path."""
    folder = tmp_path / buildfiles.STAGED / "requirements" / "runtime" / "project"
    folder.mkdir(parents=True)
    (folder / "requirements.txt").write_text("Django==4.1.4\npytest==7.2.0\npytest-django==4.5.2\n")
    (folder.parent / "args").write_text("-r project/requirements.txt\n")
    assert buildfiles.runtime_test_tools(Settings(root=tmp_path)) == ["pytest", "pytest-django"]


def test_prod_without_the_apps_pytest_still_fails_on_a_compiler() -> None:
    """The toolchain check for an app that asks for pytest: pytest is said, a compiler still fails."""
    probe = imagechecks._app_asks_for(["pytest"])
    assert "import pytest" not in probe.script and "command -v $t" in probe.script
    line = probe.judge("app:prod", "", 0, "10001")
    assert "pytest in prod because the app's runtime requirements name them: move them to test-requirements" in line
    with pytest.raises(ImageCheckFailed, match="tool:gcc"):
        probe.judge("app:prod", "tool:gcc\n", 0, "10001")


def test_test_files_are_staged_for_the_test_image_only_and_must_be_in_the_project(tmp_path: Path) -> None:
    (tmp_path / "tests" / "__pycache__").mkdir(parents=True)
    (tmp_path / "tests" / "test_a.py").write_text("def test_a(): pass\n")
    (tmp_path / "tests" / "__pycache__" / "test_a.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    assert buildfiles.test_files(tmp_path, ("pytest.ini", "tests")) == {
        "pytest.ini": b"[pytest]\n",
        "tests/test_a.py": b"def test_a(): pass\n",
    }
    with pytest.raises(ConfigError, match="test-files names tests2, which is not in the project"):
        buildfiles.test_files(tmp_path, ("tests2",))
    with pytest.raises(ConfigError, match=r"test-files '\.\./x' is not a path inside the project"):
        parse_app({"test_files": ["../x"]})


def _site(venv: Path) -> Path:
    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    return site


def test_the_packages_that_import_pkg_resources(tmp_path: Path) -> None:
    install = helper("install")
    site = _site(tmp_path)
    (site / "django_countries").mkdir()
    (site / "django_countries" / "fields.py").write_text("import re\nimport pkg_resources\n")
    (site / "gunicorn").mkdir()
    (site / "gunicorn" / "util.py").write_text("def load():\n    from pkg_resources import iter_entry_points\n")
    (site / "flat_module.py").write_text("import pkg_resources as pr\n")
    (site / "setuptools").mkdir()
    (site / "setuptools" / "x.py").write_text("import pkg_resources\n")
    (site / "clean").mkdir()
    (site / "clean" / "a.py").write_text("# pkg_resources is gone\nimport importlib.metadata\n")
    assert install.pkg_resources_users(str(tmp_path)) == ["django_countries", "flat_module", "gunicorn"]


def test_a_venv_whose_code_needs_pkg_resources_is_installed_again_with_a_setuptools_that_has_it(
    tmp_path: Path,
) -> None:
    """Held-out django-easystart: django-countries 7.3 imports pkg_resources, and the fresh venv's
    setuptools (84, pulled by gevent) has none: collectstatic died at build time."""
    install = helper("install")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    asked = tmp_path / "asked"
    again = [sys.executable, "-c", "import sys; open(sys.argv[1], 'w').write(sys.argv[2])", str(asked)]
    assert install.with_pkg_resources(str(venv), again, str(tmp_path)) == 0
    assert not asked.exists()  # nothing imports it: nothing to do
    (_site(venv) / "countries.py").write_text("import pkg_resources\n")
    assert install.with_pkg_resources(str(venv), again, str(tmp_path)) == 0
    assert asked.read_text() == "setuptools<81"


def test_the_libraries_a_compiled_module_cannot_find_are_named_per_module() -> None:
    """ldd's output over the venv's modules: helfertool's python-ldap without libldap in prod."""
    output = (
        "/opt/venv/lib/python3.11/site-packages/_ldap.cpython-311-x86_64-linux-gnu.so:\n"
        "\tlinux-vdso.so.1 (0x00007ffd)\n"
        "\tlibldap-2.5.so.0 => not found\n"
        "\tliblber-2.5.so.0 => not found\n"
        "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n"
        "/opt/venv/lib/python3.11/site-packages/MySQLdb/_mysql.cpython-311-x86_64-linux-gnu.so:\n"
        "\tlibmariadb.so.3 => /lib/x86_64-linux-gnu/libmariadb.so.3 (0x00007f)\n"
    )
    assert imagechecks.unresolved_links(output) == {
        "lib/python3.11/site-packages/_ldap.cpython-311-x86_64-linux-gnu.so": ["libldap-2.5.so.0", "liblber-2.5.so.0"]
    }
    with pytest.raises(ImageCheckFailed, match=r"_ldap.*needs libldap-2\.5\.so\.0, liblber-2\.5\.so\.0"):
        imagechecks.LINKS.judge("app:prod", output, 0, "10001")
    clean = "/opt/venv/lib/x.so:\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n"
    assert "link their libraries" in imagechecks.LINKS.judge("app:prod", clean, 0, "10001")
    with pytest.raises(ImageCheckFailed, match="_mysql does not import"):
        imagechecks.LINKS.judge("app:prod", "", 3, "10001")


def test_a_plugin_opened_only_for_its_own_method_is_named_not_failed() -> None:
    """esqueleto_web's mysql-connector-python 8.0.33 vendors the MySQL client's FIDO authentication
    plugin, which needs libudev.so.0 (in no Debian release now): the connector opens it only for
    that method. A Python module missing the same library still fails the check."""
    plugin = (
        "/opt/venv/lib/python3.11/site-packages/mysql/vendor/plugin/authentication_fido_client.so:\n"
        "\tlibudev.so.0 => not found\n\tlibfido2.so.1 => /opt/venv/lib/libfido2.so.1 (0x7f)\n"
        "\tlibudev.so.0 => not found\n"
    )
    assert imagechecks.unresolved_links(plugin) == {
        "lib/python3.11/site-packages/mysql/vendor/plugin/authentication_fido_client.so": ["libudev.so.0"]
    }
    line = imagechecks.LINKS.judge("app:prod", plugin, 0, "10001")
    assert line.endswith(
        "(not the plugins loaded only for their own method, which do not here: "
        "authentication_fido_client.so needs libudev.so.0)"
    )
    module = plugin.replace("mysql/vendor/plugin/authentication_fido_client.so", "_hid.cpython-311-x86_64-linux-gnu.so")
    with pytest.raises(ImageCheckFailed, match=r"_hid.*needs libudev\.so\.0"):
        imagechecks.LINKS.judge("app:prod", module, 0, "10001")


def test_the_gpu_drivers_libraries_are_named_not_failed() -> None:
    """vlavanya14/Django-MariaDB-Enhanced-Integration's torch: libcaffe2_nvrtc.so needs libcuda.so.1, the
    GPU driver's, which a GPU host's container runtime mounts and no image holds; the check said to add
    "libcuda1" to apt-build. A module that also misses an image's library still fails, on that one."""
    torch = (
        "/opt/venv/lib/python3.11/site-packages/torch/lib/libcaffe2_nvrtc.so:\n"
        "\tlibcuda.so.1 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\n"
    )
    line = imagechecks.LINKS.judge("app:prod", torch, 0, "10001")
    assert line.endswith(
        "link their libraries (but the GPU driver's, which a GPU host's container runtime gives at run time: "
        "libcaffe2_nvrtc.so needs libcuda.so.1)"
    )
    both = torch.replace("\tlibc.so.6", "\tlibgomp.so.1 => not found\n\tlibc.so.6")
    with pytest.raises(ImageCheckFailed, match=r"libcaffe2_nvrtc\.so needs libgomp\.so\.1: .*likely libgomp1,"):
        imagechecks.LINKS.judge("app:prod", both, 0, "10001")
    assert imagechecks.from_gpu_driver("libnvidia-ml.so.1") and not imagechecks.from_gpu_driver("libcudart.so.12")


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libodbc.so.2", "libodbc2"),  # MahshadAzizi/BBIB's pyodbc (mssql-django)
        ("libpango-1.0.so.0", "libpango-1.0-0"),
        ("libldap-2.5.so.0", "libldap-2.5-0"),
        ("libpq.so.5", "libpq5"),
        ("libmariadb.so.3", "libmariadb3"),
        ("libgdal.so.32", "libgdal32"),
        ("ld-linux-x86-64.so.2", "ld-linux-x86-64.so.2"),  # not a lib*.so.N name: said as it is
    ],
)
def test_a_missing_library_is_named_by_its_likely_debian_package(soname: str, package: str) -> None:
    assert imagechecks.debian_package(soname) == package


def test_missing_libraries_are_fixed_in_apt_build_with_the_likely_package() -> None:
    """BBIB's prod image: pyodbc links libodbc.so.2, absent from dev too (stage installs what dev's
    venv links): the fix names apt-build, where dev gets it as well, and the package's likely name."""
    output = (
        "/opt/venv/lib/python3.11/site-packages/pyodbc.cpython-311-x86_64-linux-gnu.so:\n"
        "\tlibodbc.so.2 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n"
    )
    with pytest.raises(ImageCheckFailed) as failed:
        imagechecks.LINKS.judge("bbib:prod", output, 0, "10001")
    assert failed.value.what == (
        "bbib:prod: compiled modules link missing libraries: "
        "lib/python3.11/site-packages/pyodbc.cpython-311-x86_64-linux-gnu.so needs libodbc.so.2"
    )
    assert failed.value.fix.startswith("add the Debian packages that hold them to apt-build in [tool.dockstage]")
    assert "(likely libodbc2, by Debian's soname rule)" in failed.value.fix


def test_every_module_the_images_import_by_name_is_staged() -> None:
    """The images put pythonpath/ on PYTHONPATH and import its modules by name; the build context gets
    only SUPPORT_FILES: dockstage_errorlog.py, left off that list, stopped every prod worker at boot
    ("No module named 'dockstage_errorlog'") in a real project's smoke stack."""
    from dockstage.core import resources

    pythonpath = resources.path(resources.SUPPORT) / "pythonpath"
    modules = sorted(f"pythonpath/{p.name}" for p in pythonpath.glob("*.py"))
    assert modules and set(modules) <= set(buildfiles.SUPPORT_FILES)
