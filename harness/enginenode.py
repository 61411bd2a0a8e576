"""An engine of their own for the suite's engine-wide tests (tests/conftest.py's SWARM_FIXTURES: swarm
mode, images under the official names), so they run beside the rest of the suite instead of after it.

The engine is a swarm-node container (harness/docker/node.Dockerfile, as the swarm harness's nodes)
with this engine's bases loaded into it. The tests run in the node's network namespace (nsenter),
with DOCKER_HOST on its socket: every docker call, compose and buildx included, goes to the node's
dockerd, and the 127.0.0.1 ports they publish and call are the node's loopback, not this machine's.
Nothing they do changes this engine; the node, its volume and its socket dir go when they end.

    python -m harness.enginenode -- pytest --engine-wide=only ...

runs the command there and exits with its status (`nox -s tests` starts it in the background).
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from python_on_whales import DockerClient, docker
from python_on_whales.exceptions import DockerException

from dockstage.core import config
from dockstage.core.errors import DockstageError, StackError
from dockstage.core.report import Reporter
from dockstage.flows.run import Run
from dockstage.images import offline
from dockstage.images import services as images
from dockstage.swarm import probe
from harness.cluster import LABEL, NODE, NODE_CAPS_DROPPED, NODE_SECURITY, answers, node_client

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 60
NODE_MTU = "1400"
CPU_SHARES = 128
"""The node's weight for the CPU against the workers' containers (1024 each, cgroup v1's default):
on 2 cores the workers' builds keep both busy, so the node takes what they leave (its tests mostly
wait on rolling updates and healthchecks) instead of slowing them (measured: the workers' phase took
1211 s beside a node whose builds failed early, 1584 s beside one whose builds ran at full weight)."""
CGROUP_ROOTS = (Path("/sys/fs/cgroup/cpu"), Path("/sys/fs/cgroup"))
"""Where a cgroup's CPU weight is set: cgroup v1's cpu controller (cpu.shares), else v2 (cpu.weight)."""
SHARED_DIRS = tuple(dict.fromkeys((str(ROOT), tempfile.gettempdir())))
"""This machine's dirs the node sees at the same paths: a bind mount the tests' stacks ask for (the
compose dir's proxy.conf and mysql-init, a project under pytest's tmp dirs) is read by the node's
dockerd from its own filesystem (without them `invoke up` failed at "starting the proxy")."""


OPT_IN = "DOCKSTAGE_ENGINE_NODE"


def why_not(*, workers: bool) -> str | None:
    """Why `nox -s tests` runs the engine-wide tests after the others, not beside them on a node
    (None: on a node): it is opt-in (on 2 cores a fresh-machine CI took 1706 s with the node, 1571 s
    without), it needs workers to be beside, and root with nsenter."""
    if os.environ.get(OPT_IN) != "1":
        return f"{OPT_IN}=1 runs them beside the others, on an engine node of their own"
    if not workers:
        return "the tests run serially (DOCKSTAGE_TEST_WORKERS=0)"
    return unusable()


def unusable() -> str | None:
    """Why no node can be used here (None: one can): entering its network namespace takes root
    and nsenter (util-linux)."""
    if os.geteuid() != 0:
        return "entering a node's network namespace needs root"
    if shutil.which("nsenter") is None:
        return "nsenter (util-linux) is not installed"
    return None


@dataclass(frozen=True)
class EngineNode:
    """A started node: its container, the dir holding its socket, its init's pid on this machine."""

    container: str
    socket_dir: Path
    pid: int

    @property
    def host(self) -> str:
        """DOCKER_HOST of the node's dockerd."""
        return f"unix://{self.socket_dir / 'docker.sock'}"

    def command(self, argv: Sequence[str]) -> list[str]:
        """`argv` run in the node's network namespace (this machine's files, the node's loopback)."""
        return ["nsenter", f"--target={self.pid}", "--net", "--", *argv]


