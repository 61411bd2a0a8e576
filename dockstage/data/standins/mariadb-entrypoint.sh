#!/bin/bash
# Entrypoint of the dockstage MariaDB stand-in. It keeps the official mysql image's contract:
# MYSQL_ROOT_PASSWORD | MYSQL_ALLOW_EMPTY_PASSWORD | MYSQL_RANDOM_ROOT_PASSWORD (one required on
# first init), MYSQL_DATABASE, MYSQL_USER, MYSQL_PASSWORD, MYSQL_ROOT_HOST, MYSQL_ONETIME_PASSWORD,
# MYSQL_INITDB_SKIP_TZINFO, *_FILE variants, and /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz|
# *.sql.bz2|*.sql.xz|*.sql.zst run once on an empty data directory. Sourced init scripts get the
# official entrypoint's helpers: mysql_note, mysql_warn, mysql_error, docker_process_sql, and
# "${mysql[@]}". Differences that remain are listed in docs/RELIABILITY.md.
set -eo pipefail
shopt -s nullglob

# Logging, as the official entrypoint does it (init scripts may call these).
mysql_log() {
    local type="$1"; shift
    # accept the text as arguments or on stdin
    local text="$*"; if [ "$#" -eq 0 ]; then text="$(cat)"; fi
    printf '%s [%s] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$type" "$text"
}
mysql_note() { mysql_log Note "$@"; }
mysql_warn() { mysql_log Warn "$@" >&2; }
mysql_error() { mysql_log ERROR "$@" >&2; exit 1; }

# file_env VAR [DEFAULT]: take VAR from the file named by VAR_FILE (Docker secrets), never both.
file_env() {
    local var="$1" file_var="${1}_FILE" def="${2:-}"
    local file="${!file_var:-}" val="$def"
    if [ -n "${!var:-}" ] && [ -n "$file" ]; then
        mysql_error "Both $var and $file_var are set (but are exclusive)"
    fi
    if [ -n "${!var:-}" ]; then
        val="${!var}"
    elif [ -n "$file" ]; then
        [ -r "$file" ] || mysql_error "$file_var=$file is not a readable file"
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

# What `mariadbd --verbose --help` needs to run (as in the official entrypoint).
_verbose_help_args=(--verbose --help --log-bin-index="$(mktemp -u)")

# mysql_check_config SERVER ARGS...: fail, with the server's own message, on a config it rejects.
mysql_check_config() {
    local to_run=("$@" "${_verbose_help_args[@]}") errors
    if ! errors="$("${to_run[@]}" 2>&1 >/dev/null)"; then
        mysql_error $'mariadbd failed while attempting to check config\n\tcommand was: '"${to_run[*]}"$'\n\t'"$errors"
    fi
}

# config_value NAME: the effective value of a server option (datadir, socket) in help text on stdin.
config_value() {
    awk -v conf="$1" '!found && $1 == conf && /^[^ \t]/ { sub(/^[^ \t]+[ \t]+/, ""); print; found = 1 }'
}

# mysql_get_config NAME SERVER ARGS...: the effective value of a server option (datadir, socket).
# awk reads the whole help text (no early exit), so the server never dies of SIGPIPE.
mysql_get_config() {
    local conf="$1"; shift
    "$@" "${_verbose_help_args[@]}" 2>/dev/null | config_value "$conf"
}

# read_config SERVER ARGS...: mysql_check_config, then DATADIR and SOCKET, from one reading of the
# server's help (each reading is a server start, about 60 ms). The run as mysql after the one as
# root is handed them (_DOCKSTAGE_DATADIR, _DOCKSTAGE_SOCKET): the same arguments and files.
read_config() {
    if [ -n "${_DOCKSTAGE_DATADIR:-}" ] && [ "$(id -u)" != 0 ]; then
        DATADIR="$_DOCKSTAGE_DATADIR" SOCKET="$_DOCKSTAGE_SOCKET"
        unset _DOCKSTAGE_DATADIR _DOCKSTAGE_SOCKET
        return
    fi
    local help errors
    errors="$(mktemp)"
    if ! help="$("$@" "${_verbose_help_args[@]}" 2>"$errors")"; then
        mysql_error $'mariadbd failed while attempting to check config\n\tcommand was: '"$* ${_verbose_help_args[*]}"$'\n\t'"$(cat "$errors")"
    fi
    rm -f "$errors"
    DATADIR="$(config_value datadir <<< "$help")"; DATADIR="${DATADIR%/}"
    SOCKET="$(config_value socket <<< "$help")"
    : "${DATADIR:=/var/lib/mysql}" "${SOCKET:=/run/mysqld/mysqld.sock}"
}

# MySQL 8 has utf8mb4 compiled in, so a charset or collation given anywhere simply wins. MariaDB
# 10.11's compiled default is latin1, and a collation set in a config file makes mariadbd reject a
# charset given on the command line. So the image's config files set neither, and this argument
# plays the compiled default: --character-set-server=utf8mb4 unless the config files or the
# arguments set a character set. No collation is added: the server then takes
# utf8mb4's own default (utf8mb4_general_ci on 10.11, utf8mb4_uca1400_ai_ci on 11.8), the one a
# client gets from its handshake or `SET NAMES utf8mb4`, so tables and connections agree, as on
# MySQL 8 (utf8mb4_0900_ai_ci for both). A server collation that differs from the connection's
# makes `column = CAST(x AS CHAR)` fail on 10.11 with error 1267 (Illegal mix of collations).
utf8mb4_defaults() {
    local arg defaults_args=() options have_charset=''
    UTF8MB4_DEFAULTS=()
    # Options naming option files come first; my_print_defaults takes the same ones.
    for arg in "${@:2}"; do
        case "$arg" in
            --no-defaults|--defaults-file=*|--defaults-extra-file=*|--defaults-group-suffix=*)
                defaults_args+=("$arg") ;;
            *) break ;;
        esac
    done
    options="$(my_print_defaults "${defaults_args[@]}" --mysqld 2>/dev/null || true)"
    local -a all
    mapfile -t all <<< "$options"
    for arg in "${all[@]}" "${@:2}"; do
        case "$arg" in
            --character[-_]set[-_]server*|--loose-character[-_]set[-_]server*|-C*) have_charset=1 ;;
        esac
    done
    if [ -z "$have_charset" ]; then UTF8MB4_DEFAULTS+=(--character-set-server=utf8mb4); fi
}

