"""Invoke tasks: each a line or two calling the dockstage core. `invoke --list` shows them."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from dockstage import devloop, flows
from dockstage.frontend import attempt, settings

T = TypeVar("T")


def core(action: Callable[[], T]) -> T:
    """Run a core call; a user-caused error exits with its one line and code."""

    def fail(message: str, code: int) -> None:
        raise Exit(message, code)

    return attempt(action, fail)


def _remainder(c: Context) -> list[str]:
    return shlex.split(c.remainder) if c.remainder else []


@task(help={"detach": "start in the background instead of following the logs"})
def dev(c: Context, detach: bool = False) -> None:
    """Dev stack: dev image, source bind-mounted, runserver with hot reload; follows logs."""
    core(lambda: devloop.dev(settings(), detach=detach))


@task(help={"quiet": "less output"})
def up(c: Context, quiet: bool = False) -> None:
    """Prod-like stack, detached: db healthy, migrations applied, web healthy; prints the URL."""
    core(lambda: devloop.up(settings(quiet=quiet or None)))


@task(help={"volumes": "also delete the database volume (needs --yes)", "yes": "confirm --volumes"})
def down(c: Context, volumes: bool = False, yes: bool = False) -> None:
    """Stop the stack; the database volume is kept unless --volumes --yes."""
    core(lambda: devloop.down(settings(), volumes=volumes, yes=yes))


@task
def ps(c: Context) -> None:
    """The stack's containers, their state and health."""
    core(lambda: devloop.ps(settings()))


@task(
    positional=["service"], help={"service": "db, migrate or web (default: all)", "follow": "keep following new lines"}
)
def logs(c: Context, service: str | None = None, follow: bool = False) -> None:
    """Logs of the stack's services."""
    core(lambda: devloop.logs(settings(), service or "", follow=follow))


@task(help={"stage": "dev, test, stage or prod (default: all four)", "quiet": "no BuildKit output"})
def build(c: Context, stage: str = "", quiet: bool = False) -> None:
    """Build a stage and what it needs, in order (default: all four), and print the table."""
    core(lambda: flows.build(settings(quiet=quiet or None), *([stage] if stage else [])))


@task
def test(c: Context) -> None:
    """The app's tests in the test image against MySQL; `invoke test -- -k health` passes args to pytest."""
    core(lambda: flows.test_image(settings(), tuple(_remainder(c))))


@task
def smoke(c: Context) -> None:
    """Smoke-test the prod image: db + web, real HTTP checks."""
    core(lambda: flows.smoke_prod(settings()))


@task
def shell(c: Context) -> None:
    """Django shell in the dev image, on the stack's database."""
    core(lambda: devloop.manage(settings(), ["shell"], interactive=True))


@task
def manage(c: Context) -> None:
    """Any manage.py command: `invoke manage -- showmigrations`."""
    args = _remainder(c)
    if not args:
        raise Exit("manage: nothing to run; give the command after --, e.g. `invoke manage -- showmigrations`", 2)
    core(lambda: devloop.manage(settings(), args))


@task
def migrate(c: Context) -> None:
    """Apply migrations to the stack's database."""
    core(lambda: devloop.manage(settings(), ["migrate", "--noinput"]))


@task
def makemigrations(c: Context) -> None:
    """Create migrations for model changes (files owned by you, in app/)."""
    core(lambda: devloop.manage(settings(), ["makemigrations"]))


@task
def db_shell(c: Context) -> None:
    """Interactive MySQL client in the db container, as the app user, on the app's database."""
    core(lambda: devloop.db_shell(settings()))


@task(help={"output": "file to write (a .gz name compresses it); default backups/<date>.sql"})
def db_dump(c: Context, output: str = "") -> None:
    """A consistent dump of the app's database: single transaction, routines, utf8mb4."""
    core(lambda: devloop.db_dump(settings(), Path(output) if output else devloop.default_dump_path(settings())))


@task(help={"file": "a dump made by db-dump"})
def db_restore(c: Context, file: str) -> None:
    """Restore a dump; a missing, truncated or non-SQL file is refused and nothing changes."""
    core(lambda: devloop.db_restore(settings(), Path(file)))


@task
def clean(c: Context) -> None:
    """Remove the stack's containers and networks and dangling images; never volumes."""
    core(lambda: devloop.clean(settings()))


@task
def doctor(c: Context) -> None:
    """Check the engine, buildx, compose v2, disk and base images; one line each."""
    if not all(check.passed for check in core(lambda: flows.doctor(settings()))):
        raise Exit("doctor: a check failed; each line above says how to fix it", 1)


@task(help={"flavour": "bookworm, trixie or all", "force": "rebuild even when present"})
def bases(c: Context, flavour: str = "bookworm", force: bool = False) -> None:
    """Build the stand-in base images for engines that cannot pull."""
    core(lambda: flows.build_bases(settings(), flavour, force=force))


ns = Collection(
    dev, up, down, ps, logs, build, test, smoke, shell, manage, migrate, makemigrations,
    db_shell, db_dump, db_restore, clean, doctor, bases,
)  # fmt: skip
