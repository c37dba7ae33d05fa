# The bot's own image: `upgrade-deps serve` installed from the project's wheel over the dependencies uv.lock
# pins, with git and bubblewrap, the sandbox uv and verification commands run in (docker run needs: see
# README, Security). tests/packaging/test_wheel.py builds and installs the wheel with these same steps, from
# the files copied here, and runs this HEALTHCHECK against the installed server.
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
ENV UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy
WORKDIR /src
# uv from PyPI through pip, checked against the hashes uv.lock records for it, as scripts/setup gets it.
COPY uv.lock pyproject.toml README.md ./
COPY scripts/pinned_uv.py scripts/
RUN python scripts/pinned_uv.py uv.lock > /tmp/uv.txt \
    && python -m venv /opt/uv \
    && /opt/uv/bin/python -m pip install --no-cache-dir --require-hashes -r /tmp/uv.txt
# The locked dependencies, into the environment the image runs (inexact: it keeps its pip), and the locked
# build backend into another; both layers stay cached until uv.lock or pyproject.toml change.
RUN python -m venv /opt/upgrade-deps \
    && UV_PROJECT_ENVIRONMENT=/opt/upgrade-deps /opt/uv/bin/uv sync --locked --no-dev --no-install-project --inexact
RUN UV_PROJECT_ENVIRONMENT=/opt/build /opt/uv/bin/uv sync --locked --only-group build --no-install-project
COPY bot ./bot
COPY handlers ./handlers
COPY checklists ./checklists
COPY templates ./templates
COPY app.yaml ./
# The wheel, not an editable install: the templates travel inside it (bot/templates is a link to templates/).
# --no-index: every dependency must already be there, from the lock.
RUN /opt/uv/bin/uv build --wheel --no-build-isolation --python /opt/build/bin/python --out-dir /dist . \
    && /opt/upgrade-deps/bin/python -m pip install --no-cache-dir --no-index /dist/*.whl

FROM ${BASE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates bubblewrap \
    && rm -rf /var/lib/apt/lists/*
# Same base image and path as in the build stage, so the environment's interpreter links and scripts hold.
COPY --from=build /opt/upgrade-deps /opt/upgrade-deps
# The job store lives on a volume, owned by the unprivileged user the service runs as.
RUN useradd --create-home --uid 10001 bot \
    && install -d -o bot -g bot -m 0700 /var/lib/upgrade-deps
VOLUME /var/lib/upgrade-deps
ENV PATH=/opt/upgrade-deps/bin:$PATH \
    UPGRADE_DEPS_DB=/var/lib/upgrade-deps/upgrade-deps.sqlite3 \
    UPGRADE_DEPS_LOG_FORMAT=json \
    UV_PYTHON_DOWNLOADS=never
USER bot
WORKDIR /home/bot
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=5)"]
CMD ["upgrade-deps", "serve", "--host", "0.0.0.0", "--port", "8080"]