# _mysql_passfile [--dont-use-mysql-root-password]: an option file with the root password.
_mysql_passfile() {
    if [ '--dont-use-mysql-root-password' != "${1:-}" ] && [ -n "$MYSQL_ROOT_PASSWORD" ]; then
        printf '[client]\npassword="%s"\n' "$(sql_str "$MYSQL_ROOT_PASSWORD")"
    fi
}

# _root_client PASSFILE_ARG [client args]: the mariadb client as root on the init server's socket.
_root_client() {
    local pass="$1"; shift
    mariadb --defaults-extra-file=<(_mysql_passfile "$pass") --protocol=socket --user=root \
        --host=localhost --socket="$SOCKET" --default-character-set=utf8mb4 --comments "$@"
}

# docker_process_sql [--dont-use-mysql-root-password] [client args]: run SQL from stdin on the init
# server as root, in MYSQL_DATABASE unless the args name another (--database=...), as the official
# entrypoint's function of that name does.
docker_process_sql() {
    local pass=''
    if [ '--dont-use-mysql-root-password' = "${1:-}" ]; then pass="$1"; shift; fi
    if [ -n "$MYSQL_DATABASE" ]; then set -- --database="$MYSQL_DATABASE" "$@"; fi
    _root_client "$pass" "$@"
}

# process_sql [client args]: this image's older helper: as docker_process_sql, with no default
# database. Kept for init scripts written for earlier versions of the stand-in.
process_sql() { _root_client '' --batch "$@"; }

