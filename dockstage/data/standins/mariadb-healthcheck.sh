#!/bin/bash
# Healthy only when the real server accepts TCP connections on 127.0.0.1:3306 as the dedicated
# health user. The init-time server runs with --skip-networking, so it never looks healthy.
set -euo pipefail

cnf="${DOCKSTAGE_HEALTH_CNF:-/var/lib/mysql/.dockstage-health.cnf}"
[ -r "$cnf" ] || exit 1
exec mariadb --defaults-extra-file="$cnf" --protocol=tcp --host=127.0.0.1 --port=3306 \
    --connect-timeout=3 --batch --skip-column-names --execute='SELECT 1' >/dev/null
