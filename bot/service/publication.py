"""Turns an UpgradeResult into what a job publishes: check-run output, annotations, review notes (pure)."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from bot.errors import OUTCOMES
from bot.model import Finding, FixResult, Hunk, Request, UpgradeResult
from bot.pipeline.summary import render_summary
from bot.service.botlabel import LabelledUpdate
from bot.text.render import render

OUTPUT_LIMIT = 65535  # characters in output.summary and output.text
TITLE_LIMIT = 255
SUMMARY_MARKER = "<!-- upgrade-deps:summary -->"
LEVELS = {"error": "failure", "warning": "warning", "info": "notice"}


@dataclass(frozen=True)
class BotLabel:
    """Who opened a bot pull request and what its own text says it updates (a label, not a decision)."""

    author: str
    updates: tuple[LabelledUpdate, ...]


@dataclass(frozen=True)
class LineNote:
    """A finding that could become a review comment, if its line is in the pull request's diff."""

    path: str
    line: int
    key: str  # identifies the finding across runs, hidden in the comment
    body: str
    start_line: int | None = None  # a suggested change spanning lines start_line..line
    kind: str = "finding"  # or "unresolved": something a person must decide, at the line that blocks it


@dataclass(frozen=True)
class Publication:
    """Everything a finished job publishes; stored so a re-run after a crash publishes the same."""

    outcome: str
    conclusion: str
    title: str
    summary: str  # check-run summary
    text: str  # check-run text: the upgrade summary
    report: str  # the upgrade summary in full, for the comment and the PR body
    annotations: tuple[dict[str, Any], ...]
    notes: tuple[LineNote, ...]
    pushed: bool

    def dumps(self) -> str:
        return json.dumps(asdict(self))

    @staticmethod
    def loads(text: str) -> Publication:
        data = json.loads(text)
        data["annotations"] = tuple(data["annotations"])
        data["notes"] = tuple(LineNote(**note) for note in data["notes"])
        return Publication(**data)


def bound(text: str, limit: int = OUTPUT_LIMIT) -> str:
    """`text` within `limit` characters, ending with a visible note when it had to be cut."""
    if len(text) <= limit:
        return text
    note = render("github-truncated.md.j2", limit=limit)
    return text[: limit - len(note)] + note


def _annotations(result: UpgradeResult) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for f in result.findings:
        out.append({
            "path": f.file, "start_line": f.line, "end_line": f.line,
            "annotation_level": LEVELS.get(f.severity, "warning"),
            "title": f"{f.package}: {f.symbol} ({f.kind})"[:TITLE_LIMIT],
            "message": f.message[:60000],
        })  # fmt: skip
    for u in result.unresolved:
        if u.file:
            line = u.line or 1  # located at a file as a whole: its first line
            title = f"{u.kind}: {u.subject}" if u.subject else u.kind
            out.append({
                "path": u.file, "start_line": line, "end_line": line,
                "annotation_level": "failure" if u.blocking else "warning",
                "title": title[:TITLE_LIMIT], "message": u.message[:60000],
            })  # fmt: skip
    for w in result.warnings:
        if w.file and w.line:
            out.append({
                "path": w.file, "start_line": w.line, "end_line": w.line,
                "annotation_level": "warning", "message": w.message[:60000],
            })  # fmt: skip
    return out


def finding_key(path: str, line: int, package: str, symbol: str, kind: str) -> str:
    return f"<!-- upgrade-deps:finding {json.dumps([path, line, package, symbol, kind])} -->"


def suggested(result: UpgradeResult) -> list[tuple[FixResult, Hunk]]:
    """The rewrites of fixes the bot did not push (a fork, or `[fix] mode = "suggest"`)."""
    return [(fix, h) for fix in result.fixes if fix.commit is None and not fix.reverted for h in fix.hunks]


