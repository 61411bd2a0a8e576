"""Project-level views: the health check."""

import logging

from django.db import Error as DBError
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)


def _short_reason(exc: BaseException) -> str:
    """Return ``ExceptionClass: message`` cut to one short line (no credentials in it)."""
    message = str(exc).splitlines()[0] if str(exc) else ""
    reason = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return reason[:200]


@csrf_exempt
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """GET /healthz: 200 after a real DB round trip, 503 when the DB is unreachable."""
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse({"error": "method not allowed"}, status=405)
        response["Allow"] = "GET, HEAD"
        return response
    # Django's request signals already drop unusable/obsolete connections and
    # CONN_HEALTH_CHECKS pings a reused one; on failure we close it ourselves so
    # the next check reconnects once the database is back.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DBError as exc:
        reason = _short_reason(exc)
        logger.warning("health check: database unavailable: %s", reason)
        try:  # noqa: SIM105 - explicit: a failed close must not turn the 503 into a 500
            connection.close()
        except DBError:
            pass
        return JsonResponse({"status": "error", "database": "unavailable", "reason": reason}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
