"""What a finished job publishes: bounded output, annotations, review notes, diff lines."""

from __future__ import annotations

from dataclasses import replace

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
    assert [note.line for note in plan.notes] == [3, 9, 1] and plan.notes[0].key in plan.notes[0].body
    assert Publication.loads(plan.dumps()) == plan


def test_every_located_unresolved_item_is_annotated_and_becomes_a_review_note() -> None:
    conflict = Unresolved("conflict", "numpy: a requires numpy<2, b requires numpy>=2", "pyproject.toml", 7,
                          subject="numpy")  # fmt: skip
    items = (
        conflict,
        Unresolved("not-landed", "kept by an override", "pyproject.vllm.toml", 12, subject="torch"),
        Unresolved("verify", "smoke failed", ".github/upgrade-deps.toml", 4, blocking=False, subject="smoke"),
        Unresolved("container", "not UTF-8 text", "Dockerfile", blocking=False),  # the file as a whole
        Unresolved("sandbox", "no sandbox here"),  # nowhere to put it
    )
    result = UpgradeResult(
        request=Request((), "a==2"), outcome="not-landed", date="2026-01-01", unresolved=items
    )
    plan = make_plan(result, audit_only=False, pushed=False, branch="feature")
    assert [(a["path"], a["start_line"], a["annotation_level"], a["title"]) for a in plan.annotations] == [
        ("pyproject.toml", 7, "failure", "conflict: numpy"),
        ("pyproject.vllm.toml", 12, "failure", "not-landed: torch"),
        (".github/upgrade-deps.toml", 4, "warning", "verify: smoke"),
        ("Dockerfile", 1, "warning", "container"),
    ]
    notes = [(n.path, n.line, n.kind) for n in plan.notes]
    assert notes == [("pyproject.toml", 7, "unresolved"), ("pyproject.vllm.toml", 12, "unresolved"),
                     (".github/upgrade-deps.toml", 4, "unresolved")]  # fmt: skip
    assert "numpy: a requires `numpy<2`" in plan.notes[0].body and plan.notes[0].key in plan.notes[0].body
    # The key names the item, not its wording: the same conflict worded anew is recognised.
    reworded = replace(result, unresolved=(replace(conflict, message="numpy: worded anew"),))
    again = make_plan(reworded, audit_only=False, pushed=False, branch="feature")
    assert again.notes[0].key == plan.notes[0].key and again.notes[0].body != plan.notes[0].body
    assert Publication.loads(plan.dumps()) == plan


def test_commentable_lines_are_added_and_context_lines_of_the_new_file() -> None:
    patch = (
        "@@ -1,3 +1,4 @@\n import a\n-old\n+new\n+more\n ctx\n"
        "@@ -20,2 +21,2 @@\n x\n-y\n+z\n\\ No newline at end of file"
    )
    assert commentable_lines(patch) == {1, 2, 3, 4, 21, 22}
