"""Renders step 0.5 reports: the command's text and the summary's Markdown, from templates."""

from __future__ import annotations

from collections.abc import Sequence

from bot.model import ChecklistReport
from bot.text.render import render_trimmed as render


def render_text(reports: Sequence[ChecklistReport]) -> str:
    """`upgrade-deps checklists validate` output in the seed's report format."""
    return render("checklists-report.txt.j2", reports=reports)


def render_markdown(reports: Sequence[ChecklistReport]) -> str:
    """The summary's checklist validation section body (untrusted paths neutralised)."""
    return render("checklists-section.md.j2", reports=reports)
