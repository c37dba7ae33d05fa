"""Golden files for every github-* template; untrusted values neutralised."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.errors import OUTCOMES
from bot.model import Commit, Finding, Request, Unresolved, UpgradeResult
from bot.pipeline.request import USAGE
from bot.service.botlabel import LabelledUpdate
from bot.service.publication import SUMMARY_MARKER, BotLabel, make_plan
from bot.text.render import render
from tests.support.golden import assert_golden
from tests.support.markdown_safety import hazards

GOLDEN = Path(__file__).resolve().parent / "golden"
EVIL = "@octocat <img src=x> `tick`"
MARKER = "<!-- upgrade-deps:reply 1 -->"
RESULT = UpgradeResult(
    request=Request((), "sglang==0.5.10"), outcome="breaking", date="2026-01-01", error=EVIL,
    findings=(Finding(file="src/app/engine.py", line=5, column=11, package="sglang", symbol="ServerArgs",
                      kind="keyword-removed", severity="error", message=f"tp_size removed {EVIL}",
                      old_signature="ServerArgs(model_path, tp_size=1)",
                      new_signature="ServerArgs(model_path, tensor_parallel_size=1)"),),
    unresolved=(Unresolved("conflict", f"needs a person {EVIL}"),
                Unresolved("not-landed", f"kept {EVIL}", "pyproject.toml", 7, subject="sglang")),
)  # fmt: skip
LABELS = (LabelledUpdate("alpha", "1.0", "1.1"), LabelledUpdate(EVIL, None, "2"))
SUMMARY = {"r": RESULT, "outcome": OUTCOMES["breaking"], "branch": "feature", "bot": None, "suggested": 0}
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "check-progress-lock": ("github-check-progress.txt.j2", {"step": "lock vllm"}),
    "check-progress-push": ("github-check-progress.txt.j2", {"step": "push"}),
    "check-progress-parallel": ("github-check-progress.txt.j2", {"step": "lock default, vllm in parallel"}),
    "check-progress-locked": ("github-check-progress.txt.j2", {"step": "lock vllm 11.2 s"}),
    "check-progress-still": ("github-check-progress.txt.j2", {"step": "audit still running (10 s)"}),
    "check-progress-fallback": (
        "github-check-progress.txt.j2",
        {"step": "lock one variant after the other: [lock] parallel = false"},
    ),
    "check-running": ("github-check-running.md.j2", {"request": EVIL}),
    "check-summary": ("github-check-summary.md.j2", {**SUMMARY, "audit_only": False, "pushed": True}),
    "check-summary-fork": ("github-check-summary.md.j2", {**SUMMARY, "audit_only": True, "pushed": False}),
    "check-summary-suggested": ("github-check-summary.md.j2", {**SUMMARY, "audit_only": True, "pushed": False,
                                                                "suggested": 2}),
    "check-summary-bot": ("github-check-summary.md.j2", {**SUMMARY, "audit_only": False, "pushed": True,
                                                          "bot": BotLabel("renovate[bot]", LABELS)}),
    "check-superseded": ("github-check-superseded.md.j2", {"sha": "0123456789abcdef"}),
    "check-superseded-title": ("github-check-superseded-title.txt.j2", {"sha": "0123456789abcdef"}),
    "check-failed": ("github-check-failed.md.j2", {"reason": "git clone failed ```\n@someone"}),
    "reply-help": ("github-reply-help.md.j2", {"marker": MARKER, "usage": USAGE}),
    "reply-malformed": ("github-reply-malformed.md.j2", {"marker": MARKER, "problem": EVIL, "usage": USAGE}),
    "reply-refused": ("github-reply-refused.md.j2", {"marker": MARKER, "author": EVIL, "role": "read"}),
    "reply-opened": ("github-reply-opened.md.j2", {"marker": MARKER, "outcome": OUTCOMES["landed"],
                                                    "url": "https://github.example/o/r/pull/7"}),
    "reply-not-opened": ("github-reply-not-opened.md.j2", {"marker": MARKER, "outcome": OUTCOMES["nothing"],
                                                            "summary": "SUMMARY", "existing": None}),
    "reply-already-open": ("github-reply-not-opened.md.j2", {"marker": MARKER, "outcome": OUTCOMES["nothing"],
                                                              "summary": "SUMMARY", "existing": "https://x/pull/7"}),
    "reply-failed": ("github-reply-failed.md.j2", {"marker": MARKER, "reason": "boom"}),
    "reply-reverted": ("github-reply-reverted.md.j2", {"marker": MARKER, "branch": "feature", "base": "main",
                       "reverted": [Commit("0123456789abcdef", EVIL), Commit("fedcba98", "Pin x 1.0")]}),
    "reply-reverted-nothing": ("github-reply-reverted.md.j2", {"marker": MARKER, "branch": "feature",
                               "base": "main", "reverted": []}),
    "reply-not-reverted": ("github-reply-not-reverted.md.j2", {"marker": MARKER, "branch": "feature",
                           "reason": EVIL}),
    "pr-title": ("github-pr-title.txt.j2", {"items": ["sglang==0.5.10", "torch==2.10.0@vllm"]}),
    "pr-body": ("github-pr-body.md.j2", {"marker": SUMMARY_MARKER, "author": EVIL, "number": 4,
                                          "summary": "SUMMARY"}),
    "comment-summary-fork": ("github-comment-summary.md.j2", {"marker": SUMMARY_MARKER, "summary": "SUMMARY",
                                                               "audit_only": True}),
    "review": ("github-review.md.j2", {"sites": 2, "items": 0}),
    "review-items": ("github-review.md.j2", {"sites": 1, "items": 2}),
    "review-only-items": ("github-review.md.j2", {"sites": 0, "items": 1}),
    "review-unresolved": ("github-review-unresolved.md.j2", {"marker": "<!-- k -->", "u": Unresolved(
        "conflict", f"variant default: numpy {EVIL}", "pyproject.toml", 5, subject=EVIL)}),
    "review-comment": ("github-review-comment.md.j2", {"marker": "<!-- k -->", "f": RESULT.findings[0]}),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    template, context = CASES[name]
    text = render(template, **context)
    assert_golden(text, GOLDEN / f"{name}.md")
    # Inside a code span a mention or a tag is shown, not acted on; nowhere else is there one.
    assert hazards(_unmarked(text)) == []


def test_plan_text_is_neutralised() -> None:
    plan = make_plan(RESULT, audit_only=False, pushed=False, branch="b")
    for text in (plan.summary, plan.text, *[note.body for note in plan.notes]):
        assert hazards(_unmarked(text)) == []


def _unmarked(text: str) -> str:
    """`text` without the bot's own HTML-comment markers, which GitHub hides on purpose."""
    return re.sub(r"<!-- (upgrade-deps:[^\n]*?|k) -->", "", text)
