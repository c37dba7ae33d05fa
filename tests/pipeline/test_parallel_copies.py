"""Copies beside the repository: made while the jobs in the repository already run, never left behind."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from bot.errors import CopyError
from bot.files import siblings
from bot.pipeline.parallel import Copies, copies_beside, run_jobs


def tree(root: Path, count: int) -> list[str]:
    (root / "pkg").mkdir(parents=True)
    names = ["pyproject.toml", "uv.lock", *(f"pkg/m{i:03d}.py" for i in range(count))]
    for name in names:
        (root / name).write_text(f"# {name}\n")
    return names


def copying_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("copy")]


async def test_the_files_the_repository_jobs_write_are_copied_before_they_start(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    tracked = tree(repo, 200)
    copies = Copies(tuple(tracked), None)
    async with copies_beside(repo, ["default", "vllm"], copies, first={"pyproject.toml", "uv.lock"}) as roots:
        assert await roots["default"] == repo  # at once
        copy = siblings.sibling_root(repo, "vllm")
        # Already there, before the repository's job could swap or re-lock them.
        assert (copy / "pyproject.toml").read_text() == "# pyproject.toml\n"
        assert (copy / "uv.lock").read_text() == "# uv.lock\n"
        (repo / "uv.lock").write_text("locked anew\n")  # what the repository's job does meanwhile
        assert await roots["vllm"] == copy
        assert all((copy / name).read_text() == f"# {name}\n" for name in tracked)
    assert not copy.exists()
    assert copying_threads() == []


async def test_a_copy_cut_short_stops_copying_and_is_removed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    tracked = tree(repo, 2000)
    copy = siblings.sibling_root(repo, "vllm")
    entered = asyncio.Event()

    async def locks() -> None:
        async with copies_beside(repo, ["default", "vllm"], Copies(tuple(tracked), None)) as roots:
            entered.set()
            await roots["vllm"]  # cancelled while the thread copies
            await asyncio.sleep(60)

    task = asyncio.ensure_future(locks())
    await entered.wait()
    assert copy.exists()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not copy.exists()
    assert copying_threads() == []


async def test_a_copy_that_fails_half_way_fails_its_job_and_is_removed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    tracked = tree(repo, 20)
    os.mkfifo(repo / "pkg" / "pipe")  # shutil refuses to copy it, as it would a full disk
    copy = siblings.sibling_root(repo, "vllm")
    async with copies_beside(repo, ["default", "vllm"], Copies((*tracked, "pkg/pipe"), None)) as roots:
        with pytest.raises(CopyError, match=f"cannot copy the tree to {copy}: "):
            await roots["vllm"]
    assert not copy.exists()


async def test_a_sibling_path_that_is_not_ours_refuses_before_any_job(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    tracked = tree(repo, 3)
    taken = siblings.sibling_root(repo, "vllm")
    taken.write_text("not ours")
    with pytest.raises(CopyError, match="File exists"):
        async with copies_beside(repo, ["default", "vllm"], Copies(tuple(tracked), None)):
            raise AssertionError("no job may start")
    assert taken.read_text() == "not ours"


async def test_the_jobs_count_as_started_once_every_copy_is_complete() -> None:
    loop = asyncio.get_running_loop()
    here, copy = loop.create_future(), loop.create_future()
    here.set_result(Path("/repo"))
    calls: list[str] = []

    async def job(name: str, root: Path) -> str:
        calls.append(name)
        return f"{name} in {root}"

    running = asyncio.ensure_future(
        run_jobs({"default": here, "vllm": copy}, job, started=lambda: calls.append("started"))
    )
    for _ in range(5):
        await asyncio.sleep(0)
    assert calls == ["default"]  # the repository's job runs; the copy is still being made
    copy.set_result(Path("/copy"))
    assert await running == ["default in /repo", "vllm in /copy"]
    assert calls == ["default", "started", "vllm"] or calls == ["default", "vllm", "started"]
