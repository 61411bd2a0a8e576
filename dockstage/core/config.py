"""One typed, frozen settings object: the only door to the environment.

pyproject [tool.dockstage], then `.env`, then the shell's DOCKSTAGE_* variables; plus every other
variable the suite reads (DOCKER_HOST, CI, the CA bundle pip uses, the host uid/gid) and the
`.env` values the app's stack uses (secrets included). Nothing else in dockstage/ reads
os.environ or `.env`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from dockstage.core import cabundle, dotenv, resources
from dockstage.core.appconfig import APP_KEYS, App, parse_app
from dockstage.core.errors import ConfigError

FLAVOUR_CHOICES = ("auto", "official", "bookworm", "trixie")


@dataclass(frozen=True)
class Settings:
    """Everything the suite needs to know, resolved once and passed explicitly."""

    root: Path
    image: str = "project-playground"
    project: str = "dockstage"
    flavour: str = "auto"
    web_port: int = 8000  # 0: an ephemeral port on 127.0.0.1
    wait_timeout: int = 240
    # Where the Dockerfile, compose files and support files come from: the package's (through
    # core.resources), unless [tool.dockstage] names the project's own copies (`dockstage init --eject`).
    dockerfile: str = field(default_factory=lambda: str(resources.path(resources.DOCKERFILE)))
    compose_dir: str = field(default_factory=lambda: str(resources.path(resources.COMPOSE)))
    support_dir: str = field(default_factory=lambda: str(resources.path(resources.SUPPORT)))
    app_dir: str = "app"
    env_file: str = ".env"
    env_example: str = ".env.example"
    state_dir: str = ".dockstage"
    quiet: bool = False
    app: App = field(default_factory=App)  # every app-specific value ([tool.dockstage])
    overridden: tuple[str, ...] = ()  # pyproject values that .env overrode, said once per command
    # Read from the environment only (not pyproject keys):
    debug: bool = False  # DOCKSTAGE_DEBUG: docker argv and full error output
    ci: bool = False  # CI: plain output, no animation
    docker_host: str = ""  # DOCKER_HOST, named in the fix when the engine is unreachable
    hub_mirror: str = ""  # DOCKSTAGE_HUB_MIRROR: a registry serving Docker Hub's images (host[:port][/path])
    uid: int = 1000  # the host user files written into bind mounts belong to
    gid: int = 1000
    ca_bundle: Path | None = None  # the proxy CA bundle pip uses, passed to builds as a secret
    npmrc: Path | None = None  # the host's npm user config, passed to the assets build as a secret
    npm_ca: Path | None = None  # the CA file npm uses (else pip's), passed the same way
    # The .env values (shell variables of the same name win, as in compose): secrets included,
    # so never shown (repr=False) and never part of equality.
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    shell: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    # DOCKSTAGE_REGISTRY_*, DOCKSTAGE_STACK, ... (SWARM_KEYS), for swarm.options.SwarmOptions.
    swarm: Mapping[str, str] = field(default_factory=dict, compare=False)

    def path(self, relative: str) -> Path:
        """A path of the project, anchored at the root (absolute paths pass through)."""
        return self.root / relative

    def tag(self, stage: str) -> str:
        """The image tag of one stage, e.g. project-playground:prod."""
        return f"{self.image}:{stage}"

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (validated again)."""
        return _validated(dataclasses.replace(self, **changes))  # type: ignore[arg-type]

    def with_dotenv(self, dotenv: Mapping[str, str]) -> Settings:
        """A copy whose .env values are `dotenv` (a newly written .env), the shell still winning."""
        return dataclasses.replace(self, env=_layer(dotenv, self.shell))

    def reread_dotenv(self) -> Settings:
        """A copy with the .env as it is on disk now (another step may just have written it)."""
        return self.with_dotenv(read_env_file(self.path(self.env_file)))

    def example_keys(self) -> frozenset[str]:
        """The variables the .env example names ({} without one)."""
        return frozenset(read_env_file(self.path(self.env_example)))

    def value(self, key: str) -> str:
        """One value of the project's .env (or the shell's, which wins); '' when unset."""
        return self.env.get(key, "")


