# The bot's own image: the webhook server with git, the pinned uv it drives and bubblewrap, the
# sandbox uv and verification commands run in (docker run needs: see README, Security).
FROM python:3.12-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates bubblewrap \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 bot
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY checklists ./checklists
COPY templates ./templates
# Editable so that templates/ beside the packages is found exactly as in development.
RUN pip install --no-cache-dir -e .

USER bot
ENV UPGRADE_DEPS_DB=/home/bot/upgrade-deps.sqlite3
EXPOSE 8080
CMD ["upgrade-deps", "serve", "--host", "0.0.0.0", "--port", "8080"]
