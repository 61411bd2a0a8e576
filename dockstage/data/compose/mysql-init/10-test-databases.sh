#!/bin/sh
# Django's test runner creates test_<name>: give the app user rights on test_* databases.
# Runs once, on the first start of an empty volume (official image and stand-in alike); the
# stand-in's entrypoint makes the same grant itself, and knows this script by the line below.
# dockstage-standin: the stand-in entrypoint does this itself
set -eu
client=$(command -v mariadb || command -v mysql)
MYSQL_PWD="${MYSQL_ROOT_PASSWORD:-}" "$client" --protocol=socket -uroot \
  -e "GRANT ALL PRIVILEGES ON \`test\\_%\`.* TO '${MYSQL_USER:-app}'@'%'; FLUSH PRIVILEGES;"
