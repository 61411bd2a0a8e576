"""init's npm assets one level down, and a requirements file's own package index."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dockstage.adopt.inspect import build_script, inspect
from dockstage.adopt.requirements import find_requirements
from dockstage.core.errors import StageBuildFailed, build_fix
from dockstage.images.buildfiles import index_lines, is_pypi, requirement_set, without_own_index
from tests.unit.test_adopt_inspect import startproject, tree
from tests.unit.test_build_keys import helper

REQ = {"requirements.txt": "Django>=5.2,<6\n"}


@pytest.mark.parametrize(
    ("scripts", "expected"),
    [
        ({"build": "vite build", "dev": "vite"}, "build"),
        ({"build:prod": "webpack --mode production", "dev": "x"}, "build:prod"),
        ({"watch": "x", "production": "mix --production"}, "production"),
        ({"build:js": "esbuild", "build:css": "tailwind"}, None),
        ({"build:css:sass": "sass main.scss bootstrap-compiled.css", "lint": "x"}, "build:css:sass"),
        ({}, None),
        ("not a mapping", None),
    ],
    ids=["build", "build-prod", "production", "only-parts", "one-part", "none", "malformed"],
)
def test_build_script_by_common_names(scripts: object, expected: str | None) -> None:
    assert build_script(scripts) == expected


def test_a_package_json_one_level_down_gets_a_prefixed_command(tmp_path: Path) -> None:
    root = startproject(
        tmp_path,
        "STATICFILES_DIRS = [BASE_DIR / 'frontend' / 'node_modules']\n",
        {**REQ, "frontend/package.json": '{"scripts": {"build": "vite build"}}'},
    )
    found = inspect(root)
    assert (found.assets_command, found.assets_output) == ("npm --prefix frontend run build", ["frontend/node_modules"])
    assert any("frontend/package.json's build script" in line for line in found.found)


def test_a_package_json_two_levels_down_is_found(tmp_path: Path) -> None:
    """django-tailwind's shape: theme/static_src/package.json builds the theme's CSS."""
    root = startproject(
        tmp_path,
        "",
        {
            **REQ,
            "theme/static_src/package.json": '{"scripts": {"build": "tailwindcss -o ../static/css/dist/styles.css"}}',
            "theme/node_modules/x/package.json": '{"scripts": {"build": "not ours"}}',
        },
    )
    found = inspect(root)
    assert found.assets_command == "npm --prefix theme/static_src run build"


def test_a_root_package_json_without_a_build_script_does_not_hide_one_below(tmp_path: Path) -> None:
    """Held-out django-bmx: a root package.json with dependencies only, django-tailwind's below it."""
    root = startproject(
        tmp_path,
        "",
        {
            **REQ,
            "package.json": '{"dependencies": {"htmx.org": "2.0.0"}}',
            "theme/static_src/package.json": '{"scripts": {"build": "tailwindcss -o ../static/css/dist/styles.css"}}',
        },
    )
    found = inspect(root)
    assert found.assets_command == "npm --prefix theme/static_src run build"
    assert not [note for note in found.notes if "has no build script" in note]


@pytest.mark.parametrize(
    ("line", "build", "runtime"),
    [
        ("psycopg[c]>=3.2", ["libpq-dev"], ["libpq5"]),
        ("psycopg[c,pool]==3.2.3", ["libpq-dev"], ["libpq5"]),
        ("psycopg>=3.2", [], ["libpq5"]),
        ("psycopg[binary]>=3.2", [], []),
        ("psycopg2-binary==2.9.3", ["libpq-dev"], []),
    ],
    ids=["c", "c-and-pool", "plain", "binary", "psycopg2-binary"],
)
def test_psycopg_gets_libpq_unless_binary(tmp_path: Path, line: str, build: list[str], runtime: list[str]) -> None:
    """psycopg2-binary gets the headers all the same: held-out django-easystart pins 2.9.3, which has no
    wheel for Python 3.11, so its sdist builds; the library it then links is learned by the build."""
    root = startproject(tmp_path, "", {"requirements.txt": f"Django>=5.2,<6\n{line}\n"})
    found = inspect(root).requirements
    assert (found.apt_build, found.apt_runtime) == (build, runtime)


