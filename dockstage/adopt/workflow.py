"""The CI files `dockstage init` writes for an adopted project: a GitHub Actions workflow (unless
--no-ci) and, with --gitlab, a .gitlab-ci.yml. Both run the nox sessions a person runs.

Rendered from data (the project's Python, the dockstage version): the flavour matrix is official
plus each stand-in flavour whose Python fits the project; with a stand-in, the GitHub workflow gets
a `bases` job that builds it once per run (as root: debootstrap), caches the saved images across
runs and hands them to the legs, as this repository's own workflow does.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockstage.core import resources
from dockstage.images.bases import FLAVOURS, flavours_for, stand_in

GITHUB = ".github/workflows/dockstage.yml"
GITLAB = ".gitlab-ci.yml"
SESSIONS = ("build_prod", "test_image", "smoke_prod")
"""The pipeline's parts, one step each (a red step names what failed); `nox -s pipeline` is all of them."""
RUNNER = "ubuntu-24.04"
HOST_PYTHON = "3.12"  # the runner's Python runs nox and dockstage only; the app's Python is the image's
REPORTS = ".dockstage/reports/"
GITLAB_TAG = "docker-host"


def package() -> str:
    """The requirement the CI installs: the dockstage this init ran from, pinned."""
    return f"dockstage=={resources.version()}"


@dataclass(frozen=True)
class Matrix:
    """The flavours a project's CI runs on and the stand-ins among them."""

    python: str
    flavours: tuple[str, ...]

    @classmethod
    def of(cls, python: str) -> Matrix:
        return cls(python, flavours_for(python) or ("official",))

    @property
    def stand_ins(self) -> tuple[str, ...]:
        return tuple(f for f in self.flavours if f in FLAVOURS)

    def describe(self) -> str:
        """'official, trixie (Python 3.13)' for the comments and init's line."""
        return ", ".join(
            f"{f} ({stand_in(f).python}, {stand_in(f).mysql})" if f in FLAVOURS else f for f in self.flavours
        )


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(values) + "]"


_PIP_CACHE = """\
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        id: python
        with:
          python-version: "{host_python}"
      - uses: actions/cache@v4
        with:
          path: ~/.cache/pip
          key: pip-${{{{ runner.os }}}}-py${{{{ steps.python.outputs.python-version }}}}-${{{{ env.DOCKSTAGE_PACKAGE }}}}-${{{{ hashFiles('pyproject.toml') }}}}
          restore-keys: pip-${{{{ runner.os }}}}-py${{{{ steps.python.outputs.python-version }}}}-
      - run: python -m pip install "$DOCKSTAGE_PACKAGE"
"""

_BASES_JOB = """\
  # The stand-in bases: Debian-built Python and MariaDB images, for machines that cannot pull.
  # Built once per flavour per run, as root (debootstrap makes a root filesystem), saved with
  # `docker save | gzip`, cached across runs (keyed on the dockstage version, the flavour and the
  # month, so Debian's updates come in monthly) and handed to the legs as an artifact.
  bases:
    runs-on: {runner}
    timeout-minutes: 30
    strategy:
      fail-fast: false
      matrix:
        flavour: {stand_ins}
    steps:
{setup}      - id: month
        run: echo "month=$(date -u +%Y-%m)" >> "$GITHUB_OUTPUT"
      - id: cache
        uses: actions/cache@v4
        with:
          path: ${{{{ runner.temp }}}}/bases
          key: dockstage-bases-${{{{ matrix.flavour }}}}-${{{{ env.DOCKSTAGE_PACKAGE }}}}-${{{{ steps.month.outputs.month }}}}
      - name: Build the ${{{{ matrix.flavour }}}} stand-ins as root (debootstrap)
        if: steps.cache.outputs.cache-hit != 'true'
        run: |
          sudo apt-get update -qq
          sudo apt-get install -y -qq --no-install-recommends debootstrap
          sudo -E env "PATH=$PATH" nox -s bases -- ${{{{ matrix.flavour }}}}
      - name: Save them (docker save | gzip)
        if: steps.cache.outputs.cache-hit != 'true'
        env:
          FLAVOUR: ${{{{ matrix.flavour }}}}
        run: |
          # This runner is fresh: every dockstage/* image on it is one of this flavour's stand-ins.
          mapfile -t images < <(docker image ls --format '{{{{.Repository}}}}:{{{{.Tag}}}}' --filter 'reference=dockstage/*')
          printf 'saving %s\\n' "${{images[@]}}"
          [ "${{#images[@]}}" -ge 2 ] || {{ echo "expected the python and mariadb stand-ins, found: ${{images[*]}}" >&2; exit 1; }}
          mkdir -p "$RUNNER_TEMP/bases"
          docker save "${{images[@]}}" | gzip -1 > "$RUNNER_TEMP/bases/$FLAVOUR.tar.gz"
          ls -l "$RUNNER_TEMP/bases"
      - uses: actions/upload-artifact@v4
        with:
          name: dockstage-bases-${{{{ matrix.flavour }}}}
          path: ${{{{ runner.temp }}}}/bases/${{{{ matrix.flavour }}}}.tar.gz
          compression-level: 0  # already gzipped
          retention-days: 1
          if-no-files-found: error

"""

