"""Renders the upgrade summary and other person-facing text from the jinja2 templates (pure)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import markdown
from bot.errors import OUTCOMES
from bot.model import Section, UpgradeResult

if TYPE_CHECKING:
    import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SECTIONS = ("checklists", "pins", "lock", "containers", "audit", "verify")


@cache
def environment(*, trimmed: bool = False) -> jinja2.Environment:
    """The one jinja2 environment per style; `trimmed` drops the newlines around block tags."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=trimmed,
        lstrip_blocks=trimmed,
        autoescape=False,  # Markdown, not HTML: untrusted values go through the filters below.
    )
    env.filters.update(inline=markdown.inline, code=markdown.code, block=markdown.block)
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def render_summary(result: UpgradeResult) -> str:
    """`upgrade-summary.md` for a result; a step that did not run says so, never invents content."""
    sections = {name: result.sections.get(name, Section("not run", "not reached")) for name in SECTIONS}
    audit_section = checklist_section = ""
    if result.audit is not None:
        from bot.audit.render import audit_section as render_audit

        audit_section = render_audit(result.audit).strip()
    if result.checklists:
        from checklists.report import render_markdown

        checklist_section = render_markdown(result.checklists).strip()
    return render(
        "upgrade-summary.md.j2",
        r=result,
        outcome=OUTCOMES[result.outcome],
        sections=sections,
        audit_section=audit_section,
        checklist_section=checklist_section,
    )