def test_node_modules_package_jsons_are_not_the_projects(tmp_path: Path) -> None:
    root = startproject(tmp_path, "", {**REQ, "node_modules/package.json": '{"scripts": {"build": "x"}}'})
    found = inspect(root)
    assert found.assets_command == "" and not any("package.json" in note for note in found.notes)


GULP_PACKAGE = '{"devDependencies": {"gulp": "^5.0.1", "gulp-sass": "^6.0.1"}}'


@pytest.mark.parametrize(
    ("files", "command"),
    [
        (
            {"package.json": GULP_PACKAGE, "gulpfile.js": 'gulp.task("build", gulp.parallel("extras", "styles"));\n'},
            "npx gulp build",
        ),
        (
            {"package.json": GULP_PACKAGE, "gulpfile.mjs": "export async function build() {}\n"},
            "npx gulp build",
        ),
        (
            {"assets/package.json": GULP_PACKAGE, "assets/gulpfile.cjs": "exports.build = series(css, js);\n"},
            "npm exec --prefix assets -- gulp --cwd assets build",
        ),
    ],
    ids=["gulp-task", "exported-function", "one-level-down"],
)
def test_a_gulp_build_task_is_the_build_when_package_json_has_no_script(
    tmp_path: Path, files: dict[str, str], command: str
) -> None:
    """babybuddy's shape: package.json with gulp and no scripts; gulpfile.js defines `build`."""
    found = inspect(startproject(tmp_path, "", {**REQ, **files}))
    assert found.assets_command == command
    assert not [note for note in found.notes if "has no build script" in note]
    assert any("build task runs in the assets stage" in line for line in found.found)


def test_a_gulpfile_without_a_build_task_or_gulp_is_not_guessed(tmp_path: Path) -> None:
    no_task = {"package.json": GULP_PACKAGE, "gulpfile.js": 'gulp.task("styles", styles);\n'}
    no_gulp = {"package.json": '{"devDependencies": {"esbuild": "1"}}', "gulpfile.js": 'gulp.task("build", b);\n'}
    for files in (no_task, no_gulp):
        found = inspect(startproject(tmp_path / str(len(files["package.json"])), "", {**REQ, **files}))
        assert found.assets_command == ""
        assert [note for note in found.notes if "has no build script" in note]


def test_no_build_script_says_which_keys_to_set(tmp_path: Path) -> None:
    """docker-django-example's shape: assets/package.json, dependencies only, built by its own run script."""
    root = startproject(tmp_path, "", {**REQ, "assets/package.json": '{"dependencies": {"esbuild": "0.28.0"}}'})
    found = inspect(root)
    assert found.assets_command == ""
    (note,) = [n for n in found.notes if "package.json" in n]
    assert note.startswith("assets/package.json has no build script: set assets-command")
    assert "assets-output" in note and "[tool.dockstage]" in note


def test_npm_installs_where_package_json_is(tmp_path: Path) -> None:
    assets = helper("assets")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "package.json").write_text("{}")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "package.json").write_text("{}")
    assert assets.package_dir(tmp_path) == tmp_path / "assets"
    (tmp_path / "package.json").write_text("{}")
    assert assets.package_dir(tmp_path) == tmp_path


