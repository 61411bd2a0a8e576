#!/bin/bash
# Entrypoint of the dockstage MariaDB stand-in. It keeps the official mysql image's contract:
# MYSQL_ROOT_PASSWORD | MYSQL_ALLOW_EMPTY_PASSWORD | MYSQL_RANDOM_ROOT_PASSWORD (one required on
# first init), MYSQL_DATABASE, MYSQL_USER, MYSQL_PASSWORD, MYSQL_ROOT_HOST, *_FILE variants and
# /docker-entrypoint-initdb.d/*.sql|*.sql.gz|*.sh run once on an empty data directory.
set -eo pipefail
shopt -s nullglob

log() { printf '%s [Entrypoint]: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*"; }
warn() { log "Warning: $*" >&2; }
die() { log "ERROR: $*" >&2; exit 1; }

# file_env VAR: take VAR from the file named by VAR_FILE (Docker secrets), never both.
file_env() {
    local var="$1" file_var="${1}_FILE"
    local val="${!var:-}" file="${!file_var:-}"
    if [ -n "$val" ] && [ -n "$file" ]; then
        die "both $var and $file_var are set (but are exclusive)"
    fi
    if [ -n "$file" ]; then
        [ -r "$file" ] || die "$file_var=$file is not a readable file"
        val="$(< "$file")"
    fi
    export "$var"="$val"
    unset "$file_var"
}

# sql_str VALUE: VALUE as the inside of a single-quoted SQL string.
sql_str() { local s="${1//\\/\\\\}"; printf '%s' "${s//\'/\\\'}"; }
# sql_id NAME: NAME as the inside of a backquoted SQL identifier.
sql_id() { printf '%s' "${1//\`/\`\`}"; }

wants_help() {
    local arg
    for arg; do
        case "$arg" in
            -'?'|--help|--print-defaults|-V|--version) return 0 ;;
        esac
    done
    return 1
}

# server_option NAME ARGS...: the effective value of a server option (datadir, socket).
server_option() {
    local name="$1"; shift
    "$@" --verbose --help 2>/dev/null | awk -v n="$name" '$1 == n { print $2; exit }'
}

# process_sql [client args]: run SQL from stdin on the init server as root.
process_sql() {
    local auth=()
    if [ -n "${PASSFILE:-}" ]; then auth=(--defaults-extra-file="$PASSFILE"); fi
    mariadb "${auth[@]}" --protocol=socket --socket="$SOCKET" --user=root \
        --default-character-set=utf8mb4 --batch "$@"
}

start_temp_server() {
    log "starting temporary server (no networking)"
    "$@" --skip-networking --socket="$SOCKET" --skip-log-bin \
        --loose-innodb-buffer-pool-load-at-startup=0 --loose-innodb-buffer-pool-dump-at-shutdown=0 &
    TEMP_PID=$!
    local i
    for i in $(seq 60); do
        if mariadb-admin --protocol=socket --socket="$SOCKET" --user=root ping >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$TEMP_PID" 2>/dev/null || die "temporary server exited during start (see above)"
        [ "$i" -lt 60 ] && sleep 0.5
    done
    die "temporary server did not start within 30 seconds"
}

stop_temp_server() {
    kill "$TEMP_PID"
    wait "$TEMP_PID" || die "temporary server did not shut down cleanly"
    log "temporary server stopped"
}

run_initdb_files() {
    local f db_args=()
    if [ -n "$MYSQL_DATABASE" ]; then db_args=(--database="$MYSQL_DATABASE"); fi
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh)
                if [ -x "$f" ]; then
                    log "running $f"; "$f"
                else
                    log "sourcing $f"
                    # shellcheck disable=SC1090  # user-provided init script
                    . "$f"
                fi ;;
            *.sql) log "running $f"; process_sql "${db_args[@]}" < "$f" ;;
            *.sql.gz) log "running $f"; gzip -dc "$f" | process_sql "${db_args[@]}" ;;
            *) log "ignoring $f" ;;
        esac
    done
}

