"""The per-job sandbox on real git: token only in the child's environment, bot identity, no force-push."""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest

from bot.errors import ToolError
from bot.service.clone import Identity, Sandbox
from bot.tools import gitrepo
from tests.support.gitrepos import bare_from, commit_all
from tests.support.repos import git

TOKEN = "ghs_secret_token_123"
LOCAL = frozenset({""})  # file:// remotes may get the token in these tests
BOT = Identity("upgrade-deps[bot]", "1+upgrade-deps[bot]@users.noreply.github.com")


async def test_clone_commit_push_and_cleanup(tmp_path: Path) -> None:
    work, bare = bare_from(tmp_path, "origin")
    async with Sandbox(environ=dict(os.environ), token=TOKEN, identity=BOT, token_hosts=LOCAL) as box:
        head = await box.clone(bare.as_uri(), ref="main")
        assert head == git(work, "rev-parse", "HEAD").strip()
        config = (box.repo / ".git" / "config").read_text()
        assert TOKEN not in config and "extraHeader" not in config
        # Only a git that talks to the remote gets the header (see below): this one does not.
        assert await box.git("config", "--get", "http.extraHeader", check=False) == ""
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
    # The error must leave through the sandbox's exit, which is what removes the directory.
    with pytest.raises(ToolError) as caught:  # noqa: PT012
        async with Sandbox(environ=dict(os.environ), token=TOKEN, identity=BOT, token_hosts=LOCAL) as box:
            root = box.repo.parent
            await box.clone(f"file://{tmp_path}/missing-{TOKEN}.git", ref="main")
    assert TOKEN not in str(caught.value) and "***" in str(caught.value)
    assert not root.exists()


def _recording_git(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose `git` records each call's arguments and environment, then runs the real one."""
    real = shutil.which("git")
    assert real is not None
    folder, log = tmp_path / "bin", tmp_path / "calls.log"
    folder.mkdir()
    (folder / "git").write_text(f'#!/bin/sh\n{{ echo "ARGS $*"; env; }} >> {log}\nexec {real} "$@"\n')
    (folder / "git").chmod(0o755)
    return {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}"}, log


def _calls(log: Path) -> list[tuple[str, str]]:
    """(subcommand, environment) of every recorded git call."""
    out = []
    for chunk in log.read_text().split("ARGS ")[1:]:
        args, _, env = chunk.partition("\n")
        words = [w for w in args.split() if "=" not in w and w != "-c"]
        out.append((words[0], env))
    return out


async def test_the_token_reaches_only_the_git_calls_that_talk_to_the_remote(tmp_path: Path) -> None:
    _, bare = bare_from(tmp_path, "origin")
    environ, log = _recording_git(tmp_path)
    async with Sandbox(environ=environ, token=TOKEN, identity=BOT, token_hosts=LOCAL) as box:
        await box.clone(bare.as_uri(), ref="main")
        await box.remote_branch("main")
        await box.fetch("main")
        await box.file_at("HEAD", "pyproject.toml")
        await box.checkout_new("feature")
        assert await box.push("feature") == "pushed"
    header = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    calls = _calls(log)
    with_token = {command for command, env in calls if header in env}
    without = {command for command, env in calls if header not in env}
    assert with_token == {"clone", "ls-remote", "fetch", "push"}
    assert without == {"config", "show", "checkout", "rev-parse"}
    assert all("GIT_CONFIG_GLOBAL=/dev/null" in env and "GIT_CONFIG_NOSYSTEM=1" in env for _, env in calls)


async def test_hooks_fsmonitor_and_other_protocols_never_run(tmp_path: Path) -> None:
    _, bare = bare_from(tmp_path, "origin")
    marker = tmp_path / "ran"
    async with Sandbox(environ=dict(os.environ), token=TOKEN, identity=BOT, token_hosts=LOCAL) as box:
        await box.clone(bare.as_uri(), ref="main")
        # What repository code could have left in the clone, were .git writable to it.
        hooks = box.repo / ".git" / "hooks"
        for name in ("pre-push", "post-checkout", "reference-transaction", "pre-commit", "post-commit"):
            (hooks / name).write_text(f"#!/bin/sh\necho {name} >> {marker}\n")
            (hooks / name).chmod(0o755)
        with (box.repo / ".git" / "config").open("a") as config:
            config.write(f"[core]\n\tfsmonitor = echo fsmonitor >> {marker}\n")
        await box.checkout_new("feature")
        (box.repo / "NOTES.md").write_text("x\n")
        await box.git("add", "NOTES.md")
        await box.git("commit", "-q", "-m", "notes")
        assert await box.push("feature") == "pushed"
        # The pipeline's own commit path too.
        (box.repo / "MORE.md").write_text("y\n")
        assert await gitrepo.commit_files(box.repo, ["MORE.md"], "more", env=dict(os.environ)) is not None
        # A redirect of our remote to a command: that transport is refused, never run.
        with (box.repo / ".git" / "config").open("a") as config:
            config.write(f'[url "ext::sh -c echo% ext>>{marker}% #"]\n\tinsteadOf = {bare.as_uri()}\n')
        with pytest.raises(ToolError, match="transport 'ext' not allowed"):
            await box.push("feature")
    assert not marker.exists(), marker.read_text()
    assert git(bare, "log", "-1", "--format=%s", "feature").strip() == "notes"


@pytest.mark.parametrize(
    ("hosts", "sent"), [(frozenset({"github.com"}), False), (frozenset({"127.0.0.1"}), True)]
)
async def test_the_token_goes_only_to_the_apps_github_host(
    tmp_path: Path, hosts: frozenset[str], sent: bool
) -> None:
    # A signed payload names the clone URL; a host other than the app's GitHub never sees the token.
    environ, log = _recording_git(tmp_path)
    async with Sandbox(environ=environ, token=TOKEN, identity=BOT, token_hosts=hosts) as box:
        with pytest.raises(ToolError):
            await box.clone("http://127.0.0.1:9/owner/name.git", ref="main")  # nothing listens on port 9
    header = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert [(command, header in env) for command, env in _calls(log)] == [("clone", sent)]
