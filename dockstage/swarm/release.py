"""`invoke release`: the prod image, tagged with an immutable version, pushed, its digest recorded.

The version is the git commit's short sha (plus `-dirty` when tracked files have uncommitted
changes) or the one given. The images the stack runs beside it (the database, the proxy) are
pushed too, so a release is the whole set of images a deploy needs, each pinned by digest.
Releases are recorded in `.dockstage/releases.json`; deploys read them from there.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from dockstage.core import files, gitinfo
from dockstage.core.config import Settings
from dockstage.core.errors import ConfigError, StackError
from dockstage.core.report import Reporter
from dockstage.flows.run import Run
from dockstage.images import provenance, sbom
from dockstage.images import services as images
from dockstage.swarm import registry
from dockstage.swarm.options import SwarmOptions

VERSION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")  # a Docker tag


@dataclass(frozen=True)
class Release:
    """One pushed version of the prod image."""

    version: str
    image: str  # repository name, as in Settings.image
    ref: str  # as pushed: 127.0.0.1:<port>/<image>:<version>
    digest: str  # sha256:... manifest digest
    source: str  # the local tag it came from (<image>:prod)
    source_id: str  # that image's id
    commit: str  # git commit ("" when not a checkout)
    dirty: bool
    created: str  # ISO 8601, UTC
    # role (web, mysql, proxy) -> repository:tag@digest in the registry, without its address
    images: dict[str, str]
    sbom: str = ""  # sha256 of its CycloneDX SBOM (sbom_path); "" for releases recorded before SBOMs

    def pinned(self, role: str, address: str) -> str:
        """The image of `role` as the nodes pull it: <address>/<repository>:<tag>@<digest>."""
        return f"{address}/{self.images[role]}"


def git_version(root: Path, head: gitinfo.Commit | None, dirty: bool) -> str:
    """The version a release of the checkout at `root` gets by default: its HEAD's short sha,
    `-dirty` when tracked files changed."""
    if head is None:
        raise ConfigError(
            f"{root} is not a git checkout with a commit, so there is no version to name the release",
            "give one: `{release} --version 1.2.3`",
        )
    return f"{head.short}-dirty" if dirty else head.short


def releases_path(settings: Settings) -> Path:
    """Where releases are recorded."""
    return settings.path(settings.state_dir) / "releases.json"


def load(settings: Settings) -> list[Release]:
    """Every recorded release, oldest first."""
    path = releases_path(settings)
    if not path.is_file():
        return []
    try:
        rows = json.loads(path.read_text(encoding="utf-8")).get("releases", [])
        return [Release(**row) for row in rows]
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"{path} is not a releases file ({exc})", "move it away; `{release}` writes a new one"
        ) from None


def find(settings: Settings, version: str) -> Release | None:
    """The recorded release of `version` of this image, if any."""
    return next((r for r in reversed(load(settings)) if r.version == version and r.image == settings.image), None)


def latest(settings: Settings) -> Release | None:
    """The newest recorded release of this image."""
    return next((r for r in reversed(load(settings)) if r.image == settings.image), None)


def _record(settings: Settings, release: Release) -> Path:
    path = releases_path(settings)
    kept = [r for r in load(settings) if not (r.version == release.version and r.image == release.image)]
    body = json.dumps({"releases": [asdict(r) for r in [*kept, release]]}, indent=2) + "\n"
    files.write_private(path, body)
    return path


def sbom_path(settings: Settings, version: str) -> Path:
    """Where the SBOM of a release of this image is kept, beside the release records."""
    return settings.path(settings.state_dir) / "sbom" / f"{settings.image.replace('/', '_')}-{version}.cdx.json"


def make_sbom(run: Run, source: str, version: str) -> str:
    """The CycloneDX JSON of `source` (a built prod image) as `version`, on the run's python base."""
    base = run.bases().python
    found = sbom.inventory(run.docker, source)
    return sbom.document(found, run.settings.image, version, base, provenance.base_digest(run.docker, base))


def show_changes(reporter: Reporter, before: Release | None, text: str, settings: Settings) -> list[sbom.Change]:
    """Print what this release's SBOM changed against the release before it (added, removed,
    changed packages) in a short table; the first release says what it holds."""
    old = sbom_path(settings, before.version) if before is not None and before.sbom else None
    if before is None or old is None or not old.is_file():
        python, debian = sbom.counts(text)
        reporter.ok(f"SBOM: {python} Python distributions, {debian} Debian packages, the base by digest")
        return []
    found = sbom.changes(old.read_text(encoding="utf-8"), text)
    if not found:
        reporter.ok(f"SBOM: the same packages as {before.version}")
        return []
    reporter.table(
        f"packages changed since {before.version}",
        ("change", "kind", "package", "before", "after"),
        ((c.what, c.kind, c.name, c.before or "-", c.after or "-") for c in found),
    )
    return found


