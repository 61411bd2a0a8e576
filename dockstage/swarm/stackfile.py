"""compose.yaml + compose.swarm.yaml -> one version "3.9" file that `docker stack deploy` reads.

docker stack's loader is not compose v2's: it refuses compose.yaml (long-form `depends_on`,
nested `${A-${B:-x}}` defaults) and knows no `!reset`. So compose v2 merges and interpolates the
two files (`docker compose config`), and this module keeps what swarm uses, in the form the stack
schema wants, saying what it leaves out. Interpolation is done by then: `$` stays escaped as
`$$` (compose's output escapes it), so `docker stack deploy` unescapes it exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from dockstage.core.errors import ConfigError

STACK_VERSION = "3.9"
SECRET_FILES = "DOCKSTAGE_SECRET_FILES"  # noqa: S105 - a variable name, read by data/pythonpath/sitecustomize.py
KEPT = frozenset(
    {
        "cap_add",
        "cap_drop",
        "command",
        "configs",
        "deploy",
        "dns",
        "dns_search",
        "entrypoint",
        "environment",
        "extra_hosts",
        "healthcheck",
        "hostname",
        "image",
        "init",
        "labels",
        "logging",
        "networks",
        "ports",
        "read_only",
        "secrets",
        "stop_grace_period",
        "stop_signal",
        "stdin_open",
        "sysctls",
        "tty",
        "ulimits",
        "user",
        "volumes",
        "working_dir",
    }
)
"""Service keys swarm applies; the rest (depends_on, restart, security_opt, ...) is compose-only."""
# How the compose-only keys are covered in swarm, for the notes.
INSTEAD = {
    "depends_on": "the migrate job and healthchecks order the rollout",
    "restart": "deploy.restart_policy",
    "security_opt": "not settable on swarm services with engine 20.10",
}


def _prune(value: Any) -> Any:
    """Drop None and empty mappings, recursively."""
    if isinstance(value, Mapping):
        kept = {k: _prune(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in kept.items() if v != {}}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _ports(name: str, ports: Iterable[Mapping[str, Any]], notes: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for port in ports:
        entry: dict[str, Any] = {"target": int(port["target"])}
        if port.get("published") not in (None, ""):
            entry["published"] = int(str(port["published"]).split("-")[0])
        entry["protocol"] = port.get("protocol") or "tcp"
        entry["mode"] = port.get("mode") or "ingress"
        if port.get("host_ip"):
            notes.append(f"{name}: port {entry['target']} binds every interface of the node (swarm has no host_ip)")
        out.append(entry)
    return out


def _volumes(service: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for volume in service.get("volumes") or []:
        entry = {k: volume[k] for k in ("type", "source", "target", "read_only") if volume.get(k) not in (None, "")}
        if volume.get("type") == "bind" and (volume.get("bind") or {}).get("propagation"):
            entry["bind"] = {"propagation": volume["bind"]["propagation"]}
        if volume.get("type") == "volume" and (volume.get("volume") or {}).get("nocopy"):
            entry["volume"] = {"nocopy": True}
        if volume.get("type") == "tmpfs" and (volume.get("tmpfs") or {}).get("size"):
            entry["tmpfs"] = {"size": int(volume["tmpfs"]["size"])}
        out.append(entry)
    # Service-level `tmpfs:` is compose-only; swarm gets the same as tmpfs mounts.
    targets = {v["target"] for v in out}
    for path in service.get("tmpfs") or []:
        target = str(path).split(":", 1)[0]  # compose's `path:uid=...` options have no swarm form
        if target not in targets:
            out.append({"type": "tmpfs", "target": target})
    return out


def _service(name: str, service: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    dropped = sorted(k for k in service if k not in KEPT and k != "tmpfs" and service[k] not in (None, [], {}))
    if dropped:
        notes.append(
            f"{name}: compose-only, not applied: "
            + ", ".join(f"{k} ({INSTEAD[k]})" if k in INSTEAD else k for k in dropped)
        )
    out: dict[str, Any] = {k: v for k, v in service.items() if k in KEPT and v is not None}
    if "environment" in out:
        out["environment"] = {k: str(v) for k, v in out["environment"].items() if v is not None}
    if service.get("ports"):
        out["ports"] = _ports(name, service["ports"], notes)
    else:
        out.pop("ports", None)
    volumes = _volumes(service)
    if volumes:
        out["volumes"] = volumes
    else:
        out.pop("volumes", None)
    networks = out.get("networks")
    if isinstance(networks, Mapping):
        out["networks"] = (
            sorted(networks) if all(v is None for v in networks.values()) else {k: v or {} for k, v in networks.items()}
        )
    return _prune(out)  # type: ignore[no-any-return]


def _top(kind: str, items: Mapping[str, Any], project: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in items.items():
        entry = dict(item or {})
        # compose names them <project>_<key>; the stack namespaces them itself (<stack>_<key>).
        if not entry.get("external") and entry.get("name") == f"{project}_{key}":
            del entry["name"]
        if kind == "networks" and not entry.get("external"):
            if not entry.get("ipam"):
                entry.pop("ipam", None)
            entry.setdefault("driver", "overlay")
        out[key] = _prune(entry)
    return out


def convert(merged: Mapping[str, Any], project: str) -> tuple[dict[str, Any], list[str]]:
    """The stack file for `docker compose config --format json` output of project `project`,
    and one note per option it leaves out."""
    notes: list[str] = []
    services = merged.get("services") or {}
    if not services:
        raise ConfigError(
            "the merged compose files define no services",
            "check the services of compose.yaml and compose.swarm.yaml in your compose-dir",
        )
    doc: dict[str, Any] = {"version": STACK_VERSION}
    doc["services"] = {name: _service(name, services[name], notes) for name in sorted(services)}
    for kind in ("networks", "volumes", "secrets", "configs"):
        if merged.get(kind):
            doc[kind] = _top(kind, merged[kind], project)
    return doc, notes


def render(doc: Mapping[str, Any]) -> str:
    """The stack file's text (JSON, which is YAML too)."""
    return json.dumps(doc, indent=2) + "\n"


