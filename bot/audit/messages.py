"""Renders the audit's texts (finding messages, the summary section, command output) from templates."""

from __future__ import annotations

from typing import Any

from bot.model import AuditReport
from bot.text.render import render_trimmed as render


def message(kind: str, /, **context: Any) -> str:
    """One finding's sentence, from `templates/audit-messages.txt.j2`."""
    return render("audit-messages.txt.j2", kind=kind, **context).strip()


def audit_section(report: AuditReport) -> str:
    """The summary's API Compatibility Audit section body for an AuditReport."""
    return render("audit-section.md.j2", report=report)


def audit_text(report: AuditReport, *, skipped: tuple[str, ...] = ()) -> str:
    """The `upgrade-deps audit` text output for an AuditReport."""
    counts = {
        severity: sum(f.severity == severity for f in report.findings)
        for severity in ("error", "warning", "info")
    }
    return render("audit-report.txt.j2", report=report, counts=counts, skipped=skipped)