def support_images(run: Run) -> dict[str, str]:
    """The images the stack runs beside the app: the database (the run's bases: official mysql
    or the MariaDB stand-in), the proxy (official nginx, or the stand-in) and the services of
    [tool.dockstage] services (redis: official, or the stand-in); built if missing."""
    base = run.provided_bases("mysql")  # with the services' stand-ins
    found = {
        "mysql": base.mysql,
        "proxy": images.resolve(run.docker, images.PROXY, run.reporter, run.settings.hub_mirror),
    }
    return found | {name: getattr(base, name) for name in run.settings.app.services}


def release(
    run: Run,
    version: str | None = None,
    *,
    options: SwarmOptions | None = None,
    source: str | None = None,
    allow_dirty: bool = False,
) -> Release:
    """Tag <image>:prod (or `source`) as <registry>/<image>:<version>, push it, record the digest.

    From a checkout whose tracked files changed since its commit only with `allow_dirty`: the
    release would name a commit its image was not built from."""
    run.preflight()
    settings, docker, reporter = run.settings, run.docker, run.reporter
    options = options or SwarmOptions.from_settings(settings)
    source = source or settings.tag("prod")
    head, dirty = gitinfo.head(settings.root), bool(gitinfo.dirty(settings.root))  # read once
    if dirty and not allow_dirty:
        raise StackError(
            "tracked files have uncommitted changes, so no commit names what the prod image was built from",
            "commit them, rebuild and release; or release this tree anyway: `{release} --allow-dirty`",
        )
    if not docker.image.exists(source):
        raise StackError(f"{source} is not built", "build it first: `{build}`")
    if version is None:
        version = git_version(settings.root, head, dirty)
    elif not VERSION.fullmatch(version):
        raise ConfigError(
            f"{version!r} is not a valid image tag",
            "use letters, digits, '_', '.' and '-' (at most 128, not starting with '.' or '-')",
        )
    commit = head.sha if head else ""
    source_id = docker.image.inspect(source).id
    previous = find(settings, version)
    if previous and previous.source_id != source_id and not version.endswith("-dirty"):
        raise StackError(
            f"version {version} was already released from another image ({previous.digest[:19]}); versions are immutable",
            "commit the change (a new sha) or give another --version",
        )
    address = options.push_address()
    if options.local_registry and not registry.wait_ready(options.registry_port, timeout=3):
        raise StackError(f"no registry answers on {address}", "start it: `{registry}`")
    before = latest(settings)
    document = make_sbom(run, source, version)  # before the push: an image it cannot read is not released
    sbom_digest = hashlib.sha256(document.encode("utf-8")).hexdigest()
    reporter.step(f"release {source} as {address}/{settings.image}:{version}")
    # What is pushed carries its SBOM's digest (the document is kept beside the record).
    ref = f"{address}/{settings.image}:{version}"
    provenance.with_labels(docker, source, {sbom.LABEL: f"sha256:{sbom_digest}"}, ref)
    pushed = registry.push(docker, ref, address, f"{settings.image}:{version}")
    roles = {"web": pushed}
    for role, ref in support_images(run).items():
        reporter.info(f"{role}: {ref}")
        roles[role] = registry.push(docker, ref, address)
    made = Release(
        version=version,
        image=settings.image,
        ref=pushed.ref,
        digest=pushed.digest,
        source=source,
        source_id=source_id,
        commit=commit,
        dirty=dirty,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        images={role: p.pinned(address).split("/", 1)[1] for role, p in roles.items()},
        sbom=sbom_digest,
    )
    files.write_private(sbom_path(settings, version), document, mode=0o644)
    path = _record(settings, made)
    where = path.relative_to(settings.root) if path.is_relative_to(settings.root) else path
    built_from = f"{commit[:12]} with uncommitted changes (--allow-dirty)" if dirty else (commit[:12] or "no commit")
    reporter.ok(f"released {made.ref} digest {made.digest} from {built_from} (recorded in {where})")
    show_changes(reporter, before, document, settings)
    return made


def sbom_of(run: Run, version: str | None = None, output: str | None = None) -> str:
    """The SBOM of a recorded release (`version`), or of the prod image as built now; printed, or
    written to `output`. Returns the document."""
    settings = run.settings
    if version:
        path = sbom_path(settings, version)
        if find(settings, version) is None or not path.is_file():
            raise ConfigError(
                f"no SBOM is recorded for release {version} of {settings.image}",
                "releases record one since this version of dockstage: `{release}`; for the image as built now, leave out --version",
            )
        document = path.read_text(encoding="utf-8")
    else:
        run.preflight()
        source = settings.tag("prod")
        if not run.docker.image.exists(source):
            raise StackError(f"{source} is not built", "build it first: `{build}`")
        commit = gitinfo.head(settings.root)
        document = make_sbom(run, source, commit.short if commit else "prod")
    if output:
        files.write_private(Path(output), document, mode=0o644)
        python, debian = sbom.counts(document)
        run.reporter.ok(f"SBOM written to {output}: {python} Python distributions, {debian} Debian packages")
    else:
        run.reporter.raw(document)
    return document
