"""The one place the core prints: status lines, results and tables, through rich."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Table

_console = Console(stderr=False, highlight=False, soft_wrap=True)
_quiet = False
_shown: set[str] = set()


def set_quiet(quiet: bool) -> None:
    """Silence step and info lines (results, warnings and failures still print)."""
    global _quiet
    _quiet = quiet


def is_ci() -> bool:
    """True in CI or when stdout is not a terminal: plain output, no animation."""
    return bool(os.environ.get("CI")) or not sys.stdout.isatty()


def step(text: str) -> None:
    """A step starts."""
    if not _quiet:
        _console.print(f"[bold cyan]==>[/] {text}")


def info(text: str) -> None:
    """A detail of the current step."""
    if not _quiet:
        _console.print(f"    {text}", markup=False)


def info_once(text: str) -> None:
    """An info line shown once per process (e.g. which base images are used)."""
    if text not in _shown:
        _shown.add(text)
        info(text)


def ok(text: str) -> None:
    """A check passed or a step finished."""
    _console.print(f"[green]ok[/]   {text}")


def warn(text: str) -> None:
    """Something the user should know, not fatal."""
    _console.print(f"[yellow]warn[/] {text}")


def fail(text: str) -> None:
    """A check failed."""
    _console.print(f"[red]FAIL[/] {text}")


def raw(text: str) -> None:
    """Output of a tool (pytest, logs), printed as is."""
    _console.print(text, markup=False, highlight=False, end="" if text.endswith("\n") else "\n")


def stream(chunks: object) -> None:
    """Print a python-on-whales output stream ((source, bytes) pairs) as it arrives."""
    assert isinstance(chunks, Iterable), "expected a stream of (source, bytes)"
    for _, chunk in chunks:
        raw(chunk.decode("utf-8", "replace"))


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A summary table."""
    t = Table(title=title, title_justify="left")
    for column in columns:
        t.add_column(column)
    for row in rows:
        t.add_row(*(str(cell) for cell in row))
    _console.print(t)
