"""Services beside the database ([tool.dockstage] services = ["redis"]), pure parts: the key, the
generated compose service, the names the probe maps to it, and what init writes."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from dockstage.adopt import learn, render
from dockstage.adopt import probe as probe_module
from dockstage.adopt.inspect import Findings
from dockstage.core.appconfig import SUITE_VALUES, parse_app
from dockstage.core.config import Settings
from dockstage.core.errors import ConfigError
from dockstage.core.overlay import overlay_env
from dockstage.images import buildfiles
from dockstage.stack import envfile, workers
from tests.unit.test_adopt_probe import overlaid, probe

SETTINGS_HEAD = """\
import os

SECRET_KEY = os.environ.get("SECRET_KEY", "x")
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "HOST": os.environ.get("DB_HOST", "")}}
"""
"""What the settings below start with: a MySQL database whose host is read from DB_HOST."""
CACHE_AND_BROKER = (
    SETTINGS_HEAD
    + """\
CACHE_URL = os.getenv("CACHE_URL", "redis://localhost:6379/1")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
CELERY_BROKER_URL = os.environ.get("QUEUE_AT", "amqp://localhost")
"""
)
REDIS_HOST_ONLY = (
    SETTINGS_HEAD
    + """\
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [(os.environ.get("KV_SERVER", "127.0.0.1"), 6379)]},
    }
}
"""
)


def test_the_services_key_parses_and_an_unknown_service_is_refused() -> None:
    assert parse_app({"services": ["redis"]}).services == ("redis",)
    assert parse_app({}).services == ()
    with pytest.raises(ConfigError, match="services has 'memcached'"):
        parse_app({"services": ["memcached"]})
    with pytest.raises(ConfigError, match="not a service name the suite can add"):
        parse_app({"workers": {"redis": "python manage.py x"}})  # the suite's own service name


def test_redis_is_a_healthchecked_service_the_app_services_wait_for(tmp_path: Path) -> None:
    app = parse_app({"services": ["redis"], "workers": {"mailer": "python manage.py x"}})
    prod = json.loads(workers.render(app).split("\n", 1)[1])["services"]
    redis = prod["redis"]
    assert redis["image"].startswith("${DOCKSTAGE_REDIS_IMAGE:?") and "ports" not in redis
    assert "redis-cli ping" in redis["healthcheck"]["test"][1] and redis["read_only"]
    for name in ("migrate", "web", "mailer"):
        assert prod[name]["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert "test" not in prod  # the prod and dev stacks have no test service to wait
    tests = json.loads(workers.render(app, "test").split("\n", 1)[1])["services"]
    assert tests["test"] == {"depends_on": {"redis": {"condition": "service_healthy"}}}
    settings = Settings(root=tmp_path, state_dir=".ds").with_(app=parse_app({"services": ["redis"]}))
    assert workers.write(settings) == tmp_path / ".ds" / "compose.generated.yaml"
    assert workers.write(settings, "test") == tmp_path / ".ds" / "compose.generated.test.yaml"


def test_the_names_for_redis_point_at_the_stack_service(tmp_path: Path) -> None:
    app = parse_app({"services": ["redis"], "env": {"redis-url": "REDIS_URL", "redis-host": "REDIS_HOST"}})
    env = envfile.app_env(Settings(root=tmp_path).with_(app=app))
    assert env["REDIS_URL"] == "redis://redis:6379" and env["REDIS_HOST"] == "redis"


def test_every_suite_value_has_a_build_time_and_a_stack_value(tmp_path: Path) -> None:
    app = parse_app({"env": {value: value.upper().replace("-", "_") for value in SUITE_VALUES}})
    build = buildfiles.placeholders(app)
    stack = envfile.app_env(Settings(root=tmp_path).with_(app=app))
    assert build["REDIS_URL"] == stack["REDIS_URL"] == "redis://redis:6379"
    assert all(value.upper().replace("-", "_") in build for value in SUITE_VALUES)


REDIS_AT_LOOPBACK = (
    SETTINGS_HEAD
    + """\
