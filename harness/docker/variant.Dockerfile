# Variants of the prod image for the multi-node harness (dockstage/swarm/harness.py):
#   relabelled  the same image with the labels the build adds: a new version, its own digest;
#   unhealthy   a version whose HEALTHCHECK always fails, for the automatic rollback scenario.
ARG BASE=project-playground:prod

FROM ${BASE} AS relabelled

FROM ${BASE} AS unhealthy
HEALTHCHECK --interval=2s --timeout=2s --start-period=5s --retries=2 \
    CMD ["python", "-c", "raise SystemExit('unhealthy on purpose (dockstage harness)')"]
