"""End to end: a Renovate pull request that only updated uv.lock gets the other variant's lock pushed."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import ServerProcess
from tests.fakegithub.server import FakeGitHub, Repo
from tests.support.gitrepos import branch_log, commit_all, show, with_bare
from tests.support.repos import GIT_ENV, STACK, git, lock, uv_binary, uv_env
from tests.support.webhooks import payload
from tests.support.wheels import WheelSpec, build_wheelhouse

pytestmark = pytest.mark.slow
BRANCH = "renovate/alpha-1.x"
MANIFEST = """[project]
name = "svc"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "alpha>=1.0",{extra}
]

[tool.uv]
no-index = true
find-links = ["wheelhouse"]
"""


def uv_lock(cwd: Path, *args: str) -> None:
    subprocess.run([uv_binary(), "lock", "--quiet", *args], cwd=cwd, env=uv_env(), check=True)


def renovate_repo(tmp: Path) -> tuple[Repo, str]:
    work = tmp / "svc"
    (work / "wheelhouse").mkdir(parents=True)
    build_wheelhouse([WheelSpec("alpha", "1.0"), WheelSpec("beta", "1.0")], work / "wheelhouse")
    (work / "pyproject.toml").write_text(MANIFEST.format(extra=""))
    (work / "pyproject.vllm.toml").write_text(MANIFEST.format(extra='\n    "beta==1.0",'))
    lock(work)
    lock(work, "pyproject.vllm.toml", "uv.vllm.lock")
    git(work, "init", "-q", "-b", "main")
    commit_all(work, "initial")
    build_wheelhouse([WheelSpec("alpha", "1.1")], work / "wheelhouse")
    base = commit_all(work, "wheelhouse: alpha 1.1")
    git(work, "checkout", "-q", "-b", BRANCH)
    uv_lock(work, "--upgrade-package", "alpha")
    commit_all(work, "chore(deps): update dependency alpha to v1.1")
    return Repo("Codertocat/Hello-World", with_bare(work, tmp, "svc")), base


def pull_event(name: str, repo: Repo, base: str, *, sender: str, branch: str = BRANCH) -> dict[str, Any]:
    data = payload(name)
    data["repository"].update(clone_url=repo.clone_url, default_branch="main")
    pull = data["pull_request"]
    pull["user"].update(login="renovate[bot]", type="Bot")
    pull["head"].update(ref=branch, sha=repo.ref(branch))
    pull["head"]["repo"].update(full_name=repo.full_name, clone_url=repo.clone_url)
    pull["base"].update(ref="main", sha=base)
    data["sender"]["login"] = sender
    return data


async def test_renovate_lock_only_pull_request_gets_the_other_variant_locked(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo, base = renovate_repo(tmp_path)
    fake.repos[repo.full_name] = repo
    fake.add_pull(repo.full_name, 2, head=BRANCH, base="main", author="renovate[bot]")
    assert 'name = "alpha"\nversion = "1.0"' in show(repo.bare, BRANCH, "uv.vllm.lock")
    opened = pull_event("pull_request.opened", repo, base, sender="renovate[bot]")
    opened["pull_request"]["title"] = "chore(deps): update dependency alpha to v1.1"
    status, _ = await server.deliver("pull_request", opened)
    assert status == 202
    await server.idle()

    assert 'name = "alpha"\nversion = "1.1"' in show(repo.bare, BRANCH, "uv.vllm.lock")
    assert 'name = "beta"\nversion = "1.0"' in show(repo.bare, BRANCH, "uv.vllm.lock")
    authors = [author for author, _ in branch_log(repo.bare, BRANCH)]
    assert authors[0] == "upgrade-deps[bot]" and authors[-1] == GIT_ENV["GIT_AUTHOR_NAME"]
    head = repo.ref(BRANCH)
    [final] = [run for run in fake.check_runs.values() if run["head_sha"] == head]
    assert final["conclusion"] == "success", final["output"]
    assert "pull request says it updates `alpha` `1.1`" in final["output"]["summary"]
    [summary] = fake.comments_on(2)
    assert "alpha" in summary["body"]

    # The bot's own push fires `synchronize`; it must not start another job.
    again = pull_event("pull_request.synchronize", repo, base, sender="upgrade-deps[bot]")
    status, _ = await server.deliver("pull_request", again)
    assert status == 200
    assert (await server.health())["jobs"] == {"done": 1}


async def test_pull_request_by_a_person_is_left_alone(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo, base = renovate_repo(tmp_path)
    fake.repos[repo.full_name] = repo
    data = pull_event("pull_request.opened", repo, base, sender="Codertocat")
    data["pull_request"]["user"].update(login="Codertocat", type="User")
    assert (await server.deliver("pull_request", data))[0] == 202
    assert (await server.idle()) == {"done": 1}
    before = repo.ref(BRANCH)
    assert fake.check_runs == {} and fake.comments == {} and repo.ref(BRANCH) == before


async def test_bot_pull_request_with_a_corrupt_lock_is_refused_by_name(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    repo, base = renovate_repo(tmp_path)
    work = tmp_path / "svc"
    git(work, "checkout", "-q", "-b", "renovate/broken", "main")
    (work / "uv.vllm.lock").write_text("version = [not toml\n")
    commit_all(work, "chore(deps): lock file maintenance")
    git(work, "push", "-q", "origin", "renovate/broken")
    fake.repos[repo.full_name] = repo
    fake.add_pull(repo.full_name, 2, head="renovate/broken", base="main", author="renovate[bot]")
    data = pull_event("pull_request.opened", repo, base, sender="renovate[bot]", branch="renovate/broken")
    assert (await server.deliver("pull_request", data))[0] == 202
    await server.idle()
    [run] = fake.check_runs.values()
    assert run["conclusion"] == "action_required" and run["head_sha"] == repo.ref("renovate/broken")
    assert "uv.vllm.lock" in run["output"]["summary"] and "not valid TOML" in run["output"]["summary"]
    assert len(branch_log(repo.bare, "renovate/broken")) == 1  # nothing pushed


CLASHING = """[project]
name = "svc"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "transformers=={version}",
    "legacy-kernels",
]

