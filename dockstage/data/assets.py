"""Build helper (assets stage): the project's front-end build, and only its output for stage.

`python3 assets.py SRC OUT`, in SRC (the app dir): `npm ci` (`npm install` without a lock) where
package.json is (the command's --prefix, SRC, else one or two levels down, e.g. assets/), then in SRC ASSETS_COMMAND (JSON argv, e.g. ["npm", "run", "build"]). Every file the build made or changed
outside node_modules is copied to OUT at the same path, and so is each path of ASSETS_OUTPUT (JSON,
relative to SRC: e.g. node_modules when STATICFILES_DIRS reads from it). The host's npm config and CA arrive as the BuildKit secrets `npmrc`
and `npm_cert` (read in place, never copied).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

SECRETS = Path("/run/secrets")


def snapshot(root: Path) -> dict[str, float]:
    """Every file under root outside node_modules -> its modification time."""
    seen = {}
    for here, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "node_modules"]
        for name in filenames:
            path = Path(here) / name
            seen[path.relative_to(root).as_posix()] = path.stat().st_mtime
    return seen


def made(before: dict[str, float], after: dict[str, float]) -> list[str]:
    """The files a build wrote: new ones and changed ones."""
    return sorted(p for p, mtime in after.items() if before.get(p) != mtime)


def npm_environment(environ: dict[str, str]) -> dict[str, str]:
    env = {**environ, "NPM_CONFIG_UPDATE_NOTIFIER": "false", "NPM_CONFIG_FUND": "false", "NPM_CONFIG_AUDIT": "false"}
    if (SECRETS / "npmrc").is_file() and (SECRETS / "npmrc").stat().st_size:
        env["NPM_CONFIG_USERCONFIG"] = str(SECRETS / "npmrc")
    if (SECRETS / "npm_cert").is_file() and (SECRETS / "npm_cert").stat().st_size:
        env["NPM_CONFIG_CAFILE"] = env["NODE_EXTRA_CA_CERTS"] = str(SECRETS / "npm_cert")
    return env


def package_dir(src: Path, command: list[str] | None = None) -> Path:
    """Where npm installs: the command's `--prefix DIR` when it names one with a package.json, else
    SRC when it holds package.json, else the first directory one, then two levels down that does
    (assets/, frontend/, theme/static_src/...; never in node_modules or a hidden folder), as
    `dockstage init` picks it."""
    words = command or []
    for flag, value in itertools.pairwise(words):
        if flag == "--prefix" and (src / value / "package.json").is_file():
            return src / value
    if (src / "package.json").is_file():
        return src
    for pattern in ("*/package.json", "*/*/package.json"):
        below = sorted(
            p.parent
            for p in src.glob(pattern)
            if p.is_file()
            and not any(part == "node_modules" or part.startswith(".") for part in p.relative_to(src).parts[:-1])
        )
        if below:
            return below[0]
    return src


NOT_FOUND = re.compile(r"^(?:sh|/bin/sh|bash): (?:\d+: )?([\w.@/-]+): (?:command )?not found", re.M)
"""The shell's words when a package.json script runs a command nothing installed."""


TAILWIND_BINDING = re.compile(r"Cannot find module '@tailwindcss/oxide-[\w-]+'|tailwindcss-oxide\.[\w-]+\.node")
"""Tailwind CSS 4's native binding failing to load (seen on Debian bookworm's Node 18 and npm 9)."""
NEWEST_NODE_NEEDED = 20


def old_node_for_tailwind(output: str, node_version: str) -> str:
    """The cause when Tailwind CSS 4's native binding did not load under a Node older than it
    needs (bomino/geoconsulting on bookworm's Node 18), else ''."""
    major = re.match(r"v?(\d+)", node_version.strip())
    if not major or int(major.group(1)) >= NEWEST_NODE_NEEDED or not TAILWIND_BINDING.search(output):
        return ""
    return (
        f"Tailwind CSS 4's native binding did not load, and Tailwind 4 needs Node.js {NEWEST_NODE_NEEDED} or "
        f"newer: this assets stage has Node {node_version.strip()}"
    )


