# Stand-in for mysql:8.x built from Debian's mariadb-server on a debootstrap minbase image.
# The entrypoint keeps the official mysql image's environment contract (MYSQL_* and *_FILE,
# /docker-entrypoint-initdb.d, data in /var/lib/mysql).
ARG BASE=dockstage/debian:bookworm-minbase
FROM ${BASE}

ENV LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive

# The package starts the service during install unless policy-rc.d says no (exit 101); it also
# creates a system database in /var/lib/mysql, which is emptied so the entrypoint initialises it.
# Versions come from the Debian suite of BASE; exact pins would break on every point release.
# gzip bzip2 xz-utils zstd: the compressed init files the official image reads (.sql.gz/bz2/xz/zst).
# Debian's 50-server.cnf sets character-set-server and collation-server: commented out, since a
# configured collation makes mariadbd reject a charset given on the command line (the entrypoint
# supplies utf8mb4 defaults as arguments instead); the build fails if any config still sets them.
# /etc/mysql/conf.d (the official image's place for a user's config) is included last, so it wins.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# hadolint ignore=DL3008
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d \
    && chmod 0755 /usr/sbin/policy-rc.d \
    && apt-get update \
    && apt-get install -y --no-install-recommends mariadb-server mariadb-client \
        gzip bzip2 xz-utils zstd tzdata \
    && rm -f /usr/sbin/policy-rc.d \
    && { [ -e /usr/bin/mysql ] || ln -s mariadb /usr/bin/mysql; } \
    && sed -i -E 's/^[[:space:]]*(character[-_]set[-_]server|collation[-_]server)[[:space:]]*=/# dockstage: &/' \
        /etc/mysql/mariadb.conf.d/*.cnf \
    && ! my_print_defaults --mysqld | grep -E -- '^--(character[-_]set|collation)[-_]server' \
    && sed -i -e '\|^!includedir /etc/mysql/conf.d/$|d' /etc/mysql/mariadb.cnf \
    && echo '!includedir /etc/mysql/conf.d/' >> /etc/mysql/mariadb.cnf \
    && [ "$(grep '^!includedir' /etc/mysql/mariadb.cnf | tr '\n' ' ')" \
        = '!includedir /etc/mysql/mariadb.conf.d/ !includedir /etc/mysql/conf.d/ ' ] \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \
    && rm -rf /var/lib/mysql \
    && mkdir -p /var/lib/mysql /run/mysqld /docker-entrypoint-initdb.d \
    && chown mysql:mysql /var/lib/mysql /run/mysqld \
    && chmod 0755 /run/mysqld

COPY --chmod=0644 mariadb-dockstage.cnf /etc/mysql/mariadb.conf.d/99-dockstage.cnf
COPY --chmod=0755 mariadb-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
COPY --chmod=0755 mariadb-healthcheck.sh /usr/local/bin/healthcheck.sh
# The first start's system tables (install-db and the time zone tables; no user, no password),
# made once here: a first start on an empty volume unpacks them (see the entrypoint's template).
RUN /usr/local/bin/docker-entrypoint.sh dockstage-make-template

VOLUME ["/var/lib/mysql"]
EXPOSE 3306

# Green only once the real server answers over TCP (the init server runs with --skip-networking).
HEALTHCHECK --interval=2s --timeout=5s --start-period=60s --retries=30 \
    CMD ["/usr/local/bin/healthcheck.sh"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["mariadbd"]
