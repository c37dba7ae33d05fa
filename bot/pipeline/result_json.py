"""`upgrade-deps run --format json`: the result as one JSON object (schemas/run-result.schema.json)."""

from __future__ import annotations

from typing import Any

from bot.errors import OUTCOMES
from bot.model import Resolution, Section, UpgradeResult, Variant
from bot.pipeline.summary import SECTIONS

# Raised only when a key changes meaning or goes away; new keys may appear within a version.
SCHEMA_VERSION = 1


def result_document(result: UpgradeResult, *, summary: str) -> dict[str, Any]:
    """Everything a script needs from a run; `summary` is where the Markdown summary was written."""
    outcome = OUTCOMES[result.outcome]
    return {
        "schema_version": SCHEMA_VERSION,
        "outcome": result.outcome,
        "title": outcome.title,
        "exit_code": outcome.exit_code,
        "error": result.error,
        "request": _request(result),
        "variants": [_variant(v) for v in result.variants],
        "changes": _changes(result),
        "resolutions": [_resolution(r) for r in result.resolutions],
        "containers": [
            {
                "file": c.file,
                "line": c.line,
                "package": c.package,
                "old": c.old,
                "new": c.new,
                "status": c.status,
                "reason": c.reason,
            }
            for c in result.containers
        ],
        "findings": [
            {
                "file": f.file,
                "line": f.line,
                "column": f.column,
                "package": f.package,
                "symbol": f.symbol,
                "kind": f.kind,
                "severity": f.severity,
                "message": f.message,
            }
            for f in result.findings
        ],
        "verify": [{"name": v.name, "status": v.status, "detail": v.detail} for v in result.verify],
        "unresolved": [
            {"kind": u.kind, "message": u.message, "file": u.file, "line": u.line, "blocking": u.blocking}
            for u in result.unresolved
        ],
        "warnings": [{"message": w.message, "file": w.file, "line": w.line} for w in result.warnings],
        "checklists": _checklists(result),
        "steps": {name: _step(result.sections.get(name)) for name in SECTIONS},
        "commits": [
            {"sha": c.sha, "subject": (c.message.splitlines() or [""])[0], "message": c.message}
            for c in result.commits
        ],
        "summary": summary,
    }


def _request(result: UpgradeResult) -> dict[str, Any]:
    request = result.request
    return {
        "raw": request.raw,
        "items": [
            {"package": i.name, "name": i.display, "version": i.version, "variant": i.variant}
            for i in request.items
        ],
        "allow_downgrade": request.allow_downgrade,
        "image_tag": request.image_tag,
    }


def _changes(result: UpgradeResult) -> dict[str, list[dict[str, Any]]]:
    """{variant: its changed packages}: every variant of the run, in order, even one with no change."""
    names = [v.name for v in result.variants] + [n for c in result.changes for n in c.variants]
    return {
        name: [
            {
                "package": c.package,
                "old": list(c.old),
                "new": list(c.new),
                "requested": c.requested,
                "focused": c.focused,
            }
            for c in result.changes
            if name in c.variants
        ]
        for name in dict.fromkeys(names)
    }


def _resolution(r: Resolution) -> dict[str, Any]:
    return {
        "package": r.package,
        "variant": r.variant,
        "old_specifier": r.old_specifier,
        "new_specifier": r.new_specifier,
        "because": r.because,
        "declarations": [{"file": d.manifest, "line": d.line, "section": d.section} for d in r.declarations],
    }


def _checklists(result: UpgradeResult) -> list[dict[str, Any]]:
    return [
        {
            "package": c.package,
            "path": c.path,
            "missing": list(c.missing),
            "stale": list(c.stale),
            "changed": list(c.changed),
            "problems": list(c.problems),
            "created": c.created,
            "fixed": c.fixed,
        }
        for c in result.checklists
    ]


def _step(section: Section | None) -> dict[str, str]:
    section = section or Section("not run", "not reached")
    return {"status": section.status, "reason": section.reason}


def _variant(v: Variant) -> dict[str, object]:
    return {"name": v.name, "manifest": v.manifest, "lock": v.lock, "members": list(v.members),
            "after": list(v.after)}  # fmt: skip
