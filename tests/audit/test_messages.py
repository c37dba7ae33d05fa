"""Golden-file tests for the audit's rendered texts: summary section and command output."""

from __future__ import annotations

from pathlib import Path

from bot.audit.audit_command import audit_command, parse_change
from bot.audit.messages import audit_section, audit_text
from bot.audit.runner import AuditReport, PackageAudit
from bot.files.config import load_config
from bot.model import Finding
from tests.support.audit_repo import AuditRepo
from tests.support.golden import assert_golden
from tests.support.markdown_safety import hazards

GOLDEN = Path(__file__).parent / "golden"


async def _report(repo: AuditRepo, cache: Path) -> AuditReport:
    config = load_config(repo.root)
    return await audit_command(repo.root, config, [parse_change("demo-lib==1.0..2.0")], cache_dir=cache)


async def test_summary_section_golden(audit_repo: AuditRepo, tmp_path: Path) -> None:
    report = await _report(audit_repo, tmp_path)
    assert_golden(audit_section(report), GOLDEN / "audit-section.md")


async def test_text_output_golden(audit_repo: AuditRepo, tmp_path: Path) -> None:
    report = await _report(audit_repo, tmp_path)
    assert_golden(audit_text(report), GOLDEN / "audit-report.txt")


def test_clean_and_unaudited_packages_render() -> None:
    report = AuditReport(
        (
            PackageAudit("peft", "0.17.0", "0.18.1"),
            PackageAudit("sglang", "0.5.9", "0.5.10", error="sha256 mismatch"),
        )
    )
    assert_golden(audit_section(report), GOLDEN / "audit-section-clean.md")
    assert audit_section(AuditReport()) == "No focused package changed version; nothing to audit.\n"


def test_untrusted_names_are_inert_in_the_section() -> None:
    hostile = Finding(
        "x/<img src=y>.py",
        3,
        1,
        "evil",
        "evil.`f`",
        "removed",
        "error",
        "'@octocat' [click](http://x) **now**",
    )
    report = AuditReport((PackageAudit("@team", "1", "2<b>", findings=(hostile,), moves=(("a`b", "c"),)),))
    text = audit_section(report)
    assert hazards(text) == []
    assert "#### `@team` (1 → `2<b>`)" in text
    assert "error: `@octocat` `[click](http://x)` `**now**`" in text
    assert "- ``a`b`` → `c`" in text
