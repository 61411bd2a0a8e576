"""The test image's entrypoint: the project's test command ([tool.dockstage] test-command).

dockstage runs `pytest -p no:cacheprovider --junitxml=/tmp/junit.xml ... [your args]` in the test
image. With pytest as the test command, that runs with the configured command in front. With
another (`python manage.py test`), the suite's pytest options are dropped, your args passed on, and
a junit report of the counts is written from the runner's summary, so results read the same way.
With no tests at all and no selection given, it says so and passes (0 tests); a selection that
finds nothing exits 5, as pytest does. Anything else (`bash`) runs as given.
The commands of [tool.dockstage] test-setup (DOCKSTAGE_TEST_SETUP, JSON argv lists, e.g.
`python manage.py compilejsi18n`) run first, in order; one failing stops the run with its exit.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

NO_TESTS = 5
DB_PROOF = "/tmp/dockstage-db.json"  # noqa: S108 - inside the test container; the pipeline copies it out
SUITE_OPTIONS = ("-p", "-o")  # the options dockstage adds, each with a value


def split_args(argv: list[str]) -> tuple[list[str], str, list[str]]:
    """(pytest options dockstage added, the junit path, the user's own arguments)."""
    ours, junit, rest = [], "", []
    words = iter(argv)
    for word in words:
        if word in SUITE_OPTIONS:
            ours += [word, next(words, "")]
        elif word.startswith("--junitxml="):
            junit = word.split("=", 1)[1]
            ours.append(word)
        else:
            rest.append(word)
    return ours, junit, rest


def unittest_counts(output: str) -> dict[str, int]:
    """tests/failures/errors/skipped from unittest's closing lines (`Ran 3 tests`, `FAILED (failures=1)`)."""
    summary = re.findall(r"^=+ (.*\d+ (?:passed|failed|errors?|skipped).*) in [\d.]+s.*=+$", output, flags=re.MULTILINE)
    if summary:  # a wrapped pytest (`sh -c "... && pytest"`): its closing line
        found = dict((word, int(n)) for n, word in re.findall(r"(\d+) (passed|failed|errors?|skipped)", summary[-1]))
        errors = found.get("error", 0) + found.get("errors", 0)
        failures, skipped = found.get("failed", 0), found.get("skipped", 0)
        total = found.get("passed", 0) + failures + errors + skipped
        return {"tests": total, "failures": failures, "errors": errors, "skipped": skipped}
    ran = re.findall(r"^Ran (\d+) tests? in", output, flags=re.MULTILINE)
    counts = {"tests": int(ran[-1]) if ran else 0, "failures": 0, "errors": 0, "skipped": 0}
    closing = re.findall(r"^(?:OK|FAILED)(?: \((.*)\))?\s*$", output, flags=re.MULTILINE)
    for part in (closing[-1] if closing else "").split(","):
        key, _, value = part.strip().partition("=")
        if key in counts and value.isdigit():
            counts[key] = int(value)
    return counts


_ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Failure)\b.*")


