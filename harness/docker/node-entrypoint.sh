#!/bin/bash
# Entrypoint of a harness swarm node: dockerd in the foreground, listening on the node's own
# socket and on /run/dockstage/docker.sock (bind-mounted from the host). Arguments go to dockerd
# (the harness passes --insecure-registry and --registry-mirror).
set -euo pipefail

# Bind mounts made by the node's containers must propagate (as on a real host); best effort.
mount --make-rshared / 2>/dev/null || true
mkdir -p /run/dockstage

exec dockerd \
    --host unix:///var/run/docker.sock \
    --host unix:///run/dockstage/docker.sock \
    "$@"
