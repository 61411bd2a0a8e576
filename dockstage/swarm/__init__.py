"""Shipping the prod image to a Docker swarm: a local registry, releases, stack deploys.

Public entry points (each a flow taking the command's Run, as every flow does):

- registry.up / registry.down        `invoke registry` (127.0.0.1:<port>, data in a named volume)
- release.release                    `invoke release [--version V]`
- deploy.deploy / deploy.rollback    `invoke deploy [--version V] [--replicas N]`, `invoke rollback`
- deploy.stack_ps / deploy.stack_logs / deploy.undeploy

Their own settings are one SwarmOptions (options.py: from the run's settings unless given; the
repository's three-node harness gives its own). See docs/DEPLOY.md.
"""

from dockstage.swarm.options import SwarmOptions

__all__ = ["SwarmOptions"]
