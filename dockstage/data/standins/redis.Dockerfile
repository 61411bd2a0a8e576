# Stand-in for redis:7 built from Debian's redis-server on a debootstrap minbase image.
# Same contract as the official image for the suite's use: redis-server (and redis-cli) on PATH,
# port 6379, data dir /data; the command line the suite's compose service gives wins.
ARG BASE=dockstage/debian:bookworm-minbase
FROM ${BASE}

ENV LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive

# The package starts the service during install unless policy-rc.d says no (exit 101).
# Versions come from the Debian suite of BASE (bookworm 7.0, trixie 8.0).
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The redis user first, with the official image's fixed ids (999), so USER can be numeric.
# hadolint ignore=DL3008
RUN groupadd --system --gid 999 redis \
    && useradd --system --uid 999 --gid redis --home-dir /var/lib/redis --shell /usr/sbin/nologin redis \
    && printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d \
    && chmod 0755 /usr/sbin/policy-rc.d \
    && apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -f /usr/sbin/policy-rc.d \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \
    && mkdir -p /data \
    && chown redis:redis /data \
    && redis-server --version

WORKDIR /data
USER 999:999
EXPOSE 6379
# Debian's /etc/redis/redis.conf binds loopback only: no config file, every interface, no
# protected mode (reachable only on the stack's own network), nothing written to disk.
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no"]
