"""Runs one stored job: decides what to do for its event, works in a sandbox, pushes, publishes."""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import OUTCOMES, TransientError
from bot.model import Request, UpgradeResult
from bot.pipeline.botpr import CONFIG_PATH, Derived, config_names_bot, derive_pull
from bot.pipeline.context import ReleaseSource, RunOptions, timed
from bot.pipeline.request import USAGE
from bot.service import jobspec
from bot.service.botlabel import label
from bot.service.commands import Help, Malformed, Revert, Upgrade
from bot.service.github import PullInfo
from bot.service.jobs import Job
from bot.service.jobspec import BotPull, Command, JobTarget, Rerun
from bot.service.ledger import Ledger, Result
from bot.service.publication import (
    SUMMARY_MARKER,
    BotLabel,
    Publication,
    bound,
    make_plan,
    nothing_result,
    refused_result,
)
from bot.service.publish import Publisher
from bot.service.pushes import push_landed, push_once
from bot.service.release_source import InstallationReleases
from bot.service.revert_command import revert_command
from bot.service.services import Services
from bot.text.render import render

WRITERS = ("admin", "maintain", "write")
DEFAULT_BOTS = ("renovate[bot]", "dependabot[bot]")
MOVED_RETRIES = 3


@dataclass(frozen=True)
class Work:
    """One job's upgrade: where it clones from, what it runs, where it pushes, how its result reads."""

    url: str
    ref: str  # the branch cloned
    request: Request
    branch: str  # the branch pushed to
    trusted: bool  # repository commands may run and the result is pushed (never for forks)
    start: str | None = None  # an issue command continues on this branch when it exists already
    bot: BotLabel | None = None
    # A bot pull request's base: its own lock changes are audited against it where no sandbox lets
    # the upgrade run.
    static_base: str | None = None

    def plan(self, result: UpgradeResult, *, pushed: bool) -> Publication:
        return make_plan(result, audit_only=not self.trusted, pushed=pushed, branch=self.branch, bot=self.bot)

    def options(self, notes: ReleaseSource | None = None) -> RunOptions:
        """A fork's head is audited, never run nor committed to."""
        return RunOptions(commit=self.trusted, trusted=self.trusted, static_base=self.static_base,
                          release_notes=notes)  # fmt: skip


