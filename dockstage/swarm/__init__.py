"""Shipping the prod image to a Docker swarm: a local registry, releases, stack deploys, a harness.

Public entry points (each takes the run's Settings, DockerClient and Reporter):

- registry.up / registry.down        `invoke registry` (127.0.0.1:<port>, data in a named volume)
- release.release                    `invoke release [--version V]`
- deploy.deploy / deploy.rollback    `invoke deploy [--version V] [--replicas N]`, `invoke rollback`
- deploy.stack_ps / deploy.stack_logs / deploy.undeploy
- harness.run                        `nox -s swarm` (three nodes in containers, four scenarios)

Their own settings are one SwarmOptions (options.py). See docs/DEPLOY.md.
"""

from dockstage.swarm.options import SwarmOptions

__all__ = ["SwarmOptions"]
