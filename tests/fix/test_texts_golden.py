"""What people read about the fixes: commit messages, the summary section, a suggestion (golden files)."""

from __future__ import annotations

from pathlib import Path

from bot.model import Commit, FixResult, Hunk, Request, Rewrite, Section, UpgradeResult
from bot.pipeline.summary import render_summary
from bot.service.publication import make_plan
from bot.text.render import render
from tests.support.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"

COMPAT = FixResult(
    "sglang",
    "compat",
    "0.6.0",
    (
        Rewrite("src/dynamo/sglang/_compat.py", 12, "fallback", "GenerateReq, Tokenized", "<= 0.5.9"),
        Rewrite("src/dynamo/sglang/_compat.py", 19, "polyfill", "NetworkAddress", "< 0.5.10"),
        Rewrite("src/dynamo/sglang/_compat.py", 60, "all", "format_address"),
        Rewrite("tests/report_pytest_markers.py", 7, "stub", "sglang.srt.managers.io"),
    ),
    plain_shims=("src/dynamo/sglang/_compat.py",),
    commit="sglang: prune compat for 0.6.0",
)
API = FixResult(
    "sglang",
    "api",
    "0.6.0",
    (
        Rewrite("src/app/engine.py", 1, "import", "sglang.srt.utils.Engine", "sglang.srt.engines.Engine"),
        Rewrite("src/app/engine.py", 5, "keyword", "tp_size", "tensor_parallel_size"),
    ),
    hunks=(Hunk("src/app/engine.py", 5, 5, "    return ServerArgs(tensor_parallel_size=2)  # ``` fence\n"),),
)


def test_commit_messages() -> None:
    assert_golden(render("commit-compat.txt.j2", fix=COMPAT), GOLDEN / "commit-compat.txt")
    assert_golden(render("commit-api.txt.j2", fix=API), GOLDEN / "commit-api.txt")


def test_summary_section_and_suggestion() -> None:
    undone = (Rewrite("a.py", 3, "keyword", "x", "y"),)
    reverted = FixResult("torch", "api", "2.10.0", undone, reverted="tests")
    result = UpgradeResult(
        request=Request((), "sglang==0.6.0"),
        outcome="attention",
        date="2026-12-01",
        fixes=(COMPAT, API, reverted),
        commits=(Commit("0123456789abcdef", "sglang: prune compat for 0.6.0\n\nbody"),),
        sections={"audit": Section("done"), "fix": Section("done")},
    )
    summary = render_summary(result)
    section = summary[summary.index("### Mechanical Fixes") : summary.index("### Verification")]
    assert_golden(section, GOLDEN / "summary-fixes.md")
    plan = make_plan(result, audit_only=True, pushed=False, branch="feature")
    assert_golden(plan.notes[0].body, GOLDEN / "review-suggestion.md")
