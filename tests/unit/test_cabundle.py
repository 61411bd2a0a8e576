"""Finding the host's CA bundle: environment first, then pip's configuration."""

from __future__ import annotations

from pathlib import Path

from dockstage.core import cabundle


def test_env_var_wins(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert cabundle.find({"PIP_CERT": str(bundle), "HOME": str(tmp_path)}) == bundle


def test_pip_config_cert(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\ncert = {bundle}\n")
    environ = {"HOME": str(tmp_path / "home"), "XDG_CONFIG_DIRS": str(tmp_path / "none"), "PIP_CONFIG_FILE": str(conf)}
    assert cabundle.find(environ) == bundle


def test_missing_files_are_ignored(tmp_path: Path) -> None:
    environ = {"PIP_CERT": str(tmp_path / "absent.pem"), "PIP_CONFIG_FILE": "/dev/null"}
    assert cabundle.find(environ) is None
