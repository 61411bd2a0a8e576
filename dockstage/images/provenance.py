"""The OCI provenance labels every built stage carries: where its code came from and what it is
built on (org.opencontainers.image.* of the OCI image spec's annotations).

`created` is the commit's time, not the build's: a stage built twice from one commit is one image
(BuildKit's cache holds, `invoke up` keeps web), as reproducible builds do with SOURCE_DATE_EPOCH.
Outside a git checkout only the base is labelled.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from dockstage.core import gitinfo
from dockstage.core.errors import BuildError, docker_detail, docker_errors

PREFIX = "org.opencontainers.image."


def base_digest(docker: DockerClient, image: str) -> str:
    """The base image's digest: its registry digest when it was pulled, else its local id (a
    stand-in built here has no registry); "" when the engine does not know it."""
    try:
        found = docker.image.inspect(image)
    except DockerException:
        return ""
    pulled = [digest.split("@", 1)[1] for digest in (found.repo_digests or []) if "@" in digest]
    return pulled[0] if pulled else str(found.id or "")


def labels(root: Path, docker: DockerClient, base: str) -> dict[str, str]:
    """The provenance labels of a build of the checkout at `root` on `base`."""
    found = {f"{PREFIX}base.name": base}
    digest = base_digest(docker, base)
    if digest:
        found[f"{PREFIX}base.digest"] = digest
    commit = gitinfo.head(root)
    if commit is not None:
        found[f"{PREFIX}revision"] = commit.sha
        found[f"{PREFIX}version"] = f"{commit.short}-dirty" if gitinfo.dirty(root) else commit.short
        found[f"{PREFIX}created"] = commit.time
        if commit.source:
            found[f"{PREFIX}source"] = commit.source
    return found


def with_labels(docker: DockerClient, source: str, extra: Mapping[str, str], tag: str) -> str:
    """`source` with `extra` labels added, as `tag`: the same layers, one config more (FROM + LABEL,
    no layer of its own); its labels and settings are kept."""
    lines = [f"FROM {source}", *(f"LABEL {json.dumps(key)}={json.dumps(value)}" for key, value in extra.items())]
    with tempfile.TemporaryDirectory(prefix="dockstage-label-") as context:
        dockerfile = Path(context) / "Dockerfile"
        dockerfile.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with docker_errors(
            f"labelling {source}",
            otherwise=lambda exc: BuildError(
                f"labelling {source} as {tag} failed", "is it still built? `{build}`", detail=docker_detail(exc)
            ),
        ):
            docker.buildx.build(context, file=dockerfile, tags=[tag], load=True, pull=False, progress=False)
    return tag