init_database() {
    local opts=0
    [ -n "$MYSQL_ROOT_PASSWORD" ] && opts=$((opts + 1))
    [ -n "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ] && opts=$((opts + 1))
    [ -n "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ] && opts=$((opts + 1))
    if [ "$opts" -eq 0 ]; then
        die "Database is uninitialized and password option is not specified
    You need to specify one of the following as an environment variable:
    - MYSQL_ROOT_PASSWORD
    - MYSQL_ALLOW_EMPTY_PASSWORD
    - MYSQL_RANDOM_ROOT_PASSWORD"
    fi
    if [ "$opts" -gt 1 ]; then
        die "specify only one of MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD, MYSQL_RANDOM_ROOT_PASSWORD"
    fi
    if [ "$MYSQL_USER" = root ]; then
        die "MYSQL_USER=\"root\": MYSQL_USER and MYSQL_PASSWORD are for a regular user; use MYSQL_ROOT_PASSWORD for root"
    fi
    if [ -n "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
        MYSQL_ROOT_PASSWORD="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
        export MYSQL_ROOT_PASSWORD
        log "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
    fi

    log "initialising database files in $DATADIR"
    mariadb-install-db --datadir="$DATADIR" --auth-root-authentication-method=normal \
        --skip-test-db --skip-name-resolve --skip-log-bin --default-time-zone=SYSTEM \
        --rpm > /dev/null
    start_temp_server "$@"

    if [ -z "${MYSQL_INITDB_SKIP_TZINFO:-}" ]; then
        mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | process_sql --database=mysql
    fi

    local rootpw health_pw root_host="${MYSQL_ROOT_HOST:-%}" sql
    rootpw="$(sql_str "$MYSQL_ROOT_PASSWORD")"
    health_pw="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
    sql="DELETE FROM mysql.global_priv WHERE User <> 'mariadb.sys' AND NOT (User = 'root' AND Host = 'localhost');
DELETE FROM mysql.proxies_priv WHERE NOT (User = 'root' AND Host = 'localhost');
FLUSH PRIVILEGES;
ALTER USER 'root'@'localhost' IDENTIFIED BY '$rootpw';
DROP DATABASE IF EXISTS test;"
    if [ "$root_host" != localhost ]; then
        local rh; rh="$(sql_str "$root_host")"
        sql+="
CREATE USER 'root'@'$rh' IDENTIFIED BY '$rootpw';
GRANT ALL ON *.* TO 'root'@'$rh' WITH GRANT OPTION;
GRANT PROXY ON ''@'%' TO 'root'@'$rh' WITH GRANT OPTION;"
    fi
    local host
    for host in 127.0.0.1 ::1 localhost; do
        sql+="
CREATE USER 'healthcheck'@'$host' IDENTIFIED BY '$health_pw';"
    done
    if [ -n "$MYSQL_DATABASE" ]; then
        log "creating database $MYSQL_DATABASE"
        sql+="
CREATE DATABASE IF NOT EXISTS \`$(sql_id "$MYSQL_DATABASE")\`;"
    fi
    if [ -n "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
        local user; user="$(sql_str "$MYSQL_USER")"
        log "creating user $MYSQL_USER"
        sql+="
CREATE USER '$user'@'%' IDENTIFIED BY '$(sql_str "$MYSQL_PASSWORD")';
GRANT ALL ON \`test\\_%\`.* TO '$user'@'%';"
        if [ -n "$MYSQL_DATABASE" ]; then
            sql+="
GRANT ALL ON \`$(sql_id "$MYSQL_DATABASE")\`.* TO '$user'@'%';"
        fi
    elif [ -n "$MYSQL_USER" ] || [ -n "$MYSQL_PASSWORD" ]; then
        warn "MYSQL_USER and MYSQL_PASSWORD must both be set for a user to be created"
    fi
    sql+="
FLUSH PRIVILEGES;"
    process_sql --database=mysql <<< "$sql"

    # Option files for the init scripts (removed afterwards) and for the healthcheck (kept).
    PASSFILE="$(mktemp "${SOCKET%/*}/dockstage-root.XXXXXX")"
    printf '[client]\npassword="%s"\n' "$(sql_str "$MYSQL_ROOT_PASSWORD")" > "$PASSFILE"
    local health_cnf="$DATADIR/.dockstage-health.cnf"
    printf '[client]\nuser=healthcheck\npassword=%s\nprotocol=tcp\nhost=127.0.0.1\nport=3306\n' \
        "$health_pw" > "$health_cnf"
    chmod 0600 "$health_cnf"

    run_initdb_files
    rm -f "$PASSFILE"; unset PASSFILE
    stop_temp_server
    log "initialisation finished; starting server"
}

main() {
    if [ "${1:0:1}" = '-' ]; then
        set -- mariadbd "$@"
    fi
    case "$1" in
        mariadbd|mysqld) ;;
        *) exec "$@" ;;
    esac
    if wants_help "$@"; then exec "$@"; fi

    for var in MYSQL_ROOT_PASSWORD MYSQL_DATABASE MYSQL_USER MYSQL_PASSWORD; do
        file_env "$var"
    done
    DATADIR="$(server_option datadir "$@")"; DATADIR="${DATADIR%/}"
    SOCKET="$(server_option socket "$@")"
    : "${DATADIR:=/var/lib/mysql}" "${SOCKET:=/run/mysqld/mysqld.sock}"

    if [ "$(id -u)" = 0 ]; then
        # Fix ownership, then run this script again as mysql (secrets already read as root).
        mkdir -p "$DATADIR" "${SOCKET%/*}"
        find "$DATADIR" "${SOCKET%/*}" \! -user mysql -exec chown mysql:mysql '{}' +
        exec setpriv --reuid=mysql --regid=mysql --init-groups "${BASH_SOURCE[0]}" "$@"
    fi

    if [ ! -d "$DATADIR/mysql" ]; then
        init_database "$@"
    fi
    exec "$@"
}

main "$@"
