"""First-run .env creation: fresh secrets, comments kept, never overwritten, bad values refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockstage.core import config
from dockstage.core.errors import ConfigError
from dockstage.core.report import Reporter
from dockstage.stack import envfile

ROOT = Path(__file__).resolve().parents[2]


def test_render_fills_every_empty_secret_with_a_fresh_value() -> None:
    example = (ROOT / ".env.example").read_text()
    keys = envfile.secret_keys(config.load(ROOT, environ={}).app)
    assert keys == ("DJANGO_SECRET_KEY", "MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD", "API_TOKEN")
    first = config.parse_env_file(envfile.render_from_example(example, keys))
    second = config.parse_env_file(envfile.render_from_example(example, keys))
    for key in keys:
        assert len(first[key]) >= 24, key
        assert first[key] != second[key], key
    assert len(first["DJANGO_SECRET_KEY"]) >= 50
    assert "# Signing key" in envfile.render_from_example(example)


def test_ensure_creates_once_and_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text("DJANGO_SECRET_KEY=\nAPI_TOKEN=\nKEEP=me\n")
    (tmp_path / "pyproject.toml").write_text('[tool.dockstage]\nsecrets = ["API_TOKEN"]\n')  # the app's own secret
    settings = envfile.ensure(config.load(tmp_path, environ={}), Reporter(quiet=True))
    path = settings.path(settings.env_file)
    created = path.read_text()
    assert settings.value("KEEP") == "me" and len(settings.value("API_TOKEN")) >= 24  # the run sees the new file
    assert "KEEP=me" in created
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    path.write_text(created + "MINE=1\n")
    envfile.ensure(settings, Reporter(quiet=True))
    assert path.read_text() == created + "MINE=1\n"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"DOCKSTAGE_WEB_PORT": "80a"}, "DOCKSTAGE_WEB_PORT='80a' in .env is not a number"),
        ({"GUNICORN_WORKERS": "many"}, "GUNICORN_WORKERS='many' in .env is not a number"),
        ({"MYSQL_PASSWORD": ""}, "MYSQL_PASSWORD is empty in .env"),
    ],
    ids=["port", "workers", "empty-secret"],
)
def test_validate(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        envfile.validate(values)
