"""What `serve` and `worker` do before anything else: read the app from GitHub, prepare the job store."""

from __future__ import annotations

import logging
import sys

import aiohttp

from bot.errors import StoreError, UpgradeDepsError
from bot.service import store as job_store
from bot.service.github import AppInfo, GitHub
from bot.service.metrics import Metrics
from bot.settings import Settings


async def ready(
    settings: Settings, *, role: str, log: logging.Logger, metrics: Metrics | None = None
) -> AppInfo | None:
    """The app this process acts as, once the job store is migrated; None (said on stderr, naming the
    role) when GitHub cannot tell it or the store cannot be prepared."""
    async with aiohttp.ClientSession() as session:
        github = GitHub(session, app_id=settings.app_id, private_key=settings.private_key,
                        api_url=settings.api_url, metrics=metrics)  # fmt: skip
        try:
            app = await github.app()
        except UpgradeDepsError as exc:
            print(f"upgrade-deps {role}: cannot read the app from {settings.api_url}: {exc}", file=sys.stderr)
            return None
    try:
        migrated = job_store.prepare(settings)
    except StoreError as exc:
        print(f"upgrade-deps {role}: {exc}", file=sys.stderr)
        return None
    if migrated:
        log.info("%s", migrated)
    return app
