"""The swarm pieces' own settings: one frozen object, passed explicitly like `Settings`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockstage.core.config import Settings
from dockstage.core.errors import ConfigError

ENDPOINT_MODES = ("dnsrr", "vip")
DB_LABEL = "dockstage.db"
PROXY_LABEL = "dockstage.proxy"


@dataclass(frozen=True)
class SwarmOptions:
    """What `invoke registry/release/deploy/...` and `nox -s swarm` need beyond `Settings`.

    Front-ends fill these from DOCKSTAGE_REGISTRY_PORT, DOCKSTAGE_REGISTRY_ADDRESS,
    DOCKSTAGE_REGISTRY_PUSH, DOCKSTAGE_REGISTRY_AUTH, DOCKSTAGE_STACK, DOCKSTAGE_PROXY_PORT,
    DOCKSTAGE_WEB_REPLICAS, DOCKSTAGE_ENDPOINT_MODE and DOCKSTAGE_UPDATE_MONITOR (see docs/DEPLOY.md).
    """

    registry_port: int = 5000  # the local registry, on 127.0.0.1
    # Where swarm nodes pull from; "" means the push address (a single-node swarm on this
    # machine pulls from 127.0.0.1:<registry_port>). A real swarm names its TLS registry.
    registry_address: str = ""
    # Where releases are pushed; "" means the local registry, 127.0.0.1:<registry_port>.
    registry_push: str = ""
    # Send this machine's registry login (`docker login`) to the nodes with each deploy.
    registry_auth: bool = False
    stack: str = ""  # "" means "<project>-swarm": never the compose project's own volume names
    proxy_port: int = 8080  # host-mode port of the proxy on the node labelled dockstage.proxy
    replicas: int = 2  # web replicas
    endpoint_mode: str = "dnsrr"  # vip where the swarm has IPVS
    # Seconds swarm watches each new web task (update_config/rollback_config monitor) before the
    # next: a task unhealthy within them rolls the update back.
    update_monitor: int = 10

    def __post_init__(self) -> None:
        if self.endpoint_mode not in ENDPOINT_MODES:
            raise ConfigError(
                f"unknown endpoint mode {self.endpoint_mode!r}",
                f"use one of {', '.join(ENDPOINT_MODES)} (DOCKSTAGE_ENDPOINT_MODE)",
            )
        for name, port in (("registry port", self.registry_port), ("proxy port", self.proxy_port)):
            if not 1 <= port <= 65535:
                raise ConfigError(f"{name} {port} is out of range", "use a TCP port between 1 and 65535")
        if not 1 <= self.update_monitor <= 600:
            raise ConfigError(
                f"update monitor of {self.update_monitor} s",
                "watch each new task 1 to 600 s (DOCKSTAGE_UPDATE_MONITOR)",
            )
        if self.replicas < 1:
            raise ConfigError(f"{self.replicas} web replicas", "deploy at least one replica")
        if self.stack and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", self.stack):
            raise ConfigError(f"stack name {self.stack!r} is not valid", "use lowercase letters, digits, '-' and '_'")

    @classmethod
    def from_settings(cls, settings: Settings) -> SwarmOptions:
        """The options the shell and .env set (config.SWARM_KEYS), the defaults for the rest."""
        values = settings.swarm

        def number(key: str, default: int) -> int:
            raw = values.get(key, "")
            if not raw:
                return default
            if not raw.strip().isdigit():
                raise ConfigError(f"{key} is {raw!r}, not a number", f"set {key} to a whole number")
            return int(raw)

        return cls(
            registry_port=number("DOCKSTAGE_REGISTRY_PORT", 5000),
            registry_address=values.get("DOCKSTAGE_REGISTRY_ADDRESS", ""),
            registry_push=values.get("DOCKSTAGE_REGISTRY_PUSH", ""),
            registry_auth=values.get("DOCKSTAGE_REGISTRY_AUTH", "").lower() in ("1", "true", "yes", "on"),
            stack=values.get("DOCKSTAGE_STACK", ""),
            proxy_port=number("DOCKSTAGE_PROXY_PORT", 8080),
            replicas=number("DOCKSTAGE_WEB_REPLICAS", 2),
            endpoint_mode=values.get("DOCKSTAGE_ENDPOINT_MODE", "dnsrr"),
            update_monitor=number("DOCKSTAGE_UPDATE_MONITOR", 10),
        )

    def stack_name(self, settings: Settings) -> str:
        """The swarm stack's name."""
        return self.stack or f"{settings.project}-swarm"

    def push_address(self) -> str:
        """The registry as this machine's engine reaches it (pushes)."""
        return self.registry_push or f"127.0.0.1:{self.registry_port}"

    @property
    def local_registry(self) -> bool:
        """Releases go to the registry `invoke registry` runs on 127.0.0.1."""
        return not self.registry_push

    def pull_address(self) -> str:
        """The registry as the swarm's nodes reach it (image references in the stack)."""
        return self.registry_address or self.push_address()