start_temp_server() {
    mysql_note "starting temporary server (no networking)"
    "$@" --skip-networking --socket="$SOCKET" --skip-log-bin \
        --loose-innodb-buffer-pool-load-at-startup=0 --loose-innodb-buffer-pool-dump-at-shutdown=0 &
    TEMP_PID=$!
    local i
    # Looked at every 50 ms (a ping is 5 ms): the server is ready in about half a second, and each
    # wait beyond that delays a first start by as much.
    for i in $(seq 600); do
        if mariadb-admin --protocol=socket --socket="$SOCKET" --user=root ping >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$TEMP_PID" 2>/dev/null || mysql_error "temporary server exited during start (see above)"
        [ "$i" -lt 600 ] && sleep 0.05
    done
    mysql_error "temporary server did not start within 30 seconds"
}

stop_temp_server() {
    kill "$TEMP_PID"
    wait "$TEMP_PID" || mysql_error "temporary server did not shut down cleanly"
    mysql_note "temporary server stopped"
}

# docker_process_init_files [file...]: run or source each by its extension, as the official one.
docker_process_init_files() {
    # "${mysql[@]}" for scripts written for older official images
    # shellcheck disable=SC2034  # used by the sourced init scripts
    mysql=(docker_process_sql)
    local f
    for f; do
        case "$f" in
            *.sh)
                if [ -x "$f" ]; then
                    mysql_note "$0: running $f"; "$f"
                else
                    mysql_note "$0: sourcing $f"
                    # shellcheck disable=SC1090  # user-provided init script
                    . "$f"
                fi ;;
            *.sql) mysql_note "$0: running $f"; docker_process_sql < "$f" ;;
            *.sql.bz2) mysql_note "$0: running $f"; bunzip2 -c "$f" | docker_process_sql ;;
            *.sql.gz) mysql_note "$0: running $f"; gunzip -c "$f" | docker_process_sql ;;
            *.sql.xz) mysql_note "$0: running $f"; xzcat "$f" | docker_process_sql ;;
            *.sql.zst) mysql_note "$0: running $f"; zstd -dc "$f" | docker_process_sql ;;
            *) mysql_warn "$0: ignoring $f" ;;
        esac
    done
}

