"""Checks of a running prod stack over real HTTP on 127.0.0.1.

The checks are data ([[tool.dockstage.smoke]], the bundled app's notes API by default): each is
one request (method, path, JSON body, a bearer token from an .env key) and what the answer must
be (status, JSON fields, a substring; a hashed static file it links to). After them, the suite
checks that gunicorn served. A failing check names itself; on a 5xx the start of the body shows (smoke-urls: the page's title).
"""

from __future__ import annotations

import fnmatch
import html
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dockstage.core import loopback
from dockstage.core.appconfig import SmokeCheck
from dockstage.core.errors import SmokeCheckFailed
from dockstage.core.report import Reporter

if TYPE_CHECKING:
    from dockstage.core.config import Settings

FORWARDED_HTTPS = {"X-Forwarded-Proto": "https"}
_PLACEHOLDER = re.compile(r"\{(\w+)\.([\w.]+)\}")
_HASHED_STATIC = re.compile(rb'(/static/[^"\'\s]+\.[0-9a-f]{12}\.(?:css|js))')


def fetch(url: str, *, method: str = "GET", body: object = None, token: str | None = None) -> loopback.Response:
    """One request to the stack on 127.0.0.1 (the one loopback client), as the TLS proxy in front
    of gunicorn would send it (the healthcheck does the same): an app that redirects plain HTTP
    to HTTPS answers instead of redirecting. A redirect is returned, not followed."""
    return loopback.fetch(url, method=method, body=body, token=token, headers=FORWARDED_HTTPS)


def dig(document: object, dotted: str) -> object:
    """`results.0.id` of a JSON document (KeyError/IndexError when absent)."""
    for part in dotted.split("."):
        if isinstance(document, list):
            document = document[int(part)]
        elif isinstance(document, dict):
            document = document[part]
        else:
            raise KeyError(dotted)
    return document


def fill(value: Any, saved: Mapping[str, object]) -> Any:
    """`value` with `{name.key}` placeholders replaced from saved answers (a whole placeholder keeps its type)."""
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole:
            return dig(saved[whole.group(1)], whole.group(2))
        return _PLACEHOLDER.sub(lambda m: str(dig(saved[m.group(1)], m.group(2))), value)
    if isinstance(value, dict):
        return {k: fill(v, saved) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, saved) for v in value]
    return value


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)


def _static(base: str, page: loopback.Response) -> str:
    links = _HASHED_STATIC.findall(page.body)
    _expect(bool(links), "the page links no hashed static file (collectstatic/whitenoise missing)")
    static = fetch(base + links[0].decode())
    cache = static.headers.get("cache-control", "")
    _expect(
        static.status == 200 and "max-age=315360000" in cache,
        f"{links[0].decode()} gave {static.status}, Cache-Control {cache!r}",
    )
    return f"; {links[0].decode()} served with '{cache}'"


REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5


def same_site(url: str, location: str) -> str:
    """The path (and query) a redirect from `url` to `location` goes to, when it stays on the
    stack's site (the same host and port, or localhost, the Host the requests send); '' otherwise."""
    target = urllib.parse.urlsplit(urllib.parse.urljoin(url, location))
    if target.netloc not in (urllib.parse.urlsplit(url).netloc, "localhost") or not location:
        return ""
    return (target.path or "/") + (f"?{target.query}" if target.query else "")


def run_check(base: str, check: SmokeCheck, values: Mapping[str, str], saved: dict[str, object]) -> str:
    """One check; its result line, or AssertionError saying what differed."""
    path = fill(check.path, saved)
    token = values.get(check.auth, "") if check.auth else None
    if check.auth and not token:
        raise AssertionError(f"{check.auth} is empty in .env (the check sends it as the bearer token)")
    r = fetch(base + path, method=check.method, body=fill(check.body, saved), token=token)
    via: list[str] = []
    while check.follow and r.status in REDIRECTS and len(via) < MAX_REDIRECTS:
        target = same_site(base + (via[-1] if via else path), r.headers.get("location", ""))
        if not target:
            break
        via.append(target)
        r = fetch(base + target, token=token)
    shown = f"{check.method} {path} gave {r.status}" + (f" (via {' -> '.join(via)})" if via else "")
    if r.status != check.status:
        location = r.headers.get("location", "")
        said = page_text(r.body) if _TITLE.search(r.body) else r.excerpt()  # an HTML page: its title
        detail = f" (to {location})" if location else f": {said!r}" if r.status >= 500 or check.status < 400 else ""
        raise AssertionError(f"{shown}, not {check.status}{detail}")
    line = f"{shown}"
    if check.expect or check.save:
        document = r.json()
        for key, wanted in fill(dict(check.expect), saved).items():
            got = dig(document, key)
            _expect(got == wanted, f"{shown} with {key} = {got!r}, not {wanted!r}")
        if check.save:
            saved[check.save] = document
        if check.expect:
            line += f", {', '.join(check.expect)} as expected"
    if check.contains:
        _expect(check.contains.encode() in r.body, f"{shown} without {check.contains!r} in the page")
    if check.static:
        line += _static(base, r)
    return line


