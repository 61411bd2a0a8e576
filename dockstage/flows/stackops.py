"""The everyday stack operations behind `invoke`: up, dev, down, ps, logs, manage, the db, clean."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Mapping
from pathlib import Path

from python_on_whales import Container
from python_on_whales.exceptions import DockerException

from dockstage.core.errors import ConfigError, StackError, docker_errors, swallowed
from dockstage.flows import watch
from dockstage.flows.run import Run
from dockstage.images import stages
from dockstage.stack import db, rollout
from dockstage.stack.compose import Stack, still_there


def _start(run: Run, variant: str, image_stage: str, what: str) -> Stack:
    """Build, then db healthy, the one-shot migrate, and web healthy; a failed migration leaves a
    running web untouched (web is only replaced once migrate has succeeded). In the prod variant
    the port is the proxy's, and a running web is replaced beside itself (stack/rollout.py)."""
    run.build(image_stage)
    if variant == "prod":
        run.proxy_image()
    stack = run.stack(variant)
    stack.check_port_free()  # before anything stops: a taken port leaves the running site alone
    extra = stack.added_services() if variant == "prod" else []
    front = ["web", *extra, *(["proxy"] if variant == "prod" else [])]
    run.reporter.step(f"starting {stack.project}{what}: {', '.join(stack.backing)}, migrate, {', '.join(front)}")
    if variant != "prod" and rollout.remove_proxy(stack):
        run.reporter.info("removed the proxy of `up`: the dev server publishes the port itself")
    stack.up(stack.backing, action=f"starting {', '.join(stack.backing)}")
    run.reporter.step("applying migrations (one-shot migrate)")
    stack.run_once("migrate", action="migrating the database")
    if variant == "prod" and stack.running("web") and stack.running("proxy"):
        _replace_web(run, stack, extra)
    else:
        stack.up(["web", *extra], action=f"starting {', '.join(['web', *extra])}", dependencies=False)
        if variant == "prod":
            _start_proxy(stack)
    return stack


def _start_proxy(stack: Stack) -> None:
    """The proxy in front of the (healthy) web, which compose put on the proxy's network."""
    stack.up(["proxy"], action="starting the proxy", dependencies=False)
    webs = stack.running_containers("web")
    if len(webs) == 1:
        rollout.record(stack, webs[0], rollout.fingerprint(stack, stack.settings.tag("prod")))


def _replace_web(run: Run, stack: Stack, extra: list[str]) -> None:
    """A new web beside the running one, switched to once healthy; the old one kept otherwise."""
    image = run.settings.tag("prod")
    run.reporter.step(f"starting a new web from {image} beside the running one (the proxy keeps serving)")
    outcome = rollout.replace_web(stack, image, stack.url())
    if outcome.action == "unchanged":
        run.reporter.info(f"web ({outcome.container}) already runs {image} with this configuration: kept")
    else:
        run.reporter.info(f"the proxy now serves {outcome.container}; the old web finished its requests and stopped")
    # The proxy is recreated only if its own configuration changed (a new port: the one moment
    # a release is not served, since the address itself changes).
    stack.up(["proxy", *extra], action=f"starting {', '.join(['proxy', *extra])}", dependencies=False)


def up(run: Run) -> str:
    """The prod-like stack, detached: db healthy, migrations applied, web healthy; returns its URL."""
    url = _start(run, "prod", "prod", "").url()
    run.reporter.ok(f"web is healthy at {url}/ (health: {url}{run.settings.app.health_path})")
    return url


def dev(run: Run, *, detach: bool = False, test: bool = False) -> str:
    """The dev stack: the dev image, source bind-mounted, runserver reloading on every edit; unless
    detached, web's logs followed while the files the dev image is built from are watched."""
    stack = _start(run, "dev", "dev", " (dev)")
    url = stack.url()
    run.reporter.ok(f"dev server at {url}/ reloads when files under {run.settings.app_dir}/ change")
    if not detach:
        down = run.commands.get("down", "down")
        run.reporter.info(f"following web's logs; Ctrl-C stops following and watching (`{down}` stops the stack)")
        threading.Thread(target=_follow, args=(run, stack), daemon=True, name="dev-logs").start()
        try:  # noqa: SIM105 - Ctrl-C only stops following; the stack keeps running
            watch.watch(run, test=test)
        except KeyboardInterrupt:
            pass
    return url


