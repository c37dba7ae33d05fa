"""The exposition: this process's metrics, and the queue read from the real job store and its inbox."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bot.service.jobs import JobStore
from bot.service.metrics import Metrics, scrape
from bot.service.store_view import QueueView


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}  # fmt: skip


def test_queue_depth_and_the_oldest_job_come_from_the_store(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite3"
    store = JobStore(db)
    store.add(delivery="a", subject="o/r#1", kind="command", spec="{}")
    store.add(delivery="b", subject="o/r#2", kind="bot-pull", spec="{}")
    assert store.claim() is not None  # "a" runs; "b" waits
    store.add(delivery="c", subject="o/r#3", kind="command", spec="{}")  # still in the inbox
    metrics = Metrics()
    metrics.deliveries.labels(event="issue_comment", outcome="accepted").inc()
    metrics.step("lock", 1.5)
    metrics.registry_check("missing")
    found = samples(scrape(metrics, QueueView(db), multiprocess=None).decode())
    assert found[("upgrade_deps_queue_depth", (("kind", "command"), ("state", "running")))] == 1
    assert found[("upgrade_deps_queue_depth", (("kind", "bot-pull"), ("state", "queued")))] == 1
    assert found[("upgrade_deps_queue_depth", (("kind", "command"), ("state", "queued")))] == 1  # the inbox's
    assert 0 <= found[("upgrade_deps_queue_oldest_seconds", ())] < 600  # "b" was stored moments ago
    assert (
        found[("upgrade_deps_deliveries_total", (("event", "issue_comment"), ("outcome", "accepted")))] == 1
    )
    assert found[("upgrade_deps_step_seconds_sum", (("step", "lock"),))] == 1.5
    assert found[("upgrade_deps_registry_checks_total", (("outcome", "missing"),))] == 1
    store.close()
