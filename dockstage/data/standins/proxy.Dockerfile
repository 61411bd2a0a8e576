# Stand-in for the official nginx image, built from Debian's nginx package on a debootstrap
# minbase image: the proxy in front of web in the swarm stack (compose/compose.swarm.yaml).
# It runs as nobody on port 8080 with a read-only root; only /tmp (a tmpfs) is written.
ARG BASE=dockstage/debian:bookworm-minbase
FROM ${BASE}

ENV LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive

# nginx-light: the core HTTP proxy modules, fewest extras. policy-rc.d keeps the package from
# starting the service during install. Versions come from the Debian suite of BASE.
# hadolint ignore=DL3008
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d \
    && chmod 0755 /usr/sbin/policy-rc.d \
    && apt-get update \
    && apt-get install -y --no-install-recommends nginx-light \
    && rm -f /usr/sbin/policy-rc.d \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \
    && rm -f /etc/nginx/sites-enabled/default \
    && nginx -v

COPY --chmod=0644 proxy-nginx.conf /etc/nginx/nginx.conf

EXPOSE 8080
USER 65534:65534
STOPSIGNAL SIGQUIT

# A TCP probe: the image carries no HTTP client. The stack file repeats it for the official image.
HEALTHCHECK --interval=2s --timeout=3s --start-period=5s --retries=5 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]

ENTRYPOINT ["nginx", "-e", "stderr", "-g", "daemon off;"]
