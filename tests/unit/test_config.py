"""Settings: layering of pyproject, .env and the environment, and the messages for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockstage.core import config
from dockstage.core.errors import ConfigError


def project(tmp_path: Path, pyproject: str = "", env: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    if env:
        (tmp_path / ".env").write_text(env)
    return tmp_path


def test_defaults(tmp_path: Path) -> None:
    s = config.load(project(tmp_path), environ={})
    assert (s.image, s.project, s.flavour, s.web_port) == ("project-playground", "dockstage", "auto", 8000)
    assert s.tag("prod") == "project-playground:prod"


def test_layering_shell_beats_env_file_beats_pyproject(tmp_path: Path) -> None:
    root = project(
        tmp_path, '[tool.dockstage]\nweb-port = 9000\nimage = "from-pyproject"\n', "DOCKSTAGE_WEB_PORT=9100\n"
    )
    assert config.load(root, environ={}).web_port == 9100
    assert config.load(root, environ={}).image == "from-pyproject"
    assert config.load(root, environ={"DOCKSTAGE_WEB_PORT": "18080"}).web_port == 18080
    assert config.load(root, environ={"DOCKSTAGE_WEB_PORT": "18080"}, web_port=0).web_port == 0


def test_state_dir_from_the_environment_beats_pyproject(tmp_path: Path) -> None:
    root = project(tmp_path, '[tool.dockstage]\nstate-dir = ".state"\n')
    assert config.load(root, environ={}).state_dir == ".state"
    moved = config.load(root, environ={"DOCKSTAGE_STATE_DIR": ".dockstage/ci-1"})
    assert moved.path(moved.state_dir) == tmp_path / ".dockstage" / "ci-1"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"DOCKSTAGE_WEB_PORT": "abc"}, "DOCKSTAGE_WEB_PORT is 'abc', not a number"),
        ({"DOCKSTAGE_WEB_PORT": "70000"}, "web port 70000 is out of range"),
        ({"DOCKSTAGE_FLAVOUR": "alpine"}, "unknown base flavour 'alpine'"),
        ({"DOCKSTAGE_PROJECT": "Bad Name"}, "compose project name 'Bad Name' is not valid"),
        ({"DOCKSTAGE_IMAGE": "UPPER"}, "image name 'UPPER' is not a valid repository name"),
    ],
    ids=["port-not-number", "port-range", "flavour", "project-name", "image-name"],
)
def test_bad_values_say_what_and_how(tmp_path: Path, environ: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.load(project(tmp_path), environ=environ)
    assert str(caught.value).startswith(expected)
    assert caught.value.fix


def test_bad_value_in_env_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"DOCKSTAGE_WEB_PORT in \.env is 'eighty'"):
        config.load(project(tmp_path, env="DOCKSTAGE_WEB_PORT=eighty\n"), environ={})


def test_unknown_pyproject_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        config.load(project(tmp_path, "[tool.dockstage]\ncolour = 'blue'\n"), environ={})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A=1\n# comment\n\nB = two \n", {"A": "1", "B": "two"}),
        ("export A='quoted # kept'\n", {"A": "quoted # kept"}),
        ('A="x y"\nB=v # trailing comment\n', {"A": "x y", "B": "v"}),
        ("EMPTY=\n", {"EMPTY": ""}),
    ],
    ids=["plain", "export-quoted", "double-quoted-and-comment", "empty"],
)
def test_parse_env_file(text: str, expected: dict[str, str]) -> None:
    assert config.parse_env_file(text) == expected


@pytest.mark.parametrize("line", ["JUSTAWORD", "1BAD=x", "A B=c"], ids=["no-equals", "digit-first", "space-in-key"])
def test_parse_env_file_rejects_malformed_lines(line: str) -> None:
    with pytest.raises(ConfigError, match="line 2 is not KEY=VALUE"):
        config.parse_env_file(f"OK=1\n{line}\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('A="x" # why\n', {"A": "x"}),
        ("A='it''\n", None),
        ('A="one\ntwo"\nB=3\n', {"A": "one\ntwo", "B": "3"}),
        ('A="tab\\there \\"q\\" \\$HOME \\\\ \\w"\n', {"A": 'tab\there "q" $HOME \\ \\w'}),
        ("A='no $escape \\n'\n", {"A": "no $escape \\n"}),
    ],
    ids=["comment-after-quote", "text-after-quote", "multi-line", "double-escapes", "single-literal"],
)
def test_parse_env_file_quotes(text: str, expected: dict[str, str] | None) -> None:
    if expected is None:
        with pytest.raises(ConfigError, match=r"line 1 \(A\) has text after its closing quote"):
            config.parse_env_file(text)
    else:
        assert config.parse_env_file(text) == expected


SECRET = "s3cr3t-token-value-never-printed"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f'OK=1\nAPI_TOKEN="{SECRET}\nOTHER=2\n', r"line 2 \(API_TOKEN\) opens a double quote that is never closed"),
        (f"OK=1\nAPI_TOKEN='{SECRET}\n", r"line 2 \(API_TOKEN\) opens a single quote that is never closed"),
        (f'API_TOKEN="{SECRET}\\"\n', r"line 1 \(API_TOKEN\) opens a double quote"),
        (f'API_TOKEN="{SECRET}\nB="x"\n', r"line 1 \(API_TOKEN\) has text after its closing quote"),
        (f"{SECRET}\n", r"line 1 is not KEY=VALUE \(it has no '='\)"),
        (f"-{SECRET}=1\n", r"line 1 is not KEY=VALUE \(it does not start with a variable name\)"),
    ],
    ids=["unterminated-double", "unterminated-single", "escaped-last-quote", "closed-later", "no-equals", "bad-key"],
)
def test_env_file_errors_name_line_and_key_never_the_value(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        config.parse_env_file(text)
    assert SECRET not in caught.value.one_line()
    assert caught.value.return_code == 2


def test_env_file_with_bytes_that_are_not_utf8_names_line_and_key(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_bytes(b"OK=1\nexport API_TOKEN=caf\xe9-" + SECRET.encode() + b"\n")
    with pytest.raises(ConfigError, match=r"\.env line 2 \(API_TOKEN\) holds bytes that are not UTF-8") as caught:
        config.read_env_file(env)
    assert SECRET not in caught.value.one_line()
