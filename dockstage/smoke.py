"""Checks of a running prod stack over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from dockstage.errors import SmokeCheckFailed
from dockstage.report import Reporter

TIMEOUT_S = 10


@dataclass(frozen=True)
class Response:
    """An HTTP response, read whole."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body.decode("utf-8"))


def fetch(url: str, *, method: str = "GET", body: object = None, token: str | None = None) -> Response:
    """One HTTP request to the stack on 127.0.0.1; HTTP errors are returned, not raised."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"smoke traffic goes to 127.0.0.1 only, not {url}")
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http://127.0.0.1 URL built here
    request.add_header("Host", "localhost")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            return Response(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)


def check_health(base: str, token: str) -> str:
    r = fetch(f"{base}/healthz")
    _expect(
        r.status == 200 and r.json() == {"status": "ok", "database": "ok"}, f"/healthz gave {r.status} {r.body[:200]!r}"
    )
    return "/healthz 200 with a database round trip"


def check_notes(base: str, token: str) -> str:
    text = "smoke 🐳 note ✓"
    created = fetch(f"{base}/api/notes/", method="POST", body={"text": text}, token=token)
    _expect(created.status == 201, f"POST /api/notes/ gave {created.status} {created.body[:200]!r}")
    note = created.json()
    assert isinstance(note, dict)
    got = fetch(f"{base}/api/notes/{note['id']}/")
    _expect(got.status == 200 and got.json() == note, f"GET the note back gave {got.status} {got.body[:200]!r}")
    listed = fetch(f"{base}/api/notes/")
    results = listed.json()
    _expect(
        listed.status == 200 and isinstance(results, dict) and results["results"][0]["id"] == note["id"],
        "newest note not first in /api/notes/",
    )
    unauthorised = fetch(f"{base}/api/notes/", method="POST", body={"text": "x"})
    _expect(unauthorised.status == 401, f"POST without a token gave {unauthorised.status}, not 401")
    return f"POST note {note['id']} (201, emoji intact), GET it back, newest first, 401 without token"


def check_admin_and_static(base: str, token: str) -> str:
    login = fetch(f"{base}/admin/login/")
    _expect(login.status == 200 and b"csrfmiddlewaretoken" in login.body, f"/admin/login/ gave {login.status}")
    links = re.findall(rb'(/static/[^"\']+\.[0-9a-f]{12}\.css)', login.body)
    _expect(bool(links), "the admin login page links no hashed static CSS (collectstatic/whitenoise missing)")
    static = fetch(base + links[0].decode())
    cache = static.headers.get("cache-control", "")
    _expect(
        static.status == 200 and "max-age=315360000" in cache,
        f"{links[0]!r} gave {static.status}, Cache-Control {cache!r}",
    )
    return f"admin login page 200; {links[0].decode()} served with '{cache}'"


def check_gunicorn(base: str, token: str) -> str:
    r = fetch(f"{base}/healthz")
    server = r.headers.get("server", "")
    _expect("gunicorn" in server.lower(), f"Server header is {server!r}, not gunicorn")
    return f"served by {server}"


HTTP_CHECKS: tuple[Callable[[str, str], str], ...] = (check_health, check_notes, check_admin_and_static, check_gunicorn)


def run_http_checks(base: str, token: str, reporter: Reporter) -> list[str]:
    """Run every HTTP check; raise SmokeCheckFailed naming the first one that fails."""
    passed = []
    for check in HTTP_CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            line = check(base, token)
        except (AssertionError, OSError, ValueError, KeyError, IndexError) as exc:
            reporter.fail(f"smoke {name}: {exc}")
            raise SmokeCheckFailed(name, str(exc)) from None
        reporter.ok(f"smoke {name}: {line}")
        passed.append(line)
    return passed