def test_npm_installs_two_levels_down_or_where_the_command_says(tmp_path: Path) -> None:
    """django-tailwind's theme/static_src/package.json (held-out ticketize: npm looked in /src)."""
    assets = helper("assets")
    (tmp_path / "theme" / "static_src").mkdir(parents=True)
    (tmp_path / "theme" / "static_src" / "package.json").write_text("{}")
    (tmp_path / "theme" / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "theme" / "node_modules" / "x" / "package.json").write_text("{}")
    assert assets.package_dir(tmp_path) == tmp_path / "theme" / "static_src"
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "package.json").write_text("{}")
    assert assets.package_dir(tmp_path) == tmp_path / "web"  # one level down comes first
    command = ["npm", "--prefix", "theme/static_src", "run", "build"]
    assert assets.package_dir(tmp_path, command) == tmp_path / "theme" / "static_src"


@pytest.mark.parametrize(
    ("url", "pypi"),
    [
        ("https://pypi.python.org/simple", True),
        ("https://pypi.org/simple/", True),
        ("http://user:pw@pypi.org:443/simple", True),
        ("https://pypi.org/project/django", False),
        ("https://mirror.example.org/pypi/simple", False),
        ("https://test.pypi.org/simple", False),
    ],
)
def test_is_pypi(url: str, pypi: bool) -> None:
    assert is_pypi(url) is pypi


BABYBUDDY_LIKE = """\
-i https://pypi.python.org/simple
--extra-index-url=https://private.example.org/simple
django==5.2.8 ; python_version >= '3.10'
"""


def test_own_index_lines_are_dropped_when_pypi_or_when_index_url_is_set() -> None:
    assert index_lines(BABYBUDDY_LIKE) == ["https://pypi.python.org/simple", "https://private.example.org/simple"]
    kept = without_own_index(BABYBUDDY_LIKE, index_url=False)
    assert kept.splitlines()[:2] == [
        "# dockstage: -i https://pypi.python.org/simple",
        "--extra-index-url=https://private.example.org/simple",
    ]
    assert index_lines(without_own_index(BABYBUDDY_LIKE, index_url=True)) == []
    assert without_own_index("django\n-r base.txt\n", index_url=True) == "django\n-r base.txt\n"


def test_the_staged_set_carries_the_rewritten_file(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(BABYBUDDY_LIKE)
    files = requirement_set(
        tmp_path, ["requirements.txt"], ["--index-url", "https://org.example/simple"], index_url=True
    )
    assert index_lines(files["requirements.txt"].decode()) == []
    assert files["args"].decode().splitlines() == [
        "-r",
        "requirements.txt",
        "--index-url",
        "https://org.example/simple",
    ]


UV_UNREACHED = """\
#12 3.2 error: Request failed after 3 retries
#12 3.2   Caused by: Failed to fetch: `https://pypi.python.org/simple/django/`
#12 3.2   Caused by: error sending request for url (https://pypi.python.org/simple/django/)
#12 3.2   Caused by: dns error: failed to lookup address information
"""


def test_an_unreachable_index_names_index_url_and_never_credentials() -> None:
    fix = build_fix("install.py\n" + UV_UNREACHED.replace("https://pypi", "https://me:s3cret@pypi"))
    assert fix.startswith("the build could not reach the package index https://pypi.python.org: set index-url")
    assert "s3cret" not in fix
    assert "index-url" not in build_fix("install.py: No solution found when resolving dependencies")


def test_a_package_json_beside_a_src_app_dir_is_named_as_unseen(tmp_path: Path) -> None:
    root = startproject(tmp_path / "src", "", {})
    (tmp_path / "requirements.txt").write_text("Django>=5.2,<6\n")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "package.json").write_text('{"dependencies": {"esbuild": "0.28.0"}}')
    found = inspect(root.parent)
    assert found.app_dir == "src" and found.assets_command == ""
    (note,) = [n for n in found.notes if "package.json" in n]
    assert note.startswith("assets/package.json is outside the app dir (src): the assets stage")


