"""`.env` files read the way compose reads them, checked before compose sees them.

Compose prints a value it cannot parse (a secret, often) inside a traceback; this parser says
which line and which key are wrong and never shows a value.
"""

from __future__ import annotations

import re
from pathlib import Path

from dockstage.core.errors import ConfigError

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLAIN = re.compile(r"^[A-Za-z0-9_./:,@%+=-]*$")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "$": "$"}
"""What a backslash means inside double quotes (compose's dotenv), including `quoted`'s own (below)."""


def read_text(path: Path) -> str:
    """The file's text; bytes that are not UTF-8 are refused naming the line (and its key)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        number = data.count(b"\n", 0, exc.start) + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        head, sep, _ = data[start : exc.start].partition(b"=")  # the key, when the bad bytes are in its value
        key = head.decode("ascii", "replace").strip().removeprefix("export ").strip()
        where = f"line {number}" + (f" ({key})" if sep and _KEY.match(key) else "")
        raise ConfigError(
            f"{path.name} {where} holds bytes that are not UTF-8",
            f"save {path.name} as UTF-8 (re-type that value)",
        ) from None


def parse(text: str, source: str = ".env") -> dict[str, str]:
    """KEY=VALUE lines: `export`, comments, single quotes (literal), double quotes (escapes,
    several lines), unquoted values with ` #` comments. A line that is none of these is refused
    by number and key only: a value is never part of a message."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index]
        index += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        key, sep, rest = stripped.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key):
            what = "has no '='" if not sep else "does not start with a variable name"
            raise ConfigError(
                f"{source} line {number} is not KEY=VALUE (it {what})", f"fix or remove that line in {source}"
            )
        rest = rest.strip()
        if rest[:1] in ("'", '"'):
            value, index = _quoted(rest, lines, index, number, key, source)
        else:
            value = rest.split(" #", 1)[0].rstrip() if " #" in rest else rest
        values[key] = value
    return values


def _quoted(rest: str, lines: list[str], index: int, number: int, key: str, source: str) -> tuple[str, int]:
    """The value of a quoted `rest` (it may run on over the next lines) and the next line's index."""
    quote, text, out = rest[0], rest[1:], []
    while True:
        position = 0
        while position < len(text):
            char = text[position]
            if char == "\\" and quote == '"' and position + 1 < len(text):
                following = text[position + 1]
                out.append(_ESCAPES.get(following, "\\" + following))
                position += 2
                continue
            if char == quote:
                tail = text[position + 1 :].strip()
                if tail and not tail.startswith("#"):
                    raise ConfigError(
                        f"{source} line {number} ({key}) has text after its closing quote",
                        f"put a '#' before a comment, or quote the whole value of {key}",
                    )
                return "".join(out), index
            out.append(char)
            position += 1
        if index >= len(lines):
            kind = "double" if quote == '"' else "single"
            escaped = f" (a \\{quote} inside the value does not close it)" if quote == '"' else ""
            raise ConfigError(
                f"{source} line {number} ({key}) opens a {kind} quote that is never closed",
                f"close the quote of {key} in {source}{escaped}",
            )
        out.append("\n")
        text = lines[index]
        index += 1


def quoted(value: str) -> str:
    """A value as a .env line holds it so that compose's env-file parser and parse() read it back
    unchanged (no interpolation): as it is, single-quoted (literal), or double-quoted with its
    backslashes, quotes, $ and newlines escaped."""
    if _PLAIN.match(value):
        return value
    if "'" not in value and "\n" not in value:
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("\n", "\\n")
    return f'"{escaped}"'
