"""Renders the audit's texts (finding messages, the summary section, command output) from templates."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
_MENTION = re.compile(r"@(?=[\w-])")


def neutralise(text: object) -> str:
    """Make an untrusted string inert in GitHub Markdown: no mentions, HTML, code fences or links."""
    value = str(text).replace("\r", " ").replace("\n", " ")
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = value.replace("`", "'").replace("[", "\\[").replace("]", "\\]").replace("|", "\\|")
    value = value.replace("*", "\\*").replace("_", "\\_")  # no emphasis from untrusted text
    return _MENTION.sub("@\u200b", value)


def code(text: object) -> str:
    """An untrusted string as a Markdown code span (backticks cannot close it early)."""
    value = str(text).replace("\r", " ").replace("\n", " ").replace("`", "'")
    return f"`{value}`"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # Markdown and plain text, not HTML; untrusted values go through `md`/`code`
    )
    env.filters["md"] = neutralise
    env.filters["code"] = code
    return env


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
