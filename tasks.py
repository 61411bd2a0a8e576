"""Invoke tasks, built by the package. `invoke --list` shows them."""

from __future__ import annotations

from pathlib import Path

from dockstage.frontends.invoketasks import collection

ns = collection(Path(__file__).resolve().parent)
