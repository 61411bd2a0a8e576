"""A CycloneDX SBOM of a built image, made offline: the Python distributions of its venv (with
versions and licences), the Debian packages of its dpkg status, and the base image by digest.

What is in the image is read by the image's own Python in one container with no network; the
document is written by cyclonedx-python-lib. `changes` compares two SBOMs: what a release added,
removed or upgraded.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from python_on_whales import DockerClient

from dockstage.core.errors import docker_errors

if TYPE_CHECKING:
    from cyclonedx.model.component import Component

# cyclonedx-python-lib is imported where a document is made, not with the package: its serializer
# logs each model it registers at debug level (into nox's log, which shows debug lines).
logging.getLogger("py_serializable").setLevel(logging.WARNING)

# Run by the image's python (/opt/venv's, first on PATH): its distributions and its dpkg status.
LABEL = "dockstage.sbom.digest"
"""The label of a released image: sha256:<hex> of its SBOM document (the file beside the release record)."""
_READ = r"""
import importlib.metadata as md, json, os
dists = {}
for dist in md.distributions():
    meta = dist.metadata
    name = meta.get("Name")
    if not name:
        continue
    licence = meta.get("License-Expression") or ""
    if not licence:
        text = (meta.get("License") or "").strip()
        licence = text if text and "\n" not in text and len(text) < 80 else ""
    if not licence:
        licence = "; ".join(c.split(" :: ")[-1] for c in (meta.get_all("Classifier") or []) if c.startswith("License ::"))
    dists[name.lower()] = {"name": name, "version": dist.version, "license": licence}
debs, entry = [], {}
status = "/var/lib/dpkg/status"
for line in (open(status, encoding="utf-8", errors="replace").read().split("\n") if os.path.exists(status) else []) + [""]:
    if not line:
        if entry.get("Status", "").endswith(" installed") and entry.get("Package"):
            debs.append({"name": entry["Package"], "version": entry.get("Version", ""), "arch": entry.get("Architecture", "")})
        entry = {}
    elif not line[0].isspace() and ":" in line:
        key, _, value = line.partition(":")
        entry[key] = value.strip()
print(json.dumps({"python": sorted(dists.values(), key=lambda d: d["name"].lower()), "debian": debs}))
"""


@dataclass(frozen=True)
class Inventory:
    """What one image holds."""

    python: list[dict[str, str]]  # name, version, license
    debian: list[dict[str, str]]  # name, version, arch


def inventory(docker: DockerClient, image: str) -> Inventory:
    """Read the image's Python distributions and Debian packages (one container, no network)."""
    with docker_errors(f"reading what {image} holds"):
        out = docker.run(image, ["-c", _READ], entrypoint="python", remove=True, networks=["none"])
    found = json.loads(str(out).strip().splitlines()[-1])
    return Inventory(found["python"], found["debian"])


def _component(kind: str, name: str, version: str, licence: str = "", arch: str = "") -> Component:
    from cyclonedx.contrib.license.factories import LicenseFactory
    from cyclonedx.model.component import Component, ComponentType
    from packageurl import PackageURL

    purl = (
        PackageURL("pypi", name=name.lower(), version=version)
        if kind == "pypi"
        else PackageURL("deb", "debian", name, version, {"arch": arch} if arch else None)
    )
    licences = [LicenseFactory().make_from_string(licence)] if licence else []
    return Component(
        type=ComponentType.LIBRARY,
        name=name,
        version=version,
        purl=purl,
        bom_ref=purl.to_string(),
        licenses=licences,
    )


def document(found: Inventory, image: str, version: str, base: str, base_digest: str) -> str:
    """The CycloneDX 1.6 JSON of `image` at `version` built on `base` (its digest)."""
    from cyclonedx.contrib.hash.factories import HashTypeFactory
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6

    bom = Bom()
    bom.metadata.component = Component(type=ComponentType.CONTAINER, name=image, version=version, bom_ref=image)
    base_part = Component(
        type=ComponentType.CONTAINER,
        name=base,
        version=base_digest,
        bom_ref=f"base:{base}",
        hashes=[HashTypeFactory().from_composite_str(base_digest)] if base_digest.startswith("sha256:") else [],
    )
    parts = [
        base_part,
        *(_component("pypi", d["name"], d["version"], d.get("license", "")) for d in found.python),
        *(_component("deb", d["name"], d["version"], arch=d.get("arch", "")) for d in found.debian),
    ]
    for part in parts:
        bom.components.add(part)
    bom.register_dependency(bom.metadata.component, parts)  # the image holds each of them
    return JsonV1Dot6(bom).output_as_string(indent=2)


def counts(text: str) -> tuple[int, int]:
    """(Python distributions, Debian packages) an SBOM lists."""
    kinds = [kind for kind, _ in _packages(text)]
    return kinds.count("pypi"), kinds.count("deb")


@dataclass(frozen=True)
class Change:
    """One package between two SBOMs: added, removed or upgraded (a version change)."""

    kind: str  # "pypi" | "deb"
    name: str
    before: str  # "" when added
    after: str  # "" when removed

    @property
    def what(self) -> str:
        return "added" if not self.before else "removed" if not self.after else "changed"


def _packages(text: str) -> dict[tuple[str, str], str]:
    doc = json.loads(text)
    found = {}
    for component in doc.get("components", []):
        purl = component.get("purl", "")
        if purl.startswith(("pkg:pypi/", "pkg:deb/")):
            kind = purl[4:].split("/", 1)[0]
            found[(kind, component["name"].lower() if kind == "pypi" else component["name"])] = component.get(
                "version", ""
            )
    return found


def changes(before: str, after: str) -> list[Change]:
    """What `after` (an SBOM's JSON) added, removed and changed against `before`, by kind and name."""
    old, new = _packages(before), _packages(after)
    return [
        Change(kind, name, old.get((kind, name), ""), new.get((kind, name), ""))
        for kind, name in sorted(old.keys() | new.keys())
        if old.get((kind, name)) != new.get((kind, name))
    ]
