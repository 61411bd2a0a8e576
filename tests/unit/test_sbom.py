"""sbom: the CycloneDX document from an image's inventory, and what changed between two."""

from __future__ import annotations

import json
import subprocess
import sys

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from dockstage.images import sbom

BASE_DIGEST = "sha256:" + "ab" * 32


def _inventory(**python: str) -> sbom.Inventory:
    return sbom.Inventory(
        python=[{"name": name, "version": version, "license": "BSD-3-Clause"} for name, version in python.items()],
        debian=[
            {"name": "libmariadb3", "version": "1:10.11.6-0+deb12u1", "arch": "amd64"},
            {"name": "tzdata", "version": "2024a-0+deb12u1", "arch": "all"},
        ],
    )


def test_the_document_validates_and_names_each_package_with_its_version() -> None:
    text = sbom.document(
        _inventory(Django="5.2.1", mysqlclient="2.2.4"), "acme/shop", "1a2b3c4", "python:3.12-slim", BASE_DIGEST
    )
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    purls = {c["purl"] for c in doc["components"] if "purl" in c}
    assert {"pkg:pypi/django@5.2.1", "pkg:pypi/mysqlclient@2.2.4"} <= purls
    assert "pkg:deb/debian/libmariadb3@1:10.11.6-0%2Bdeb12u1?arch=amd64" in purls
    (base,) = [c for c in doc["components"] if c["type"] == "container"]
    assert base["name"] == "python:3.12-slim" and base["hashes"] == [{"alg": "SHA-256", "content": "ab" * 32}]
    assert doc["metadata"]["component"]["name"] == "acme/shop" and doc["metadata"]["component"]["version"] == "1a2b3c4"
    django = next(c for c in doc["components"] if c["name"] == "Django")
    assert django["licenses"] == [{"license": {"id": "BSD-3-Clause"}}]
    assert sbom.counts(text) == (2, 2)


def test_a_licence_that_is_no_spdx_id_is_kept_by_name() -> None:
    found = sbom.Inventory(python=[{"name": "odd", "version": "1", "license": "Some Custom Licence"}], debian=[])
    text = sbom.document(found, "acme/shop", "v1", "base", "")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    (odd,) = [c for c in json.loads(text)["components"] if c["name"] == "odd"]
    assert odd["licenses"] == [{"license": {"name": "Some Custom Licence"}}]


def test_changes_between_two_releases() -> None:
    before = sbom.document(_inventory(Django="5.2.1", six="1.16.0"), "a", "v1", "b", BASE_DIGEST)
    after = sbom.document(_inventory(Django="5.2.2", requests="2.32.3"), "a", "v2", "b", BASE_DIGEST)
    found = sbom.changes(before, after)
    assert [(c.what, c.kind, c.name, c.before, c.after) for c in found] == [
        ("changed", "pypi", "django", "5.2.1", "5.2.2"),
        ("added", "pypi", "requests", "", "2.32.3"),
        ("removed", "pypi", "six", "1.16.0", ""),
    ]
    assert sbom.changes(before, before) == []


def test_the_front_ends_load_without_the_sbom_library() -> None:
    """cyclonedx-python-lib loads only when a document is made: its serializer logs every model it
    registers at debug level, which nox's log shows (800 lines before each session's output)."""
    code = "import sys, dockstage.frontends.noxsessions, dockstage.frontends.invoketasks; print('cyclonedx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
