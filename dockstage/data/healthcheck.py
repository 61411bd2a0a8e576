"""Container HEALTHCHECK for prod: GET the health path on the local gunicorn, no curl needed.

The path is [tool.dockstage] health-path, baked into the image as DOCKSTAGE_HEALTH_PATH.

It names itself in User-Agent; gunicorn.conf.py leaves its successful probes out of the access log.
"""

import os
import sys
import urllib.error
import urllib.request

# Keep in step with HEALTHCHECK_USER_AGENT in gunicorn.conf.py (beside this file).
USER_AGENT = "dockstage-healthcheck"

port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
path = os.environ.get("DOCKSTAGE_HEALTH_PATH", "/healthz")
request = urllib.request.Request(
    f"http://127.0.0.1:{port}{path}",
    headers={"Host": "localhost", "X-Forwarded-Proto": "https", "User-Agent": USER_AGENT},
)
try:
    with urllib.request.urlopen(request, timeout=3) as response:  # noqa: S310 (loopback only)
        sys.exit(0 if response.status == 200 else 1)
except urllib.error.HTTPError as exc:
    # 400 from Django for a Host it does not allow (DisallowedHost): the suite reads this line.
    hint = " (Host: localhost; DisallowedHost? ALLOWED_HOSTS must take localhost)" if exc.code == 400 else ""
    print(f"unhealthy: GET {path} gave {exc.code}{hint}", file=sys.stderr)
    sys.exit(1)
except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
