# Stand-in for python:*-slim, built on a debootstrap minbase image (see dockstage/offline.py).
# Debian's Python with headers (mysqlclient compiles against Python.h), venv and pip.
ARG BASE=dockstage/debian:bookworm-minbase
FROM ${BASE}

ENV LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1

# Versions come from the Debian suite of BASE; exact pins would break on every point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates \
        python3 \
        python3-dev \
        python3-pip \
        python3-venv \
        python-is-python3 \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \
    && python --version

CMD ["python3"]