CACHES = {
    "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/1"},
    "pages": {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache", "LOCATION": "127.0.0.1:11211"},
}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [("localhost", 6379)]}}}
RQ_QUEUES = {"default": {"HOST": "localhost", "PORT": 6379, "DB": 0}}
CELERY_BROKER_URL = "redis://:secret@localhost:6380/0"
"""
)


def test_a_redis_at_a_loopback_address_asks_for_redis_and_the_overlay(tmp_path: Path) -> None:
    """wallet-transaction-api's CACHES at redis://127.0.0.1:6379/1, read from no name: its views gave
    500 (Error 111 connecting to 127.0.0.1:6379) in the smoke stack, which had no redis."""
    (result,) = probe(tmp_path, {"settings": REDIS_AT_LOOPBACK}, [])
    learned = learn.interpret(result)
    assert learned.services == ["redis"] and "redis-url" not in learned.env
    assert learned.overlay[-1] == "redis-service" and "redis-service" in learn.test_overlay(learned)
    assert (
        learned.services_how
        == "CACHES, CELERY_BROKER_URL, CHANNEL_LAYERS, RQ_QUEUES name a redis at a loopback address"
    )


def test_a_name_read_outside_the_settings_with_a_loopback_redis_default_is_set_to_the_stacks(tmp_path: Path) -> None:
    """wallet-transaction-api's tests/conftest.py sets the tests' CACHES from env("REDIS_URL",
    default="redis://127.0.0.1:6379/1"), which the settings' probe never imports: 10 of its 16 tests
    got Error 111 connecting to 127.0.0.1:6379 with the stack's redis running beside them."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/conftest.py").write_text(
        'import os\nimport environ\nenv = environ.Env()\nCACHE = {"LOCATION": env("REDIS_URL", default="redis://127.0.0.1:6379/1")}\n'
        'BROKER = os.environ.get("QUEUE_URL", "redis://:pw@localhost/0")\nOTHER = os.getenv("ELSEWHERE", "redis://cache:6379")\n'
    )
    (tmp_path / "tasks.py").write_text('import os\nURL = os.getenv("CACHE_URL", "redis://localhost:6379")\n')
    found = Findings(root=tmp_path, settings_module="proj.settings", wsgi="proj.wsgi:application")
    found.env = {"redis-url": ["CACHE_URL"]}  # the settings' probe mapped it already
    probe_module.redis_names_read(found)
    assert found.env["redis-url"] == ["CACHE_URL", "REDIS_URL", "QUEUE_URL"] and found.services == ["redis"]
    assert (
        found.services_how
        == "tests/conftest.py:4, tests/conftest.py:5 read REDIS_URL, QUEUE_URL with a loopback redis as the default"
    )
    untouched = Findings(root=tmp_path / "tests" / "none", settings_module="proj.settings")
    probe_module.redis_names_read(untouched)
    assert untouched.env == {} and untouched.services == []


def test_a_redis_read_from_a_name_needs_no_overlay(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": CACHE_AND_BROKER}, [])
    learned = learn.interpret(result)
    assert learned.services == ["redis"] and "redis-service" not in learned.overlay


def test_the_overlay_points_a_loopback_redis_at_the_stack_service(tmp_path: Path) -> None:
    env = overlay_env(["redis-service"], "proj.settings", {}, False)
    expression = "[s.CACHES, s.CHANNEL_LAYERS['default']['CONFIG'], s.RQ_QUEUES['default'], s.CELERY_BROKER_URL]"
    caches, layer, queue, broker = overlaid(tmp_path, REDIS_AT_LOOPBACK, env, expression)
    assert caches["default"]["LOCATION"] == "redis://redis:6379/1"
    assert caches["pages"]["LOCATION"] == "127.0.0.1:11211"  # memcached: not a redis, left alone
    assert layer == {"hosts": [["redis", 6379]]} and queue == {"HOST": "redis", "PORT": 6379, "DB": 0}
    assert broker == "redis://:secret@redis:6380/0"


def test_a_sentinel_in_a_redis_cache_maps_its_name_and_asks_for_redis(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": CACHE_AND_BROKER}, [])
    learned = learn.interpret(result)
    assert learned.services == ["redis"] and learned.env["redis-url"] == ["CACHE_URL"]
    assert "QUEUE_AT" in learned.others  # a broker of unknown kind, and no redis among the dependencies
    assert learned.services_how == "CACHE_URL's sentinel landed in CACHES"
    with_dependency = learn.interpret(result, redis_dependency=True)  # celery[redis] installed: the broker is redis
    assert with_dependency.env["redis-url"] == ["CACHE_URL", "QUEUE_AT"]


def test_a_redis_host_name_in_a_channel_layer(tmp_path: Path) -> None:
    (result,) = probe(tmp_path, {"settings": REDIS_HOST_ONLY}, [])
    learned = learn.interpret(result)
    assert learned.services == ["redis"] and learned.env["redis-host"] == ["KV_SERVER"]


def test_settings_without_redis_ask_for_no_service(tmp_path: Path) -> None:
    plain = CACHE_AND_BROKER.replace("django.core.cache.backends.redis.RedisCache", "x.LocMemCache")
    plain = plain.replace("redis://localhost:6379/1", "memory://")
    (result,) = probe(tmp_path, {"settings": plain}, [])
    learned = learn.interpret(result)
    assert learned.services == [] and "redis-url" not in learned.env


def test_init_writes_the_service_and_says_how_it_learned(tmp_path: Path) -> None:
    found = Findings(root=tmp_path, settings_module="proj.settings", wsgi="proj.wsgi:application")
    found.services, found.services_how = ["redis"], "REDIS_URL's sentinel landed in CACHES"
    found.env = {"redis-url": ["REDIS_URL"]}
    text = render.tool_section(found)
    table = tomllib.loads(text)["tool"]["dockstage"]
    assert table["services"] == ["redis"] and table["env"]["redis-url"] == "REDIS_URL"
    assert "learned by the probe: REDIS_URL's sentinel landed in CACHES" in text
    parse_app({k.replace("-", "_"): v for k, v in table.items() if k not in ("image", "project", "app-dir")})