def test_init_says_what_the_build_does_with_a_files_own_index(tmp_path: Path) -> None:
    root = startproject(
        tmp_path, "", {"requirements.txt": BABYBUDDY_LIKE.replace("https://private", "https://u:p@private")}
    )
    notes = [n for n in inspect(root).notes if "names the index" in n]
    assert notes == [
        "a requirements file names the index https://pypi.python.org/simple: that is PyPI, the build's default "
        "index, so the line is skipped; set index-url in [tool.dockstage] for another (your organisation's index "
        "wins over the files' own)",
        "a requirements file names the index https://private.example.org/simple: the build uses it; set index-url "
        "in [tool.dockstage] to use your own instead (it then wins)",
    ]


@pytest.mark.parametrize(
    ("line", "git"),
    [
        ("django-cdt-identity @ git+https://github.com/example/identity.git@c635773\n", True),
        ("-e git+ssh://git@example.com/repo.git#egg=repo\n", True),
        ("gitpython==3.1\n", False),
    ],
    ids=["pep508-url", "editable-vcs", "a-package-named-git"],
)
def test_a_requirement_from_git_puts_git_in_apt_build(tmp_path: Path, line: str, git: bool) -> None:
    (tmp_path / "requirements.txt").write_text("Django>=5.2\n" + line)
    found = find_requirements(tmp_path, tmp_path, {}, "")
    assert ("git" in found.apt_build) is git


@pytest.mark.parametrize(
    ("files", "runtime"),
    [
        (
            {"requirements.txt": "django==5.2.*\npyyaml\n", "requirements_prod.txt": "mysqlclient~=2.2\n"},
            ["src/requirements_prod.txt", "src/requirements.txt"],
        ),
        (
            {"requirements.txt": "django==5.2.*\n", "requirements_prod.txt": "-r requirements.txt\ngunicorn\n"},
            ["src/requirements_prod.txt"],
        ),
        ({"requirements.txt": "Django>=5.2\n", "requirements_dev.txt": "pylint\n"}, ["src/requirements.txt"]),
        ({"requirements_prod.txt": "mysqlclient\n"}, ["src/requirements_prod.txt"]),
    ],
    ids=["prod-add-on", "prod-includes-base", "base-only", "no-django-anywhere"],
)
def test_a_prod_file_without_django_is_an_add_on_to_the_base_file(
    tmp_path: Path, files: dict[str, str], runtime: list[str]
) -> None:
    (tmp_path / "src").mkdir()
    for name, text in files.items():
        (tmp_path / "src" / name).write_text(text)
    found = find_requirements(tmp_path, tmp_path / "src", {}, "")
    assert found.runtime == runtime
    assert found.django.startswith("Django") == any("django" in t.lower() for t in files.values())


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"], ids=["powershell-utf16", "utf8-bom"])
def test_a_requirements_file_with_a_byte_order_mark_is_read_and_staged_as_utf8(tmp_path: Path, encoding: str) -> None:
    """Held-out Python-OC-Lettings-FR: `pip freeze > requirements.txt` in PowerShell wrote UTF-16."""
    (tmp_path / "requirements.txt").write_bytes("Django==4.2.5\r\ngunicorn==21.2.0\r\n".encode(encoding))
    found = find_requirements(tmp_path, tmp_path, {}, "")
    assert found.runtime == ["requirements.txt"]
    assert found.django == "Django==4.2.5"
    staged = requirement_set(tmp_path, found.runtime)
    assert staged["requirements.txt"].decode("utf-8").splitlines() == ["Django==4.2.5", "gunicorn==21.2.0"]


