"""`nox -s swarm`: a three-node swarm in containers (harness/cluster.py), the stack on it, the
scenarios under load (harness/scenarios.py, harness/faults.py), then the official bases: stand-ins
pushed as python:3.12-slim and mysql:8.4, pulled through a node's mirror, and the doctor's checks
with DOCKSTAGE_FLAVOUR=official against that node. A table and benchmarks/results/swarm.json.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage.core.config import Settings
from dockstage.core.errors import CheckFailed, DockstageError, StackError
from dockstage.core.report import Reporter
from dockstage.flows import pipeline
from dockstage.flows.run import Run
from dockstage.images import bases
from dockstage.images import services as images
from dockstage.swarm import deploy, probe, registry, release
from dockstage.swarm.options import SwarmOptions
from harness import faults
from harness.cluster import (
    LABEL,
    NODE,
    OFFICIAL_NAMES,
    PROXY_PORT,
    REGISTRY_IN_SWARM,
    Cluster,
    Started,
    SwarmNode,
    build_variant,
    form_swarm,
    network_exists,
    single_node,
    start_nodes,
)
from harness.scenarios import Ctx, Scenario, failed_healthcheck, healthy_path, node_stopped, redeploy, rolling_update

__all__ = ["LABEL", "Cluster", "Outcome", "build_variant", "network_exists", "run", "single_node", "verdict"]


@dataclass
class Outcome:
    """The harness's result: the scenario rows, the official-bases check, where the JSON went."""

    scenarios: list[Scenario] = field(default_factory=list)
    official_bases: list[str] = field(default_factory=list)
    official_passed: bool = False
    json_path: Path | None = None

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.scenarios) and self.official_passed


def scenarios(
    settings: Settings,
    reporter: Reporter,
    cluster: Cluster,
    versions: dict[str, str],
    replicas: int,
    *,
    max_requests: int,
    max_seconds: float,
) -> list[Scenario]:
    """(a) rolling update, (b) failed healthcheck and rollback, (c) a node down (and back), (e) a
    node and (f) the leading manager killed during a rolling update, (d) redeploy.
    A scenario that errs is a failed row; the next ones still run."""
    ctx = Ctx(settings, reporter, cluster, versions, replicas, max_requests, max_seconds)
    rows = []
    for name, scenario in (
        ("a rolling update", rolling_update),
        ("b failed healthcheck", failed_healthcheck),
        ("c node stopped", node_stopped),
        ("e node killed mid-update", faults.node_killed_mid_update),
        ("f leader killed mid-update", faults.leader_killed_mid_update),
        ("d redeploy", redeploy),
    ):
        try:
            rows.append(scenario(ctx))
        except (DockstageError, DockerException) as exc:
            rows.append(Scenario(name, 0, 0, 0.0, False, f"error: {exc}"))
        reporter.info(f"{rows[-1].name}: {rows[-1].requests} requests, {rows[-1].failed} failed, {rows[-1].seconds} s")
    return rows


def official_bases(
    settings: Settings, docker: DockerClient, node: SwarmNode, reporter: Reporter, registry_address: str
) -> tuple[bool, list[str]]:
    """Push the stand-ins as python:3.12-slim and mysql:8.4 to the registry, then run the doctor's
    checks with DOCKSTAGE_FLAVOUR=official against `node`, whose dockerd pulls through the registry
    as its mirror. (passed, one line per check)."""
    stand_in = bases.stand_in("bookworm")
    pushed = {
        "python": registry.push(docker, stand_in.python, registry_address, OFFICIAL_NAMES["python"]),
        "mysql": registry.push(docker, stand_in.mysql, registry_address, OFFICIAL_NAMES["mysql"]),
    }
    reporter.info(", ".join(f"{p.ref} ({p.digest[:19]})" for p in pushed.values()))
    official = settings.with_(flavour="official")
    run = Run(official, reporter, node.docker)
    lines: list[str] = []
    try:
        checks = pipeline.doctor(run)
        lines = [f"{c.name}: {c.detail}" for c in checks]
        passed = all(c.passed for c in checks)
    except DockstageError as exc:
        lines.append(str(exc))
        passed = False
    return passed, lines


