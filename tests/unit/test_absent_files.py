"""A file the app looked for in the image and the checkout lacks: named, with its template."""

from __future__ import annotations

from pathlib import Path

from dockstage.core.absentfiles import absent_file_fix, templates_of

JIRA_LOG = (
    "migrate-1  | config read failed: [Errno 2] No such file or directory: '/app/config/config.yaml'\n"
    "migrate-1  |     email_config = GetYamlConfig().get_config('Tool')['Email']\n"
    "migrate-1  | TypeError: 'NoneType' object is not subscriptable\n"
)


def test_a_file_the_checkout_lacks_is_named_with_the_template_beside_it(tmp_path: Path) -> None:
    """yakir3/jiracdflow: config/config.yaml is git-ignored, config/config.yaml.default is its template."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config/config.yaml.default").write_text("Tool:\n  Email: {}\n")
    (tmp_path / "config/celery.conf").write_text("")
    assert templates_of(tmp_path / "config/config.yaml") == ["config.yaml.default"]
    assert absent_file_fix(JIRA_LOG, tmp_path) == (
        "the app looked for config/config.yaml, which the checkout and so the images lack; the project keeps "
        "config.yaml.default beside it, made into it where it deploys: read what it holds from the environment "
        "(.env gives it to every stack), or have a build command make it (build-commands in [tool.dockstage]) "
        "when it holds no secret"
    )
    (tmp_path / "config/config.example.yaml").write_text("")
    assert templates_of(tmp_path / "config/config.yaml") == ["config.example.yaml", "config.yaml.default"]


def test_a_file_that_is_there_or_outside_the_app_says_nothing(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config/config.yaml").write_text("Tool: {}\n")
    assert absent_file_fix(JIRA_LOG, tmp_path) == ""  # there: the cause is another
    assert absent_file_fix("No such file or directory: '/etc/app.conf'\n", tmp_path) == ""
    assert absent_file_fix("TypeError: 'NoneType' object is not subscriptable\n", tmp_path) == ""
    lacking = absent_file_fix("FileNotFoundError: [Errno 2] No such file or directory: '/app/keys/jwt.pem'", tmp_path)
    assert lacking.startswith("the app looked for keys/jwt.pem, which the checkout and so the images lack: read")
