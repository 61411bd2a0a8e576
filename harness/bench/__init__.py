"""The benchmark (`nox -s bench`): outside the core's import graph; the core never imports it."""