def test_requirements_in_a_folder_per_environment_are_found_by_the_folder_name(tmp_path: Path) -> None:
    # A layout seen in the wild (Envs/<Env>/requirements.txt, each including a shared file one up).
    files = {
        "Envs/default_requirements.txt": "Django==4.1.2\npymysql==1.0.2\n",
        "Envs/Production/requirements.txt": "-r ../default_requirements.txt\n",
        "Envs/Staging/requirements.txt": "-r ../default_requirements.txt\n",
        "Envs/Local/requirements.txt": "-r ../default_requirements.txt\npytest-django==4.5.2\n",
        "Envs/CI/requirements.txt": "-r ../Local/requirements.txt\n",
        "node_modules/x/requirements.txt": "nothing==1\n",
        ".venv/lib/requirements.txt": "nothing==1\n",
    }
    found = find_requirements(tree(tmp_path, files), tmp_path, {}, "")
    assert found.runtime == ["Envs/Production/requirements.txt"]
    assert found.dev == ["Envs/Local/requirements.txt"]
    assert found.test == ["Envs/CI/requirements.txt"]
    assert found.django == "Django==4.1.2" and found.mentions("pymysql")
    assert not any("no requirements file found" in note for note in found.notes)


def test_a_plain_requirements_file_in_the_package_folder_is_the_runtime_set(tmp_path: Path) -> None:
    """encouragemint keeps backend/requirements.txt beside its settings package (its Dockerfile and
    CI install it from there); docs/requirements.txt is Sphinx's, build/ holds the CI tools."""
    files = {
        "backend/requirements.txt": "Django==2.2.7\ndjangorestframework==3.10.3\n",
        "docs/requirements.txt": "sphinx==7.0\n",
        "build/requirements.txt": "coverage==4.5.4\n",
        "tools/requirements.txt": "black==24.1\n",
    }
    found = find_requirements(tree(tmp_path, files), tmp_path, {}, "")
    assert found.runtime == ["backend/requirements.txt"]
    assert found.django == "Django==2.2.7" and not found.mentions("sphinx")
    assert not any("no requirements file found" in note for note in found.notes)