def last_error(output: str) -> str:
    """The line that says why a run stopped: the last exception line (`django.db.utils.OperationalError:
    (1050, ...)`), else the last non-empty line; at most 300 characters."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR_LINE.match(line)]
    line = errors[-1] if errors else lines[-1] if lines else ""
    if line.startswith("SystemCheckError:") and "ERRORS:" in lines:  # the first check it failed on, not its header
        first = lines[lines.index("ERRORS:") + 1 : lines.index("ERRORS:") + 2]
        line = f"SystemCheckError: {first[0]}" if first else line
    if line.startswith(("SyntaxError", "IndentationError", "TabError")):  # its message names no file
        where = re.findall(r'File "/app/([^"]+)", line (\d+)', output.rsplit(line, 1)[0])
        line += f" ({where[-1][0]}:{where[-1][1]})" if where else ""
    return line if len(line) <= 300 else line[:297] + "..."


def write_junit(path: str, counts: dict[str, int], command: list[str], stopped: str = "") -> None:
    """A junit report of the counts; `stopped`: why the runner ran no test (kept as the suite's system-err)."""
    attrs = " ".join(f'{k}="{v}"' for k, v in counts.items())
    name = quoteattr(" ".join(command))
    inner = f"<system-err>{escape(stopped)}</system-err>" if stopped else ""
    Path(path).write_text(
        f'<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name={name} {attrs}>{inner}</testsuite></testsuites>\n',
        encoding="utf-8",
    )


def setup() -> int:
    """Run the test-setup commands; the first failure's exit status (0 when all pass)."""
    for command in json.loads(os.environ.get("DOCKSTAGE_TEST_SETUP", "[]")):
        print(f"dockstage: test-setup: {' '.join(command)}", flush=True)
        code = subprocess.run(command, check=False).returncode
        if code:
            print(
                f"dockstage: test-setup `{' '.join(command)}` failed (exit {code}): fix it or test-setup in [tool.dockstage]",
                flush=True,
            )
            return code
    return 0


OVERLAY_MODULE = "dockstage_settings"  # the suite's settings overlay (dockstage/core/overlay.py)


def overlay_option(is_pytest: bool) -> list[str]:
    """pytest-django's --ds for the suite's test overlay, when it is on: a project's own `--ds` in
    its addopts (AsankaL/django-starter: --ds=core.settings.test, SQLite) beats the environment's
    DJANGO_SETTINGS_MODULE, and the tests ran on SQLite. The overlay imports that module itself."""
    if not is_pytest or os.environ.get("DJANGO_SETTINGS_MODULE") != OVERLAY_MODULE:
        return []
    return [f"--ds={OVERLAY_MODULE}"] if importlib.util.find_spec("pytest_django") else []


def with_db_proof(command: list[str], is_pytest: bool) -> list[str]:
    """The command with the hook that writes which database the tests used (dockstage_dbproof)."""
    os.environ["DOCKSTAGE_DB_PROOF"] = DB_PROOF
    if is_pytest:
        at = next(i for i, word in enumerate(command) if word in ("pytest", "py.test")) + 1
        return [*command[:at], "-p", "dockstage_dbproof", *command[at:]]
    if len(command) > 1 and command[0].startswith("python") and command[1].endswith("manage.py"):
        return [command[0], "-m", "dockstage_dbproof", *command[1:]]
    return command


def main(argv: list[str]) -> int:
    configured = json.loads(os.environ.get("DOCKSTAGE_TEST_COMMAND", '["pytest"]'))
    if argv and argv[0] not in ("pytest", "py.test"):
        os.execvp(argv[0], argv)  # noqa: S606 - a command given to the test image (`bash`), run as given
    code = setup()
    if code:
        return code
    ours, junit, rest = split_args(argv[1:])
    is_pytest = any(word in ("pytest", "py.test") for word in configured[:3])
    command = [*configured, *ours, *overlay_option(is_pytest), *rest] if is_pytest else [*configured, *rest]
    print(f"dockstage: {' '.join(command)}", flush=True)
    command = with_db_proof(command, is_pytest)
    if is_pytest:
        code = subprocess.run(command, check=False).returncode
        if code == NO_TESTS and not rest:
            print("dockstage: the app has no tests (pytest collected none); 0 tests pass", flush=True)
            if junit:
                write_junit(junit, {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}, command)
            return 0
        return code
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line)
    code = process.wait()
    output = "".join(lines)
    counts = unittest_counts(output)
    stopped = last_error(output) if code and counts["tests"] == 0 else ""
    if stopped:
        print(f"dockstage: the tests did not start (exit {code}): {stopped}", flush=True)
    passed_over = unfound_tests(Path.cwd()) if counts["tests"] == 0 and code == 0 and not rest else ""
    if junit:
        write_junit(junit, counts, command, stopped or passed_over)
    if counts["tests"] == 0 and code == 0:
        if rest:
            return NO_TESTS
        print(
            f"dockstage: the app has no tests (the runner ran none); 0 tests pass{passed_over and ': '}{passed_over}",
            flush=True,
        )
    return code


_SKIPPED_DIRS = ("node_modules", "site-packages", "__pycache__")


def unfound_tests(root: Path) -> str:
    """Test modules unittest's discovery (manage.py test) passes over: it looks in packages only, and
    a folder of tests without __init__.py is not one (bubaley's user/tests/test_user.py); '' if none."""
    found = []
    for path in sorted(root.rglob("test*.py")):
        parts = path.relative_to(root).parts
        if any(part.startswith(".") or part in _SKIPPED_DIRS for part in parts):
            continue
        folders = [root.joinpath(*parts[:depth]) for depth in range(1, len(parts))]
        bare = next((folder for folder in folders if not (folder / "__init__.py").is_file()), None)
        if bare is not None:
            found.append((str(path.relative_to(root)), str(bare.relative_to(root))))
    if not found:
        return ""
    named = ", ".join(f"{module} ({folder} has no __init__.py)" for module, folder in found[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return f"unittest's discovery passes over {named}{more}: add an empty __init__.py to each such folder"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