def _follow(run: Run, stack: Stack) -> None:
    """web's logs, followed until the command ends (a thread beside the watcher)."""
    # Safe: following logs is a convenience beside the watcher; the stack's state is `ps`'s to say.
    with swallowed("following web's logs"):
        run.reporter.stream(stack.compose.logs(services=["web"], follow=True, stream=True))


def watch_dev(run: Run, *, test: bool = False) -> None:
    """Watch the dev image's files for a dev stack started with `dev --detach` (Ctrl-C stops)."""
    stack = run.stack("dev")
    if not stack.running_containers("web"):
        raise StackError("the dev stack is not running", "start it with `{dev} --detach` first")
    try:  # noqa: SIM105 - Ctrl-C stops watching; the stack keeps running
        watch.watch(run, test=test)
    except KeyboardInterrupt:
        pass


def down(run: Run, *, volumes: bool = False, yes: bool = False) -> None:
    """Stop the stack; the database volume stays unless volumes and yes are both given."""
    if volumes and not yes:
        raise ConfigError(
            "--volumes deletes the database volume and every row in it",
            "add --yes to confirm (make a dump first: `{db_dump}`)",
        )
    stack = run.stack()
    stack.down(volumes=volumes)
    stack.forget()
    remove_rehearsals(run)
    run.reporter.ok(f"{stack.project} stopped" + ("; database volume deleted" if volumes else "; database volume kept"))


def remove_rehearsals(run: Run) -> None:
    """Rehearsal servers a killed `db-restore` of this project left behind: removed, said."""
    with docker_errors("removing rehearsal servers left by a killed db-restore"):
        names = db.remove_stale_rehearsals(run.docker, run.settings.project)
    if names:
        run.reporter.info(f"removed {len(names)} rehearsal server(s) left by a killed db-restore")


def ps_rows(stack: Stack) -> list[tuple[str, str, str, str, str]]:
    """The project's containers: name, state, exit code, health, published ports."""

    def row(c: Container) -> tuple[str, str, str, str, str]:
        health = c.state.health.status if c.state.health else "-"
        exit_code = "-" if c.state.running else str(c.state.exit_code)
        ports = ", ".join(
            f"{b.get('HostIp') or '*'}:{b.get('HostPort')}->{inside}"
            for inside, bindings in (c.network_settings.ports or {}).items()
            for b in bindings or []
        )
        return (c.name, str(c.state.status), exit_code, str(health), ports or "-")

    return still_there(stack.compose.ps(all=True), row)  # a one-off `invoke test` removed meanwhile: not listed


def ps(run: Run) -> list[tuple[str, str, str, str, str]]:
    """Print and return the project's containers."""
    stack = run.stack()
    with docker_errors(f"listing the containers of {stack.project}"):
        rows = ps_rows(stack)
    run.reporter.table(stack.project, ("container", "state", "exit", "health", "ports"), rows)
    return rows


def logs(run: Run, service: str = "", *, follow: bool = False, tail: int = 200) -> None:
    """Logs of one service (or all), optionally followed."""
    stack = run.stack()
    services = [service] if service else []
    if service and service not in (names := stack.service_names()):
        raise ConfigError(f"the stack has no service {service!r}", f"name one of {', '.join(names)}")
    try:
        with docker_errors(f"reading the logs of {service or 'the stack'}"):
            if follow:
                run.reporter.stream(stack.compose.logs(services=services, follow=True, stream=True))
            else:
                run.reporter.raw(str(stack.compose.logs(services=services, tail=str(tail))))
    except KeyboardInterrupt:
        pass


