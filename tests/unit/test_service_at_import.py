"""The prod image's import check tells an import that reaches a stack service (redis, db: the
smoke stack has them) from one that fails (a module the prune left out)."""

from __future__ import annotations

from dockstage.images.imagechecks import service_at_import


def test_an_import_that_reaches_a_stack_service_is_told_apart() -> None:
    redis = "redis.exceptions.ConnectionError: Error -2 connecting to redis:6379. Name or service not known."
    mysql = "django.db.utils.OperationalError: (2005, \"Unknown server host 'db' (-2)\")"
    assert service_at_import(f"Traceback ...\n{redis}\n") == "redis"
    assert service_at_import(mysql) == "db"
    assert service_at_import("ModuleNotFoundError: No module named 'shop.extras'") == ""