_LOAD = """\
      - uses: actions/download-artifact@v4
        if: {only_stand_ins}
        with:
          name: dockstage-bases-${{{{ matrix.flavour }}}}
          path: ${{{{ runner.temp }}}}/bases
      - name: Load the stand-in bases
        if: {only_stand_ins}
        run: for f in "$RUNNER_TEMP"/bases/*.tar.gz; do docker load -i "$f"; done
"""


def github(python: str, nox: str = "nox") -> str:
    """The GitHub Actions workflow for a project needing Python `python` (`nox`: how nox is run on
    the suite's sessions, `nox -f noxfile.dockstage.py` beside a project's own noxfile)."""
    matrix = Matrix.of(python)
    setup = _PIP_CACHE.format(host_python=HOST_PYTHON)
    stand_ins = matrix.stand_ins
    official_too = "official" in matrix.flavours
    only_stand_ins = "matrix.flavour != 'official'" if official_too else "true"
    header = f"""\
# dockstage: CI for this project, written by `dockstage init` ({package()}); yours to edit.
# init keeps this file once it exists (`dockstage init --force` replaces it; --no-ci skips it).
#
# Each leg runs the nox sessions a person runs, one step each, so a red step names what failed:
# build_prod (dev, stage, prod; `check --deploy`), test_image (the app's tests in the test image
# against MySQL) and smoke_prod (db, migrate and gunicorn from the prod image, checked over HTTP).
# `nox -s pipeline` runs the same in one step. The steps of a leg share one engine, so the later
# ones reuse the BuildKit layers build_prod made. Layers are not kept across runs: the suite builds
# with the engine's own builder (the only one that sees the loaded stand-ins), which cannot export
# its cache to GitHub's.
#
# No provisioning: the hosted runner's own Docker engine (buildx, compose v2) is used, and nothing
# of dockstage's repository is needed here; dockstage comes from PyPI (DOCKSTAGE_PACKAGE below; or
# install it from your requirements file instead).
#
# Flavours: official (python:<version>-slim and mysql:8.4, pulled from Docker Hub)"""
    if stand_ins:
        header += f""",
# and {" and ".join(stand_ins)}: the stand-in bases (built from Debian, for machines that cannot pull)
# whose Python fits this project (python = "{python}"). Drop them from both matrices if yours can pull."""
    else:
        header += f""": no stand-in
# flavour's Python fits this project (python = "{python}")."""
    header += """
# pip's downloads are cached per job, keyed on pyproject.toml and the dockstage version.
name: dockstage
on:
  push:
    branches: [main, master]
  pull_request:
  workflow_dispatch:

permissions:
  contents: read

# A new push to a pull request cancels its older run; every push to a branch runs to the end.
concurrency:
  group: dockstage-${{ github.event.pull_request.number || github.run_id }}
  cancel-in-progress: true

defaults:
  run:
    shell: bash  # bash -eo pipefail: `docker save | gzip` fails when docker save does

env:
  CI: "true"
  PIP_DISABLE_PIP_VERSION_CHECK: "1"
"""
    header += f'  DOCKSTAGE_PACKAGE: "{package()}"\n\njobs:\n'
    bases = _BASES_JOB.format(runner=RUNNER, stand_ins=_list(stand_ins), setup=setup) if stand_ins else ""
    needs = "    needs: bases\n" if stand_ins else ""
    load = _LOAD.format(only_stand_ins=only_stand_ins) if stand_ins else ""
    steps = "".join(f"      - run: nox -s {session}\n" for session in SESSIONS)
    legs = f"""\
  # One leg per flavour: {matrix.describe()}.
  dockstage:
{needs}    runs-on: {RUNNER}
    timeout-minutes: 60
    strategy:
      fail-fast: false
      matrix:
        flavour: {_list(matrix.flavours)}
    env:
      DOCKSTAGE_FLAVOUR: ${{{{ matrix.flavour }}}}
    steps:
{setup}{load}      - run: nox -s doctor
{steps}      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: dockstage-reports-${{{{ matrix.flavour }}}}
          path: {REPORTS}
          if-no-files-found: ignore
"""
    return _with_nox(header + bases + legs, nox)


