"""The audit end to end on real wheels and real uv locks: exact findings, and nothing where nothing broke."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.audit.roots import distribution_roots
from bot.audit.runner import AuditReport, run_audit
from bot.audit.symbols import CACHE_SCHEMA
from bot.files.config import load_config
from bot.files.lockfile import parse_lock
from bot.model import VersionChange
from tests.support.audit_repo import AuditRepo

CHANGE = VersionChange("demo-lib", ("1.0",), ("2.0",), ("default",), requested=True, focused=True)

EXPECTED = [
    ("app/_compat.py", 11, 5, "demo_lib.fast", "stub-missing", "warning"),
    ("app/_compat.py", 12, 1, "speedup", "compat-removable", "warning"),
    ("app/_compat.py", 18, 1, "build", "compat-untagged", "warning"),
    ("app/_compat.py", 21, 10, "demo_lib.__version__", "compat-version-gate", "warning"),
    ("app/compat_checks.py", 6, 4, 'Version(demo_lib.__version__) < Version("2.0")', "version-guard", "info"),
    ("app/http.py", 2, 1, "POST /v1/generate", "string-vanished", "error"),
    ("app/main.py", 4, 1, "demo_lib.core.legacy_helper", "removed", "error"),
    ("app/main.py", 5, 1, "demo_lib.models.Layer", "moved", "error"),
    ("app/main.py", 12, 11, "demo_lib.models.OldBase", "base-removed", "error"),
    ("app/main.py", 18, 5, "demo_lib.Client.send", "keyword-removed", "error"),
    ("app/main.py", 19, 5, "demo_lib.connect", "keyword-removed", "error"),
    ("app/main.py", 20, 5, "demo_lib.configure", "keyword-removed", "warning"),
    ("app/main.py", 23, 5, "demo_lib.core.build", "default-changed", "info"),
    ("app/main.py", 24, 5, "demo_lib.core.spawn", "new-required", "error"),
    ("app/main.py", 25, 5, "demo_lib.core.fetch", "parameter-kind-changed", "error"),
    ("app/main.py", 30, 12, "demo_lib.Model.registry", "removed", "error"),
]


async def _audit(repo: AuditRepo, cache: Path, *, root: Path | None = None) -> AuditReport:
    where = root or repo.root
    return await run_audit(
        where,
        load_config(where),
        [CHANGE],
        {"default": parse_lock(repo.old_lock, display="uv.lock")},
        {"default": parse_lock(repo.new_lock, display="uv.lock")},
        cache_dir=cache,
    )


async def test_exact_findings(audit_repo: AuditRepo, tmp_path: Path) -> None:
    report = await _audit(audit_repo, tmp_path / "cache")
    got = [(f.file, f.line, f.column, f.symbol, f.kind, f.severity) for f in report.findings]
    assert got == EXPECTED
    (package,) = report.packages
    assert (package.package, package.old, package.new, package.error) == ("demo-lib", "1.0", "2.0", None)
    assert package.moves == (("demo_lib.models.Layer", "demo_lib.layers.Layer"),)
    assert [(g.file, g.line, g.removable) for g in package.guards] == [
        ("app/compat_checks.py", 6, True),
        ("app/compat_checks.py", 8, False),
    ]
    assert report.has_errors


async def test_messages_signatures_and_catalog(audit_repo: AuditRepo, tmp_path: Path) -> None:
    report = await _audit(audit_repo, tmp_path / "cache")
    by_line = {(f.file, f.line, f.kind): f for f in report.findings}
    connect = by_line[("app/main.py", 19, "keyword-removed")]
    assert connect.message == (
        "'demo_lib.connect' no longer accepts the keyword 'secure' in demo-lib 2.0 (renamed to 'tls'?)."
    )
    assert (connect.old_signature, connect.new_signature) == (
        "(host, port=80, *, secure=False)",
        "(host, port=80, *, tls=False)",
    )
    assert connect.catalog_entry == "1. demo_lib.connect"
    moved = by_line[("app/main.py", 5, "moved")]
    assert "'demo_lib.layers.Layer'" in moved.message
    default = by_line[("app/main.py", 23, "default-changed")]
    assert "from False to True" in default.message
    vanished = by_line[("app/http.py", 2, "string-vanished")]
    assert vanished.catalog_entry == "2. POST /v1/generate"


async def test_no_finding_for_unchanged_unused_dynamic_or_guarded(
    audit_repo: AuditRepo, tmp_path: Path
) -> None:
    report = await _audit(audit_repo, tmp_path / "cache")
    lines = {(f.file, f.line) for f in report.findings}
    # Client() unchanged, stable() unchanged, Session only reachable through __getattr__ in 2.0,
    # a string and a comment naming the package, a call whose **options may carry anything.
    for line in (17, 22, 26, 27, 28, 29):
        assert ("app/main.py", line) not in lines
    # The except-ImportError fallbacks of the shim handle the absence themselves.
    assert ("app/_compat.py", 8) not in lines
    assert all("unused_changed" not in f.symbol for f in report.findings)


async def test_repository_using_only_stable_symbols_has_no_findings(
    audit_repo: AuditRepo, tmp_path: Path
) -> None:
    root = tmp_path / "clean"
    shutil.copytree(audit_repo.root / "wheelhouse", root / "wheelhouse")
    (root / "svc.py").write_text(
        "from demo_lib import Client, stable\n"
        "import demo_lib\n\n"
        "def go():\n"
        "    Client('u', timeout=1).send\n"
        "    stable(1, b=2)\n"
        "    demo_lib.core.stable(1)\n"
        "    demo_lib.Session().open(1)\n",
        encoding="utf-8",
    )
    report = await _audit(audit_repo, tmp_path / "cache", root=root)
    assert report.findings == ()
    assert not report.has_errors


async def test_symbol_cache_is_written_and_reused(audit_repo: AuditRepo, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = await _audit(audit_repo, cache)
    files = sorted((cache / "api").glob("demo-lib-*.json"))
    assert len(files) == 2
    data = json.loads(files[0].read_text())
    assert data["schema"] == CACHE_SCHEMA and data["symbols"]
    assert all(entry["status"] in ("found", "missing", "unknown") for entry in data["symbols"].values())
    second = await _audit(audit_repo, cache)
    assert second == first


async def test_hash_mismatch_is_reported_not_audited(audit_repo: AuditRepo, tmp_path: Path) -> None:
    tampered = audit_repo.new_lock.replace(
        'path = "demo_lib-2.0-py3-none-any.whl"',
        'path = "demo_lib-2.0-py3-none-any.whl", hash = "sha256:' + "0" * 64 + '"',
    )
    assert tampered != audit_repo.new_lock
    report = await run_audit(
        audit_repo.root,
        load_config(audit_repo.root),
        [CHANGE],
        {"default": parse_lock(audit_repo.old_lock, display="uv.lock")},
        {"default": parse_lock(tampered, display="uv.lock")},
        cache_dir=tmp_path / "cache",
    )
    (package,) = report.packages
    assert package.findings == ()
    assert package.error is not None and "sha256 mismatch" in package.error


@pytest.mark.parametrize(
    ("change", "config_text"),
    [
        (VersionChange("demo-lib", ("1.0",), ("2.0",), ("default",), True, focused=False), ""),
        (CHANGE, "[package.demo-lib]\naudit = false\n"),
    ],
)
async def test_unfocused_or_audit_false_is_skipped(
    audit_repo: AuditRepo, tmp_path: Path, change: VersionChange, config_text: str
) -> None:
    root = tmp_path / "repo"
    shutil.copytree(audit_repo.root, root)
    (root / ".github/upgrade-deps.toml").write_text(config_text, encoding="utf-8")
    report = await run_audit(
        root,
        load_config(root),
        [change],
        {"default": parse_lock(audit_repo.old_lock, display="uv.lock")},
        {"default": parse_lock(audit_repo.new_lock, display="uv.lock")},
        cache_dir=tmp_path / "cache",
    )
    assert report.packages == ()


async def test_distribution_roots_for_checklists(audit_repo: AuditRepo, tmp_path: Path) -> None:
    locks = {"default": parse_lock(audit_repo.old_lock, display="uv.lock")}
    roots = await distribution_roots(audit_repo.root, locks, ["demo-lib", "absent"], cache_dir=tmp_path)
    assert roots == {"demo-lib": ("demo_lib",)}


async def test_divergent_variants_audit_each_version_with_the_lowest_as_floor(
    audit_repo: AuditRepo, tmp_path: Path
) -> None:
    old = parse_lock(audit_repo.old_lock, display="uv.lock")
    new = parse_lock(audit_repo.new_lock, display="uv.vllm.lock")
    change = VersionChange("demo-lib", ("1.0",), ("1.0", "2.0"), ("sglang", "vllm"), True, True)
    report = await run_audit(
        audit_repo.root,
        load_config(audit_repo.root),
        [change],
        {"sglang": old, "vllm": old},
        {"sglang": old, "vllm": new},
        cache_dir=tmp_path,
    )
    same, upgraded = report.packages
    assert (same.new, upgraded.new) == ("1.0", "2.0")
    assert not [
        f
        for f in same.findings
        if f.kind not in ("compat-removable", "stub-missing", "compat-untagged", "compat-version-gate")
    ]
    assert ("app/main.py", 19, "keyword-removed") in {(f.file, f.line, f.kind) for f in upgraded.findings}
    # The sglang variant still runs 1.0: the `< 2.0` guard is alive.
    assert all(f.kind != "version-guard" for f in upgraded.findings)
    assert [g.removable for g in upgraded.guards] == [False, False]
