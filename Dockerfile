# syntax=docker/dockerfile:1
# The meet API image: `docker build -t meet .`
#   docker run --env-file .env meet db upgrade   # apply the migrations (once per release)
#   docker run --env-file .env -p 8000:8000 meet # serve (`meet serve --host 0.0.0.0`)
#
# BASE_IMAGE is any Debian-like image with Python 3.11 as `python3` (the official slim image by
# default; a local Debian bookworm root with python3 and python3-venv works too, for machines that
# cannot reach a registry). Both stages use the same base, so the virtual environment's interpreter
# path is the same at build and at run time.
ARG BASE_IMAGE=python:3.11-slim-bookworm
ARG UV_VERSION=0.13.9

FROM ${BASE_IMAGE} AS build
ARG UV_VERSION
# Behind a TLS-inspecting proxy, mount its CA bundle over the system one for the build and pass
# --build-arg PIP_CERT=/etc/ssl/certs/ca-certificates.crt; uv reads the system store (UV_NATIVE_TLS).
ARG PIP_CERT
ENV UV_COMPILE_BYTECODE=1 \
    UV_NATIVE_TLS=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# uv itself lives in its own virtual environment of the build stage only.
RUN python3 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /src
# Dependencies first (the lock file, no dev group), so a code change reuses this layer.
COPY pyproject.toml uv.lock ./
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-install-project --no-cache
COPY README.md ./
COPY src ./src
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-editable --no-cache

FROM ${BASE_IMAGE} AS runtime
# An unprivileged user owning nothing but the data folder; the code is root-owned and read-only to it.
RUN groupadd --system --gid 10001 meet \
    && useradd --system --uid 10001 --gid meet --home-dir /var/lib/meet --shell /usr/sbin/nologin meet \
    && mkdir -p /var/lib/meet \
    && chown meet:meet /var/lib/meet
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MEET_PROFILE=production \
    MEET_LOG_FORMAT=json \
    MEET_DATA_DIR=/var/lib/meet
WORKDIR /var/lib/meet
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
ENTRYPOINT ["meet"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
