"""Repository files are read and written without following a link out of the repository."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.files import repofiles
from bot.files.repofiles import UnsafePathError
from bot.files.transaction import FileTransaction

SECRET = "-----BEGIN PRIVATE KEY-----\nnot really\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "app.pem").write_text(SECRET)
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("[project]\n")
    os.symlink(tmp_path / "app.pem", repo / "uv.lock")
    os.symlink("pyproject.toml", repo / "pyproject.vllm.toml")  # inside: fine
    os.symlink(tmp_path, repo / "sub" / "out")
    return repo


@pytest.mark.parametrize("relative", ["uv.lock", "sub/out/app.pem", "../app.pem", "sub/../../app.pem"])
def test_reading_or_writing_through_a_link_out_is_refused_naming_the_file(repo: Path, relative: str) -> None:
    with pytest.raises(UnsafePathError, match=f"^{re.escape(relative)}: leads outside the repository"):
        repofiles.read_text(repo, relative)
    with pytest.raises(UnsafePathError):
        repofiles.write_text(repo, relative, "overwritten")
    assert (repo.parent / "app.pem").read_text() == SECRET


def test_links_inside_the_repository_are_followed(repo: Path) -> None:
    assert repofiles.read_text(repo, "pyproject.vllm.toml") == "[project]\n"
    repofiles.write_text(repo, "sub/new.md", "x")
    assert (repo / "sub" / "new.md").read_text() == "x"


def test_a_link_swapped_in_after_the_check_is_not_followed(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a build backend running meanwhile could do between resolving the path and opening it.
    real = repofiles.resolve

    def swap_then_resolve(root: Path, relative: str) -> Path:
        found = real(root, relative)
        (repo / "sub").rename(repo / "sub.old")
        os.symlink(repo.parent, repo / "sub")
        return found

    monkeypatch.setattr(repofiles, "resolve", swap_then_resolve)
    (repo.parent / "x.md").write_text("outside")
    with pytest.raises(UnsafePathError):
        repofiles.write_text(repo, "sub/x.md", "overwritten")
    assert (repo.parent / "x.md").read_text() == "outside"


def test_restoring_replaces_a_planted_link_and_leaves_its_target_alone(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "uv.lock").write_text("version = 1\n")
    (tmp_path / "jobs.sqlite3").write_text("the job store")
    files = FileTransaction(repo)
    files.remember("uv.lock")
    (repo / "uv.lock").unlink()
    os.symlink(tmp_path / "jobs.sqlite3", repo / "uv.lock")  # planted during `uv lock`
    with pytest.raises(UnsafePathError, match=r"^uv\.lock: "):
        files.changed()
    files.restore()
    assert not (repo / "uv.lock").is_symlink() and (repo / "uv.lock").read_text() == "version = 1\n"
    assert (tmp_path / "jobs.sqlite3").read_text() == "the job store"
