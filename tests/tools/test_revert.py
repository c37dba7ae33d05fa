"""`/upgrade-deps revert` on a real git repository: the bot's commits undone by new commits."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.errors import DirtyTreeError, NotLandedError
from bot.tools.revert import revert_bot_commits

BOT = ("upgrade-deps[bot]", "123+upgrade-deps[bot]@users.noreply.github.com")
HUMAN = ("Ada Maintainer", "ada@example.com")


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env)
    return done.stdout.strip()


def commit(repo: Path, who: tuple[str, str], message: str, **files: str) -> str:
    for name, text in files.items():
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    identity = {f"GIT_{role}_{part}": value for role in ("AUTHOR", "COMMITTER")
                for part, value in (("NAME", who[0]), ("EMAIL", who[1]))}  # fmt: skip
    git(repo, "commit", "-qm", message, env={**os.environ, **identity})
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    commit(tmp_path, HUMAN, "initial", pyproject="torch==2.9.1\n", Dockerfile="FROM base:2.9.1\n", notes="\n")
    git(tmp_path, "checkout", "-qb", "upgrade")
    return tmp_path


async def test_reverts_only_the_bots_commits_newest_first_without_rewriting(repo: Path) -> None:
    commit(repo, HUMAN, "human before", notes="human 1\n")
    pins = commit(repo, BOT, "Pin torch 2.10.0", pyproject="torch==2.10.0\n")
    commit(repo, HUMAN, "human between", notes="human 2\n")
    image = commit(repo, BOT, "Move base image to 2.10.0", Dockerfile="FROM base:2.10.0\n")
    before = git(repo, "rev-parse", "HEAD")
    reverted = await revert_bot_commits(repo, base="main", bot_email=BOT[1])
    assert [(c.sha, c.message) for c in reverted] == [
        (image, "Move base image to 2.10.0"), (pins, "Pin torch 2.10.0"),
    ]  # fmt: skip
    assert (repo / "pyproject").read_text() == "torch==2.9.1\n"
    assert (repo / "Dockerfile").read_text() == "FROM base:2.9.1\n"
    assert (repo / "notes").read_text() == "human 2\n"
    assert git(repo, "rev-list", "--count", f"{before}..HEAD") == "2"
    assert git(repo, "merge-base", "--is-ancestor", before, "HEAD") == ""  # history kept: no force needed
    log = git(repo, "log", "-2", "--format=%ae|%s")
    assert log.splitlines() == [
        f'{BOT[1]}|Revert "Pin torch 2.10.0"',
        f'{BOT[1]}|Revert "Move base image to 2.10.0"',
    ]
    assert await revert_bot_commits(repo, base="main", bot_email=BOT[1]) == ()


async def test_conflict_puts_everything_back(repo: Path) -> None:
    commit(repo, BOT, "Pin torch 2.10.0", pyproject="torch==2.10.0\n")
    commit(repo, BOT, "Move base image", Dockerfile="FROM base:2.10.0\n")
    commit(repo, HUMAN, "hand edit on top", pyproject="torch==2.10.1\n")
    before = git(repo, "rev-parse", "HEAD")
    with pytest.raises(
        NotLandedError, match=r'cannot revert [0-9a-f]{12} \("Pin torch 2\.10\.0"\): it conflicts'
    ):
        await revert_bot_commits(repo, base="main", bot_email=BOT[1])
    assert git(repo, "rev-parse", "HEAD") == before
    assert git(repo, "status", "--porcelain") == ""
    assert (repo / "Dockerfile").read_text() == "FROM base:2.10.0\n"


async def test_commits_already_undone_by_hand_are_skipped(repo: Path) -> None:
    commit(repo, BOT, "Pin torch 2.10.0", pyproject="torch==2.10.0\n")
    commit(repo, HUMAN, "undo by hand", pyproject="torch==2.9.1\n")
    assert await revert_bot_commits(repo, base="main", bot_email=BOT[1]) == ()
    assert git(repo, "status", "--porcelain") == ""


async def test_dirty_tree_is_refused(repo: Path) -> None:
    commit(repo, BOT, "Pin torch 2.10.0", pyproject="torch==2.10.0\n")
    (repo / "pyproject").write_text("local edit\n")
    with pytest.raises(DirtyTreeError, match="uncommitted changes"):
        await revert_bot_commits(repo, base="main", bot_email=BOT[1])
    assert (repo / "pyproject").read_text() == "local edit\n"
