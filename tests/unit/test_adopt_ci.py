"""The CI files `dockstage init` writes: which, when (--no-ci, --gitlab, --force), and the GitLab
file's structure. The GitHub workflow's structure and actionlint run in test_workflow.py, with
this repository's own workflow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dockstage.adopt import cli, workflow
from dockstage.core.config import FLAVOUR_CHOICES
from dockstage.images import bases
from tests.unit.test_adopt_inspect import startproject
from tests.unit.test_workflow import is_session, nox_calls, noxfile_sessions

GITLAB_KEYWORDS = {"default", "include", "stages", "variables", "workflow", "image", "services", "cache"}
GITLAB_KEYWORDS |= {"before_script", "after_script"}


@pytest.mark.parametrize(
    ("python", "expected"),
    [
        (">=3.10", ("official", "bookworm", "trixie")),
        (">=3.12", ("official", "trixie")),
        ("~=3.12.0", ("official",)),
        ("3.11", ("official", "bookworm")),
    ],
    ids=["django-5.2", "django-6", "pinned-3.12", "pinned-3.11"],
)
def test_the_matrix_is_official_and_the_stand_ins_whose_python_fits(python: str, expected: tuple[str, ...]) -> None:
    assert bases.flavours_for(python) == expected
    assert workflow.Matrix.of(python).flavours == expected


def test_init_writes_the_github_workflow_by_default(tmp_path: Path) -> None:
    root = startproject(tmp_path / "mysite", "", {"requirements.txt": "Django>=6.0,<6.1\n"})
    found, said = cli.init(root)
    path = root / workflow.GITHUB
    assert path.read_text(encoding="utf-8") == workflow.github(found.python)
    assert f"wrote  {workflow.GITHUB} (nox sessions on official, trixie; --no-ci skips it)" in said
    assert not (root / workflow.GITLAB).exists()  # only on request
    jobs = yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"]
    assert jobs["dockstage"]["strategy"]["matrix"]["flavour"] == ["official", "trixie"]
    assert jobs["bases"]["strategy"]["matrix"]["flavour"] == ["trixie"]
    assert f"{workflow.package()}" == yaml.safe_load(path.read_text(encoding="utf-8"))["env"]["DOCKSTAGE_PACKAGE"]
    assert "No provisioning: the hosted runner's own Docker engine" in path.read_text(encoding="utf-8")


def test_no_ci_writes_no_workflow(tmp_path: Path) -> None:
    root = startproject(tmp_path / "mysite")
    _, said = cli.init(root, ci=False)
    assert not (root / ".github").exists()
    assert not any(workflow.GITHUB in line for line in said)


def test_the_projects_own_ci_files_are_kept_without_force(tmp_path: Path) -> None:
    root = startproject(tmp_path / "mysite")
    (root / ".github/workflows").mkdir(parents=True)
    (root / workflow.GITHUB).write_text("name: theirs\n")
    (root / workflow.GITLAB).write_text("theirs:\n  script: [make]\n")
    _, said = cli.init(root, gitlab=True)
    assert (root / workflow.GITHUB).read_text() == "name: theirs\n"
    assert (root / workflow.GITLAB).read_text() == "theirs:\n  script: [make]\n"
    assert f"kept   {workflow.GITHUB} (exists; --force replaces it)" in said
    assert f"kept   {workflow.GITLAB} (exists; --force replaces it)" in said
    cli.init(root, gitlab=True, force=True)
    assert (root / workflow.GITHUB).read_text().startswith(cli.MARK)
    assert (root / workflow.GITLAB).read_text().startswith(cli.MARK)


def test_a_noxfile_and_tasks_of_the_projects_own_stay_and_the_suites_go_beside_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Held-out shape: a project with its own noxfile.py (and tasks.py). init used to ask for an edit
    of it; now the suite's sessions go in noxfile.dockstage.py, which the CI and the next line name."""
    root = startproject(tmp_path / "mysite")
    (root / "noxfile.py").write_text("import nox\n")
    (root / "tasks.py").write_text("from invoke import task\n")
    assert cli.main(["init", str(root), "--no-probe", "--gitlab"]) == 0
    out = capsys.readouterr().out
    assert (root / "noxfile.py").read_text() == "import nox\n"
    assert (root / "tasks.py").read_text() == "from invoke import task\n"
    assert "noxsessions.register(ROOT)" in (root / "noxfile.dockstage.py").read_text()
    assert "invoketasks.collection" in (root / "tasks_dockstage.py").read_text()
    for ci in (workflow.GITHUB, workflow.GITLAB):
        text = (root / ci).read_text()
        assert "nox -f noxfile.dockstage.py -s pipeline" in text or "nox -f noxfile.dockstage.py -s test_image" in text
        assert "nox -s " not in text.replace("nox -f noxfile.dockstage.py -s ", "")
    assert "noxfile.py is the project's own and stays as it is: the suite's are in noxfile.dockstage.py" in out
    assert "next   `nox -f noxfile.dockstage.py -s pipeline` (builds, tests, smoke-tests); " in out
    assert "`invoke -c tasks_dockstage up` for the stack" in out
    assert cli.main(["init", str(root), "--no-probe", "--force"]) == 0  # --force never takes the project's
    assert (root / "noxfile.py").read_text() == "import nox\n"