def check_no_secrets(text: str, secrets: Iterable[str]) -> None:
    """Refuse a stack file that would carry a secret's value (in a service's environment)."""
    leaked = [s for s in secrets if len(s) >= 6 and (s in text or s.replace("$", "$$") in text)]
    if leaked:
        raise ConfigError(
            "a secret's value would end up in the stack file (a service's environment)",
            "remove that variable from the services' environment with `!reset null` in compose.swarm.yaml (`dockstage init --eject` gives you a copy to edit)",
        )


def without_jobs(doc: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`doc` with each `replicated-job` service turned into a one-shot replicated service (one
    task, restarted only on failure): the form docker CLIs before 23.0 can deploy."""
    out: dict[str, Any] = json.loads(json.dumps(doc))
    changed = []
    for name, service in out["services"].items():
        deploy = service.get("deploy") or {}
        if deploy.get("mode") == "replicated-job":
            deploy["mode"] = "replicated"
            deploy["replicas"] = 1
            deploy.setdefault("restart_policy", {}).setdefault("condition", "on-failure")
            changed.append(name)
    return out, changed


def without(doc: Mapping[str, Any], *services: str) -> dict[str, Any]:
    """`doc` without some services (deployed without --prune, those are left as they run)."""
    out: dict[str, Any] = json.loads(json.dumps(doc))
    for name in services:
        out["services"].pop(name, None)
    return out


def secrets_as_files(
    doc: Mapping[str, Any],
    placeholders: Mapping[str, str],
    names: Mapping[str, str],
    app_services: Collection[str] = (),
) -> dict[str, Any]:
    """`doc` with every environment variable whose value is a secret's placeholder (placeholder
    -> secret key in the stack file) replaced by <VAR>_FILE=/run/secrets/<key>, that secret
    attached to the service and declared (external, named `names[key]`). A placeholder inside a
    longer value (a URL) cannot be a file: refused, as is one left anywhere else.

    `app_services` run the prod image: their DOCKSTAGE_SECRET_FILES lists the VARs, which the
    image's sitecustomize reads back from the files, for an app that reads only <VAR>."""
    out: dict[str, Any] = json.loads(json.dumps(doc))
    declared = out.setdefault("secrets", {})
    for name, service in out["services"].items():
        env: dict[str, str] = service.get("environment") or {}
        attached = {s["source"] if isinstance(s, Mapping) else s for s in service.get("secrets") or []}
        as_files: list[str] = []
        for variable, value in list(env.items()):
            key = placeholders.get(value)
            if key is None:
                if any(p in value for p in placeholders):
                    raise ConfigError(
                        f"{name}: {variable} embeds a secret in a longer value, and swarm hands secrets over as files",
                        "give the app the secret on its own (a *_FILE variable it reads) instead",
                    )
                continue
            del env[variable]
            env[f"{variable}_FILE"] = f"/run/secrets/{key}"
            as_files.append(variable)
            if key not in attached:
                service.setdefault("secrets", []).append({"source": key, "target": key})
                attached.add(key)
        if as_files and name in app_services:
            env[SECRET_FILES] = ",".join(sorted(as_files))
        for key in attached:
            if key not in declared and key in names:
                declared[key] = {"name": names[key], "external": True}
    left = [p for p in placeholders if p in json.dumps(out["services"])]
    if left:
        raise ConfigError(
            f"a secret's placeholder is left in the stack file ({placeholders[left[0]]})",
            "secrets reach swarm services only through environment variables (as *_FILE)",
        )
    return out


def reached_by_name(doc: Mapping[str, Any], endpoint_mode: str) -> dict[str, Any]:
    """`doc` with `endpoint_mode` on every service that sets none and publishes no ingress port
    (what compose.swarm.yaml gives its own services, for those the project adds: workers, redis,
    its compose files'); swarm refuses dnsrr beside an ingress port, so those keep the default."""
    out: dict[str, Any] = json.loads(json.dumps(doc))
    for service in out["services"].values():
        ingress = any(p.get("mode", "ingress") == "ingress" for p in service.get("ports") or [])
        if not ingress:
            service.setdefault("deploy", {}).setdefault("endpoint_mode", endpoint_mode)
    return out


def as_workers(doc: Mapping[str, Any], workers: Iterable[str], image: str) -> dict[str, Any]:
    """`doc` with each worker on the release's `image` (compose's names the local prod tag), one
    task, replaced stop-first (two copies of a scheduler must not run side by side), rolled back by
    swarm when the new one fails, restarted whenever it exits."""
    out: dict[str, Any] = json.loads(json.dumps(doc))
    for name in workers:
        service = out["services"][name]
        service["image"] = image
        deploy = service.setdefault("deploy", {})
        deploy.setdefault("replicas", 1)
        deploy.setdefault("update_config", {"order": "stop-first", "failure_action": "rollback"})
        deploy.setdefault("restart_policy", {"condition": "any", "delay": "5s"})
    return out
