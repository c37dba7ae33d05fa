"""Prometheus metrics: what each process counts, and the scrape that sums them with the job store's queue."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from bot.service.store_view import StoreView

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Webhook intake is milliseconds; jobs and their steps are seconds to tens of minutes.
INTAKE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
JOB_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 3600.0)


class Metrics:
    """The counters and histograms of one process; under multiprocess mode each writes its own file."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry if registry is not None else CollectorRegistry()
        self.deliveries = Counter(
            "upgrade_deps_deliveries",
            "Webhook deliveries by event and outcome",
            ["event", "outcome"],
            registry=r,
        )
        self.intake = Histogram(
            "upgrade_deps_intake_seconds",
            "Time from a delivery's arrival to its answer",
            buckets=INTAKE_BUCKETS,
            registry=r,
        )
        self.jobs = Counter(
            "upgrade_deps_jobs",
            "Jobs ended, by kind and check-run conclusion",
            ["kind", "conclusion"],
            registry=r,
        )
        self.retries = Counter(
            "upgrade_deps_job_retries",
            "Jobs queued again after a transient failure",
            ["kind"],
            registry=r,
        )
        self.job_seconds = Histogram(
            "upgrade_deps_job_seconds",
            "Duration of one run of a job",
            ["kind"],
            buckets=JOB_BUCKETS,
            registry=r,
        )
        self.step_seconds = Histogram(
            "upgrade_deps_step_seconds",
            "Duration of a job's steps: each variant's lock, the audit, the push",
            ["step"],
            buckets=JOB_BUCKETS,
            registry=r,
        )
        self.github_calls = Counter(
            "upgrade_deps_github_calls",
            "GitHub API calls by method and HTTP status",
            ["method", "status"],
            registry=r,
        )
        self.rate_remaining = Gauge(
            "upgrade_deps_github_rate_limit_remaining",
            "Requests left in GitHub's rate limit, as its last answer said",
            ["installation"],
            multiprocess_mode="mostrecent",
            registry=r,
        )
        self.registry_checks = Counter(
            "upgrade_deps_registry_checks", "Container tags looked up", ["outcome"], registry=r
        )

    # The pipeline's observer (bot.pipeline.context.Observer)
    def step(self, name: str, seconds: float) -> None:
        self.step_seconds.labels(step=name).observe(seconds)

    def registry_check(self, outcome: str) -> None:
        self.registry_checks.labels(outcome=outcome).inc()


class Stopwatch:
    """Seconds since it was made, on the monotonic clock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._start = clock()

    def seconds(self) -> float:
        return self._clock() - self._start


class QueueCollector(Collector):
    """Read from the job store at each scrape, so every server and worker process reports the same queue."""

    def __init__(self, view: StoreView, clock: Callable[[], float] = time.time) -> None:
        self.view = view
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        queue = self.view.queue()
        depth = GaugeMetricFamily(
            "upgrade_deps_queue_depth", "Jobs queued or running, by state and kind", labels=["state", "kind"]
        )
        for (state, kind), count in sorted(queue.by_state_kind.items()):
            if state in ("queued", "running"):
                depth.add_metric([state, kind], count)
        yield depth
        oldest = 0.0 if queue.oldest_queued is None else max(0.0, self.clock() - queue.oldest_queued)
        yield GaugeMetricFamily(
            "upgrade_deps_queue_oldest_seconds",
            "Age of the oldest queued job (0 when none is queued)",
            value=oldest,
        )
        stored = GaugeMetricFamily(
            "upgrade_deps_jobs_stored", "Jobs in the job store, by state and kind", labels=["state", "kind"]
        )
        for (state, kind), count in sorted(queue.by_state_kind.items()):
            stored.add_metric([state, kind], count)
        yield stored


def scrape(metrics: Metrics, view: StoreView, *, multiprocess: Path | None) -> bytes:
    """The text exposition: every process's counts (summed from their files) and the queue."""
    if multiprocess is None:
        registry = CollectorRegistry()
        registry.register(_Own(metrics.registry))
    else:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(multiprocess))  # type: ignore[no-untyped-call]
    registry.register(QueueCollector(view))
    return generate_latest(registry)


class _Own(Collector):
    """This process's own metrics, when it is the only one counting."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


def prepare_directory(path: Path) -> None:
    """A fresh metrics directory at the server's start: counts of an earlier run would be summed in."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def process_gone(path: Path | None, pid: int) -> None:
    """A worker process ended: its live gauges no longer count (its counters still do)."""
    if path is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, path=str(path))  # type: ignore[no-untyped-call]
