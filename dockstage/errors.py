"""One exception family: every error says what happened and what to do about it."""

from __future__ import annotations


class DockstageError(Exception):
    """Base of all errors a user can cause; `what` and `fix` are one line each."""

    return_code = 1
    label = "error"

    def __init__(self, what: str, fix: str, *, detail: str = "", return_code: int | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix
        self.detail = detail  # debug output only (command, exit code, stderr)
        if return_code is not None:
            self.return_code = return_code  # e.g. pytest's own exit status

    def __str__(self) -> str:
        return f"{self.what}: {self.fix}" if self.fix else self.what

    def one_line(self) -> str:
        """The message shown to the user."""
        return f"{self.label}: {self}"


class ConfigError(DockstageError):
    """Bad settings: pyproject, DOCKSTAGE_* variables or .env."""

    return_code = 2
    label = "config"


class EngineError(DockstageError):
    """Docker engine, buildx or compose missing or unusable."""

    return_code = 3
    label = "engine"


class BuildError(DockstageError):
    """An image build failed."""

    return_code = 4
    label = "build"


class StackError(DockstageError):
    """The compose stack could not be brought up, or a service failed."""

    return_code = 5
    label = "stack"


class DatabaseError(DockstageError):
    """A database operation (shell, dump, restore) failed or was refused."""

    return_code = 6
    label = "database"


class CheckFailed(DockstageError):
    """A test run or a smoke check failed."""

    return_code = 7
    label = "check"
