"""Build helper (stage): copy the app dir into prod minus what prod does not need.

`python prune.py SRC DST` with PROD_EXCLUDE, a JSON list of patterns matched against each path
relative to SRC: `*` and `?` stay within one directory, a leading `**/` matches at any depth, a
trailing `/` matches directories only. Everything else is copied (templates, static sources, data
files, a CHANGELOG read at import); the build log lists what was left out.
"""

import json
import os
import re
import shutil
import sys
from pathlib import Path


def compile_pattern(pattern: str) -> tuple[re.Pattern[str], bool]:
    """A pattern as a regex over relative paths, and whether it matches directories only."""
    directory = pattern.endswith("/")
    text, out, i = pattern.rstrip("/"), "", 0
    while i < len(text):
        if text.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif text.startswith("**", i):
            out, i = out + ".*", i + 2
        elif text[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif text[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(text[i]), i + 1
    return re.compile(out + r"\Z"), directory


def prune(src: Path, dst: Path, patterns: list[str]) -> tuple[int, list[str]]:
    """Copy src to dst without the excluded paths; (files copied, paths left out)."""
    rules = [compile_pattern(p) for p in patterns]
    copied, left_out = 0, []

    def excluded(relative: str, is_dir: bool) -> bool:
        return any(rx.match(relative) and (is_dir or not dirs_only) for rx, dirs_only in rules)

    for here, dirnames, filenames in os.walk(src):
        base = Path(here).relative_to(src)
        for name in sorted(dirnames):
            relative = (base / name).as_posix()
            if excluded(relative, True):
                dirnames.remove(name)
                left_out.append(relative + "/")
            else:
                (dst / relative).mkdir(parents=True, exist_ok=True)
        for name in sorted(filenames):
            relative = (base / name).as_posix()
            if excluded(relative, False):
                left_out.append(relative)
                continue
            target = dst / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(here) / name, target, follow_symlinks=False)
            copied += 1
    return copied, left_out


if __name__ == "__main__":
    source, destination = Path(sys.argv[1]), Path(sys.argv[2])
    count, dropped = prune(source, destination, json.loads(os.environ.get("PROD_EXCLUDE", "[]")))
    print(f"dockstage: {count} files of the app copied into prod; left out: {', '.join(dropped) or 'nothing'}")
