"""What the workers say about each run of a job: a log line at its start and end, metrics, its timing."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.errors import OUTCOMES, JobSpecError
from bot.service import jobspec
from bot.service.commands import Help, Revert, Upgrade
from bot.service.jobs import Job
from bot.service.ledger import Timing
from bot.service.logs import clip
from bot.service.metrics import Metrics
from bot.service.store import JobQueue

log = logging.getLogger("upgrade-deps.jobs")
NO_CHECK = "none"  # the conclusion label of a job that publishes no check run (help, a refusal)


def asked(job: Job) -> str:
    """What the job was asked to do, in a few words, from its stored spec."""
    try:
        spec = jobspec.loads(job.kind, job.spec)
    except JobSpecError:
        return "(unreadable job spec)"
    if isinstance(spec, jobspec.Command):
        a = spec.asked
        if isinstance(a, Upgrade):
            return a.request.raw
        return "help" if isinstance(a, Help) else "revert" if isinstance(a, Revert) else "(malformed)"
    if isinstance(spec, jobspec.BotPull):
        return f"{spec.author}'s pull request"
    return "re-run"


class JobEvents:
    """Called by the worker pool around each run; writes through the job store's ledger."""

    def __init__(
        self, *, store: JobQueue, metrics: Metrics | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self._started: dict[int, float] = {}

    def started(self, job: Job) -> None:
        now = self._started[job.id] = self.clock()
        self.store.ledger(job.id).set_timing(Timing(started=now))
        log.info("job started", extra={"job_id": job.id, "kind": job.kind, "subject": job.subject,
                                       "request": clip(asked(job)), "attempt": job.attempts})  # fmt: skip

    def retried(self, job: Job, *, delay: float, error: str) -> None:
        self._end(job, "retry", None, error)
        log.warning("job retried", extra={"job_id": job.id, "kind": job.kind, "subject": job.subject,
                                          "attempt": job.attempts, "delay": round(delay, 1),
                                          "error": clip(error, 500)})  # fmt: skip
        if self.metrics is not None:
            self.metrics.retries.labels(kind=job.kind).inc()

    def ended(self, job: Job, *, failed: bool, error: str | None = None) -> None:
        """The run is over for good: done, or failed with `error` (a bug's traceback is logged apart)."""
        result = self.store.ledger(job.id).result()
        if result is not None:
            conclusion = result.plan.conclusion
        else:
            conclusion = OUTCOMES["error"].conclusion if failed else NO_CHECK
        seconds = self._end(job, "failed" if failed else "done", conclusion, error)
        ledger_request = self.store.ledger(job.id).request()
        request = ledger_request.raw if ledger_request is not None else asked(job)
        fields = {"job_id": job.id, "kind": job.kind, "subject": job.subject, "request": clip(request),
                  "seconds": round(seconds, 3), "conclusion": conclusion,
                  "exit": "failed" if failed else "done"}  # fmt: skip
        if error:
            fields["error"] = clip(error, 500)
        log.log(logging.WARNING if failed else logging.INFO, "job ended", extra=fields)
        if self.metrics is not None:
            self.metrics.jobs.labels(kind=job.kind, conclusion=conclusion).inc()

    def _end(self, job: Job, exit: str, conclusion: str | None, error: str | None) -> float:
        now = self.clock()
        started = self._started.pop(job.id, now)
        self.store.ledger(job.id).set_timing(Timing(started, now, conclusion, exit))
        if self.metrics is not None:
            self.metrics.job_seconds.labels(kind=job.kind).observe(now - started)
        return now - started
