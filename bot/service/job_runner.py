"""Runs one stored job: decides what to do for its event, works in a sandbox, pushes, publishes."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import OUTCOMES, BadArgumentsError, TransientError, UpgradeDepsError
from bot.files.config import CONFIG_PATH, discover_variants, load_config, parse_config
from bot.model import Request, UpgradeResult
from bot.pipeline.botpr import VariantFiles, safe_derive
from bot.pipeline.request import USAGE, parse_request
from bot.service import jobspec
from bot.service.botlabel import label
from bot.service.clone import Identity, Sandbox
from bot.service.github import AppInfo, GitHub, PullInfo
from bot.service.jobs import Job, JobStore
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
from bot.service.revert_command import revert_command
from bot.text.render import render
from bot.tools.isolation import Isolation

WRITERS = ("admin", "maintain", "write")
DEFAULT_BOTS = ("renovate[bot]", "dependabot[bot]")
MOVED_RETRIES = 3


# bot.pipeline.upgrade.run_upgrade, passed in so the service is tested against the real one or another.
Upgrade = Callable[..., Awaitable[UpgradeResult]]


@dataclass(frozen=True)
class Services:
    github: GitHub
    store: JobStore
    app: AppInfo
    environ: Mapping[str, str]
    upgrade: Upgrade
    isolation: Isolation  # how every job runs repository code (uv, verification commands)
    uv_timeout: float = 600.0
    sandboxes: Path | None = None  # the worker process's own directory for clones (bot.service.clone_dirs)
    git_host: str = "github.com"  # the only host git may send the installation token to

    def sandbox(self, token: str) -> Sandbox:
        """A job's clone, in this worker process's directory, committing as the app's bot."""
        identity = Identity(self.app.bot_login, self.app.bot_email)
        return Sandbox(environ=self.environ, token=token, identity=identity, parent=self.sandboxes,
                       token_hosts=frozenset({self.git_host}))  # fmt: skip


@dataclass(frozen=True)
class Work:
    """One job's upgrade: where it clones from, what it runs, where it pushes, how its result reads."""

    url: str
    ref: str  # the branch cloned
    words: tuple[str, ...]
    branch: str  # the branch pushed to
    trusted: bool  # repository commands may run and the result is pushed (never for forks)
    start: str | None = None  # an issue command continues on this branch when it exists already
    bot: BotLabel | None = None
    raw: str = ""
    # A bot pull request's base: its own lock changes are audited against it where no sandbox lets
    # the upgrade run.
    static_base: str | None = None

    def plan(self, result: UpgradeResult, *, pushed: bool) -> Publication:
        return make_plan(result, audit_only=not self.trusted, pushed=pushed, branch=self.branch, bot=self.bot)