def shared_bases(host: DockerClient, reporter: Reporter, flavour: str) -> list[str]:
    """The bases the engine-wide tests build and run on, made on this engine when missing (the rest
    of the suite builds on them too): the stand-ins with their root filesystem and the registry's,
    or the official images this engine has."""
    with Run.open(config.load(ROOT, flavour=flavour, quiet=True)) as run:
        chosen = run.bases()
    if not chosen.stand_in:
        return [
            ref for ref in (chosen.python, chosen.mysql, chosen.redis, chosen.proxy) if ref and host.image.exists(ref)
        ]
    offline.build_bases(host, chosen.flavour, reporter=reporter)
    registry = images.build_stand_in(host, images.REGISTRY, reporter)
    return [offline.rootfs_tag(chosen.flavour), chosen.python, chosen.mysql, chosen.redis, chosen.proxy, registry]


def low_weight_cgroup(name: str) -> str | None:
    """A top-level cgroup weighted CPU_SHARES for the node's containers and the tests' processes
    (dockerd's --cgroup-parent); None where none can be made (not cgroupfs, not writable)."""
    for root in CGROUP_ROOTS:
        v1 = root.name == "cpu"
        if not (root / ("cpu.shares" if v1 else "cgroup.controllers")).exists():
            continue
        group = root / name
        try:
            group.mkdir(exist_ok=True)
            if v1:
                (group / "cpu.shares").write_text(str(CPU_SHARES))
            else:
                (group / "cpu.weight").write_text(str(max(1, CPU_SHARES * 100 // 1024)))
        except OSError:
            with suppress(OSError):
                group.rmdir()
            return None
        return f"/{name}"
    return None


def join_cgroup(parent: str) -> None:
    """Move this process (and so every child it starts after) into the cgroup `parent`."""
    for root in CGROUP_ROOTS:
        procs = root / parent.lstrip("/") / "cgroup.procs"
        if procs.exists():
            with suppress(OSError):
                procs.write_text(str(os.getpid()))
            return


def remove_cgroup(parent: str) -> None:
    """The cgroup's dirs in every hierarchy, once empty (a dir still holding a process stays)."""
    join_cgroup("/")  # this process out of it first
    for hierarchy in (Path("/sys/fs/cgroup"), *Path("/sys/fs/cgroup").iterdir()):
        for below, _, _ in os.walk(hierarchy / parent.lstrip("/"), topdown=False):
            with suppress(OSError):
                os.rmdir(below)


def load(host: DockerClient, node: DockerClient, tags: Sequence[str]) -> None:
    """Copy images from this engine into the node's (docker save piped into docker load)."""
    saving = subprocess.Popen([*map(str, host.client_config.docker_cmd), "save", *tags], stdout=subprocess.PIPE)
    loading = subprocess.run(
        [*map(str, node.client_config.docker_cmd), "load", "--quiet"],
        stdin=saving.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    if saving.stdout is not None:
        saving.stdout.close()
    if saving.wait() != 0 or loading.returncode != 0:
        raise StackError(
            f"copying {', '.join(tags)} into the engine node failed", loading.stderr.strip() or "see above"
        )


@contextmanager
def started(host: DockerClient, reporter: Reporter, tags: Sequence[str]) -> Iterator[EngineNode]:
    """A node answering, with `tags` loaded; stopped and removed with its volume and socket dir."""
    image = images.build_stand_in(host, NODE, reporter)
    name = f"dockstage-engine-node-{uuid.uuid4().hex[:8]}"
    socket_dir = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    volume = host.volume.create(f"{name}-docker", labels={LABEL: name})
    parent = low_weight_cgroup(name)
    try:
        # The default bridge, not a network of its own: the node's resolv.conf is then this
        # machine's, which the node's containers can use (an embedded 127.0.0.11 they cannot).
        host.run(
            image,
            # Below the outer bridges' 1500: one bridge deeper (a node inside ../shared/tools/fresh-machine)
            # full-size packets were lost, and uv's TLS to PyPI timed out ("client error (Connect)")
            # while apt over http and Python's own TLS passed; with 1400 the dev build passed.
            ["--mtu", NODE_MTU, *(["--cgroup-parent", parent] if parent else [])],
            cpu_shares=CPU_SHARES,
            detach=True,
            name=name,
            hostname="engine-node",
            labels={LABEL: name},
            volumes=[
                ("/sys/fs/cgroup", "/sys/fs/cgroup", "rw"),
                (volume, "/var/lib/docker"),
                (socket_dir, "/run/dockstage"),
                *((path, path) for path in SHARED_DIRS),
            ],
            cap_add=["ALL"],
            cap_drop=NODE_CAPS_DROPPED,
            security_options=NODE_SECURITY,
        )
        node = node_client(socket_dir)
        if not probe.until(functools.partial(answers, node), START_SECONDS, 0.5):
            raise StackError(
                f"the dockerd in {name} did not start within {START_SECONDS} s", f"see `docker logs {name}`"
            )
        begun = time.monotonic()
        load(host, node, tags)
        reporter.ok(f"engine node {name}: {len(tags)} images loaded in {time.monotonic() - begun:.0f} s")
        if parent:
            join_cgroup(parent)  # the tests' own processes (CLIs, pytest) weigh as little
        yield EngineNode(name, socket_dir, int(host.container.inspect(name).state.pid or 0))
    finally:
        with suppress(DockerException):
            if host.container.exists(name):
                host.container.stop(name, time=30)  # its dockerd stops its own containers first
                host.container.remove(name, force=True, volumes=True)
        with suppress(DockerException):
            host.volume.remove(volume)
        shutil.rmtree(socket_dir, ignore_errors=True)
        if parent:
            remove_cgroup(parent)


def run(command: Sequence[str], reporter: Reporter, flavour: str) -> int:
    """`command` on a node of its own, in its network namespace; its exit status."""
    begun = time.monotonic()
    with started(docker, reporter, shared_bases(docker, reporter, flavour)) as node:
        reporter.info(f"engine node ready in {time.monotonic() - begun:.0f} s; running: {' '.join(command)}")
        env = {**os.environ, "DOCKER_HOST": node.host}
        return subprocess.run(node.command(command), env=env, cwd=ROOT, check=False).returncode


@contextmanager
def beside(python: str, command: Sequence[str], log: Path, env: dict[str, str]) -> Iterator[Callable[[], int]]:
    """`python -m harness.enginenode -- command` in the background for the block, its output into
    `log`; yields a wait for its exit status. A block left by an interrupt interrupts it too (pytest
    stops, the node is removed) and waits for it."""
    with log.open("w") as out:
        background = subprocess.Popen(
            [python, "-m", "harness.enginenode", "--", *command],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )
    try:
        yield background.wait
    except KeyboardInterrupt:
        background.send_signal(signal.SIGINT)
        raise
    finally:
        background.wait()


def tests_beside(bin_dir: Path, report: Path, pytest_args: Sequence[str], others: Callable[[], object]) -> int:
    """The engine-wide tests (`--engine-wide=node`) on a node in the background while `others` runs
    the rest here; their output printed when both have ended (kept in a log beside `report`, the
    junit file of the rest); their pytest's exit status."""
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(bin_dir.parent),
    }
    log = report.with_name("suite-engine-node.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    basetemp = Path(tempfile.mkdtemp(prefix="dockstage-engine-node-"))
    on_node = [
        str(bin_dir / "pytest"),
        f"--basetemp={basetemp}",  # its own: the workers' pytest cleans up old numbered dirs
        "--engine-wide=node",
        "--durations=10",
        f"--junitxml={report.with_name('suite-junit-node.xml')}",
        *pytest_args,
    ]
    print(f"the engine-wide tests run beside the others on an engine node of their own (output: {log})", flush=True)
    with beside(str(bin_dir / "python"), on_node, log, env) as ended:
        try:
            others()
        finally:
            code = ended()
            print(log.read_text(errors="replace"), flush=True)
            shutil.rmtree(basetemp, ignore_errors=True)
    return code


def main(argv: Sequence[str]) -> int:
    """`python -m harness.enginenode -- COMMAND...`."""
    command = list(argv[1:] if argv[:1] == ["--"] else argv)
    if not command:
        print("usage: python -m harness.enginenode -- COMMAND...", file=sys.stderr)
        return 2
    reason = unusable()
    if reason is not None:
        print(f"harness.enginenode: {reason}", file=sys.stderr)
        return 2
    reporter = Reporter()
    try:
        return run(command, reporter, os.environ.get("DOCKSTAGE_TEST_FLAVOUR", "auto"))
    except DockstageError as exc:
        reporter.fail(str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
