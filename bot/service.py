"""Runs one stored job: decides what to do for its event, works in a sandbox, pushes, publishes."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from bot import jobspec
from bot.botlabel import label
from bot.botpr import Snapshot, safe_derive
from bot.config import CONFIG_PATH, discover_variants, load_config, parse_config
from bot.errors import OUTCOMES, BadArgumentsError, TransientError, UpgradeDepsError
from bot.github import AppInfo, GitHub, PullInfo
from bot.isolation import Isolation
from bot.jobs import Job, JobStore
from bot.jobspec import BotPull, Command, Rerun, Target
from bot.model import Request, UpgradeResult
from bot.plan import SUMMARY_MARKER, BotLabel, Plan, bound, make_plan, nothing_result, refused_result
from bot.publish import Publisher
from bot.report import render
from bot.request import USAGE, parse_request
from bot.revert_command import revert_command
from bot.sandbox import Identity, Sandbox

WRITERS = ("admin", "maintain", "write")
DEFAULT_BOTS = ("renovate[bot]", "dependabot[bot]")
MOVED_RETRIES = 3


# bot.pipeline.run_upgrade, passed in so the service is tested against the real one or another.
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


@dataclass(frozen=True)
class Outcome:
    result: UpgradeResult
    head: str  # the commit the job ends on (pushed, or as cloned)
    pushed: bool


def branch_name(words: Sequence[str]) -> str:
    """`upgrade-deps/<short description>` from the request, safe as a git ref."""
    text = "-".join(w.replace("==", "-").replace("@", "-") for w in words if not w.startswith("--"))
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60].rstrip("-.")
    return f"upgrade-deps/{slug or 'upgrade'}"


class JobRunner:
    def __init__(self, services: Services) -> None:
        self.s = services

    def _publisher(self, job: Job, target: Target) -> Publisher:
        return Publisher(github=self.s.github, store=self.s.store, job_id=job.id, target=target,
                         bot_login=self.s.app.bot_login)  # fmt: skip

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
            marker = f"<!-- upgrade-deps:reply {spec.comment_id} -->"
            body = render("github-reply-failed.md.j2", marker=marker, reason=reason)
            await publisher.reply(spec.number, "failed", body)

    # Commands
    async def _command(self, job: Job, c: Command) -> None:
        t = c.target
        publisher = self._publisher(job, t)
        marker = f"<!-- upgrade-deps:reply {c.comment_id} -->"
        role = await self.s.github.permission(t.installation, t.repo, c.author)
        if role not in WRITERS:
            body = render("github-reply-refused.md.j2", marker=marker, author=c.author, role=role)
            await publisher.reply(c.number, "refused", body)
            return
        await publisher.react(c.comment_id)
        if c.words[:1] == ("help",):
            await publisher.reply(
                c.number, "help", render("github-reply-help.md.j2", marker=marker, usage=USAGE)
            )
            return
        if c.words[:1] == ("revert",):
            await revert_command(self.s, publisher, job_id=job.id, command=c, marker=marker,
                                 identity=self._identity())  # fmt: skip
            return
        try:
            request = parse_request(c.words)
        except BadArgumentsError as exc:
            body = render("github-reply-malformed.md.j2", marker=marker, problem=str(exc), usage=USAGE)
            await publisher.reply(c.number, "malformed", body)
            return
        self.s.store.record(job.id, "request", json.dumps(list(c.words)))
        if c.is_pull:
            pull = await self.s.github.pull(t.installation, t.repo, c.number)
            await self._on_pull(job, t, pull, c.words, request.raw)
        else:
            await self._on_issue(job, c, request, marker)

    async def _on_issue(self, job: Job, c: Command, request: Request, marker: str) -> None:
        t = c.target
        publisher = self._publisher(job, t)
        branch = branch_name(c.words)
        plan, head = self._recorded_plan(job)
        if plan is None:
            done = await self._work(job, t, t.clone_url, t.default_branch, c.words, branch=branch,
                                    trusted=True, push=True, start=branch)  # fmt: skip
            plan, head = self._save_plan(job, done, audit_only=False, branch=branch)
        outcome = OUTCOMES[plan.outcome]
        owner = t.repo.split("/")[0]
        if not plan.pushed:
            # The same request again: its branch may already have everything, in an open PR.
            open_pull = await self.s.github.find_pull(t.installation, t.repo, f"{owner}:{branch}")
            url = open_pull[1] if open_pull else None
            body = render("github-reply-not-opened.md.j2", marker=marker, outcome=outcome,
                          summary=plan.report, existing=url)  # fmt: skip
            await publisher.reply(c.number, "result", body)
            return
        found = self.s.store.recorded(job.id, "pull") or None
        if found is None:
            existing = await self.s.github.find_pull(t.installation, t.repo, f"{owner}:{branch}")
            if existing is None:
                body = render("github-pr-body.md.j2", marker=SUMMARY_MARKER, author=c.author, number=c.number,
                              summary=plan.report)  # fmt: skip
                title = render("github-pr-title.txt.j2", items=[item.text for item in request.items])
                existing = await self.s.github.create_pull(
                    t.installation, t.repo, title=title, head=branch, base=t.default_branch, body=bound(body)
                )
            self.s.store.record(job.id, "pull", f"{existing[0]} {existing[1]}")
            found = f"{existing[0]} {existing[1]}"
        url = found.split(" ", 1)[1]
        await publisher.finish_check(head, plan, request.raw)
        await publisher.reply(c.number, "result", render("github-reply-opened.md.j2", marker=marker,
                                                          outcome=outcome, url=url))  # fmt: skip

    # Pull requests
    async def _on_pull(
        self,
        job: Job,
        t: Target,
        pull: PullInfo,
        words: Sequence[str],
        raw: str,
        *,
        problem: str | None = None,
        bot: BotLabel | None = None,
    ) -> None:
        publisher = self._publisher(job, t)
        audit_only = pull.head_repo != t.repo
        plan, head = self._recorded_plan(job)
        if plan is None and (problem or not words):
            # Nothing to run: a bot PR that moves nothing we track, or files we cannot read.
            result = refused_result(problem) if problem else nothing_result()
            plan, head = self._save_plan(job, Outcome(result, pull.head_sha, False), bot=bot,
                                         audit_only=audit_only, branch=pull.head_ref)  # fmt: skip
            await publisher.start_check(head, raw)
        if plan is None:
            url = pull.head_clone_url if audit_only else t.clone_url
            done = await self._work(job, t, url, pull.head_ref, words, branch=pull.head_ref,
                                    trusted=not audit_only, push=not audit_only, start=None,
                                    publisher=publisher, raw=raw,
                                    static_base=pull.base_sha if bot is not None else None)  # fmt: skip
            plan, head = self._save_plan(job, done, audit_only=audit_only, branch=pull.head_ref, bot=bot)
        await publisher.finish_check(head, plan, raw)
        await publisher.summary_comment(pull.number, plan, audit_only=audit_only)
        await publisher.review(pull.number, head, plan)

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

    async def _configured_bot(self, t: Target, b: BotPull) -> bool:
        """Whether the repository's `[bots].authors` names this author (read without cloning)."""
        text = await self.s.github.file_text(t.installation, t.repo, CONFIG_PATH, ref=b.base_sha)
        if text is None:
            return False
        try:
            config = parse_config(tomllib.loads(text), display=CONFIG_PATH)
        except (tomllib.TOMLDecodeError, UpgradeDepsError):
            return False  # the job on the bot's own PR will report the broken config
        return b.author in config.bots

    async def _derive(self, t: Target, pull: PullInfo) -> tuple[tuple[str, ...], str | None] | None:
        """What the PR upgrades, from its diff against the base; None when its author is not a bot of ours."""
        token = await self.s.github.token(t.installation)
        async with Sandbox(environ=self.s.environ, token=token, identity=self._identity()) as box:
            await box.clone(t.clone_url, ref=pull.head_ref)
            try:
                config = load_config(box.repo)
                variants = discover_variants(box.repo, config)
            except UpgradeDepsError as exc:
                return (), str(exc)
            if pull.author not in config.bots:
                return None
            snaps: dict[str, dict[str, Snapshot]] = {"base": {}, "head": {}}
            await box.fetch(pull.base_sha)
            for v in variants:
                for side, ref in (("base", pull.base_sha), ("head", "HEAD")):
                    snaps[side][v.name] = Snapshot(
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
        asked = store.recorded(original.id, "request") if original else None
        if asked is not None:  # the same command again (a re-run of a re-run keeps it too)
            store.record(job.id, "request", asked)
            again: tuple[str, ...] = tuple(json.loads(asked))
            await self._on_pull(job, t, pull, again, " ".join(again))
            return
        derived = await self._derive(t, pull)
        if derived is not None:
            await self._on_pull(job, t, pull, derived[0], " ".join(derived[0]), problem=derived[1])

    # The work itself
    def _identity(self) -> Identity:
        return Identity(self.s.app.bot_login, self.s.app.bot_email)

    async def _work(
        self, job: Job, t: Target, url: str, ref: str, words: Sequence[str], *, branch: str, trusted: bool,
        push: bool, start: str | None, publisher: Publisher | None = None, raw: str = "",
        static_base: str | None = None,
    ) -> Outcome:  # fmt: skip
        """Clone, upgrade, push; when the branch moved meanwhile, start again on its new head.

        `static_base`: a bot pull request's base, against which its own lock changes are audited
        where no sandbox lets the upgrade run.
        """
        for _ in range(MOVED_RETRIES):
            token = await self.s.github.token(t.installation)
            async with Sandbox(environ=self.s.environ, token=token, identity=self._identity()) as box:
                head = await box.clone(url, ref=ref)
                if start is not None and await box.remote_branch(start) is not None:
                    await box.git("checkout", "--quiet", "-B", start, f"origin/{start}")
                    head = await box.head()
                if publisher is not None:
                    await publisher.start_check(head, raw)
                progress = publisher.progress if publisher is not None else None
                if static_base is not None and self.s.isolation.mode == "refused":
                    await box.fetch(static_base)
                result = await self.s.upgrade(box.repo, list(words), commit=push, progress=progress,
                                              trusted=trusted, environ=self.s.environ,
                                              isolation=self.s.isolation, static_base=static_base,
                                              uv_timeout=self.s.uv_timeout)  # fmt: skip
                if not push or not result.commits:
                    return Outcome(result, head, False)
                if publisher is not None:
                    await publisher.progress("push")
                if await box.push(branch) == "pushed":
                    return Outcome(result, await box.head(), True)
        raise TransientError(f"branch {branch} kept moving while upgrade-deps worked; will try again")

    def _save_plan(
        self, job: Job, done: Outcome, *, audit_only: bool, branch: str, bot: BotLabel | None = None
    ) -> tuple[Plan, str]:
        plan = make_plan(done.result, audit_only=audit_only, pushed=done.pushed, branch=branch, bot=bot)
        self.s.store.record(job.id, "plan", plan.dumps())
        self.s.store.record(job.id, "head", done.head)
        return plan, done.head

    def _recorded_plan(self, job: Job) -> tuple[Plan | None, str]:
        text = self.s.store.recorded(job.id, "plan")
        if text is None:
            return None, ""
        return Plan.loads(text), self.s.store.recorded(job.id, "head") or ""
