# A swarm node for the multi-node harness (dockstage/swarm/harness.py): Debian's docker.io on a
# debootstrap minbase image, run as a container with the flags of ../shared/tools/fresh-machine
# (all capabilities but SYS_RESOURCE, unconfined seccomp/apparmor/systempaths, /sys/fs/cgroup rw,
# /var/lib/docker on a volume). Its dockerd also listens on /run/dockstage/docker.sock, a
# directory the harness bind-mounts, so the host drives each node through python-on-whales.
ARG BASE=dockstage/debian:bookworm-minbase
FROM ${BASE}

ENV LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive

# docker.io: dockerd, containerd, runc, tini (the engine); iptables: its NAT and port publishing;
# iproute2 and procps: `ip` and `ps` when a node needs looking into; ca-certificates: TLS
# registries. Versions come from the Debian suite of BASE.
# hadolint ignore=DL3008
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d \
    && chmod 0755 /usr/sbin/policy-rc.d \
    && apt-get update \
    && apt-get install -y --no-install-recommends docker.io iptables iproute2 procps ca-certificates \
    && rm -f /usr/sbin/policy-rc.d \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \
    && dockerd --version

COPY --chmod=0755 node-entrypoint.sh /usr/local/bin/node-entrypoint.sh

VOLUME ["/var/lib/docker"]
# Up once the engine answers on the socket the harness uses.
HEALTHCHECK --interval=1s --timeout=3s --start-period=30s --retries=3 \
    CMD ["docker", "--host", "unix:///run/dockstage/docker.sock", "version"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/node-entrypoint.sh"]
