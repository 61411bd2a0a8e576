#!/bin/bash
# Entrypoint of a harness swarm node: dockerd in the foreground, listening on the node's own
# socket and on /run/dockstage/docker.sock (bind-mounted from the host). Arguments go to dockerd
# (the harness passes --insecure-registry and --registry-mirror).
set -euo pipefail

# Bind mounts made by the node's containers must propagate (as on a real host); best effort.
mount --make-rshared / 2>/dev/null || true
mkdir -p /run/dockstage
# A node killed and started again keeps its filesystem: dockerd and containerd refuse to start on
# their stale pid files ("pid file found, ensure docker is not running").
rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid

exec dockerd \
    --host unix:///var/run/docker.sock \
    --host unix:///run/dockstage/docker.sock \
    "$@"
