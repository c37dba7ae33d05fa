"""Renders the audit's texts (finding messages, the summary section, command output) from templates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.text import render as report

if TYPE_CHECKING:
    import jinja2


def environment() -> jinja2.Environment:
    """The house environment with block trimming, which these templates are written for."""
    return report.environment(trimmed=True)


def render(template: str, /, **context: Any) -> str:
    """Render `templates/<name>` with `context`."""
    return environment().get_template(template).render(**context)


def message(kind: str, /, **context: Any) -> str:
    """One finding's sentence, from `templates/audit-messages.txt.j2`."""
    return render("audit-messages.txt.j2", kind=kind, **context).strip()


def audit_section(report: Any) -> str:
    """The summary's API Compatibility Audit section body for an AuditReport."""
    return render("audit-section.md.j2", report=report)


def audit_text(report: Any, *, skipped: tuple[str, ...] = ()) -> str:
    """The `upgrade-deps audit` text output for an AuditReport."""
    counts = {
        severity: sum(f.severity == severity for f in report.findings)
        for severity in ("error", "warning", "info")
    }
    return render("audit-report.txt.j2", report=report, counts=counts, skipped=skipped)
