"""The per-job sandbox on real git: token only in the child's environment, bot identity, no force-push."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.errors import ToolError
from bot.sandbox import Identity, Sandbox
from tests.support.gitrepos import bare_from, commit_all
from tests.support.repos import git

TOKEN = "ghs_secret_token_123"
BOT = Identity("upgrade-deps[bot]", "1+upgrade-deps[bot]@users.noreply.github.com")


async def test_clone_commit_push_and_cleanup(tmp_path: Path) -> None:
    work, bare = bare_from(tmp_path, "origin")
    async with Sandbox(environ=dict(os.environ), token=TOKEN, identity=BOT) as box:
        head = await box.clone(bare.as_uri(), ref="main")
        assert head == git(work, "rev-parse", "HEAD").strip()
        config = (box.repo / ".git" / "config").read_text()
        assert TOKEN not in config and "extraHeader" not in config
        # git sees the header for its own commands, and our output never shows the token.
        seen = await box.git("config", "--get", "http.extraHeader")
        assert seen.strip() == "Authorization: Basic ***"
        (box.repo / "NOTES.md").write_text("x\n")
        await box.git("add", "NOTES.md")
        await box.git("commit", "-q", "-m", "notes")
        assert await box.push("feature") == "pushed"
        root = box.repo.parent
    assert not root.exists()
    assert git(bare, "log", "-1", "--format=%an <%ae>", "feature").strip() == f"{BOT.name} <{BOT.email}>"


async def test_branch_that_moved_is_never_overwritten(tmp_path: Path) -> None:
    work, bare = bare_from(tmp_path, "origin")
    async with Sandbox(environ=dict(os.environ), token=None, identity=BOT) as box:
        await box.clone(bare.as_uri(), ref="main")
        (work / "OTHER.md").write_text("someone else\n")
        moved = commit_all(work, "someone pushed meanwhile")
        git(work, "push", "-q", "origin", "main")
        (box.repo / "NOTES.md").write_text("x\n")
        await box.git("add", "NOTES.md")
        await box.git("commit", "-q", "-m", "ours")
        assert await box.push("main") == "moved"
    assert git(bare, "rev-parse", "main").strip() == moved


async def test_errors_are_redacted_and_the_dir_removed(tmp_path: Path) -> None:
    with pytest.raises(ToolError) as caught:
        async with Sandbox(environ=dict(os.environ), token=TOKEN, identity=BOT) as box:
            root = box.repo.parent
            await box.clone(f"file://{tmp_path}/missing-{TOKEN}.git", ref="main")
    assert TOKEN not in str(caught.value) and "***" in str(caught.value)
    assert not root.exists()