def gitlab(python: str, image: str, nox: str = "nox") -> str:
    """The .gitlab-ci.yml for a project needing Python `python` whose images are named `image`."""
    matrix = Matrix.of(python)
    stand_ins = ", ".join(matrix.stand_ins)
    bases_note = (
        f"""
# Stand-in flavours ({stand_ins}): their images must be in the runner's engine; build them there
# once, as root (debootstrap): `sudo nox -s bases -- <flavour>`. Drop them below if it can pull."""
        if matrix.stand_ins
        else ""
    )
    sessions = "".join(f"    - nox -s {session}\n" for session in SESSIONS)
    stages = " ".join(f'"$DOCKSTAGE_IMAGE:{s}"' for s in ("dev", "test", "stage", "prod"))
    text = f"""\
# dockstage: CI for this project, written by `dockstage init --gitlab` ({package()}); yours to edit.
# init keeps this file once it exists (`dockstage init --gitlab --force` replaces it).
#
# Runner: the smoke checks speak HTTP to 127.0.0.1, where the engine publishes the app's port, so
# the jobs need a runner that shares the Docker host's loopback: a shell executor on a machine with
# Docker (buildx, compose v2) and python3, registered with the tag `{GITLAB_TAG}` (or change `tags`).
# Docker-in-Docker (services: docker:dind) publishes ports on the service, not on 127.0.0.1.
# dockstage comes from PyPI (DOCKSTAGE_PACKAGE) into the job's .venv; pip's downloads are cached
# in .dockstage/cache (the build context leaves out both).
# Flavours: {matrix.describe()}.{bases_note}
# Each job's images and stacks carry its job id (one engine serves every job); its images are
# removed after it.
stages: [test]

variables:
  DOCKSTAGE_PACKAGE: "{package()}"
  PIP_CACHE_DIR: "$CI_PROJECT_DIR/.dockstage/cache/pip"
  PIP_DISABLE_PIP_VERSION_CHECK: "1"
  DOCKSTAGE_IMAGE: "{image}-ci-$CI_JOB_ID"
  DOCKSTAGE_PROJECT: "{image}-ci-$CI_JOB_ID"

dockstage:
  stage: test
  tags: [{GITLAB_TAG}]
  timeout: 1h
  parallel:
    matrix:
      - DOCKSTAGE_FLAVOUR: {_list(matrix.flavours)}
  cache:
    key:
      files: [pyproject.toml]
      prefix: pip
    paths: [.dockstage/cache/pip]
  before_script:
    - python3 -m venv .venv
    - .venv/bin/python -m pip install "$DOCKSTAGE_PACKAGE"
    - export PATH="$CI_PROJECT_DIR/.venv/bin:$PATH"
    - nox -s doctor
  script:
{sessions}  after_script:
    - docker image rm -f {stages} || true
  artifacts:
    when: always
    paths: [{REPORTS}]
    reports:
      junit: {REPORTS}junit-app.xml
"""
    return _with_nox(text, nox)


def _with_nox(text: str, nox: str) -> str:
    """The workflow with its nox command lines run as `nox` (a side noxfile: `nox -f FILE`)."""
    return text if nox == "nox" else text.replace("nox -s ", f"{nox} -s ")
