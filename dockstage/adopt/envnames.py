"""The environment names a project's settings read, sorted into what the suite provides.

Reads `os.environ["X"]`, `os.environ.get("X")`, `os.getenv("X")`, django-environ's `env("X")` /
`env.str("X")` / `env.db()`, python-decouple's `config("X")` and any helper called with an
UPPER_CASE name first (`env_str("DB_HOST")`). Each name goes to a suite value by the DATABASES key
that reads it ('HOST': os.environ['MYSQL_HOSTNAME']), else by its words (DB_HOST -> database-host,
SECRET_KEY -> secret-key), or stays the app's own."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_READ = re.compile(
    r"""(?:environ\s*\[\s*|\b[\w.]*\(\s*)["']([A-Z][A-Z0-9_]*)["']""",
)
_DB_KEY = re.compile(
    r"""["'](HOST|PORT|NAME|USER|PASSWORD)["']\s*:\s*[^,\n]*?"""
    r"""(?:environ\s*\[\s*|\b[\w.]*\(\s*)["']([A-Z][A-Z0-9_]*)["']"""
)
_DB_KEY_VALUES = {
    "HOST": "database-host",
    "PORT": "database-port",
    "NAME": "database-name",
    "USER": "database-user",
    "PASSWORD": "database-password",
}
_DATABASES_START = re.compile(r"^[ \t]*DATABASES\b.*$", re.MULTILINE)
_DB_URL_DEFAULT = re.compile(r"\benv\.db(?:_url)?\(\s*\)|dj_database_url\.(?:config|parse)\(\s*(?:\)|default=|conn_)")
_DB_WORDS = ("DB", "DATABASE", "MYSQL", "MARIADB", "SQL", "POSTGRES", "PG")
IGNORED = {"DJANGO_SETTINGS_MODULE", "PATH", "HOME", "PYTHONPATH"}
SECRET_KEY_NAMES = ("SECRET_KEY", "DJANGO_SECRET_KEY", "DJANGO_SECRET", "APP_SECRET_KEY", "SITE_SECRET_KEY")
_ENGINE_WORDS = ("ENGINE", "BACKEND", "TYPE", "VENDOR")


@dataclass
class Names:
    """What the settings read: suite value -> names, fixed values to set, the app's own names."""

    mapping: dict[str, list[str]] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    debug_values: tuple[str, str] = ("false", "true")
    others: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        shown = ", ".join(f"{value} -> {'/'.join(names)}" for value, names in self.mapping.items())
        lines = [f"environment the settings read: {shown or 'none of the suite values'}"]
        if self.fixed:
            lines.append(f"fixed values: {', '.join(f'{k}={v}' for k, v in self.fixed.items())}")
        if self.others:
            lines.append(
                f"the app's own names (set them in .env; they reach the app as they are): {', '.join(self.others)}"
            )
        return lines


def suite_value(name: str) -> str:
    """The suite value an environment name stands for ('' when none)."""
    words = set(name.split("_"))
    if name in SECRET_KEY_NAMES:
        return "secret-key"
    if name == "DEBUG" or (name.endswith("_DEBUG") and not name.startswith(("TEMPLATE", "SQL"))):
        return "debug"
    if "ALLOWED" in words and "HOSTS" in words:
        return "allowed-hosts"
    database = bool(words & set(_DB_WORDS)) or name.startswith(_DB_WORDS)
    if name.endswith("DATABASE_URL") or name in ("DB_URL", "DB_URI", "DATABASE_URI"):
        return "database-url"
    if not database:
        return ""
    for word, value in (
        ("HOST", "database-host"),
        ("HOSTNAME", "database-host"),
        ("SERVER", "database-host"),
        ("PORT", "database-port"),
        ("USER", "database-user"),
        ("USERNAME", "database-user"),
        ("PASSWORD", "database-password"),
        ("PASS", "database-password"),
        ("PWD", "database-password"),
        ("PASSWD", "database-password"),
        ("NAME", "database-name"),
    ):
        if word in words:
            return value
    if name in ("MYSQL_DATABASE", "DB_DATABASE", "DATABASE_DB", "DB_DB", "DATABASE_NAME"):
        return "database-name"
    return ""


def databases_keys(code: str) -> dict[str, str]:
    """name -> suite value for the names a DATABASES dict reads under its own keys ('HOST':
    os.environ['MYSQL_HOSTNAME'] is the host whatever the name says; t-sweets/tpay's settings)."""
    found: dict[str, str] = {}
    lines = code.splitlines()
    for start in _DATABASES_START.finditer(code):
        first = code.count("\n", 0, start.start())
        block = [lines[first]]
        for line in lines[first + 1 :]:
            if line.strip() and not line[:1].isspace() and not line.lstrip().startswith(("}", ")", "]")):
                break  # the next statement at the module's level: the dict has ended
            block.append(line)
        for key, name in _DB_KEY.findall("\n".join(block)):
            found.setdefault(name, _DB_KEY_VALUES[key])
    return found


def classify(settings_text: str) -> Names:
    """Sort the names `settings_text` reads (comments ignored)."""
    code = "\n".join(
        line.split("#", 1)[0] if not line.lstrip().startswith(("'", '"')) else line
        for line in settings_text.splitlines()
    )
    names = Names()
    read = list(dict.fromkeys(_READ.findall(code)))
    keyed = databases_keys(code)
    for name in read:
        if name in IGNORED:
            continue
        value = keyed.get(name) or suite_value(name)
        if value:
            names.mapping.setdefault(value, []).append(name)
        elif (set(name.split("_")) & set(_DB_WORDS) and set(name.split("_")) & set(_ENGINE_WORDS)) or name in (
            "DB",
            "DATABASE",
        ):
            names.fixed[name] = "django.db.backends.mysql" if "ENGINE" in name or "BACKEND" in name else "mysql"
            names.notes.append(
                f"the settings read {name} to pick the database: set to {names.fixed[name]!r} (env-values); check it"
            )
        else:
            names.others.append(name)
    if re.search(r"""["']True["']""", code) and not re.search(r"""["'](?:true|1|yes|on)["']""", code):
        names.debug_values = ("False", "True")  # the settings compare with "True": the suite spells it so
    if _DB_URL_DEFAULT.search(code) and "database-url" not in names.mapping:
        names.mapping["database-url"] = ["DATABASE_URL"]
    if not any(v.startswith("database-") for v in names.mapping):
        names.notes.append(
            "the settings do not read the database from the environment: make DATABASES read e.g. DB_HOST, "
            "DB_PORT, DB_NAME, DB_USER, DB_PASSWORD (or DATABASE_URL) and run init again"
        )
    if "secret-key" not in names.mapping:
        names.notes.append("SECRET_KEY is not read from the environment: read it (e.g. SECRET_KEY) before you ship")
    if "allowed-hosts" not in names.mapping:
        names.notes.append("ALLOWED_HOSTS is not read from the environment: the smoke test sends Host: localhost")
    return names
