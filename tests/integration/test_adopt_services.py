"""Services beside the database (issue 20), on the real engine, from a project outside the repo.

A `django-admin startproject` site whose settings read REDIS_URL into CACHES (Django's own
RedisCache, which needs only the `redis` package) beside a second cache at a fixed loopback
address, and whose tests set and read a key in each and read QUEUE_URL (a loopback redis its
default) themselves.
`dockstage init` must learn from the probe that the name points at a redis (its sentinel lands
in CACHES' LOCATION) and write `services = ["redis"]`, the overlay for the loopback cache, and
QUEUE_URL from the test's text; `nox -s pipeline` must then go green with
the test run against the stack's redis (a real server answering INFO), nothing set by hand.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.integration.projects import startproject
from tests.integration.test_adopt_probe import digest
from tests.integration.test_adopt_startproject import owned
from tests.integration.wheelenv import WheelEnv

__all__ = ["owned"]  # the fixture: the test's own image and compose names

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REDIS_CACHE = """
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://localhost:6379"),
    },
    "pages": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/2"},
}
"""
CACHE_TESTS = """from django.core.cache import cache
from django.test import SimpleTestCase


class CacheTests(SimpleTestCase):
    def test_a_key_round_trips_through_redis(self):
        cache.set("dockstage-probe", "kept 🐳", 30)
        self.assertEqual(cache.get("dockstage-probe"), "kept 🐳")
        client = cache._cache.get_client()
        self.assertEqual(client.connection_pool.connection_kwargs["host"], "redis")
        print("REDIS-SERVER", client.info()["redis_version"], flush=True)

    def test_a_loopback_cache_and_a_name_read_here_reach_the_stacks_redis(self):
        import os

        import redis
        from django.core.cache import caches

        caches["pages"].set("dockstage-page", "kept", 30)
        self.assertEqual(caches["pages"].get("dockstage-page"), "kept")
        kwargs = caches["pages"]._cache.get_client().connection_pool.connection_kwargs
        self.assertEqual((kwargs["host"], kwargs["db"]), ("redis", 2))
        queue = redis.Redis.from_url(os.environ.get("QUEUE_URL", "redis://localhost:6379/3"))
        self.assertTrue(queue.ping())
"""


def redis_project(bin_dir: Path, root: Path) -> Path:
    """startproject + polls; the settings' CACHES read REDIS_URL; a cache test beside polls'."""
    startproject(bin_dir, root, polls=True)
    settings = root / "mysite/settings.py"
    text = settings.read_text().replace("from pathlib import Path\n", "import os\nfrom pathlib import Path\n", 1)
    settings.write_text(text + REDIS_CACHE)
    (root / "polls/test_cache.py").write_text(CACHE_TESTS)
    (root / "requirements.txt").write_text("Django>=5.2,<6\nredis\n")
    return root


def test_a_redis_cache_is_learned_and_served(wheel_env: WheelEnv, tmp_path: Path, owned: dict[str, str]) -> None:
    root = redis_project(wheel_env.bin, tmp_path / "cached")
    before = {p: digest(p) for p in root.rglob("*.py")}
    found = wheel_env.run(["dockstage", "init"], root, owned)
    assert "redis-url <- REDIS_URL" in found, found
    assert "services: redis in every stack (REDIS_URL's sentinel landed in CACHES)" in found
    assert "redis-url <- QUEUE_URL: read in polls/test_cache.py:" in found
    text = (root / "pyproject.toml").read_text()
    table = tomllib.loads(text)["tool"]["dockstage"]
    assert table["services"] == ["redis"] and table["env"]["redis-url"] == ["REDIS_URL", "QUEUE_URL"]
    assert "redis-service" in table["overlay"] and "redis-service" in table["test-overlay"], text
    assert "learned by the probe: REDIS_URL's sentinel landed in CACHES" in text
    out = wheel_env.run(["nox", "-s", "pipeline"], root, owned)
    assert "Session pipeline was successful" in out
    assert "4 tests, 0 failed, 0 errors, 0 skipped on MySQL at db" in out, out[-3000:]
    assert "REDIS-SERVER " in out  # the test reached a real redis server at the stack's `redis`
    assert {p: digest(p) for p in root.rglob("*.py") if p in before} == before  # no edit to the project
