"""Health timing: how often the suite's stacks probe their services, one value for all of them.

compose.yaml's db and web, the dev stack's web and the workers read it as
${DOCKSTAGE_HEALTH_INTERVAL} from the generated env file (data files cannot import the package);
a throwaway stack (pipeline, tests) gets the short one, so `up --wait` returns soon after each
service is ready (engine 20.10 has no start_interval). Web's timeout, retries and start period
are the prod image's HEALTHCHECK's: compose keeps them when it sets the interval only.
"""

from __future__ import annotations

HEALTH_INTERVAL = "2s"  # the project's stacks (`invoke up`, `invoke dev`) and swarm deploys
THROWAWAY_HEALTH_INTERVAL = "500ms"  # stacks torn down after one command: as often as is cheap


def health_interval(*, throwaway: bool = False) -> str:
    """The healthcheck interval of a stack's services."""
    return THROWAWAY_HEALTH_INTERVAL if throwaway else HEALTH_INTERVAL