FILE_KEYS = frozenset(
    {"image", "project", "flavour", "web_port", "wait_timeout", "dockerfile", "compose_dir", "app_dir"}
    | {"env_file", "env_example", "state_dir", "quiet", "support_dir"}
    | APP_KEYS
)
"""The keys [tool.dockstage] may set; the rest of Settings comes from the environment only."""

_ENV_KEYS = {
    "DOCKSTAGE_IMAGE": "image",
    "DOCKSTAGE_PROJECT": "project",
    "DOCKSTAGE_FLAVOUR": "flavour",
    "DOCKSTAGE_WEB_PORT": "web_port",
    "DOCKSTAGE_WAIT_TIMEOUT": "wait_timeout",
    "DOCKSTAGE_ENV_FILE": "env_file",
    "DOCKSTAGE_STATE_DIR": "state_dir",
    "DOCKSTAGE_QUIET": "quiet",
    "DOCKSTAGE_DEBUG": "debug",
    "DOCKSTAGE_UID": "uid",
    "DOCKSTAGE_GID": "gid",
    "DOCKSTAGE_HUB_MIRROR": "hub_mirror",
}
_FLAGS = ("quiet", "debug", "ci")
SWARM_KEYS = (
    "DOCKSTAGE_REGISTRY_PORT",
    "DOCKSTAGE_REGISTRY_ADDRESS",
    "DOCKSTAGE_REGISTRY_PUSH",
    "DOCKSTAGE_REGISTRY_AUTH",
    "DOCKSTAGE_STACK",
    "DOCKSTAGE_PROXY_PORT",
    "DOCKSTAGE_WEB_REPLICAS",
    "DOCKSTAGE_ENDPOINT_MODE",
    "DOCKSTAGE_UPDATE_MONITOR",
)


