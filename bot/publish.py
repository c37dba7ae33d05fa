"""Publishes one job's results on GitHub, recording each step so a re-run edits instead of reposting."""

from __future__ import annotations

import json
import time

from bot.errors import OUTCOMES
from bot.github import GitHub
from bot.jobs import JobStore
from bot.jobspec import Target
from bot.plan import SUMMARY_MARKER, Plan, bound, commentable_lines
from bot.report import render

CHECK_NAME = "upgrade-deps"
PROGRESS_INTERVAL = 1.0  # seconds between title updates, to stay far from secondary rate limits


class Publisher:
    """What one job shows on GitHub; every create is recorded against the job before it is repeated."""

    def __init__(
        self, *, github: GitHub, store: JobStore, job_id: int, target: Target, bot_login: str
    ) -> None:
        self.github = github
        self.store = store
        self.job_id = job_id
        self.target = target
        self.bot_login = bot_login
        self._last_progress = 0.0
        self._title = ""
        self._summary = ""

    def _args(self) -> tuple[int, str]:
        return self.target.installation, self.target.repo

    async def react(self, comment_id: int) -> None:
        if self.store.recorded(self.job_id, "reaction") is None:
            await self.github.react(*self._args(), comment_id, "eyes")
            self.store.record(self.job_id, "reaction", "eyes")

    async def reply(self, number: int, key: str, body: str) -> None:
        """One reply per job and key: created once, edited if the job runs again."""
        what = f"reply:{key}"
        body = bound(body)  # GitHub refuses comments over 65,536 characters
        existing = self.store.recorded(self.job_id, what)
        if existing is not None:
            await self.github.edit_comment(*self._args(), int(existing), body)
            return
        comment_id = await self.github.comment(*self._args(), number, body)
        self.store.record(self.job_id, what, str(comment_id))

    async def start_check(self, head_sha: str, request: str) -> int:
        """The in-progress check run on `head_sha` (created once per job and head)."""
        what = f"check:{head_sha}"
        title = render("github-check-progress.txt.j2", step="checkout")
        self._summary = render("github-check-running.md.j2", request=request)
        existing = self.store.recorded(self.job_id, what)
        if existing is not None:
            check_id = int(existing)
            fields = {"status": "in_progress", "output": {"title": title, "summary": self._summary}}
            await self.github.update_check_run(*self._args(), check_id, fields)
        else:
            check_id = await self.github.create_check_run(
                *self._args(), head_sha=head_sha, name=CHECK_NAME, title=title, summary=self._summary
            )
            self.store.record(self.job_id, what, str(check_id))
            self.store.link_check_run(check_id, self.job_id)
        await self._move_on(head_sha, check_id)
        return check_id

    async def _move_on(self, head_sha: str, check_id: int) -> None:
        """Make `check_id` the job's current run; one left on an older head is completed as moved on."""
        current = self.store.recorded(self.job_id, "check:current")
        if current is not None and int(current) != check_id and not self._done(int(current)):
            output = {"title": render("github-check-superseded-title.txt.j2", sha=head_sha),
                      "summary": render("github-check-superseded.md.j2", sha=head_sha)}  # fmt: skip
            fields = {"status": "completed", "conclusion": "neutral", "output": output}
            await self.github.update_check_run(*self._args(), int(current), fields)
            self.store.record(self.job_id, f"done:{current}", "neutral")
        self.store.record(self.job_id, "check:current", str(check_id))

    def _done(self, check_id: int) -> bool:
        return self.store.recorded(self.job_id, f"done:{check_id}") is not None

    async def progress(self, step: str) -> None:
        """Show the step under way in the check run's title (at most once a second)."""
        current = self.store.recorded(self.job_id, "check:current")
        title = render("github-check-progress.txt.j2", step=step)
        now = time.monotonic()
        if current is None or title == self._title or now - self._last_progress < PROGRESS_INTERVAL:
            return
        self._title, self._last_progress = title, now
        output = {"title": title, "summary": self._summary or title}
        await self.github.update_check_run(*self._args(), int(current), {"output": output})

    async def finish_check(self, head_sha: str, plan: Plan, request: str) -> None:
        """Complete the run on `head_sha` with the plan; annotations go 50 a call, resuming after a crash."""
        on_head = self.store.recorded(self.job_id, f"check:{head_sha}")
        if on_head is None:
            check_id = await self.start_check(head_sha, request)
        else:
            check_id = int(on_head)
            await self._move_on(head_sha, check_id)
        if self._done(check_id):
            return
        sent = int(self.store.recorded(self.job_id, f"annotations:{check_id}") or 0)
        sent = await self.github.complete_check_run(
            *self._args(), check_id, conclusion=plan.conclusion, title=plan.title, summary=plan.summary,
            text=plan.text, annotations=plan.annotations, sent=sent,
        )  # fmt: skip
        self.store.record(self.job_id, f"annotations:{check_id}", str(sent))
        self.store.record(self.job_id, f"done:{check_id}", plan.conclusion)

    async def fail_check(self, reason: str) -> None:
        """The job failed: its current check run says why (unless it already completed)."""
        current = self.store.recorded(self.job_id, "check:current")
        if current is None or self._done(int(current)):
            return
        summary = bound(render("github-check-failed.md.j2", reason=reason))
        outcome = OUTCOMES["error"]
        fields = {"status": "completed", "conclusion": outcome.conclusion,
                  "output": {"title": outcome.title, "summary": summary}}  # fmt: skip
        await self.github.update_check_run(*self._args(), int(current), fields)
        self.store.record(self.job_id, f"done:{current}", outcome.conclusion)

    async def summary_comment(self, number: int, plan: Plan, *, audit_only: bool) -> None:
        """The one summary comment of the pull request, edited in place on every run."""
        body = bound(render("github-comment-summary.md.j2", marker=SUMMARY_MARKER, summary=plan.report,
                            audit_only=audit_only))  # fmt: skip
        existing = self.store.recorded(self.job_id, "summary") or await self.github.find_comment(
            *self._args(), number, marker=SUMMARY_MARKER, author=self.bot_login
        )
        if existing is not None:
            await self.github.edit_comment(*self._args(), int(existing), body)
        else:
            existing = await self.github.comment(*self._args(), number, body)
        self.store.record(self.job_id, "summary", str(existing))

    async def review(self, number: int, head_sha: str, plan: Plan) -> None:
        """Findings on lines of the diff as one COMMENT review; findings already commented are skipped."""
        if not plan.notes or self.store.recorded(self.job_id, "review") is not None:
            return
        lines = {
            path: commentable_lines(patch)
            for path, patch in await self.github.pull_files(*self._args(), number)
        }
        posted = "\n".join(await self.github.review_comment_bodies(*self._args(), number))
        comments = [
            {"path": note.path, "line": note.line, "side": "RIGHT", "body": note.body}
            for note in plan.notes
            if note.line in lines.get(note.path, set()) and note.key not in posted
        ]
        if comments:
            body = render("github-review.md.j2", count=len(comments))
            review_id = await self.github.create_review(
                *self._args(), number, commit=head_sha, body=body, comments=comments
            )
            self.store.record(self.job_id, "review", json.dumps(review_id))
