"""files.one_at_a_time: the lock two commands building the stand-ins at once take in turn."""

from __future__ import annotations

import threading
from pathlib import Path

from dockstage.core import files


def test_the_second_holder_waits_for_the_first(tmp_path: Path) -> None:
    lock, order, waited = tmp_path / "bases.lock", [], threading.Event()
    first_in, release = threading.Event(), threading.Event()

    def first() -> None:
        with files.one_at_a_time(lock):
            order.append("first in")
            first_in.set()
            release.wait(5)
            order.append("first out")

    def second() -> None:
        with files.one_at_a_time(lock, waited.set):
            order.append("second in")

    one = threading.Thread(target=first)
    one.start()
    assert first_in.wait(5)
    two = threading.Thread(target=second)
    two.start()
    assert waited.wait(5)  # told it waits, and still outside
    assert order == ["first in"]
    release.set()
    one.join(5)
    two.join(5)
    assert order == ["first in", "first out", "second in"]


def test_an_unheld_lock_is_taken_without_waiting(tmp_path: Path) -> None:
    told: list[str] = []
    with files.one_at_a_time(tmp_path / "deeper" / "x.lock", lambda: told.append("waited")):
        pass
    with files.one_at_a_time(tmp_path / "deeper" / "x.lock", lambda: told.append("waited")):
        pass
    assert told == []