def parse_env_file(text: str, source: str = ".env") -> dict[str, str]:
    """Parse KEY=VALUE lines the way compose does; refuse the rest by line and key, never value."""
    return dotenv.parse(text, source)


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of an env file, or {} when it does not exist."""
    if not path.is_file():
        return {}
    return dotenv.parse(dotenv.read_text(path), source=path.name)


def _layer(dotenv: Mapping[str, str], shell: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType({key: shell.get(key, value) for key, value in dotenv.items()})


def _coerce(field: str, raw: object, source: str) -> object:
    if field in ("web_port", "wait_timeout", "uid", "gid"):
        try:
            number = int(str(raw).strip())
        except ValueError:
            raise ConfigError(
                f"{source} is {raw!r}, not a number",
                "set it to a whole number (a TCP port 1-65535, or 0 for any free port)"
                if field == "web_port"
                else "set it to a whole number of seconds"
                if field == "wait_timeout"
                else "set it to a numeric id",
            ) from None
        return number
    if field in _FLAGS:
        return str(raw).strip().lower() in ("1", "true", "yes", "on")
    return str(raw).strip()


def _validated(settings: Settings) -> Settings:
    if settings.flavour not in FLAVOUR_CHOICES:
        raise ConfigError(
            f"unknown base flavour {settings.flavour!r}",
            f"set DOCKSTAGE_FLAVOUR to one of {', '.join(FLAVOUR_CHOICES)}",
        )
    if settings.hub_mirror and not re.fullmatch(r"[\w.-]+(:\d+)?(/[\w./-]*)?", settings.hub_mirror):
        raise ConfigError(
            f"DOCKSTAGE_HUB_MIRROR={settings.hub_mirror!r} is not a registry address",
            "give host[:port][/path] without a scheme, e.g. 127.0.0.1:5000 or registry.example.com/dockerhub",
        )
    if not 0 <= settings.web_port <= 65535:
        raise ConfigError(
            f"web port {settings.web_port} is out of range",
            "set DOCKSTAGE_WEB_PORT to a port between 1 and 65535 (0 picks a free one)",
        )
    if settings.wait_timeout <= 0:
        raise ConfigError("DOCKSTAGE_WAIT_TIMEOUT must be positive", "set it to a number of seconds")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", settings.project):
        raise ConfigError(
            f"compose project name {settings.project!r} is not valid",
            "use lowercase letters, digits, '-' and '_' (DOCKSTAGE_PROJECT)",
        )
    if not re.fullmatch(r"[a-z0-9][a-z0-9._/-]*", settings.image):
        raise ConfigError(
            f"image name {settings.image!r} is not a valid repository name",
            "use lowercase letters, digits, '.', '-', '_' and '/' (DOCKSTAGE_IMAGE)",
        )
    return settings


def _own_copies_exist(root: Path, values: dict[str, object]) -> None:
    """dockerfile, compose_dir and support_dir that [tool.dockstage] names (`dockstage init --eject`
    writes the keys) must exist; unnamed, they are the package's (Settings' defaults)."""
    for name in ("dockerfile", "compose_dir", "support_dir"):
        if name in values and not (root / str(values[name])).exists():
            raise ConfigError(
                f"[tool.dockstage] {name.replace('_', '-')} = {values[name]!r} does not exist",
                "fix the path, or remove the key to use the suite's own (`dockstage init --eject` copies them)",
            )


def load(
    root: Path,
    environ: Mapping[str, str] | None = None,
    **overrides: object,
) -> Settings:
    """Settings from pyproject, then .env, then the environment, then explicit overrides."""
    environ = os.environ if environ is None else environ
    root = root.resolve()
    values: dict[str, object] = {
        "ci": _coerce("ci", environ.get("CI", ""), "CI"),
        "docker_host": environ.get("DOCKER_HOST", ""),
        "uid": os.getuid(),
        "gid": os.getgid(),
        "ca_bundle": cabundle.find(environ),
        "npmrc": cabundle.npm_user_config(environ),
        "npm_ca": cabundle.npm_cafile(environ),
    }
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"pyproject.toml is not valid TOML ({exc})", "fix pyproject.toml") from None
        section = table.get("tool", {}).get("dockstage", {})
        app_values: dict[str, object] = {}
        for key, raw in section.items():
            name = key.replace("-", "_")
            if name not in FILE_KEYS:
                raise ConfigError(
                    f"unknown key {key!r} in [tool.dockstage]",
                    f"use one of {', '.join(sorted(k.replace('_', '-') for k in FILE_KEYS))}",
                )
            if name in APP_KEYS:
                app_values[name] = raw
            else:
                values[name] = _coerce(name, raw, f"[tool.dockstage] {key}")
        values["app"] = parse_app(app_values)
    _own_copies_exist(root, values)
    from_file = dict(values)
    env_name = str(environ.get("DOCKSTAGE_ENV_FILE") or overrides.get("env_file") or values.get("env_file") or ".env")
    dotenv = read_env_file(root / env_name)
    layered = {**dotenv, **environ}
    overridden = []
    for variable, name in _ENV_KEYS.items():
        if variable in layered and layered[variable] != "":
            source = variable if variable in environ else f"{variable} in {env_name}"
            values[name] = _coerce(name, layered[variable], source)
            if variable not in environ and name in FILE_KEYS and name in from_file and from_file[name] != values[name]:
                overridden.append(
                    f"{variable}={layered[variable]} in {env_name} overrides {name.replace('_', '-')} = "
                    f"{from_file[name]!r} in [tool.dockstage] (.env wins; remove the line to use pyproject's)"
                )
    values["overridden"] = tuple(overridden)
    values["shell"] = MappingProxyType(dict(environ))
    values["swarm"] = MappingProxyType({key: layered[key] for key in SWARM_KEYS if layered.get(key)})
    values["env"] = _layer(dotenv, environ)
    values.update(overrides)
    return _validated(Settings(root=root, **values))  # type: ignore[arg-type]