def _suggestion(fix: FixResult, hunk: Hunk) -> LineNote:
    """A suggested change replacing the hunk's lines; the fence outgrows any backtick run in the code."""
    digest = hashlib.sha256(hunk.text.encode()).hexdigest()[:16]
    key = f"<!-- upgrade-deps:suggestion {json.dumps([hunk.file, hunk.start, hunk.end, digest])} -->"
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", hunk.text)), default=0))
    body = render("github-review-suggestion.md.j2", marker=key, fix=fix, fence=fence, text=hunk.text)
    start = hunk.start if hunk.start < hunk.end else None
    return LineNote(path=hunk.file, line=hunk.end, key=key, body=body, start_line=start)


# A finding a suggested change fixes is not posted beside it.
FIXABLE = ("moved", "keyword-deprecated", "keyword-removed", "compat-removable", "stub-missing")


def _covered(finding: Finding, hunks: list[Hunk]) -> bool:
    return finding.kind in FIXABLE and any(
        h.file == finding.file and h.start <= finding.line <= h.end for h in hunks
    )


def unresolved_key(path: str, line: int, kind: str, subject: str) -> str:
    """What an unresolved item is, not how it reads: a re-run finds the comment it already posted."""
    return f"<!-- upgrade-deps:unresolved {json.dumps([path, line, kind, subject])} -->"


def _notes(result: UpgradeResult) -> tuple[LineNote, ...]:
    """Every suggested change, every finding no suggestion fixes, and every unresolved item with a
    line: review comments where the line is in the diff."""
    suggestions = suggested(result)
    hunks = [h for _, h in suggestions]
    findings = [
        LineNote(
            path=f.file, line=f.line,
            key=(key := finding_key(f.file, f.line, f.package, f.symbol, f.kind)),
            body=render("github-review-comment.md.j2", marker=key, f=f),
        )
        for f in result.findings
        if not _covered(f, hunks)
    ]  # fmt: skip
    unresolved = [
        LineNote(
            path=u.file, line=u.line,
            key=(key := unresolved_key(u.file, u.line, u.kind, u.subject)),
            body=render("github-review-unresolved.md.j2", marker=key, u=u), kind="unresolved",
        )
        for u in result.unresolved
        if u.file and u.line
    ]  # fmt: skip
    return (*(_suggestion(fix, h) for fix, h in suggestions), *findings, *unresolved)


def make_plan(
    result: UpgradeResult, *, audit_only: bool, pushed: bool, branch: str, bot: BotLabel | None = None
) -> Publication:
    outcome = OUTCOMES.get(result.outcome, OUTCOMES["error"])
    report = render_summary(result)
    notes = _notes(result)
    summary = render(
        "github-check-summary.md.j2",
        r=result,
        outcome=outcome,
        audit_only=audit_only,
        pushed=pushed,
        branch=branch,
        bot=bot,
        suggested=len(suggested(result)),
    )
    return Publication(
        outcome=result.outcome,
        conclusion=outcome.conclusion,
        title=outcome.title,
        summary=bound(summary),
        text=bound(report),
        report=report,
        annotations=tuple(_annotations(result)),
        notes=notes,
        pushed=pushed,
    )


def commentable_lines(patch: str) -> set[int]:
    """Lines of the new file a review comment may sit on: added and context lines of the patch's hunks."""
    lines: set[int] = set()
    line = 0
    for row in patch.splitlines():
        if row.startswith("@@"):
            # @@ -a,b +c,d @@
            new = row.split("+", 1)[1].split(" ", 1)[0]
            line = int(new.split(",", 1)[0])
        elif row.startswith("+") or row.startswith(" "):
            lines.add(line)
            line += 1
        elif row.startswith("\\"):
            continue  # "\ No newline at end of file"
    return lines


def _today() -> str:
    """Dated as the pipeline dates its summaries: the day in the server's local time zone."""
    return datetime.datetime.now().astimezone().date().isoformat()


def refused_result(problem: str) -> UpgradeResult:
    """The result for a bot pull request whose manifests, locks or config cannot be read."""
    return UpgradeResult(request=Request((), ""), outcome="refused", date=_today(), error=problem)


def nothing_result() -> UpgradeResult:
    """The result for a bot pull request that moves nothing upgrade-deps tracks."""
    text = render("github-botpr-nothing.md.j2").strip()
    return UpgradeResult(request=Request((), ""), outcome="nothing", date=_today(), error=text)
