"""The log line and metrics of each webhook delivery, from what answering it found out."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from aiohttp import web

from bot.service.logs import clip
from bot.service.metrics import Metrics

log = logging.getLogger("upgrade-deps.server")


@dataclass
class Delivered:
    """What one delivery turned out to be, gathered while it is answered, for its log line."""

    event: str = ""
    delivery: str = ""
    action: str = ""
    repository: str = ""
    outcome: str = "refused"
    jobs: list[int] = field(default_factory=list)


def log_delivery(metrics: Metrics | None, facts: Delivered, response: web.Response, seconds: float) -> None:
    """One line per delivery, accepted or refused; the deliveries counter and the intake latency."""
    fields = {"event": clip(facts.event, 100), "action": clip(facts.action, 100),
              "delivery": clip(facts.delivery, 100), "repository": clip(facts.repository, 140),
              "outcome": facts.outcome, "status": response.status,
              "ms": round(seconds * 1000, 2)}  # fmt: skip
    if facts.jobs:
        fields["jobs"] = facts.jobs
    if facts.outcome == "refused":
        fields["reason"] = clip(_message(response), 300)
    log.info("delivery %s", facts.outcome, extra=fields)
    if metrics is not None:
        event = facts.event if facts.outcome != "refused" or response.status != 401 else "unsigned"
        metrics.deliveries.labels(event=clip(event, 40), outcome=facts.outcome).inc()
        metrics.intake.observe(seconds)


def _message(response: web.Response) -> str:
    """The `message` of one of our own JSON refusals (its text, should it be something else)."""
    text = response.text or ""
    try:
        message = json.loads(text).get("message")
    except (ValueError, AttributeError):
        return text
    return message if isinstance(message, str) else text


def describe(facts: Delivered, data: dict[str, object]) -> None:
    """The action and repository a delivery names, for its log line: as sent, whatever their type."""
    action, repository = data.get("action"), data.get("repository")
    facts.action = action if isinstance(action, str) else ""
    name = repository.get("full_name") if isinstance(repository, dict) else None
    facts.repository = name if isinstance(name, str) else ""
