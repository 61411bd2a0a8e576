"""A redis the settings name at a fixed loopback address, pointed at the stack's redis service.

howtoartyom/wallet-transaction-api's CACHES LOCATION is "redis://127.0.0.1:6379/1", read from no
environment name: in a container that is the container itself, where no redis listens, and every
view that touched the cache gave a 500. The overlay (dockstage_settings, `redis-service`) sets
each such setting with the host replaced by the stack's redis; the probe (probe.py) names the
settings it would change, so `dockstage init` starts that redis and turns the overlay on.
Standard library only: it runs in the images and in the probe.
"""

import re

SERVICE = "redis"
"""The host of the redis every stack starts beside db ([tool.dockstage] services = ["redis"])."""
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
REDIS_ONLY = ("RQ_QUEUES",)
"""Settings of a redis whose value need not say so (django-rq's {"HOST": "localhost", "PORT": 6379});
any other upper-case setting is looked at when its name or its value says redis (a memcached
cache's "127.0.0.1:11211" is left as it is)."""
_URL = re.compile(r"^(rediss?://(?:[^@/\s]*@)?)(127\.0\.0\.1|localhost|\[::1\])(?=[:/?]|$)", re.IGNORECASE)


def at_service(value):
    """`value` with every loopback redis address in it at SERVICE: a redis:// URL's host, a
    (host, port) pair (channels_redis' hosts), a HOST key (django-rq's queues)."""
    if isinstance(value, str):
        return _URL.sub(lambda m: m.group(1) + SERVICE, value)
    if isinstance(value, dict):
        return {
            key: SERVICE if str(key).lower() == "host" and item in LOOPBACK else at_service(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and value[0] in LOOPBACK and isinstance(value[1], int):
            return type(value)((SERVICE, value[1]))
        return type(value)(at_service(item) for item in value)
    return value


def is_redis_setting(name, value):
    """Whether setting `name` may configure a redis (see REDIS_ONLY)."""
    return name.isupper() and (name in REDIS_ONLY or "REDIS" in name or "redis" in repr(value).lower())


def moved(settings):
    """{name: value at the service} for each redis setting of module-like `settings` (a dict of
    its names) that names a loopback redis address."""
    found = {}
    for name, value in settings.items():
        if is_redis_setting(name, value):
            changed = at_service(value)
            if changed != value:
                found[name] = changed
    return found
