# Stand-in for python:*-slim, built on a debootstrap minbase image (see dockstage/offline.py).
# Debian's Python with headers (mysqlclient compiles against Python.h), venv and pip.
# Its environment is the official image's as an app sees it (dockstage/images/standinenv.py lists
# it): PATH with /usr/local/bin first, LANG=C.UTF-8 and PYTHON_VERSION, the full version of the
# Python inside, which dockstage reads from the `python` stage and passes as a build argument.
ARG BASE=dockstage/debian:bookworm-minbase
FROM ${BASE} AS python

# Build-time only, as in the official images, whose containers have no DEBIAN_FRONTEND.
ARG DEBIAN_FRONTEND=noninteractive
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

FROM python AS python-env
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8
ARG PYTHON_VERSION=""
ENV PYTHON_VERSION=${PYTHON_VERSION}
# A PYTHON_VERSION that is not the Python inside fails the build.
RUN actual="$(python3 -c 'import platform; print(platform.python_version())')" \
    && if [ "$PYTHON_VERSION" != "$actual" ]; then \
        echo "PYTHON_VERSION=$PYTHON_VERSION but the image has Python $actual" >&2; exit 1; \
    fi

CMD ["python3"]