def test_requirements_at_the_usual_places_win_over_nested_ones(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("Django>=5.2\n")
    (tmp_path / "deploy" / "production").mkdir(parents=True)
    (tmp_path / "deploy" / "production" / "requirements.txt").write_text("Django==4.2\n")
    assert find_requirements(tmp_path, tmp_path, {}, "").runtime == ["requirements.txt"]


def test_a_script_running_a_tool_nothing_installed_names_the_tool(tmp_path: Path) -> None:
    """wger's build:css:sass runs `sass`, installed globally on its authors' machines only."""
    assets = helper("assets")
    code, missing, _ = assets.run_shown(
        ["sh", "-c", "no-such-tool-xyz main.scss out.css"], tmp_path, {"PATH": "/usr/bin:/bin"}
    )
    assert (code, missing) == (127, "no-such-tool-xyz")
    error = StageBuildFailed("stage", 1, "#27 " + assets.failure_line("npm run build:css:sass", code, missing) + "\n")
    assert "it runs no-such-tool-xyz, which package.json does not install" in error.what
    assert error.fix.startswith("add no-such-tool-xyz's package to devDependencies")


def test_webpack_4_on_openssl_3_is_built_again_with_the_legacy_provider(tmp_path: Path) -> None:
    """encouragemint's react-scripts 3 build died on bookworm's Node 18 (ERR_OSSL_EVP_UNSUPPORTED)."""
    assets = helper("assets")
    script = 'case "$NODE_OPTIONS" in *--openssl-legacy-provider*) echo built; exit 0;; esac; '
    script += "echo \"code: 'ERR_OSSL_EVP_UNSUPPORTED'\"; exit 1"
    env = {"PATH": "/usr/bin:/bin", "NODE_OPTIONS": "--max-old-space-size=2048"}
    assert assets.run_step(["sh", "-c", script], tmp_path, env) == (0, "", "built\n")
    other = "echo \"code: 'ERR_OSSL_EVP_UNSUPPORTED'\"; exit 1"  # still refused: said as it failed
    code, _, output = assets.run_step(["sh", "-c", other], tmp_path, env)
    assert code == 1 and "ERR_OSSL_EVP_UNSUPPORTED" in output
    assert assets.run_step(["sh", "-c", "echo no; exit 2"], tmp_path, env) == (2, "", "no\n")


def test_a_failing_script_without_a_missing_tool_points_at_its_output(tmp_path: Path) -> None:
    assets = helper("assets")
    code, missing, output = assets.run_shown(["sh", "-c", "echo building; exit 2"], tmp_path, {"PATH": "/usr/bin:/bin"})
    assert (code, missing, output) == (2, "", "building\n")
    error = StageBuildFailed("stage", 1, assets.failure_line("npm run build", code, missing) + "\n")
    assert "`npm run build` failed (exit 2) in the assets stage" in error.what
    assert "package.json's script" in error.fix


TAILWIND_4_ON_NODE_18 = """\
Error: Cannot find native binding. npm has a bug related to optional dependencies (https://github.com/npm/cli/issues/4828).
  cause: Error: Cannot find module '@tailwindcss/oxide-linux-x64-gnu'
    cause: Error: Cannot find module './tailwindcss-oxide.linux-x64-gnu.node'
"""


def test_tailwind_4_under_an_older_node_says_which_node_it_needs(tmp_path: Path) -> None:
    """bomino/geoconsulting builds its CSS with Tailwind 4: on bookworm's Node 18 its native binding
    did not load (the trixie flavour's Node 20 built it)."""
    assets = helper("assets")
    script = f"import sys; sys.stdout.write({TAILWIND_4_ON_NODE_18!r}); sys.exit(1)"
    code, missing, output = assets.run_shown([sys.executable, "-c", script], tmp_path, {"PATH": "/usr/bin:/bin"})
    old_node = assets.old_node_for_tailwind(output, "v18.20.4")
    assert old_node == (
        "Tailwind CSS 4's native binding did not load, and Tailwind 4 needs Node.js 20 or newer: this assets "
        "stage has Node v18.20.4"
    )
    error = StageBuildFailed("stage", 1, assets.failure_line("npm run build:css", code, missing, old_node) + "\n")
    assert "Tailwind 4 needs Node.js 20 or newer" in error.what
    assert error.fix.startswith('set flavour = "trixie" in [tool.dockstage]')
    assert assets.old_node_for_tailwind(output, "v20.19.2") == ""  # a new enough Node: another cause
    assert assets.old_node_for_tailwind("Error: something else", "v18.20.4") == ""


def test_requirements_spelled_otherwise_are_found(tmp_path: Path) -> None:
    """PabloColetti/esqueleto_web lists its pins in requeriments.txt; others write requirement.txt."""
    found = find_requirements(
        tree(tmp_path, {"requeriments.txt": "Django==4.2.2\nmysqlclient==2.2.0\n"}), tmp_path, {}, ""
    )
    assert found.runtime == ["requeriments.txt"] and found.django == "Django==4.2.2"
    single = tmp_path / "single"
    found = find_requirements(
        tree(single, {"requirement.txt": "Django==5.2\n", "requirement-dev.txt": "pytest\n"}), single, {}, ""
    )
    assert (found.runtime, found.dev) == (["requirement.txt"], ["requirement-dev.txt"])


def test_requirements_in_a_build_folder_of_deployment_files_are_found(tmp_path: Path) -> None:
    """nekrassov01/docker-django-blog: django/manage.py, and build/django/ holds its Dockerfile and
    requirements.txt; build/ was passed over as setuptools output, and init made its own set."""
    files = {
        "django/manage.py": "",
        "build/django/Dockerfile": "FROM python:3.9\n",
        "build/django/requirements.txt": "Django==3.2.9\ndjango-environ\ndjango-summernote\n",
        "build/nginx/Dockerfile": "FROM nginx\n",
    }
    found = find_requirements(tree(tmp_path, files), tmp_path / "django", {}, "")
    assert found.runtime == ["build/django/requirements.txt"] and found.mentions("django-summernote")
    output = {"build/lib/pkg/requirements.txt": "Django==1.0\n", "app/manage.py": ""}
    assert find_requirements(tree(tmp_path / "other", output), tmp_path / "other" / "app", {}, "").made
