"""The image checks' memo: a pass is recalled only for the same image, stage, inputs and code."""

from __future__ import annotations

import json
from pathlib import Path

from dockstage.images import checkmemo


def test_a_pass_is_recalled_for_the_same_image_stage_and_inputs_only(tmp_path: Path) -> None:
    inputs = {"deploy-check": "WARNING", "tmpfs": []}
    kept = checkmemo.key("sha256:aa", "prod", inputs)
    checkmemo.keep(tmp_path, kept, ["runs as user 10001:10001 (uid 10001)"])
    assert checkmemo.recall(tmp_path, kept) == ["runs as user 10001:10001 (uid 10001)"]
    assert checkmemo.recall(tmp_path, checkmemo.key("sha256:bb", "prod", inputs)) is None
    assert checkmemo.recall(tmp_path, checkmemo.key("sha256:aa", "stage", inputs)) is None
    assert checkmemo.recall(tmp_path, checkmemo.key("sha256:aa", "prod", {**inputs, "deploy-check": "ERROR"})) is None


def test_the_newest_passes_are_kept_and_an_unreadable_memo_recalls_nothing(tmp_path: Path) -> None:
    keys = [checkmemo.key(f"sha256:{i}", "prod", {}) for i in range(checkmemo.KEPT + 3)]
    for i, memo_key in enumerate(keys):
        checkmemo.keep(tmp_path, memo_key, [f"line {i}"])
    assert checkmemo.recall(tmp_path, keys[0]) is None
    assert checkmemo.recall(tmp_path, keys[-1]) == [f"line {len(keys) - 1}"]
    assert len(json.loads((tmp_path / checkmemo.MEMO_FILE).read_text(encoding="utf-8"))) == checkmemo.KEPT
    (tmp_path / checkmemo.MEMO_FILE).write_text("{not json", encoding="utf-8")
    assert checkmemo.recall(tmp_path, keys[-1]) is None
    (tmp_path / checkmemo.MEMO_FILE).write_text(json.dumps({keys[-1]: "not a list"}), encoding="utf-8")
    assert checkmemo.recall(tmp_path, keys[-1]) is None


def test_a_memo_that_cannot_be_written_is_not_an_error(tmp_path: Path) -> None:
    blocked = tmp_path / "state"
    blocked.write_text("a file where the state dir would be", encoding="utf-8")
    checkmemo.keep(blocked, checkmemo.key("sha256:aa", "prod", {}), ["x"])
    assert checkmemo.recall(blocked, checkmemo.key("sha256:aa", "prod", {})) is None