def test_the_command_line_takes_no_ci_and_gitlab(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = startproject(tmp_path / "mysite")
    assert cli.main(["init", str(root), "--no-probe", "--no-ci", "--gitlab"]) == 0
    out = capsys.readouterr().out
    assert f"wrote  {workflow.GITLAB} (nox sessions on official, bookworm, trixie;" in out
    assert not (root / workflow.GITHUB).exists() and (root / workflow.GITLAB).is_file()


def gitlab_jobs(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The jobs of a .gitlab-ci.yml: its top-level keys that are neither keywords nor hidden (.x)."""
    return {k: v for k, v in document.items() if k not in GITLAB_KEYWORDS and not k.startswith(".")}


@pytest.mark.parametrize(
    ("files", "flavours"),
    [
        ({}, ["official", "bookworm", "trixie"]),
        ({"requirements.txt": "Django>=6.0,<6.1\n"}, ["official", "trixie"]),
    ],
    ids=["default", "trixie"],
)
def test_the_gitlab_file_runs_the_sessions_of_the_projects_noxfile(
    tmp_path: Path, files: dict[str, str], flavours: list[str]
) -> None:
    root = startproject(tmp_path / "my_site", "", files)
    cli.init(root, gitlab=True)
    document = yaml.safe_load((root / workflow.GITLAB).read_text(encoding="utf-8"))
    sessions, defaults = noxfile_sessions(text=(root / "noxfile.py").read_text(encoding="utf-8"))
    jobs = gitlab_jobs(document)
    assert jobs, document
    ran: set[str] = set()
    for name, job in jobs.items():
        assert job["stage"] in document["stages"], name
        assert job.get("tags"), f"{name}: a runner sharing the engine's loopback is chosen by tag"
        (axes,) = job["parallel"]["matrix"]
        assert axes["DOCKSTAGE_FLAVOUR"] == flavours
        assert set(axes["DOCKSTAGE_FLAVOUR"]) <= set(FLAVOUR_CHOICES)
        commands = [*job.get("before_script", []), *job["script"]]
        calls = [call for line in commands for call in nox_calls(line, defaults)]
        for call in calls:
            assert call.sessions and all(is_session(s, sessions) for s in call.sessions), call.text
        ran |= {s for call in calls for s in call.sessions}
        assert any("pip install" in line and "$DOCKSTAGE_PACKAGE" in line for line in job["before_script"])
        assert job["artifacts"]["when"] == "always"
        assert job["artifacts"]["reports"]["junit"].startswith(workflow.REPORTS)
        # The venv and pip's cache live where the build context leaves them out.
        assert job["cache"]["paths"] == [".dockstage/cache/pip"] and "$CI_PROJECT_DIR/.venv/bin" in commands[2]
    assert ran >= {"doctor", *workflow.SESSIONS}
    variables = document["variables"]
    assert variables["DOCKSTAGE_PACKAGE"] == workflow.package()
    assert variables["PIP_CACHE_DIR"].endswith(jobs["dockstage"]["cache"]["paths"][0])
    # One engine serves every job of a shell runner: names carry the job id, images are removed after.
    assert variables["DOCKSTAGE_IMAGE"] == "my-site-ci-$CI_JOB_ID" and "$CI_JOB_ID" in variables["DOCKSTAGE_PROJECT"]
    assert any(
        "docker image rm" in line and "$DOCKSTAGE_IMAGE:prod" in line for line in jobs["dockstage"]["after_script"]
    )
