"""The upgrade summary (`upgrade-summary.md`, the seed's step 8) rendered from a result (pure)."""

from __future__ import annotations

from bot.audit.messages import audit_section as render_audit
from bot.errors import OUTCOMES
from bot.model import Section, UpgradeResult, Variant
from bot.text.render import render, render_trimmed
from checklists.report import render_markdown

SECTIONS = ("checklists", "pins", "lock", "notes", "containers", "audit", "verify")


def render_summary(result: UpgradeResult) -> str:
    """`upgrade-summary.md` for a result; a step that did not run says so, never invents content."""
    sections = {name: result.sections.get(name, Section("not run", "not reached")) for name in SECTIONS}
    audit_section = checklist_section = ""
    if result.audit is not None:
        audit_section = render_audit(result.audit).strip()
    if result.checklists:
        checklist_section = render_markdown(result.checklists).strip()
    fix_section = (
        render_trimmed("fix-section.md.j2", fixes=result.fixes, commits=result.commits).strip()
        if result.fixes
        else ""
    )
    return render(
        "upgrade-summary.md.j2",
        r=result,
        outcome=OUTCOMES[result.outcome],
        sections=sections,
        audit_section=audit_section,
        checklist_section=checklist_section,
        fix_section=fix_section,
        units=_units(result),
    )


def _units(result: UpgradeResult) -> tuple[Variant, ...]:
    """The lock units, listed only where the layout is more than manifests and locks at the root:
    a workspace, or a project in a directory of its own."""
    if any(unit.members or "/" in unit.manifest for unit in result.variants):
        return result.variants
    return ()
