"""The suite's invoke tasks, built by the package: `ns = dockstage.frontends.invoketasks.collection(ROOT)`.

As in invoke's `invocations`: the tasks are module-level functions, each translating its
arguments and calling the core once; `collection` gathers them into a Collection and configures
the project they act on (`dockstage.root`, which an invoke config file may also set). Defaults
live in the core's settings.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from dockstage.flows import pipeline as flows
from dockstage.flows import stackops
from dockstage.flows.run import Run
from dockstage.frontends.common import INVOKE_COMMANDS, execute
from dockstage.swarm import deploy, registry, release

T = TypeVar("T")
CONFIG = "dockstage"  # the invoke config section: {"dockstage": {"root": "<the project>"}}
_VOLUMES_HELP = {"volumes": "also delete the database volume (needs --yes)", "yes": "confirm --volumes"}


def remainder(c: Context) -> list[str]:
    """The words after `--` (`invoke test -- -k health`)."""
    return shlex.split(c.remainder) if c.remainder else []


def _fail(line: str, code: int) -> NoReturn:
    raise Exit(line, code)


def core(c: Context, action: Callable[[Run], T], **overrides: object) -> T:
    """One command: the project of the task's config, one Run, `action` on it, errors as exits."""
    return execute(Path(c.config[CONFIG]["root"]), INVOKE_COMMANDS, _fail, action, **overrides)


# --- the daily stack ----------------------------------------------------------------------------


@task(
    help={
        "detach": "start in the background instead of following the logs and watching",
        "test": "also run the app's tests after every change to its code",
    }
)
def dev(c: Context, detach: bool = False, test: bool = False) -> None:
    """Dev stack: dev image, source bind-mounted, runserver with hot reload; follows logs, watches the dev image's files."""
    core(c, lambda run: stackops.dev(run, detach=detach, test=test))


@task(help={"test": "also run the app's tests after every change to its code"})
def watch(c: Context, test: bool = False) -> None:
    """Rebuild dev and recreate web when a file the dev image is built from changes (for `dev --detach`)."""
    core(c, lambda run: stackops.watch_dev(run, test=test))


@task(help={"quiet": "less output"})
def up(c: Context, quiet: bool = False) -> None:
    """Prod-like stack, detached: db healthy, migrations applied, web healthy; prints the URL."""
    core(c, stackops.up, quiet=quiet or None)


@task(help=dict(_VOLUMES_HELP))
def down(c: Context, volumes: bool = False, yes: bool = False) -> None:
    """Stop the stack; the database volume is kept unless --volumes --yes."""
    core(c, lambda run: stackops.down(run, volumes=volumes, yes=yes))


@task
def ps(c: Context) -> None:
    """The stack's containers: state, exit code, health, ports."""
    core(c, stackops.ps)


@task(help={"service": "db, migrate or web (default: all; `invoke logs -- web` works too)", "follow": "keep following"})
def logs(c: Context, service: str = "", follow: bool = False) -> None:
    """Logs of the stack's services."""
    name = service or " ".join(remainder(c))
    core(c, lambda run: stackops.logs(run, name, follow=follow))


# --- images and the pipeline's steps ------------------------------------------------------------


@task(help={"stage": "dev, test, stage or prod (default: all four)", "quiet": "no BuildKit output"})
def build(c: Context, stage: str = "", quiet: bool = False) -> None:
    """Build a stage and what it needs, in order (default: all four), check the images, print the table."""
    core(c, lambda run: flows.build(run, *([stage] if stage else [])), quiet=quiet or None)


@task
def test(c: Context) -> None:
    """The app's tests in the test image against MySQL; `invoke test -- -k health` passes args to pytest."""
    args = tuple(remainder(c))
    core(c, lambda run: flows.test_image(run, args))


@task
def smoke(c: Context) -> None:
    """Smoke-test the prod image: image checks, db + web, real HTTP checks."""
    core(c, flows.smoke_prod)


@task
def doctor(c: Context) -> None:
    """Check the engine, buildx, compose v2, disk and base images; one line each."""
    core(c, flows.doctor)


@task(help={"flavour": "bookworm, trixie or all", "force": "rebuild even when present"})
def bases(c: Context, flavour: str = "bookworm", force: bool = False) -> None:
    """Build the stand-in base images for engines that cannot pull."""
    core(c, lambda run: flows.build_bases(run, flavour, force))


@task
def clean(c: Context) -> None:
    """Remove the stack's containers and networks and this project's dangling images; never volumes."""
    core(c, stackops.clean)


# --- Django and the database --------------------------------------------------------------------


@task
def shell(c: Context) -> None:
    """Django shell in the dev image, on the stack's database."""
    core(c, lambda run: stackops.manage(run, ["shell"], interactive=True))


