"""The one place the core prints: status lines, results and tables, through rich.

A Reporter is made once per command (by the run) and passed to what prints; nothing here is
module state.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

log = logging.getLogger("dockstage")
"""Debug lines (DOCKSTAGE_DEBUG=1): docker clients, preflights, builds, docker command lines."""


class Reporter:
    """Prints for one command; `quiet` silences step and info lines, never results or failures."""

    def __init__(self, *, quiet: bool = False, ci: bool = False, buffer: io.StringIO | None = None) -> None:
        self.quiet = quiet
        self.plain = ci or not sys.stdout.isatty()  # CI or a pipe: plain output, no animation
        self._buffer = buffer
        width = None if sys.stdout.isatty() else 200  # a pipe or CI log: tables are not cut at 80 columns
        self._console = (
            Console(highlight=False, soft_wrap=True, width=width)
            if buffer is None
            else Console(file=buffer, highlight=False, soft_wrap=True, force_terminal=not self.plain)
        )

    def buffered(self, *, plain: bool = False) -> Reporter:
        """A reporter of the same kind that keeps its lines until `flush_into` (for steps run side by
        side); `plain`: no live display either (BuildKit's draws on the terminal itself)."""
        return Reporter(quiet=self.quiet, ci=self.plain or plain, buffer=io.StringIO())

    def flush_into(self, other: Reporter) -> None:
        """Print what this buffered reporter kept through `other`."""
        if self._buffer is not None and self._buffer.getvalue():
            other._console.file.write(self._buffer.getvalue())
            other._console.file.flush()
            self._buffer.seek(0)
            self._buffer.truncate()

    def step(self, text: str) -> None:
        """A step starts."""
        if not self.quiet:
            self._console.print(f"[bold cyan]==>[/] {escape(text)}")

    def info(self, text: str) -> None:
        """A detail of the current step."""
        if not self.quiet:
            self._console.print(f"    {text}", markup=False)

    def ok(self, text: str) -> None:
        """A check passed or a step finished."""
        self._console.print(f"[green]ok[/]   {escape(text)}")

    def warn(self, text: str) -> None:
        """Something the user should know, not fatal."""
        self._console.print(f"[yellow]warn[/] {escape(text)}")

    def fail(self, text: str) -> None:
        """A check failed."""
        self._console.print(f"[red]FAIL[/] {escape(text)}")

    def raw(self, text: str) -> None:
        """Output of a tool (pytest, logs), printed as is."""
        self._console.print(text, markup=False, highlight=False, end="" if text.endswith("\n") else "\n")

    def stream(self, chunks: object) -> None:
        """Print a python-on-whales output stream ((source, bytes) pairs) as it arrives."""
        assert isinstance(chunks, Iterable), "expected a stream of (source, bytes)"
        for _, chunk in chunks:
            self.raw(chunk.decode("utf-8", "replace"))

    def table(self, title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        """A summary table."""
        t = Table(title=title, title_justify="left")
        for column in columns:
            t.add_column(column)
        for row in rows:
            t.add_row(*(str(cell) for cell in row))
        self._console.print(t)