def node_version() -> str:
    """`node --version` in this stage ('' when it does not answer)."""
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def run_shown(step: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """Run a step with its output shown as it comes; its exit status, the command its script
    could not find (exit 127: a tool the author had installed globally), if any, and its output."""
    process = subprocess.Popen(step, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    missing = ""
    output = []
    for line in process.stdout or ():
        sys.stdout.write(line)
        output.append(line)
        found = NOT_FOUND.match(line)
        missing = found.group(1) if found else missing
    sys.stdout.flush()
    return process.wait(), missing, "".join(output)


OPENSSL_LEGACY = "--openssl-legacy-provider"
OPENSSL_REFUSED = "ERR_OSSL_EVP_UNSUPPORTED"
"""webpack 4 (react-scripts 4 and older) hashes with MD4, which Node 17+'s OpenSSL 3 refuses."""


def run_step(step: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """run_shown, and once more with OpenSSL's legacy provider when webpack 4 met Node 17+'s
    OpenSSL 3 (encouragemint's react-scripts 3 on bookworm's Node 18), saying so."""
    code, missing, output = run_shown(step, cwd, env)
    options = env.get("NODE_OPTIONS", "")
    if code and OPENSSL_REFUSED in output and OPENSSL_LEGACY not in options:
        print(
            f"dockstage: {OPENSSL_REFUSED}: webpack 4 hashes with MD4, which this Node's OpenSSL 3 refuses; "
            f"building again with NODE_OPTIONS={OPENSSL_LEGACY} (webpack 5, react-scripts 5, needs none)",
            flush=True,
        )
        code, missing, output = run_shown(step, cwd, {**env, "NODE_OPTIONS": f"{options} {OPENSSL_LEGACY}".strip()})
    return code, missing, output


def failure_line(step: str, code: int, missing_tool: str, old_node: str = "") -> str:
    """The helper's one line (cause; fix) for a failed npm step."""
    if old_node:
        return (
            f'dockstage: error: `{step}` failed in the assets stage: {old_node}; fix: set flavour = "trixie" in '
            "[tool.dockstage] (its Node is 20), or keep tailwindcss at 3 in package.json"
        )
    if missing_tool:
        return (
            f"dockstage: error: `{step}` failed in the assets stage: it runs {missing_tool}, which package.json does "
            f"not install; fix: add {missing_tool}'s package to devDependencies in package.json (a tool installed "
            "globally on a developer's machine is not in the image), or set assets-command in [tool.dockstage]"
        )
    return (
        f"dockstage: error: `{step}` failed (exit {code}) in the assets stage (its output is above); fix: fix "
        "package.json's script, or set assets-command in [tool.dockstage]"
    )


def main(src: Path, out: Path) -> int:
    command = [str(w) for w in json.loads(os.environ.get("ASSETS_COMMAND", "[]"))]
    outputs = [str(p).strip("/") for p in json.loads(os.environ.get("ASSETS_OUTPUT", "[]"))]
    env = npm_environment(dict(os.environ))
    package = package_dir(src, command)
    lock = any((package / name).is_file() for name in ("package-lock.json", "npm-shrinkwrap.json"))
    before = snapshot(src)
    for step, cwd in ((["npm", "ci"] if lock else ["npm", "install"], package), (command, src)):
        if not step:
            continue
        where = "" if cwd == src else f" (in {cwd.relative_to(src)})"
        print(f"dockstage: {shlex.join(step)}{where}", flush=True)
        code, missing_tool, output = run_step(step, cwd, env)
        if code:
            old_node = old_node_for_tailwind(output, node_version()) if TAILWIND_BINDING.search(output) else ""
            print(failure_line(shlex.join(step), code, missing_tool, old_node), file=sys.stderr)
            return code
    files = [*made(before, snapshot(src)), *outputs]
    missing = [p for p in files if not (src / p).exists()]
    if missing:
        print(
            f"dockstage: assets-output {', '.join(missing)} not found after the build: fix assets-output",
            file=sys.stderr,
        )
        return 1
    out.mkdir(parents=True, exist_ok=True)
    for relative in files:
        source, target = src / relative, out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target, follow_symlinks=False)
    shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    print(f"dockstage: assets for stage: {shown or 'none'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