def branch_name(words: Sequence[str]) -> str:
    """`upgrade-deps/<short description>` from the request, safe as a git ref."""
    text = "-".join(w.replace("==", "-").replace("@", "-") for w in words if not w.startswith("--"))
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60].rstrip("-.")
    return f"upgrade-deps/{slug or 'upgrade'}"


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
        if c.words[:1] == ("help",):
            await publisher.reply(c.number, "help", "github-reply-help.md.j2", usage=USAGE)
            return
        if c.words[:1] == ("revert",):
            await revert_command(self.s, publisher, command=c)
            return
        try:
            request = parse_request(c.words)
        except BadArgumentsError as exc:
            await publisher.reply(c.number, "malformed", "github-reply-malformed.md.j2", problem=str(exc),
                                  usage=USAGE)  # fmt: skip
            return
        publisher.ledger.set_request(c.words)
        if c.is_pull:
            pull = await self.s.github.pull(t.installation, t.repo, c.number)
            await self._on_pull(job, t, pull, c.words, request.raw)
        else:
            await self._on_issue(job, c, request)

    async def _on_issue(self, job: Job, c: Command, request: Request) -> None:
        t = c.target
        publisher = self._publisher(job, t)
        branch = branch_name(c.words)
        done = publisher.ledger.result()
        if done is None:
            work = Work(t.clone_url, t.default_branch, c.words, branch, trusted=True, start=branch)
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
        self,
        job: Job,
        t: JobTarget,
        pull: PullInfo,
        words: Sequence[str],
        raw: str,
        *,
        problem: str | None = None,
        bot: BotLabel | None = None,
    ) -> None:
        publisher = self._publisher(job, t)
        audit_only = pull.head_repo != t.repo
        url = pull.head_clone_url if audit_only else t.clone_url
        work = Work(
            url,
            pull.head_ref,
            tuple(words),
            pull.head_ref,
            trusted=not audit_only,
            bot=bot,
            raw=raw,
            static_base=pull.base_sha if bot is not None else None,
        )
        done = publisher.ledger.result()
        if done is None and (problem or not words):
            # Nothing to run: a bot PR that moves nothing we track, or files we cannot read.
            result = refused_result(problem) if problem else nothing_result()
            done = Result(work.plan(result, pushed=False), pull.head_sha)
            publisher.ledger.set_result(done.plan, done.head)
            await publisher.start_check(done.head, raw)
        if done is None:
            done = await self._work(t, publisher.ledger, work, publisher)
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
            bot = BotLabel(b.author, label(b.title, b.body))
            await self._on_pull(job, t, pull, derived[0], " ".join(derived[0]), problem=derived[1], bot=bot)

    async def _configured_bot(self, t: JobTarget, b: BotPull) -> bool:
        """Whether the repository's `[bots].authors` names this author (read without cloning)."""
        text = await self.s.github.file_text(t.installation, t.repo, CONFIG_PATH, ref=b.base_sha)
        if text is None:
            return False
        try:
            config = parse_config(tomllib.loads(text), display=CONFIG_PATH)
        except (tomllib.TOMLDecodeError, UpgradeDepsError):
            return False  # the job on the bot's own PR will report the broken config
        return b.author in config.bots

    async def _derive(self, t: JobTarget, pull: PullInfo) -> tuple[tuple[str, ...], str | None] | None:
        """What the PR upgrades, from its diff against the base; None when its author is not a bot of ours."""
        token = await self.s.github.token(t.installation)
        async with self.s.sandbox(token) as box:
            await box.clone(t.clone_url, ref=pull.head_ref)
            try:
                config = load_config(box.repo)
                variants = discover_variants(box.repo, config)
            except UpgradeDepsError as exc:
                return (), str(exc)
            if pull.author not in config.bots:
                return None
            snaps: dict[str, dict[str, VariantFiles]] = {"base": {}, "head": {}}
            await box.fetch(pull.base_sha)
            for v in variants:
                for side, ref in (("base", pull.base_sha), ("head", "HEAD")):
                    snaps[side][v.name] = VariantFiles(
                        await box.file_at(ref, v.manifest), await box.file_at(ref, v.lock)
                    )
            return safe_derive(variants, snaps["base"], snaps["head"])

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
            await self._on_pull(job, t, pull, asked, " ".join(asked))
            return
        derived = await self._derive(t, pull)
        if derived is not None:
            await self._on_pull(job, t, pull, derived[0], " ".join(derived[0]), problem=derived[1])

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
                    await publisher.start_check(head, work.raw)
                if work.static_base is not None and self.s.isolation.mode == "refused":
                    await box.fetch(work.static_base)
                result = await self.s.upgrade(box.repo, list(work.words), commit=work.trusted,
                                              progress=publisher.progress if publisher else None,
                                              trusted=work.trusted, environ=self.s.environ,
                                              isolation=self.s.isolation, static_base=work.static_base,
                                              uv_timeout=self.s.uv_timeout)  # fmt: skip
                if not work.trusted or not result.commits:
                    done = Result(work.plan(result, pushed=False), head)
                    ledger.set_result(done.plan, done.head)
                    return done
                if publisher is not None:
                    await publisher.progress("push")
                plan = work.plan(result, pushed=True)
                if await push_once(box, ledger, work.branch, plan=plan) == "pushed":
                    return Result(plan, await box.head())
        raise TransientError(f"branch {work.branch} kept moving while upgrade-deps worked; will try again")
