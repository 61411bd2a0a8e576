# Stand-in for the official registry:2 image, built from Debian's docker-registry package (the
# same Distribution 2.8 server) on a debootstrap minbase image. Same contract as registry:2:
# listens on :5000, keeps its data in /var/lib/registry, config at /etc/docker/registry/config.yml.
ARG BASE=dockstage/debian:bookworm-minbase
FROM ${BASE}

ENV LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive

# The package would start its service during install unless policy-rc.d says no (exit 101).
# Its system user is made first, with a fixed numeric id (the package reuses it), so USER can be
# numeric. Versions come from the Debian suite of BASE; exact pins would break on point releases.
# hadolint ignore=DL3008
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d \
    && chmod 0755 /usr/sbin/policy-rc.d \
    && groupadd --system --gid 10002 docker-registry \
    && useradd --system --uid 10002 --gid docker-registry --home-dir /var/lib/docker-registry \
        --shell /usr/sbin/nologin docker-registry \
    && apt-get update \
    && apt-get install -y --no-install-recommends docker-registry \
    && rm -f /usr/sbin/policy-rc.d \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \
    && mkdir -p /var/lib/registry \
    && chown 10002:10002 /var/lib/registry

COPY --chmod=0644 registry-config.yml /etc/docker/registry/config.yml

VOLUME ["/var/lib/registry"]
EXPOSE 5000
USER 10002:10002

# TCP only: the image has no HTTP client; dockstage polls GET /v2/ itself.
HEALTHCHECK --interval=2s --timeout=3s --start-period=10s --retries=5 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/5000"]

ENTRYPOINT ["/usr/bin/docker-registry", "serve"]
CMD ["/etc/docker/registry/config.yml"]
