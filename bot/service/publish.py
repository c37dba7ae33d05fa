"""Publishes a job's results on GitHub once: intents recorded before effects, GitHub read after a crash."""

from __future__ import annotations

import time
from typing import Any

from bot.errors import OUTCOMES
from bot.service.github import CheckOutput, GitHub
from bot.service.jobspec import JobTarget
from bot.service.ledger import CheckRun, Ledger
from bot.service.publication import SUMMARY_MARKER, LineNote, Publication, bound, commentable_lines
from bot.text.render import render

CHECK_NAME = "upgrade-deps"
PROGRESS_INTERVAL = 1.0  # seconds between title updates, to stay far from secondary rate limits


class Publisher:
    """What one job shows on GitHub. Creates are recorded as intents first; a re-run that finds an
    intent without its outcome looks on GitHub (external id, hidden marker, finding keys) before
    creating anything again."""

    def __init__(
        self, *, github: GitHub, ledger: Ledger, target: JobTarget, bot_login: str, job_ref: str
    ) -> None:
        self.github = github
        self.ledger = ledger
        self.target = target
        self.bot_login = bot_login
        self.job_ref = job_ref  # the job's external id on GitHub
        self._last_progress = 0.0
        self._title = ""
        self._summary = ""

    def _args(self) -> tuple[int, str]:
        return self.target.installation, self.target.repo

    async def react(self, comment_id: int) -> None:
        if not self.ledger.reacted():
            # GitHub answers 200 for a reaction the app already left: after a crash, repeating is harmless.
            await self.github.react(*self._args(), comment_id, "eyes")
            self.ledger.set_reacted("eyes")

    def marker(self, key: str) -> str:
        """The hidden marker of the job's reply `key`, by which a re-run finds it on GitHub."""
        return f"<!-- upgrade-deps:reply {self.job_ref} {key} -->"

    async def reply(self, number: int, key: str, template: str, **values: Any) -> None:
        """One reply per job and key, rendered from `template`: created once, edited if the job runs again."""
        body = bound(render(template, marker=self.marker(key), **values))  # GitHub's limit: 65,536
        entry = self.ledger.reply(key)
        comment_id = entry.id if entry is not None else None
        if entry is not None and comment_id is None:  # it may have been created just before a crash
            comment_id = await self.github.find_comment(
                *self._args(), number, marker=self.marker(key), author=self.bot_login
            )
        if comment_id is not None:
            await self.github.edit_comment(*self._args(), comment_id, body)
        else:
            self.ledger.intend_reply(key)
            comment_id = await self.github.comment(*self._args(), number, body)
        self.ledger.set_reply(key, comment_id)

    async def _resolve(self, run: CheckRun | None) -> int | None:
        """The id of the job's run: recorded, or found on GitHub by external id when only the intent was."""
        if run is None or run.id is not None:
            return None if run is None else run.id
        found = await self.github.find_check_run(
            *self._args(), head_sha=run.head, name=CHECK_NAME, external_id=self.job_ref
        )
        if found is None:
            self.ledger.forget_check(run.head)  # the create never reached GitHub
        else:
            self.ledger.set_check_id(run.head, found)
        return found

    async def start_check(self, head_sha: str, request: str) -> int:
        """The in-progress check run on `head_sha` (created once per job and head)."""
        title = render("github-check-progress.txt.j2", step="checkout")
        self._summary = render("github-check-running.md.j2", request=request)
        check_id = await self._resolve(self.ledger.check_run(head_sha))
        if check_id is not None:
            fields = {"status": "in_progress", "output": {"title": title, "summary": self._summary}}
            await self.github.update_check_run(*self._args(), check_id, fields)
        else:
            self.ledger.intend_check(head_sha)
            check_id = await self.github.create_check_run(
                *self._args(), head_sha=head_sha, name=CHECK_NAME, external_id=self.job_ref,
                output=CheckOutput(title, self._summary),
            )  # fmt: skip
        self.ledger.set_check_id(head_sha, check_id)
        await self._move_on(head_sha)
        return check_id

    async def _move_on(self, head_sha: str) -> None:
        """Make the run on `head_sha` current; the job's runs left on other heads complete as moved on."""
        for run in self.ledger.check_runs():
            if run.head == head_sha or run.conclusion is not None:
                continue
            check_id = await self._resolve(run)
            if check_id is None:
                continue
            output = {"title": render("github-check-superseded-title.txt.j2", sha=head_sha),
                      "summary": render("github-check-superseded.md.j2", sha=head_sha)}  # fmt: skip
            fields = {"status": "completed", "conclusion": "neutral", "output": output}
            await self.github.update_check_run(*self._args(), check_id, fields)
            self.ledger.check_done(run.head, "neutral")
        self.ledger.set_current(head_sha)

    async def progress(self, step: str) -> None:
        """Show the step under way in the check run's title (at most once a second)."""
        current = self.ledger.current_check()
        title = render("github-check-progress.txt.j2", step=step)
        now = time.monotonic()
        if current is None or current.id is None or title == self._title:
            return
        if now - self._last_progress < PROGRESS_INTERVAL:
            return
        self._title, self._last_progress = title, now
        output = {"title": title, "summary": self._summary or title}
        await self.github.update_check_run(*self._args(), current.id, {"output": output})

    async def finish_check(self, head_sha: str, plan: Publication, request: str) -> None:
        """Complete the run on `head_sha` with the plan; annotations go 50 a call, resuming after a crash."""
        check_id = await self._resolve(self.ledger.check_run(head_sha))
        if check_id is None:
            check_id = await self.start_check(head_sha, request)
        else:
            await self._move_on(head_sha)
        run = self.ledger.check_run(head_sha)
        if run is None or run.conclusion is not None:
            return
        sent = 0
        if run.finishing:
            # Annotations are appended by each call: count what GitHub holds, not what we noted.
            state = await self.github.check_run(*self._args(), check_id)
            sent = min(state.annotations_count, len(plan.annotations))
        self.ledger.finishing_check(head_sha)
        output = CheckOutput(plan.title, plan.summary, plan.text, plan.annotations)
        await self.github.complete_check_run(
            *self._args(), check_id, conclusion=plan.conclusion, output=output, sent=sent
        )
        self.ledger.check_done(head_sha, plan.conclusion)

    async def fail_check(self, reason: str) -> None:
        """The job failed: every run of it still open says why."""
        summary = bound(render("github-check-failed.md.j2", reason=reason))
        outcome = OUTCOMES["error"]
        fields = {"status": "completed", "conclusion": outcome.conclusion,
                  "output": {"title": outcome.title, "summary": summary}}  # fmt: skip
        for run in self.ledger.check_runs():
            check_id = None if run.conclusion is not None else await self._resolve(run)
            if check_id is not None:
                await self.github.update_check_run(*self._args(), check_id, fields)
                self.ledger.check_done(run.head, outcome.conclusion)

    async def summary_comment(self, number: int, plan: Publication, *, audit_only: bool) -> None:
        """The one summary comment of the pull request, edited in place on every run.

        Shared by every job on the pull request, so it is always looked for by marker before one is
        created: a crash right after creating it leaves nothing to reconcile but that lookup.
        """
        body = bound(render("github-comment-summary.md.j2", marker=SUMMARY_MARKER, summary=plan.report,
                            audit_only=audit_only))  # fmt: skip
        existing = self.ledger.summary_comment() or await self.github.find_comment(
            *self._args(), number, marker=SUMMARY_MARKER, author=self.bot_login
        )
        if existing is not None:
            await self.github.edit_comment(*self._args(), existing, body)
        else:
            existing = await self.github.comment(*self._args(), number, body)
        self.ledger.set_summary_comment(existing)

    async def review(self, number: int, head_sha: str, plan: Publication) -> None:
        """Findings and unresolved items on lines of the diff as one COMMENT review; those already
        commented (by any earlier job on the pull request) are skipped.

        GitHub creates a review and its comments at once, and each comment carries its finding's
        hidden key: after a crash, the comments found on GitHub are what was posted.
        """
        if not plan.notes or self.ledger.review_done():
            return
        lines = {
            path: commentable_lines(patch)
            for path, patch in await self.github.pull_files(*self._args(), number)
        }
        posted = "\n".join(
            await self.github.review_comment_bodies(*self._args(), number, author=self.bot_login)
        )
        chosen = [n for n in plan.notes if _on_diff(n, lines.get(n.path, set())) and n.key not in posted]
        comments = [_comment(n) for n in chosen]
        review_id = None
        if comments:
            items = sum(1 for n in chosen if n.kind == "unresolved")
            body = render("github-review.md.j2", sites=len(chosen) - items, items=items)
            review_id = await self.github.create_review(
                *self._args(), number, commit=head_sha, body=body, comments=comments
            )
        self.ledger.set_review_done(review_id)


def _on_diff(note: LineNote, lines: set[int]) -> bool:
    """Every line the note covers is on the diff (a suggestion spans several)."""
    return all(n in lines for n in range(note.start_line or note.line, note.line + 1))


def _comment(note: LineNote) -> dict[str, Any]:
    comment: dict[str, Any] = {"path": note.path, "line": note.line, "side": "RIGHT", "body": note.body}
    if note.start_line is not None:
        comment.update(start_line=note.start_line, start_side="RIGHT")
    return comment