verify_minimum_env() {
    local opts=0
    [ -n "$MYSQL_ROOT_PASSWORD" ] && opts=$((opts + 1))
    [ -n "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ] && opts=$((opts + 1))
    [ -n "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ] && opts=$((opts + 1))
    if [ "$opts" -eq 0 ]; then
        mysql_error "Database is uninitialized and password option is not specified
    You need to specify one of the following as an environment variable:
    - MYSQL_ROOT_PASSWORD
    - MYSQL_ALLOW_EMPTY_PASSWORD
    - MYSQL_RANDOM_ROOT_PASSWORD"
    fi
    if [ "$opts" -gt 1 ]; then
        mysql_error "specify only one of MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD, MYSQL_RANDOM_ROOT_PASSWORD"
    fi
    if [ "$MYSQL_USER" = root ]; then
        mysql_error "MYSQL_USER=\"root\": MYSQL_USER and MYSQL_PASSWORD are for a regular user; use MYSQL_ROOT_PASSWORD for root"
    fi
    if [ -n "$MYSQL_USER" ] && [ -z "$MYSQL_PASSWORD" ]; then
        mysql_warn 'MYSQL_USER specified, but missing MYSQL_PASSWORD; MYSQL_USER will not be created'
    elif [ -z "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
        mysql_warn 'MYSQL_PASSWORD specified, but missing MYSQL_USER; MYSQL_PASSWORD will be ignored'
    fi
    # fail now, not half-way through init, if the init directory cannot be read
    ls /docker-entrypoint-initdb.d/ > /dev/null
}

# The template: the data directory a first start makes before its users (mariadb-install-db and
# the time zone tables; no user, no password), made once when the image is built. A first start
# unpacks it instead of making it again (about 2.5 s less), when the server's options and option
# files are the ones it was made with; any other options make it the slow way, as before.
TEMPLATE=/usr/share/dockstage/datadir.tar.zst
TZ_TRUNCATE="TRUNCATE time_zone; TRUNCATE time_zone_name; TRUNCATE time_zone_transition;
TRUNCATE time_zone_transition_type; TRUNCATE time_zone_leap_second;"

# template_key SERVER ARGS...: what the template depends on (the option files' and the arguments').
template_key() { my_print_defaults --mysqld; printf '%s\n' "$@"; }

template_fits() {
    [ -r "$TEMPLATE" ] && [ -r "$TEMPLATE.key" ] && [ "$(template_key "$@")" = "$(cat "$TEMPLATE.key")" ]
}

# make_system_tables SERVER ARGS...: install-db, the temporary server, the time zone tables.
make_system_tables() {
    mysql_note "initialising database files in $DATADIR"
    mariadb-install-db --datadir="$DATADIR" --auth-root-authentication-method=normal \
        --skip-test-db --skip-name-resolve --skip-log-bin --default-time-zone=SYSTEM \
        --rpm > /dev/null
    start_temp_server "$@"
    if [ -z "${MYSQL_INITDB_SKIP_TZINFO:-}" ]; then
        mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null \
            | docker_process_sql --dont-use-mysql-root-password --database=mysql
    fi
}

# make_template [DIR]: run once at image build, as root: makes the template (as mysql, in DIR) for
# the image's default command and option files, then packs it where first starts look for it.
make_template() {
    if [ "$(id -u)" = 0 ]; then
        local dir; dir="$(mktemp -d)"; chown mysql:mysql "$dir"
        setpriv --reuid=mysql --regid=mysql --init-groups "${BASH_SOURCE[0]}" dockstage-make-template "$dir"
        mkdir -p "${TEMPLATE%/*}"
        # Runs of zeros become holes (the 96 MB redo log is mostly zeros), which --sparse keeps:
        # a first start then writes 30 MB, not 137 MB (unpacking took 330 ms, now 110 ms).
        if command -v fallocate >/dev/null; then find "$dir" -type f -exec fallocate --dig-holes '{}' ';'; fi
        tar --zstd --sparse -cf "$TEMPLATE" -C "$dir" .
        mv "$dir.key" "$TEMPLATE.key"
        chown root:root "$TEMPLATE.key"; chmod 0644 "$TEMPLATE" "$TEMPLATE.key"
        rm -rf "$dir"
        return
    fi
    DATADIR="$1" SOCKET=/run/mysqld/template.sock MYSQL_DATABASE='' MYSQL_ROOT_PASSWORD='' MYSQL_INITDB_SKIP_TZINFO=''
    utf8mb4_defaults mariadbd
    set -- mariadbd "${UTF8MB4_DEFAULTS[@]}"
    template_key "$@" > "$DATADIR.key"
    make_system_tables "$@" --datadir="$DATADIR"
    stop_temp_server
}

# Marks an init script whose work this entrypoint does itself (the suite's grant on test_%): a
# first start whose init scripts all carry it needs no temporary server.
DONE_HERE='# dockstage-standin: the stand-in entrypoint does this itself'

# one_start_fits SERVER ARGS...: whether a first start can be one server start, its setup SQL
# run by the server itself (--init-file) before it accepts a connection: the template fits, and
# nothing needs a running server first (init scripts of the user, a one-time password).
one_start_fits() {
    local f arg
    template_fits "$@" || return 1
    [ -z "${MYSQL_ONETIME_PASSWORD:-}" ] || return 1
    for arg; do case "$arg" in --init-file=*|--init_file=*) return 1 ;; esac; done
    for f in /docker-entrypoint-initdb.d/*; do
        grep -qxF "$DONE_HERE" "$f" 2>/dev/null || return 1
    done
}

init_database() {
    verify_minimum_env
    if [ -n "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
        MYSQL_ROOT_PASSWORD="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
        export MYSQL_ROOT_PASSWORD
        mysql_note "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
    fi

    if [ -n "${_DOCKSTAGE_ONE_START:-}" ]; then
        mysql_note "initialising database files in $DATADIR (from the image's template; one server start)"
        tar --zstd -xf "$TEMPLATE" -C "$DATADIR"
        INIT_SQL=""
        # One statement a line: the server reads an --init-file line by line.
        if [ -n "${MYSQL_INITDB_SKIP_TZINFO:-}" ]; then INIT_SQL="USE mysql;
${TZ_TRUNCATE//; /;$'\n'}
"; fi
        INIT_SQL+="$(setup_sql)"
        return
    fi
    if template_fits "$@"; then
        mysql_note "initialising database files in $DATADIR (from the image's template)"
        tar --zstd -xf "$TEMPLATE" -C "$DATADIR"
        start_temp_server "$@"
        if [ -n "${MYSQL_INITDB_SKIP_TZINFO:-}" ]; then
            docker_process_sql --dont-use-mysql-root-password --database=mysql <<< "$TZ_TRUNCATE"
        fi
    else
        make_system_tables "$@"
    fi
    docker_process_sql --dont-use-mysql-root-password --database=mysql <<< "$(setup_sql)"

    docker_process_init_files /docker-entrypoint-initdb.d/*

    if [ -n "${MYSQL_ONETIME_PASSWORD:-}" ]; then
        # The official image expires root@'%' (its MYSQL_ROOT_HOST default); this expires the root
        # account MYSQL_ROOT_HOST made, which is root@'%' unless that variable says otherwise.
        mysql_note "expiring the root password of 'root'@'${MYSQL_ROOT_HOST:-%}' (MYSQL_ONETIME_PASSWORD)"
        docker_process_sql --database=mysql <<< "ALTER USER 'root'@'$(sql_str "${MYSQL_ROOT_HOST:-%}")' PASSWORD EXPIRE;"
    fi
    stop_temp_server
    mysql_note "initialisation finished; starting server"
}

# setup_sql: the SQL of a first start (accounts, the database, the app user's grants), on the
# system tables; writes the healthcheck's option file as it makes its account.
setup_sql() {
    local rootpw health_pw root_host rh sql
    root_host="${MYSQL_ROOT_HOST:-%}"
    rh="$(sql_str "$root_host")"
    rootpw="$(sql_str "$MYSQL_ROOT_PASSWORD")"
    health_pw="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
    sql="DELETE FROM mysql.global_priv WHERE User <> 'mariadb.sys' AND NOT (User = 'root' AND Host = 'localhost');
DELETE FROM mysql.proxies_priv WHERE NOT (User = 'root' AND Host = 'localhost');
FLUSH PRIVILEGES;
ALTER USER 'root'@'localhost' IDENTIFIED BY '$rootpw';
DROP DATABASE IF EXISTS test;"
    if [ "$root_host" != localhost ]; then
        sql+="
CREATE USER 'root'@'$rh' IDENTIFIED BY '$rootpw';
GRANT ALL ON *.* TO 'root'@'$rh' WITH GRANT OPTION;
INSERT INTO mysql.proxies_priv (Host, User, Proxied_host, Proxied_user, With_grant, Grantor)
  VALUES ('$rh', 'root', '', '', 1, 'root@localhost');"
        # = GRANT PROXY ON ''@'%' TO root WITH GRANT OPTION, which an --init-file (run by no user)
        # may not make: the statement fails there, silently, and the file stops at it.
    fi
    if [ -n "$MYSQL_DATABASE" ]; then
        mysql_note "creating database $MYSQL_DATABASE" >&2
        sql+="
CREATE DATABASE IF NOT EXISTS \`$(sql_id "$MYSQL_DATABASE")\`;"
    fi
    if [ -n "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
        local user; user="$(sql_str "$MYSQL_USER")"
        mysql_note "creating user $MYSQL_USER" >&2
        # test\_%: Django's test runner creates and drops test_<name> databases as this user.
        sql+="
CREATE USER '$user'@'%' IDENTIFIED BY '$(sql_str "$MYSQL_PASSWORD")';
GRANT ALL ON \`test\\_%\`.* TO '$user'@'%';"
        if [ -n "$MYSQL_DATABASE" ]; then
            # _ is a wildcard in a grant's database name: escape it, as the official image does.
            local db; db="$(sql_id "$MYSQL_DATABASE")"
            sql+="
GRANT ALL ON \`${db//_/\\_}\`.* TO '$user'@'%';"
        fi
    fi
    # The health account last: healthy means every statement before it ran (an --init-file stops
    # at its first failing statement, and says nothing).
    local host
    for host in 127.0.0.1 ::1 localhost; do
        sql+="
CREATE USER 'healthcheck'@'$host' IDENTIFIED BY '$health_pw';"
    done
    sql+="
FLUSH PRIVILEGES;"

    # Option file for the healthcheck (kept in the data directory, readable by mysql only).
    local health_cnf="$DATADIR/.dockstage-health.cnf"
    printf '[client]\nuser=healthcheck\npassword=%s\nprotocol=tcp\nhost=127.0.0.1\nport=3306\n' \
        "$health_pw" > "$health_cnf"
    chmod 0600 "$health_cnf"
    printf '%s\n' "$sql"
}

# exec_with_init_sql SERVER ARGS...: exec the server with INIT_SQL as its --init-file, which it
# runs before it accepts a connection (a client meanwhile waits, it is not refused). The file
# holds passwords: a watcher removes it once the health account (the setup's last statement)
# answers, and says so when that never happens (a statement failed: the file stops there).
exec_with_init_sql() {
    local file="${SOCKET%/*}/dockstage-init.sql"
    (umask 077 && printf '%s\n' "$INIT_SQL" > "$file")
    unset INIT_SQL
    (
        export DOCKSTAGE_HEALTH_CNF="$DATADIR/.dockstage-health.cnf"
        for _ in $(seq 1200); do
            if /usr/local/bin/healthcheck.sh 2>/dev/null; then rm -f "$file"; exit 0; fi
            sleep 0.05
        done
        rm -f "$file"
        mysql_warn "the first start's setup did not complete in 60 s (the server's log above may say why): remove the database's volume and start again"
    ) &
    mysql_note "initialisation finished; starting server (it runs the setup first)"
    exec "$@" --init-file="$file"
}

main() {
    if [ "${1:-}" = dockstage-make-template ]; then make_template "${@:2}"; return; fi
    if [ "${1:0:1}" = '-' ]; then
        set -- mariadbd "$@"
    fi
    case "$1" in
        mariadbd|mysqld) ;;
        *) exec "$@" ;;
    esac
    if wants_help "$@"; then exec "$@"; fi

    utf8mb4_defaults "$@"
    set -- "$@" "${UTF8MB4_DEFAULTS[@]}"
    read_config "$@"

    file_env MYSQL_ROOT_HOST '%'
    for var in MYSQL_ROOT_PASSWORD MYSQL_DATABASE MYSQL_USER MYSQL_PASSWORD; do
        file_env "$var"
    done

    if [ "$(id -u)" = 0 ]; then
        # Fix ownership, then run this script again as mysql (secrets already read as root).
        mkdir -p "$DATADIR" "${SOCKET%/*}"
        find "$DATADIR" "${SOCKET%/*}" \! -user mysql -exec chown mysql:mysql '{}' +
        _DOCKSTAGE_DATADIR="$DATADIR" _DOCKSTAGE_SOCKET="$SOCKET" \
            exec setpriv --reuid=mysql --regid=mysql --init-groups "${BASH_SOURCE[0]}" "$@"
    fi

    if [ ! -d "$DATADIR/mysql" ]; then
        if one_start_fits "$@"; then _DOCKSTAGE_ONE_START=1; fi
        init_database "$@"
        if [ -n "${_DOCKSTAGE_ONE_START:-}" ]; then exec_with_init_sql "$@"; fi
    fi
    exec "$@"
}

# check to see if this file is being run or sourced from another script (as the official one)
_is_sourced() {
    [ "${#FUNCNAME[@]}" -ge 2 ] && [ "${FUNCNAME[0]}" = '_is_sourced' ] && [ "${FUNCNAME[1]}" = 'source' ]
}

# Sourced from elsewhere (for its functions): do nothing more.
if ! _is_sourced; then
    main "$@"
fi