class JobRunner:
    def __init__(self, services: Services) -> None:
        self.s = services

    def _publisher(self, job: Job, target: JobTarget) -> Publisher:
        return Publisher(github=self.s.github, ledger=self.s.store.ledger(job.id), target=target,
                         bot_login=self.s.app.bot_login, job_ref=job.external_id)  # fmt: skip

    async def run(self, job: Job) -> None:
        spec = jobspec.loads(job.kind, job.spec)
        if isinstance(spec, Command):
            await self._command(job, spec)
        elif isinstance(spec, BotPull):
            await self._bot_pull(job, spec)
        else:
            await self._rerun(job, spec)

    async def failed(self, job: Job) -> None:
        """The job could not finish: fail its check run with the reason, answer a command."""
        spec = jobspec.loads(job.kind, job.spec)
        publisher = self._publisher(job, spec.target)
        reason = job.error or "unknown error"
        await publisher.fail_check(reason)
        if isinstance(spec, Command):
            await publisher.reply(spec.number, "failed", "github-reply-failed.md.j2", reason=reason)

    # Commands
    async def _command(self, job: Job, c: Command) -> None:
        t = c.target
        publisher = self._publisher(job, t)
        role = await self.s.github.permission(t.installation, t.repo, c.author)
        if role not in WRITERS:
            await publisher.reply(
                c.number, "refused", "github-reply-refused.md.j2", author=c.author, role=role
            )
            return
        await publisher.react(c.comment_id)
        asked = c.asked
        if isinstance(asked, Help):
            await publisher.reply(c.number, "help", "github-reply-help.md.j2", usage=USAGE)
            return
        if isinstance(asked, Revert):
            await revert_command(self.s, publisher, command=c)
            return
        if isinstance(asked, Malformed):
            await publisher.reply(
                c.number, "malformed", "github-reply-malformed.md.j2", problem=asked.problem, usage=USAGE
            )
            return
        publisher.ledger.set_request(asked.request)
        if c.is_pull:
            pull = await self.s.github.pull(t.installation, t.repo, c.number)
            await self._on_pull(job, t, pull, Derived(asked.request))
        else:
            await self._on_issue(job, c, asked)

    async def _on_issue(self, job: Job, c: Command, asked: Upgrade) -> None:
        t = c.target
        publisher = self._publisher(job, t)
        request, branch = asked.request, asked.branch
        done = publisher.ledger.result()
        if done is None:
            work = Work(t.clone_url, t.default_branch, request, branch, trusted=True, start=branch)
            done = await self._work(t, publisher.ledger, work, None)
        outcome = OUTCOMES[done.plan.outcome]
        owner = t.repo.split("/")[0]
        if not done.plan.pushed:
            # The same request again: its branch may already have everything, in an open PR.
            open_pull = await self.s.github.find_pull(t.installation, t.repo, f"{owner}:{branch}")
            existing = open_pull[1] if open_pull else None
            await publisher.reply(c.number, "result", "github-reply-not-opened.md.j2", outcome=outcome,
                                  summary=done.plan.report, existing=existing)  # fmt: skip
            return
        found = publisher.ledger.pull()
        if found is None:
            # Looked for first: a crash right after GitHub opened it leaves it there, unrecorded.
            found = await self.s.github.find_pull(t.installation, t.repo, f"{owner}:{branch}")
            if found is None:
                body = render("github-pr-body.md.j2", marker=SUMMARY_MARKER, author=c.author, number=c.number,
                              summary=done.plan.report)  # fmt: skip
                title = render("github-pr-title.txt.j2", items=[item.text for item in request.items])
                found = await self.s.github.create_pull(
                    t.installation, t.repo, title=title, head=branch, base=t.default_branch, body=bound(body)
                )
            publisher.ledger.set_pull(*found)
        await publisher.finish_check(done.head, done.plan, request.raw)
        await publisher.reply(c.number, "result", "github-reply-opened.md.j2", outcome=outcome, url=found[1])

    # Pull requests
    async def _on_pull(
        self, job: Job, t: JobTarget, pull: PullInfo, asked: Derived, *, bot: BotLabel | None = None
    ) -> None:
        """Upgrade the pull request's branch as `asked` (a command's request, or a bot's changes)."""
        publisher = self._publisher(job, t)
        audit_only = pull.head_repo != t.repo
        raw = asked.request.raw if asked.request is not None else ""
        done = publisher.ledger.result()
        if done is None and asked.request is None:
            # Nothing to run: a bot PR that moves nothing we track, or files we cannot read.
            result = refused_result(asked.problem) if asked.problem else nothing_result()
            plan = make_plan(result, audit_only=audit_only, pushed=False, branch=pull.head_ref, bot=bot)
            done = Result(plan, pull.head_sha)
            publisher.ledger.set_result(done.plan, done.head)
            await publisher.start_check(done.head, raw)
        if done is None and asked.request is not None:
            url = pull.head_clone_url if audit_only else t.clone_url
            static_base = pull.base_sha if bot is not None else None
            work = Work(url, pull.head_ref, asked.request, pull.head_ref, trusted=not audit_only, bot=bot,
                        static_base=static_base)  # fmt: skip
            done = await self._work(t, publisher.ledger, work, publisher)
        assert done is not None  # noqa: S101 - one of the two branches above ran
        await publisher.finish_check(done.head, done.plan, raw)
        await publisher.summary_comment(pull.number, done.plan, audit_only=audit_only)
        await publisher.review(pull.number, done.head, done.plan)

    async def _bot_pull(self, job: Job, b: BotPull) -> None:
        t = b.target
        if b.author not in DEFAULT_BOTS and not b.author_is_bot and not await self._configured_bot(t, b):
            return  # people's pull requests are theirs; only bots' are completed
        if b.head_repo != t.repo:
            return  # a bot never opens from a fork; someone imitating one does
        pull = PullInfo(b.number, b.head_ref, b.head_sha, b.head_repo, t.clone_url, b.base_ref, b.base_sha,
                        b.author, "")  # fmt: skip
        derived = await self._derive(t, pull)
        if derived is not None:
            await self._on_pull(job, t, pull, derived, bot=BotLabel(b.author, label(b.title, b.body)))

    async def _configured_bot(self, t: JobTarget, b: BotPull) -> bool:
        """Whether the repository's `[bots].authors` names this author (read without cloning)."""
        text = await self.s.github.file_text(t.installation, t.repo, CONFIG_PATH, ref=b.base_sha)
        return config_names_bot(text, b.author)

    async def _derive(self, t: JobTarget, pull: PullInfo) -> Derived | None:
        """What the PR upgrades, from its diff against the base; None when its author is not a bot of ours."""
        token = await self.s.github.token(t.installation)
        async with self.s.sandbox(token) as box:
            await box.clone(t.clone_url, ref=pull.head_ref)
            fetched: list[str] = []

            async def file_at(side: str, path: str) -> str | None:
                if side == "base" and not fetched:  # the base may be on a branch not cloned
                    await box.fetch(pull.base_sha)
                    fetched.append(pull.base_sha)
                return await box.file_at(pull.base_sha if side == "base" else "HEAD", path)

            return await derive_pull(box.repo, author=pull.author, file_at=file_at)

    async def _rerun(self, job: Job, r: Rerun) -> None:
        t = r.target
        store = self.s.store
        original = (
            store.job_for_check_run(r.check_run_id) if r.check_run_id else store.job_for_head(r.head_sha)
        )
        number = r.pulls[0] if r.pulls else None
        if number is None:
            return
        pull = await self.s.github.pull(t.installation, t.repo, number)
        asked = store.ledger(original.id).request() if original else None
        if asked is not None:  # the same command again (a re-run of a re-run keeps it too)
            store.ledger(job.id).set_request(asked)
            await self._on_pull(job, t, pull, Derived(asked))
            return
        derived = await self._derive(t, pull)
        if derived is not None:
            await self._on_pull(job, t, pull, derived)

    # The work itself
    async def _work(self, t: JobTarget, ledger: Ledger, work: Work, publisher: Publisher | None) -> Result:
        """Clone, upgrade, push once; when the branch moved meanwhile, start again on its new head."""
        for _ in range(MOVED_RETRIES):
            token = await self.s.github.token(t.installation)
            async with self.s.sandbox(token) as box:
                head = await box.clone(work.url, ref=work.ref)
                # Pushed just before a crash: publish what was recorded, never a re-run on the pushed branch.
                if await push_landed(box, ledger) and (landed := ledger.result()) is not None:
                    return landed
                if work.start is not None and await box.remote_branch(work.start) is not None:
                    await box.git("checkout", "--quiet", "-B", work.start, f"origin/{work.start}")
                    head = await box.head()
                if publisher is not None:
                    await publisher.start_check(head, work.request.raw)
                if work.static_base is not None and self.s.runtime.isolation.mode == "refused":
                    await box.fetch(work.static_base)
                progress = publisher.progress if publisher is not None else None
                notes = InstallationReleases(self.s.github, t.installation)
                result = await self.s.upgrade(box.repo, work.request, runtime=self.s.runtime,
                                              options=work.options(notes), progress=progress)  # fmt: skip
                if not work.trusted or not result.commits:
                    done = Result(work.plan(result, pushed=False), head)
                    ledger.set_result(done.plan, done.head)
                    return done
                if publisher is not None:
                    await publisher.progress("push")
                plan = work.plan(result, pushed=True)
                with timed(self.s.runtime.observer, "push"):
                    pushed = await push_once(box, ledger, work.branch, plan=plan)
                if pushed == "pushed":
                    return Result(plan, await box.head())
        raise TransientError(f"branch {work.branch} kept moving while upgrade-deps worked; will try again")
