"""A new web beside the running one, behind the stack's proxy: switched to only once it is healthy.

`invoke up` of a changed release, on one host, the way Kamal's proxy does it. The published port
belongs to the proxy (compose.proxy.yaml), which sends requests to `web-live` on its own network,
web's alias there. So:
1. a second web is created from the new image beside the running one, taken off the proxy's
   network before it starts, started, and its healthcheck waited on;
2. it is connected to the proxy's network again: the proxy now round-robins over both;
3. after a short wait (the proxy may use a DNS answer up to 2 s) the old web is stopped (gunicorn
   finishes its requests; the proxy retries a refused connection on the new web) and removed.
A new web that crashes, turns unhealthy or is not healthy in time is never connected, and is
removed; the old one never stopped serving. The proxy is never reloaded, so no client connection
of it is closed.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from python_on_whales import Container

from dockstage.core import files
from dockstage.core.errors import ReleaseKept, docker_errors, health_diagnosis, hopeless
from dockstage.core.report import log
from dockstage.stack.compose import Stack, health_probes, release_file, running_for

LIVE_ALIAS = "web-live"
"""The name the proxy sends requests to (proxy.conf), on its `live` network."""
LIVE_NETWORK = "live"
"""The proxy's network in compose.proxy.yaml (compose names it <project>_live)."""
DNS_SECONDS = 3.0
"""How long the proxy may still use a DNS answer without the new web. proxy.conf says valid=1s, but
nginx counts it in whole seconds (an answer is used while `valid >= now`, both in seconds), so an
answer got at second X is used until X+2: waiting 1.5 s left up to 0.5 s in which the old web
stopped while the proxy knew no other, and those requests got 502."""


@dataclass(frozen=True)
class Outcome:
    """What an `up` of a running site did to web: kept (nothing changed), or replaced beside the old."""

    action: str  # "unchanged" | "replaced"
    container: str


def fingerprint(stack: Stack, image: str) -> str:
    """What a web started now would be: the image's id and every file compose reads for it (the
    compose files, .env and the generated env files, whose values include the app's environment)."""
    digest = hashlib.sha256()
    with docker_errors(f"inspecting {image}"):
        digest.update(stack.docker.image.inspect(image).id.encode())
    config = stack.compose.client_config
    for path in [*config.compose_files, *config.compose_env_files]:
        digest.update(Path(path).read_bytes() if Path(path).is_file() else b"")
    return digest.hexdigest()[:16]


def record(stack: Stack, web: Container, fingerprint_: str) -> None:
    """Note that `web` runs what `fingerprint_` describes (the next `up` keeps it if nothing changed)."""
    files.write_private(release_file(stack.settings), f"{web.id} {fingerprint_}\n")


def is_current(stack: Stack, web: Container, fingerprint_: str) -> bool:
    """Whether `web` is the container `up` recorded for this very fingerprint."""
    path = release_file(stack.settings)
    return path.is_file() and path.read_text(encoding="utf-8").split() == [web.id, fingerprint_]


def live_network(stack: Stack) -> str:
    return f"{stack.project}_{LIVE_NETWORK}"


def go_live(stack: Stack, web: Container) -> None:
    """Connect a healthy web to the proxy's network under the name the proxy serves (unless it is)."""
    network = live_network(stack)
    with docker_errors(f"connecting {web.name} to the proxy"):
        if network not in (stack.docker.container.inspect(web.id).network_settings.networks or {}):
            stack.docker.network.connect(network, web.id, alias=LIVE_ALIAS)
    log.debug("%s is live on %s", web.name, network)


def wait_healthy(stack: Stack, container: Container, timeout: float) -> str:
    """'' once `container` is healthy; else why not (it crashed, turned unhealthy, or timed out)."""
    deadline = time.monotonic() + timeout
    while True:
        with docker_errors(f"inspecting {container.name}"):
            state = stack.docker.container.inspect(container.id).state
        health = state.health.status if state.health else None
        if health == "healthy":
            return ""
        if health == "unhealthy":
            return "its healthcheck failed"
        probes = health_probes(state)
        if hopeless(probes, running_for(state)):
            return health_diagnosis(probe for _, probe in probes[-1:])[0]
        if not state.running or state.restarting or (getattr(state, "restart_count", 0) or 0) > 0:
            return f"it exited ({state.exit_code})"
        if time.monotonic() > deadline:
            return f"it was not healthy after {timeout:.0f} s"
        time.sleep(0.5)


def replace_web(stack: Stack, image: str, url: str) -> Outcome:
    """Start a web from `image` beside the running one, put it behind the proxy once healthy, then
    stop the old one. Raises ReleaseKept (the old web serving, the new one removed) when the new
    web is not healthy."""
    old = stack.running_containers("web")
    wanted = fingerprint(stack, image)
    if len(old) == 1 and is_current(stack, old[0], wanted):
        go_live(stack, old[0])
        return Outcome("unchanged", old[0].name)
    with docker_errors("creating the new web beside the running one"):
        stack.compose.up(
            ["web"],
            detach=True,
            start=False,
            scales={"web": len(old) + 1},
            recreate=False,
            dependencies=False,
            pull="never",
            quiet=True,
        )
    known = {c.id for c in old}
    new = next((c for c in running_or_not(stack) if c.id not in known), None)
    if new is None:
        raise ReleaseKept(url, old[0].image, "no new web container was created")
    with docker_errors(f"starting {new.name} off the proxy's network"):
        stack.docker.network.disconnect(live_network(stack), new.id)
        stack.docker.container.start(new.id)
    why = wait_healthy(stack, new, stack.settings.wait_timeout)
    if why:
        stack.show_logs(["web"], tail=60)
        with docker_errors(f"removing the new web {new.name}"):
            stack.docker.container.remove(new.id, force=True)
        raise ReleaseKept(url, old[0].image, why)
    go_live(stack, new)
    time.sleep(DNS_SECONDS)  # the proxy sees the new web before the old one stops
    with docker_errors("stopping the old web"):
        for container in old:
            stack.docker.container.stop(container.id, time=30)  # gunicorn finishes its requests
            stack.docker.container.remove(container.id)
    record(stack, new, wanted)
    return Outcome("replaced", new.name)


def running_or_not(stack: Stack) -> list[Container]:
    """Every web container of the project, whatever its state."""
    with docker_errors("listing the web containers"):
        return list(stack.compose.ps(services=["web"], all=True))


def remove_proxy(stack: Stack) -> bool:
    """Remove the proxy `invoke up` left (the dev stack publishes web's port itself); True if one was."""
    with docker_errors("removing the proxy of `up`"):
        found = stack.docker.container.list(
            all=True,
            filters=[
                ("label", f"com.docker.compose.project={stack.project}"),
                ("label", "com.docker.compose.service=proxy"),
            ],
        )
        for container in found:
            stack.docker.container.remove(container.id, force=True)
    return bool(found)
