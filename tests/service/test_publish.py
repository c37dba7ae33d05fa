"""Publishing against the fake GitHub: review comments on diff lines only, summary edited in place."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.model import Finding, FixResult, Hunk, Request, Rewrite, Unresolved, UpgradeResult
from bot.service.github import CheckOutput, GitHub
from bot.service.jobs import JobStore
from bot.service.jobspec import JobTarget
from bot.service.ledger import CheckRun
from bot.service.publication import Publication, make_plan
from bot.service.publish import Publisher
from tests.fakegithub.server import FakeGitHub, Repo
from tests.support.gitrepos import bare_from, commit_all
from tests.support.repos import git


def finding(line: int) -> Finding:
    return Finding(file="src/app/engine.py", line=line, column=0, package="sglang", symbol="ServerArgs",
                   kind="keyword-removed", severity="error", message="tp_size was removed")  # fmt: skip


async def test_review_and_summary(fake: FakeGitHub, github: GitHub, tmp_path: Path) -> None:
    work, bare = bare_from(tmp_path, "origin")
    git(work, "checkout", "-q", "-b", "feature")
    engine = work / "src/app/engine.py"
    engine.write_text(engine.read_text() + "\n\nargs = ServerArgs('m', tp_size=2)\n")
    commit_all(work, "use ServerArgs")
    git(work, "push", "-q", "origin", "feature")
    repo = Repo("o/r", bare)
    fake.repos["o/r"] = repo
    fake.add_pull("o/r", 3, head="feature", base="main", author="someone")
    new_line = len(engine.read_text().splitlines())
    result = UpgradeResult(request=Request((), "sglang==0.5.10"), outcome="breaking", date="2026-01-01",
                           findings=(finding(new_line), finding(1)))  # fmt: skip
    plan = make_plan(result, audit_only=False, pushed=False, branch="feature")
    store = JobStore(tmp_path / "jobs.sqlite3")
    target = JobTarget(7, "o/r", repo.clone_url, "main")

    first = Publisher(
        github=github, ledger=store.ledger(1), target=target, bot_login="upgrade-deps[bot]", job_ref="1-a"
    )
    await first.review(3, repo.ref("feature") or "", plan)
    await first.review(3, repo.ref("feature") or "", plan)  # the same job again: nothing new
    await first.summary_comment(3, plan, audit_only=False)
    [review] = fake.reviews
    assert review["event"] == "COMMENT" and review["commit_id"] == repo.ref("feature")
    assert [(c["path"], c["line"], c["side"]) for c in review["comments"]] == [
        ("src/app/engine.py", new_line, "RIGHT")
    ]  # line 1 is not in the diff: it stays an annotation only

    second = Publisher(
        github=github, ledger=store.ledger(2), target=target, bot_login="upgrade-deps[bot]", job_ref="2-b"
    )
    await second.review(3, repo.ref("feature") or "", plan)  # a re-run: the finding was already commented
    await second.summary_comment(3, plan, audit_only=False)
    assert len(fake.reviews) == 1
    [comment] = fake.comments_on(3)
    assert comment["body"].startswith("<!-- upgrade-deps:summary -->") and comment["edits"] == 1


def publisher(github: GitHub, store: JobStore, job_id: int) -> Publisher:
    target = JobTarget(7, "o/r", "file:///nowhere", "main")
    return Publisher(github=github, ledger=store.ledger(job_id), target=target, bot_login="upgrade-deps[bot]",
                     job_ref=f"{job_id}-ref")  # fmt: skip


async def test_a_check_run_created_before_a_crash_is_adopted_by_external_id(
    fake: FakeGitHub, github: GitHub, tmp_path: Path
) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    head = "a" * 40
    other = await github.create_check_run(7, "o/r", head_sha=head, name="upgrade-deps", external_id="9-ref",
                                          output=CheckOutput("t", "s"))  # fmt: skip
    crashed = publisher(github, store, 1)
    crashed.ledger.intend_check(head)  # then GitHub created it and the process died
    created = await github.create_check_run(7, "o/r", head_sha=head, name="upgrade-deps", external_id="1-ref",
                                            output=CheckOutput("t", "s"))  # fmt: skip
    again = publisher(github, store, 1)
    assert await again.start_check(head, "x==1") == created != other  # another job's run is not ours
    assert len(fake.check_runs) == 2 and store.ledger(1).check_run(head) == CheckRun(head, created)

    never = publisher(github, store, 2)
    never.ledger.intend_check(head)  # the process died before the request reached GitHub
    fresh = await publisher(github, store, 2).start_check(head, "x==1")
    assert fresh not in (created, other) and len(fake.check_runs) == 3


async def test_annotations_sent_before_a_crash_are_counted_on_github(
    fake: FakeGitHub, github: GitHub, tmp_path: Path
) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    findings = tuple(finding(line) for line in range(1, 121))
    result = UpgradeResult(request=Request((), "sglang==0.5.10"), outcome="breaking", date="2026-01-01",
                           findings=findings)  # fmt: skip
    plan = make_plan(result, audit_only=False, pushed=False, branch="feature")
    head = "b" * 40
    first = publisher(github, store, 1)
    check_id = await first.start_check(head, "sglang==0.5.10")
    first.ledger.finishing_check(head)
    # The first call of 50 reached GitHub; the process died before the ledger heard of it.
    batch = {"title": "t", "summary": "s", "annotations": list(plan.annotations[:50])}
    await github.update_check_run(7, "o/r", check_id, {"output": batch})
    await publisher(github, store, 1).finish_check(head, plan, "sglang==0.5.10")
    run = fake.check_runs[check_id]
    assert run["annotations"] == list(plan.annotations) and run["conclusion"] == "failure"


async def test_a_reply_posted_before_a_crash_is_found_by_its_marker(
    fake: FakeGitHub, github: GitHub, tmp_path: Path
) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    crashed = publisher(github, store, 1)
    crashed.ledger.intend_reply("help")
    body = f"{crashed.marker('help')}\nposted, unrecorded"
    await github.comment(7, "o/r", 5, body)
    await github.comment(7, "o/r", 5, f"{publisher(github, store, 2).marker('help')}\nanother job's")
    await publisher(github, store, 1).reply(5, "help", "github-reply-help.md.j2", usage="USAGE")
    mine, other = fake.comments_on(5)
    assert "USAGE" in mine["body"] and mine["edits"] == 1 and "another job's" in other["body"]
    await publisher(github, store, 3).reply(5, "help", "github-reply-help.md.j2", usage="USAGE")
    assert len(fake.comments_on(5)) == 3  # no intent recorded: a job's first reply is created


async def test_unpushed_fixes_become_suggested_changes_once(
    fake: FakeGitHub, github: GitHub, tmp_path: Path
) -> None:
    work, bare = bare_from(tmp_path, "origin")
    git(work, "checkout", "-q", "-b", "feature")
    engine = work / "src/app/engine.py"
    engine.write_text(
        engine.read_text() + "\n\nargs = ServerArgs('m', tp_size=2)\nmore = ServerArgs('n', tp_size=4)\n"
    )
    commit_all(work, "use ServerArgs")
    git(work, "push", "-q", "origin", "feature")
    repo = Repo("o/r", bare)
    fake.repos["o/r"] = repo
    fake.add_pull("o/r", 3, head="feature", base="main", author="someone")
    last = len(engine.read_text().splitlines())
    span = Hunk("src/app/engine.py", last - 1, last, "args = ServerArgs('m', tensor_parallel_size=2)\n"
                "more = ServerArgs('n', tensor_parallel_size=4)  # ```\n")  # fmt: skip
    outside = Hunk("src/app/tokenize.py", 5, 5, "    return AutoTokenizer.from_pretrained(name)\n")
    fix = FixResult("sglang", "api", "0.5.10", (Rewrite("src/app/engine.py", 5, "keyword", "tp_size",
                    "tensor_parallel_size"),), hunks=(span, outside))  # fmt: skip
    result = UpgradeResult(request=Request((), "sglang==0.5.10"), outcome="breaking", date="2026-01-01",
                           findings=(finding(last),), fixes=(fix,))  # fmt: skip
    plan = make_plan(result, audit_only=True, pushed=False, branch="feature")
    assert "- Suggested changes: 2, as review suggestions on the lines of the diff" in plan.summary
    assert "**Suggested, not pushed** (sglang 0.5.10):" in plan.text  # every rewrite, on the diff or not
    assert Publication.loads(plan.dumps()) == plan
    store = JobStore(tmp_path / "jobs.sqlite3")
    for job in (1, 2):  # a re-run finds its suggestion on GitHub and posts nothing twice
        target = JobTarget(7, "o/r", repo.clone_url, "main")
        publisher = Publisher(github=github, ledger=store.ledger(job), target=target,
                              bot_login="upgrade-deps[bot]", job_ref=f"{job}-a")  # fmt: skip
        await publisher.review(3, repo.ref("feature") or "", plan)
    [review] = fake.reviews
    [comment] = review["comments"]  # the finding the suggestion fixes is not posted beside it
    assert (comment["start_line"], comment["line"], comment["side"]) == (last - 1, last, "RIGHT")
    assert comment["body"].endswith(
        "\n\n````suggestion\nargs = ServerArgs('m', tensor_parallel_size=2)\n"
        "more = ServerArgs('n', tensor_parallel_size=4)  # ```\n````\n"
    )


async def test_unresolved_items_on_diff_lines_are_commented_once_across_runs(
    fake: FakeGitHub, github: GitHub, tmp_path: Path
) -> None:
    work, bare = bare_from(tmp_path, "origin")
    git(work, "checkout", "-q", "-b", "dependabot/sglang")
    manifest = work / "pyproject.toml"
    manifest.write_text(manifest.read_text().replace('"sglang==0.5.9"', '"sglang==0.5.10"'))
    commit_all(work, "Bump sglang from 0.5.9 to 0.5.10")
    git(work, "push", "-q", "origin", "dependabot/sglang")
    repo = Repo("o/r", bare)
    fake.repos["o/r"] = repo
    fake.add_pull("o/r", 4, head="dependabot/sglang", base="main", author="dependabot[bot]")
    pin = manifest.read_text().splitlines().index('    "sglang==0.5.10",') + 1
    conflict = Unresolved("conflict", "transformers: sglang 0.5.10 requires transformers>=4.57",
                          "pyproject.toml", pin, subject="transformers")  # fmt: skip
    elsewhere = Unresolved("not-landed", "kept by an override", "pyproject.vllm.toml", 3, subject="torch")
    result = UpgradeResult(request=Request((), "sglang==0.5.10"), outcome="not-landed", date="2026-01-01",
                           unresolved=(conflict, elsewhere))  # fmt: skip
    head = repo.ref("dependabot/sglang") or ""
    store = JobStore(tmp_path / "jobs.sqlite3")
    await publisher(github, store, 1).review(4, head, make_plan(result, audit_only=False, pushed=False,
                                                               branch="dependabot/sglang"))  # fmt: skip
    [review] = fake.reviews
    assert [(c["path"], c["line"]) for c in review["comments"]] == [("pyproject.toml", pin)]
    assert "where the upgrade needs a person" in review["body"]
    assert "`transformers>=4.57`" in review["comments"][0]["body"]

    # A re-run (another job) finds the same conflict, worded anew: it is not commented again.
    reworded = replace(result, unresolved=(replace(conflict, message="transformers: reworded"), elsewhere))
    plan = make_plan(reworded, audit_only=False, pushed=False, branch="dependabot/sglang")
    await publisher(github, store, 2).review(4, head, plan)
    assert len(fake.reviews) == 1