def manage(run: Run, args: list[str], *, interactive: bool = False) -> None:
    """`manage.py <args>` in a one-off container of the dev image, on the stack's database.

    Nothing else runs first (no migrations): `showmigrations` shows what is pending.
    `interactive` gives it a terminal (shell, createsuperuser, changepassword)."""
    passed = superuser_env(run.settings.shell)
    if args[:1] == ["createsuperuser"] and not interactive and "--noinput" not in args and "--no-input" not in args:
        if not {"DJANGO_SUPERUSER_USERNAME", "DJANGO_SUPERUSER_PASSWORD"} <= set(passed):
            raise ConfigError(
                "createsuperuser needs a terminal to ask its questions, and there is none",
                "run it in a terminal, or set DJANGO_SUPERUSER_USERNAME, DJANGO_SUPERUSER_EMAIL and "
                "DJANGO_SUPERUSER_PASSWORD in the shell (they reach the command, which then runs --noinput)",
            )
        args = [*args, "--noinput"]
    run.build("dev")
    stack = run.stack("dev")
    stack.up(stack.backing, action="starting db")
    command = ["python", "manage.py", *args]
    with docker_errors(
        f"running manage.py {' '.join(args)}",
        otherwise=lambda exc: StackError(
            f"manage.py {' '.join(args)} exited with {exc.return_code}", "see its output above"
        ),
    ):
        if interactive:
            stack.compose.run("web", command, tty=True, remove=True, dependencies=False, envs=passed)
        else:
            run.reporter.stream(
                stack.compose.run("web", command, tty=False, remove=True, stream=True, dependencies=False, envs=passed)
            )


def superuser_env(shell: Mapping[str, str]) -> dict[str, str]:
    """The shell's DJANGO_SUPERUSER_* variables, which Django's createsuperuser reads (--noinput)."""
    return {key: value for key, value in shell.items() if key.startswith("DJANGO_SUPERUSER_") and value}


def db_shell(run: Run) -> None:
    db.shell(run.stack())


def db_dump(run: Run, output: Path | None) -> Path:
    path = db.dump(run.stack(), output or default_dump_path(run))
    run.reporter.ok(f"dumped the database to {path} ({path.stat().st_size} bytes)")
    root, where = run.settings.root.resolve(), path.resolve()
    if output is not None and where.is_relative_to(root) and not where.is_relative_to(root / "backups"):
        run.reporter.warn(
            f"{path} is inside the project, the images' build context: builds leave database dumps out "
            "(by name and by content), but keep dumps in backups/ or outside the project"
        )
    return path


def db_restore(run: Run, path: Path) -> None:
    stack = run.stack()  # the preflight first: the engine is there
    remove_rehearsals(run)
    safety = db.restore(stack, path, run.settings.path("backups"))
    run.reporter.ok(f"restored the database from {path} (the data before it: {safety})")
    if stack.running("web") and not migrations_applied(stack):
        run.reporter.warn(
            f"the restored data lacks migrations the running code has: run `{run.commands.get('migrate', 'migrate')}`"
        )


def migrations_applied(stack: Stack) -> bool:
    """Whether the running web's code finds every migration applied (`migrate --check`)."""
    try:
        stack.execute_in_web(["python", "manage.py", "migrate", "--check", "--noinput"])
    except DockerException as exc:
        return exc.return_code != 1  # 1: unapplied migrations; anything else says nothing about them
    return True


def clean(run: Run) -> None:
    """Remove the project's containers and networks and this project's dangling images; never volumes."""
    stack = run.stack()
    stack.down(volumes=False)
    stack.forget()
    remove_rehearsals(run)
    with docker_errors(f"pruning the dangling {run.settings.image} images"):
        ours = set(stages.built_here(run.settings))  # built by this checkout: another's stay
        dangling = run.docker.image.list(
            filters=[("dangling", "true"), ("label", f"dockstage.image={run.settings.image}")]
        )
        for image in dangling:
            if image.id in ours:
                with swallowed("removing a dangling image another one still uses"):
                    run.docker.image.remove(image.id)
    run.reporter.ok(
        f"{stack.project}: containers and networks removed, dangling {run.settings.image} images pruned; volumes kept"
    )


def default_dump_path(run: Run) -> Path:
    """backups/<project>-<UTC timestamp>.sql under the project root."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    return run.settings.path("backups") / f"{run.settings.project}-{stamp}.sql"