@task
def manage(c: Context) -> None:
    """Any manage.py command: `invoke manage -- showmigrations` (a terminal when you have one)."""
    args = remainder(c)
    if not args:
        raise Exit("config: nothing to run: give the command after --, e.g. `invoke manage -- showmigrations`", 2)
    core(c, lambda run: stackops.manage(run, args, interactive=sys.stdin.isatty()))


@task
def migrate(c: Context) -> None:
    """Apply migrations to the stack's database."""
    core(c, lambda run: stackops.manage(run, ["migrate", "--noinput"]))


@task
def makemigrations(c: Context) -> None:
    """Create migrations for model changes (files owned by you, in the app)."""
    core(c, lambda run: stackops.manage(run, ["makemigrations"]))


@task
def db_shell(c: Context) -> None:
    """Interactive MySQL client in the db container, as the app user, on the app's database."""
    core(c, stackops.db_shell)


@task(help={"output": "file to write (a .gz name compresses it); default backups/<project>-<date>.sql"})
def db_dump(c: Context, output: str = "") -> None:
    """A consistent dump of the app's database: single transaction, routines, utf8mb4."""
    core(c, lambda run: stackops.db_dump(run, Path(output) if output else None))


@task(help={"file": "a dump made by db-dump"})
def db_restore(c: Context, file: str) -> None:
    """Restore a dump; a bad file is refused after a rehearsal and the live database is untouched."""
    core(c, lambda run: stackops.db_restore(run, Path(file)))


# --- releases and the swarm (each flow takes the Run; swarm options from its settings) ----------


@task(
    name="registry",
    help={
        "stop": "stop the registry (its volume stays unless --volumes --yes)",
        "volumes": "with --stop: delete its data",
        "yes": "confirm --volumes",
    },
)
def registry_(c: Context, stop: bool = False, volumes: bool = False, yes: bool = False) -> None:
    """A local registry on 127.0.0.1 (DOCKSTAGE_REGISTRY_PORT, 5000), data in a volume."""
    if stop:
        core(c, lambda run: registry.down(run, volumes=volumes, yes=yes))
    else:
        core(c, registry.up)


@task(
    name="release",
    help={
        "version": "the version to tag (default: the git commit, -dirty when changed)",
        "allow-dirty": "release although tracked files changed since the commit (refused otherwise)",
    },
)
def release_(c: Context, version: str = "", allow_dirty: bool = False) -> None:
    """Tag the prod image with an immutable version, push it to the registry, record its digest."""
    core(c, lambda run: release.release(run, version or None, allow_dirty=allow_dirty))


@task(
    help={
        "version": "a recorded release (default: the prod image as built now)",
        "output": "write it to this file (default: print it)",
    }
)
def sbom(c: Context, version: str = "", output: str = "") -> None:
    """The CycloneDX SBOM of a release or of the prod image: Python distributions, Debian packages, the base."""
    core(c, lambda run: release.sbom_of(run, version or None, output or None))


@task(
    name="deploy", help={"version": "a released version (default: the latest)", "replicas": "web replicas (default 2)"}
)
def deploy_(c: Context, version: str = "", replicas: int = 0) -> None:
    """Deploy a release to the swarm: migrate job first, then web, health-gated, rolling back on failure."""
    core(c, lambda run: deploy.deploy(run, version or None, replicas or None))


@task(help={"version": "the release to go back to (default: the one before the running one)"})
def rollback(c: Context, version: str = "") -> None:
    """Roll web back to an earlier release."""
    core(c, lambda run: deploy.rollback(run, version or None))


@task
def stack_ps(c: Context) -> None:
    """The swarm stack's tasks: service, node, state, version, error."""
    core(c, deploy.stack_ps)


@task(help={"service": "web, db, proxy or migrate (default: all)"})
def stack_logs(c: Context, service: str = "") -> None:
    """Logs of the swarm stack's services."""
    core(c, lambda run: deploy.stack_logs(run, service or None))


@task(help=dict(_VOLUMES_HELP))
def undeploy(c: Context, volumes: bool = False, yes: bool = False) -> None:
    """Remove the swarm stack; the database volume stays unless --volumes --yes."""
    core(c, lambda run: deploy.undeploy(run, volumes=volumes, yes=yes))


TASKS = (
    dev, watch, up, down, ps, logs, build, test, smoke, shell, manage, migrate, makemigrations,
    db_shell, db_dump, db_restore, clean, doctor, bases,
    registry_, release_, sbom, deploy_, rollback, stack_ps, stack_logs, undeploy,
)  # fmt: skip


def collection(root: Path) -> Collection:
    """Every task, acting on the project at `root` (config `dockstage.root`)."""
    ns = Collection(*TASKS)
    ns.configure({CONFIG: {"root": str(root)}})
    return ns
