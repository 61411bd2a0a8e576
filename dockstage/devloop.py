"""The everyday stack flows behind `invoke`: up, dev, down, logs, manage, the database, clean."""

from __future__ import annotations

from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage import db, report, stack
from dockstage.config import Settings
from dockstage.errors import ConfigError, StackError
from dockstage.flows import STACK_CHECKS, build, prepare


def _project(settings: Settings, variant: str = "prod") -> DockerClient:
    _, bases = prepare(settings, *STACK_CHECKS)
    return stack.project(settings, bases, variant)


def up(settings: Settings) -> str:
    """The prod-like stack, detached: db healthy, migrations applied, web healthy; returns its URL."""
    build(settings, "prod")
    docker = _project(settings)
    report.step(f"starting {settings.project}: db, migrate, web")
    stack.up(settings, docker, ["web"])
    url = stack.web_url(docker)
    report.ok(f"web is healthy at {url}/ (admin: {url}/admin/, health: {url}/healthz)")
    return url


def dev(settings: Settings, *, detach: bool = False) -> str:
    """The dev stack: the dev image, source bind-mounted, runserver reloading on every edit."""
    build(settings, "dev")
    docker = _project(settings, "dev")
    report.step(f"starting {settings.project} (dev): db, migrate, runserver")
    stack.up(settings, docker, ["web"])
    url = stack.web_url(docker)
    report.ok(f"dev server at {url}/ reloads when files under app/ change")
    if not detach:
        report.info("following logs; Ctrl-C stops following (the stack keeps running; `invoke down` stops it)")
        try:  # noqa: SIM105 - Ctrl-C only stops following; the stack keeps running
            report.stream(docker.compose.logs(services=["web"], follow=True, stream=True))
        except KeyboardInterrupt:
            pass
    return url


def down(settings: Settings, *, volumes: bool = False, yes: bool = False) -> None:
    """Stop the stack; the database volume stays unless volumes and yes are both given."""
    if volumes and not yes:
        raise ConfigError(
            "--volumes deletes the database volume and every row in it",
            "add --yes to confirm (make a dump first: `invoke db-dump`)",
        )
    docker = _project(settings)
    stack.down(docker, volumes=volumes)
    report.ok(f"{settings.project} stopped" + ("; database volume deleted" if volumes else "; database volume kept"))


def ps(settings: Settings) -> list[tuple[str, str, str]]:
    """The project's containers: name, state, health."""
    docker = _project(settings)
    rows = []
    for c in docker.compose.ps(all=True):
        health = c.state.health.status if c.state.health else "-"
        rows.append((c.name, str(c.state.status), str(health)))
    report.table(settings.project, ("container", "state", "health"), rows)
    return rows


def logs(settings: Settings, service: str = "", *, follow: bool = False, tail: int = 200) -> None:
    """Logs of one service (or all), optionally followed."""
    docker = _project(settings)
    services = [service] if service else []
    try:
        if follow:
            report.stream(docker.compose.logs(services=services, follow=True, stream=True))
        else:
            report.raw(str(docker.compose.logs(services=services, tail=str(tail))))
    except KeyboardInterrupt:
        pass
    except DockerException as exc:
        raise StackError(
            f"no logs for {service or 'the stack'} ({(exc.stderr or '').strip()})", "check `invoke ps`"
        ) from None


def manage(settings: Settings, args: list[str], *, interactive: bool = False) -> None:
    """`manage.py <args>` in a one-off container of the dev image, on the stack's network."""
    build(settings, "dev")
    docker = _project(settings, "dev")
    stack.up(settings, docker, ["db"])
    command = ["python", "manage.py", *args]
    try:
        if interactive:
            docker.compose.run("web", command, tty=True, remove=True)
        else:
            report.stream(docker.compose.run("web", command, tty=False, remove=True, stream=True))
    except DockerException as exc:
        raise StackError(f"manage.py {' '.join(args)} exited with {exc.return_code}", "see its output above") from None


def db_dump(settings: Settings, output: Path) -> Path:
    path = db.dump(_project(settings), output)
    report.ok(f"dumped the database to {path} ({path.stat().st_size} bytes)")
    return path


def db_restore(settings: Settings, path: Path) -> None:
    db.restore(_project(settings), path)
    report.ok(f"restored the database from {path}")


def clean(settings: Settings) -> None:
    """Remove the project's containers and networks and dangling images; never volumes."""
    docker = _project(settings)
    stack.down(docker, volumes=False)
    docker.image.prune(all=False, filters={"label": "dockstage.stage"})  # only this Dockerfile's leftovers
    report.ok(f"{settings.project}: containers and networks removed, dangling stage images pruned; volumes kept")


def db_shell(settings: Settings) -> None:
    db.shell(_project(settings))


def default_dump_path(settings: Settings) -> Path:
    """backups/<project>-<UTC timestamp>.sql under the project root."""
    import datetime

    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    return settings.path("backups") / f"{settings.project}-{stamp}.sql"