def check_gunicorn(base: str, path: str) -> str:
    r = fetch(f"{base}{path}")
    server = r.headers.get("server", "")
    _expect("gunicorn" in server.lower(), f"Server header is {server!r}, not gunicorn")
    return f"served by {server}"


def run_http_checks(base: str, reporter: Reporter, settings: Settings) -> list[str]:
    """Run the app's HTTP checks ([tool.dockstage] smoke) in order; raise SmokeCheckFailed
    naming the first one that fails."""
    checks = settings.app.smoke_checks
    values: Mapping[str, str] = settings.env
    health = settings.app.health_path
    saved: dict[str, object] = {}
    passed = []
    for check in checks:
        name = check.label
        try:
            line = run_check(base, check, values, saved)
        except (AssertionError, *loopback.NO_ANSWER, ValueError, KeyError, IndexError) as exc:
            unread = isinstance(exc, KeyError | IndexError)  # a JSON key or index the answer lacks
            reason = f"no {exc} in the answer" if unread else str(exc) or type(exc).__name__
            reporter.fail(f"smoke {name}: {reason}")
            raise SmokeCheckFailed(name, reason) from None
        reporter.ok(f"smoke {name}: {line}")
        passed.append(line)
    try:
        line = check_gunicorn(base, health)
    except (AssertionError, *loopback.NO_ANSWER) as exc:
        reporter.fail(f"smoke gunicorn: {exc}")
        raise SmokeCheckFailed("gunicorn", str(exc)) from None
    reporter.ok(f"smoke gunicorn: {line}")
    return [*passed, line]


MAX_URLS = 200  # a bounded crawl: at most this many GETs, one at a time
SHOWN_FAILURES = 10  # failing URLs named one a line; the rest counted
SHOWN_TEXT = 80  # characters of a failing page's title (or first line of text)
SKIP_KEY = "smoke-skip"
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAG = re.compile(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", re.I | re.S)


def page_text(body: bytes) -> str:
    """What a page says in one short line: its <title>, else its first line of text (tags removed)."""
    title = _TITLE.search(body)
    text = title.group(1).decode("utf-8", "replace") if title else ""
    if not text.strip():
        plain = _TAG.sub("\n", body[:20000].decode("utf-8", "replace"))
        text = next((line for line in plain.splitlines() if line.strip()), "")
    text = html.unescape(" ".join(text.split()))
    return text if len(text) <= SHOWN_TEXT else text[: SHOWN_TEXT - 3] + "..."


def skipped(path: str, patterns: Sequence[str]) -> bool:
    """Whether `path` matches one of the smoke-skip glob patterns (`*` spans `/` too)."""
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)


def crawl(base: str, paths: list[str], reporter: Reporter, skip: Sequence[str] = ()) -> str:
    """GET every path (the URLconf's parameterless URLs, as the prod image resolved them, less those
    smoke-skip matches) through the proxy headers, following nothing. Every 5xx (or no answer) is
    one line, status and the page's title; any fails the check, naming them all (bounded)."""
    wanted = [path for path in paths if not skipped(path, skip)]
    statuses: dict[int, int] = {}
    failures: list[tuple[str, str]] = []  # (path, its line)
    pages: dict[str, str] = {}  # a failing path's page in one line
    for path in wanted[:MAX_URLS]:
        try:
            r = fetch(base + path)
        except loopback.NO_ANSWER as exc:
            failures.append((path, f"GET {path}: no answer ({exc or type(exc).__name__})"))
            continue
        if r.status >= 500:
            pages[path] = page_text(r.body)
            failures.append((path, f"GET {path} gave {r.status}: {pages[path] or '(empty page)'}"))
        statuses[r.status] = statuses.get(r.status, 0) + 1
    if failures:
        for _path, line in failures[:SHOWN_FAILURES]:
            reporter.fail(f"smoke urls: {line}")
        more = f" (+{len(failures) - SHOWN_FAILURES} more)" if len(failures) > SHOWN_FAILURES else ""
        named = ", ".join(path for path, _line in failures[:SHOWN_FAILURES])
        raise SmokeCheckFailed(
            "urls",
            f"{len(failures)} of {min(len(wanted), MAX_URLS)} URLs gave a 5xx or no answer: {named}{more}",
            "the tracebacks are in web's log above; fix the views, or leave URLs out with "
            f'{SKIP_KEY} = ["/path/*"] in [tool.dockstage] (glob patterns)',
            paths=[path for path, _line in failures[:SHOWN_FAILURES]],
            pages=pages,
        ) from None
    shown = ", ".join(f"{count}x {status}" for status, count in sorted(statuses.items()))
    more = f" (the first {MAX_URLS} of {len(wanted)})" if len(wanted) > MAX_URLS else ""
    left = f", {len(paths) - len(wanted)} left out by {SKIP_KEY}" if len(wanted) < len(paths) else ""
    line = f"{min(len(wanted), MAX_URLS)} URLs without parameters{more}{left}, no 5xx: {shown or 'none'}"
    reporter.ok(f"smoke urls: {line}")
    return line