[tool.uv]
no-index = true
find-links = ["wheelhouse"]
"""


async def test_a_conflict_in_a_dependabot_pull_request_is_commented_on_its_pin_once(
    fake: FakeGitHub, server: ServerProcess, tmp_path: Path
) -> None:
    work = tmp_path / "svc"
    build_wheelhouse(STACK, work / "wheelhouse")
    (work / "pyproject.toml").write_text(CLASHING.format(version="4.56.0"))
    lock(work)
    git(work, "init", "-q", "-b", "main")
    base = commit_all(work, "initial")
    branch = "dependabot/pip/transformers-4.57.1"
    git(work, "checkout", "-q", "-b", branch)
    (work / "pyproject.toml").write_text(CLASHING.format(version="4.57.1"))
    commit_all(work, "Bump transformers from 4.56.0 to 4.57.1")  # dependabot could not lock it either
    repo = Repo("Codertocat/Hello-World", with_bare(work, tmp_path, "svc"))
    fake.repos[repo.full_name] = repo
    fake.add_pull(repo.full_name, 2, head=branch, base="main", author="dependabot[bot]")
    opened = pull_event("pull_request.opened", repo, base, sender="dependabot[bot]", branch=branch)
    opened["pull_request"]["user"]["login"] = "dependabot[bot]"
    assert (await server.deliver("pull_request", opened))[0] == 202
    await server.idle()

    head = repo.ref(branch)
    [run] = fake.check_runs.values()
    assert run["head_sha"] == head and run["conclusion"] == "failure"
    [note] = [a for a in run["annotations"] if a["title"] == "conflict: numpy"]
    assert (note["path"], note["start_line"], note["annotation_level"]) == ("pyproject.toml", 6, "failure")
    assert "legacy-kernels requires numpy<2.3" in note["message"]
    # The pin dependabot edited is in the pull request's diff: the conflict is commented there.
    [review] = fake.reviews
    assert [(c["path"], c["line"]) for c in review["comments"]] == [("pyproject.toml", 6)]
    assert "legacy-kernels requires `numpy<2.3`" in review["comments"][0]["body"]

    rerun = payload("check_run.rerequested")
    rerun["repository"].update(clone_url=repo.clone_url, full_name=repo.full_name)
    rerun["check_run"].update(id=run["id"], head_sha=head, pull_requests=[{"number": 2}])
    rerun["check_run"]["app"]["id"] = 4242
    assert (await server.deliver("check_run", rerun))[0] == 202
    await server.idle()
    newest = max(fake.check_runs.values(), key=lambda r: r["id"])
    assert newest["id"] != run["id"] and [a["title"] for a in newest["annotations"]] == ["conflict: numpy"]
    assert len(fake.reviews) == 1  # the re-run found its comment: not repeated
    assert repo.ref(branch) == head  # nothing pushed: the upgrade did not land
