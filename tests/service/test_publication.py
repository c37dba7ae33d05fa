"""What a finished job publishes: bounded output, annotations, review notes, diff lines."""

from __future__ import annotations

from bot.model import Finding, Request, Unresolved, UpgradeResult
from bot.service.publication import OUTPUT_LIMIT, Publication, bound, commentable_lines, make_plan


def finding(line: int, severity: str = "error") -> Finding:
    return Finding(file="app/engine.py", line=line, column=4, package="sglang", symbol="ServerArgs",
                   kind="keyword-removed", severity=severity, message="tp_size was removed")  # type: ignore[arg-type]  # fmt: skip


def test_bound_cuts_with_a_visible_note() -> None:
    assert bound("short") == "short"
    text = bound("x" * 100_000)
    assert len(text) == OUTPUT_LIMIT and "cut at 65535 characters" in text


def test_plan_maps_outcome_annotations_and_notes() -> None:
    result = UpgradeResult(
        request=Request((), "sglang==0.5.10"), outcome="breaking", date="2026-01-01",
        findings=(finding(3), finding(9, "info")),
        unresolved=(Unresolved("tag-deferred", "tag v1 missing", "Dockerfile", 1, blocking=False),
                    Unresolved("conflict", "no file")),
    )  # fmt: skip
    plan = make_plan(result, audit_only=False, pushed=True, branch="feature")
    assert plan.conclusion == "failure" and plan.title == "Upgrade landed; breaking call sites found"
    assert [(a["path"], a["start_line"], a["annotation_level"]) for a in plan.annotations] == [
        ("app/engine.py", 3, "failure"), ("app/engine.py", 9, "notice"), ("Dockerfile", 1, "warning"),
    ]  # fmt: skip
    assert [note.line for note in plan.notes] == [3, 9] and plan.notes[0].key in plan.notes[0].body
    assert Publication.loads(plan.dumps()) == plan


def test_commentable_lines_are_added_and_context_lines_of_the_new_file() -> None:
    patch = (
        "@@ -1,3 +1,4 @@\n import a\n-old\n+new\n+more\n ctx\n"
        "@@ -20,2 +21,2 @@\n x\n-y\n+z\n\\ No newline at end of file"
    )
    assert commentable_lines(patch) == {1, 2, 3, 4, 21, 22}
