"""The fixes inside the real pipeline: their commits, the verification that may drop one, and suggest mode."""

from __future__ import annotations

from pathlib import Path

from bot.model import UpgradeResult
from bot.pipeline.context import RunOptions, Runtime
from bot.pipeline.request import parse_request
from bot.pipeline.summary import render_summary
from bot.pipeline.upgrade import run_upgrade
from bot.tools.isolation import Isolation
from tests.support.repos import copy_example, git

CONFIG = ".github/upgrade-deps.toml"


async def _upgrade(
    repo: Path, environ: dict[str, str], isolation: Isolation, *, trusted: bool = True
) -> UpgradeResult:
    return await run_upgrade(
        repo,
        parse_request(["sglang==0.5.10"]),
        runtime=Runtime(environ, isolation),
        options=RunOptions(trusted=trusted),
    )


def _example(project_root: Path, tmp_path: Path, extra: str) -> Path:
    repo = copy_example(project_root, tmp_path / "example")
    (repo / CONFIG).write_text((repo / CONFIG).read_text() + extra)
    git(repo, "commit", "-qam", "config")
    return repo


async def test_a_fix_that_breaks_a_passing_command_is_dropped_and_reported(
    project_root: Path, tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    verify = """
[[verify]]
name = "old-keyword"
run = "grep -q 'tp_size=2' src/app/engine.py"
[[verify]]
name = "always-failing"
run = "exit 1"
"""
    repo = _example(project_root, tmp_path, verify)
    engine = (repo / "src/app/engine.py").read_text()
    result = await _upgrade(repo, environ, isolation)
    compat, api = result.fixes
    assert (compat.kind, compat.commit, compat.reverted) == (
        "compat",
        "sglang: prune compat for 0.5.10",
        None,
    )
    assert (api.kind, api.commit, api.reverted) == ("api", None, "old-keyword")
    assert (repo / "src/app/engine.py").read_text() == engine
    subjects = [c.message.splitlines()[0] for c in result.commits]
    assert "sglang: prune compat for 0.5.10" in subjects
    assert "sglang: follow API moves in 0.5.10" not in subjects
    assert [f.kind for f in result.findings if f.file == "src/app/engine.py"] == ["keyword-removed"]
    assert [(v.name, v.status) for v in result.verify] == [
        ("old-keyword", "pass"),
        ("always-failing", "fail"),
    ]
    summary = render_summary(result)
    assert "**Reverted:** sglang api fix for 0.5.10: it broke old-keyword, which passed before it" in summary
    assert git(repo, "status", "--porcelain") == ""


async def test_suggest_mode_and_forks_change_no_file(
    project_root: Path, tmp_path: Path, environ: dict[str, str], isolation: Isolation
) -> None:
    repo = _example(project_root, tmp_path, '\n[fix]\nmode = "suggest"\n')
    compat_before = (repo / "src/app/_compat.py").read_text()
    result = await _upgrade(repo, environ, isolation)
    assert [(f.kind, f.commit, f.reverted) for f in result.fixes] == [
        ("compat", None, None),
        ("api", None, None),
    ]
    assert [(h.file, h.start, h.end, h.text) for h in result.fixes[1].hunks] == [
        ("src/app/engine.py", 5, 5, "    return ServerArgs(model_path=model, tensor_parallel_size=2)\n")
    ]
    assert (repo / "src/app/_compat.py").read_text() == compat_before
    assert not [c for c in result.commits if c.message.startswith("sglang:")]
    assert {f.kind for f in result.findings} >= {"keyword-removed", "compat-removable"}
    assert "**Suggested, not pushed** (sglang 0.5.10):" in render_summary(result)
    fork = await _upgrade(copy_example(project_root, tmp_path / "fork"), environ, isolation, trusted=False)
    assert [(f.kind, f.commit) for f in fork.fixes] == [("compat", None), ("api", None)]
