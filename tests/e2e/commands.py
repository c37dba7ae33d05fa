"""What the comment-command end-to-end tests share: the request, payloads and repositories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fakegithub.server import FakeGitHub, Repo
from tests.support.gitrepos import bare_from
from tests.support.repos import git
from tests.support.webhooks import payload

REQUEST = "sglang==0.5.10 transformers==4.57.1"
BRANCH = "upgrade-deps/sglang-0.5.10-transformers-4.57.1"
ENGINE = "src/app/engine.py"  # line 5 passes tp_size, a keyword sglang 0.5.10 no longer accepts
MANY = "src/app/many.py"  # generated calls that pass tp_size too
BREAKING = {"path": ENGINE, "start_line": 5, "end_line": 5, "annotation_level": "failure"}


def annotated(run: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("path", "start_line", "end_line", "annotation_level")
    return [{key: note[key] for key in keys} for note in run["annotations"]]


def issue_comment(repo: Repo, body: str, *, user: str = "Codertocat") -> dict[str, Any]:
    data = payload("issue_comment.created.with-installation")
    data["repository"].update(clone_url=repo.clone_url, default_branch="main")
    data["comment"]["body"] = body
    data["comment"]["user"]["login"] = user
    return data


def pr_comment(repo: Repo, body: str, number: int) -> dict[str, Any]:
    data = payload("issue_comment.created.pull-request")
    data["repository"].update(clone_url=repo.clone_url, default_branch="main")
    data["comment"]["body"] = body
    data["issue"]["number"] = number
    return data


def origin(fake: FakeGitHub, tmp: Path, name: str = "Codertocat/Hello-World", *, fixes: bool = False) -> Repo:
    _, bare = bare_from(tmp, name.replace("/", "_"), fixes=fixes)
    repo = Repo(name, bare)
    fake.repos[name] = repo
    return repo


def pushed_once(log: list[tuple[str, str]]) -> bool:
    """The upgrade's commits are there (pins, then locks), each once, all by the app."""
    subjects = [subject for _, subject in log]
    return (
        subjects.count("Pin sglang 0.5.10, transformers 4.57.1") == 1
        and subjects.count("Re-lock sglang, vllm after the upgrade") == 1
        and len(set(subjects)) == len(subjects)
        and {author for author, _ in log} == {"upgrade-deps[bot]"}
    )


def same_repo_pull(
    fake: FakeGitHub,
    tmp: Path,
    *,
    role: str,
    touch_engine: bool = False,
    breaking_calls: int = 0,
    fixes: bool = False,
) -> Repo:
    """Pull request #1 from branch `feature` of the repository itself; the commenter has `role`.

    With `touch_engine`, the PR changes the line of src/app/engine.py that sglang 0.5.10 breaks;
    `breaking_calls` more such calls are on main (annotations only: not in the PR's diff).
    """
    repo = origin(fake, tmp, "all-contributors/all-contributors-bot", fixes=fixes)
    if breaking_calls:
        work = tmp / "main-work"
        git(tmp, "clone", "-q", str(repo.bare), str(work))
        call = "\n\ndef args_{n}(m: str) -> ServerArgs:\n    return ServerArgs(model_path=m, tp_size={n})\n"
        calls = "".join(call.format(n=n) for n in range(breaking_calls))
        (work / MANY).write_text(f"from sglang.srt.server_args import ServerArgs\n{calls}")
        git(work, "add", MANY)
        git(work, "commit", "-q", "-m", "Many servers")
        git(work, "push", "-q", "origin", "main")
    git(repo.bare, "branch", "feature", "main")
    if touch_engine:
        work = tmp / "feature-work"
        git(tmp, "clone", "-q", "--branch", "feature", str(repo.bare), str(work))
        engine = work / ENGINE
        engine.write_text(engine.read_text().replace("tp_size=2", "tp_size=4"))
        git(work, "commit", "-q", "-am", "Use four GPUs")
        git(work, "push", "-q", "origin", "feature")
    fake.add_pull(repo.full_name, 1, head="feature", base="main", author="jakebolam")
    fake.roles["jakebolam"] = role
    return repo


def run_id(fake: FakeGitHub, head: str | None) -> int:
    return next(run["id"] for run in fake.check_runs.values() if run["head_sha"] == head)