def run(
    settings: Settings,
    docker: DockerClient,
    reporter: Reporter,
    *,
    node_count: int = 3,
    replicas: int = 3,
    max_requests: int = 50_000,
    max_seconds: float = 600.0,
    results: Path | None = None,
    while_up: Callable[[Cluster], None] | None = None,
) -> Outcome:
    """The whole harness; everything it starts is removed at the end (also on failure). The
    stand-in images it builds (node, registry, proxy) stay, as the base stand-ins do."""
    source = settings.tag("prod")
    if not docker.image.exists(source):
        raise StackError(f"{source} is not built", "build it first: `{build}`")
    prefix = f"dsh-{uuid.uuid4().hex[:6]}"
    workdir = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir="/tmp"))
    started = Started(docker, reporter)
    started.dirs.append(workdir)
    outcome = Outcome()
    hs = settings.with_(state_dir=str(workdir / "state"), env_file=str(workdir / "harness.env"))
    local = Run(hs, reporter, docker)  # the registry and the releases: this engine
    hs = local.ensure_env()
    try:
        node_image = images.build_stand_in(docker, NODE, reporter)
        network = f"{prefix}-net"
        docker.network.create(network, driver="bridge", labels={LABEL: prefix})
        started.networks.append(network)
        started.containers.append(f"{prefix}-registry")
        started.volumes.append(f"{prefix}-registry")
        reg = registry.up(
            local,
            name=f"{prefix}-registry",
            volume=f"{prefix}-registry",
            port=0,
            network=network,
            alias="registry",
            owner=prefix,
        )
        options = SwarmOptions(
            registry_port=reg.port,
            registry_address=REGISTRY_IN_SWARM,
            stack=prefix,
            proxy_port=PROXY_PORT,
            replicas=replicas,
        )
        nodes, http_port = start_nodes(docker, reporter, started, prefix, network, node_count, node_image, workdir)
        cluster = Cluster(prefix, network, reg, nodes, http_port, options, docker)
        form_swarm(nodes, reporter)

        versions = {"v1": f"{prefix}-v1", "v2": f"{prefix}-v2", "bad": f"{prefix}-unhealthy"}
        variants = {
            "v2": build_variant(docker, reporter, source, "relabelled", f"{prefix}/variant:v2", versions["v2"]),
            "bad": build_variant(docker, reporter, source, "unhealthy", f"{prefix}/variant:unhealthy", versions["bad"]),
        }
        started.tags.extend(variants.values())
        for key, version in versions.items():
            # the harness measures the working tree as it is, committed or not
            made = release.release(local, version, options=options, source=variants.get(key), allow_dirty=True)
            started.tags.extend([made.ref, *(f"{reg.address}/{ref.split('@')[0]}" for ref in made.images.values())])

        reporter.step(f"deploy {versions['v1']} ({replicas} web replicas over {node_count} nodes)")
        manager = Run(hs, reporter, cluster.manager.docker)  # the deploys: the swarm's manager node
        deploy.deploy(manager, versions["v1"], replicas, options=options)
        if not probe.until(lambda: healthy_path(http_port) or None, 60, 1.0):
            raise StackError(f"the proxy on 127.0.0.1:{http_port} does not answer /healthz", "see `invoke stack-ps`")
        reporter.ok(f"serving on http://127.0.0.1:{http_port}")

        reporter.step("official bases through a node's registry mirror")
        try:
            outcome.official_passed, outcome.official_bases = official_bases(
                hs, docker, nodes[1], reporter, reg.address
            )
        except (DockstageError, DockerException) as exc:
            outcome.official_bases = [f"error: {exc}"]
        started.tags.extend(f"{reg.address}/{name}" for name in OFFICIAL_NAMES.values())
        (reporter.ok if outcome.official_passed else reporter.fail)(
            "DOCKSTAGE_FLAVOUR=official doctor against node2: " + "; ".join(outcome.official_bases)
        )
        if while_up is not None:
            while_up(cluster)  # the stack serves; node2 has the official names (e.g. run nox -s doctor there)

        outcome.scenarios = scenarios(
            hs, reporter, cluster, versions, replicas, max_requests=max_requests, max_seconds=max_seconds
        )
    finally:
        started.remove()
    reporter.table(
        f"swarm harness ({node_count} nodes, {replicas} web replicas; load from 127.0.0.1)",
        ("scenario", "requests", "failed", "seconds", "passed", "note"),
        (
            (s.name, s.requests, s.failed, f"{s.seconds:.1f}", "yes" if s.passed else "NO", s.note)
            for s in outcome.scenarios
        ),
    )
    path = results or settings.path("benchmarks/results/swarm.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "nodes": node_count,
                "replicas": replicas,
                "scenarios": [dataclasses.asdict(s) for s in outcome.scenarios],
                "official_bases": {"passed": outcome.official_passed, "checks": outcome.official_bases},
                "passed": outcome.passed,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    outcome.json_path = path
    (reporter.ok if outcome.passed else reporter.fail)(f"swarm harness: results in {path}")
    return outcome


def verdict(outcome: Outcome) -> Outcome:
    """The outcome when it passed; else CheckFailed naming what did not (`nox -s swarm`'s exit code)."""
    if outcome.passed:
        return outcome
    failed = [s.name for s in outcome.scenarios if not s.passed]
    if not outcome.official_passed:
        failed.append("the official bases through a registry mirror")
    raise CheckFailed(
        f"the swarm harness failed: {', '.join(failed)}", f"see the table above and {outcome.json_path or 'swarm.json'}"
    )
