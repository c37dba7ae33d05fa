"""The fixes on the demo-lib repository (real wheels, real locks): exact files, the re-audit, the command."""

from __future__ import annotations

import shutil
from argparse import Namespace
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.files.config import FixConfig, load_config, parse_config
from bot.fix.fix_command import fix_command, main
from tests.support.audit_repo import AuditRepo

COMPAT_AFTER = '''\
"""Compat shim for demo-lib."""
import demo_lib

try:
    from demo_lib.layers import Layer  # 2.0+
except ImportError:
    # Fallback for demo-lib <2.0. Remove when min supported version is 2.0+
    from demo_lib.models import Layer  # noqa: F401

from demo_lib.fast import speedup

try:
    from demo_lib.core import build
except ImportError:
    from demo_lib import build  # noqa: F401

LEGACY = demo_lib.__version__.startswith("1.")
'''


def _copy(repo: AuditRepo, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(repo.root, root, ignore=shutil.ignore_patterns(".venv"))
    return root


async def test_fixes_rewrite_exactly_what_was_proven_and_the_re_audit_drops_it(
    audit_repo: AuditRepo, tmp_path: Path
) -> None:
    root = _copy(audit_repo, tmp_path)
    main_before = (root / "app/main.py").read_text()
    fixes, report = await fix_command(
        root, load_config(root), ["demo-lib==1.0..2.0"], cache_dir=tmp_path / "c"
    )
    compat, api = fixes
    assert [(w.file, w.line, w.action, w.subject, w.detail) for w in compat.rewrites] == [
        ("app/_compat.py", 12, "fallback", "speedup", "<1.0"),
        ("tests/stubs.py", 1, "stub", "demo_lib.fast", ""),
    ]
    assert (root / "app/_compat.py").read_text() == COMPAT_AFTER
    assert (root / "tests/stubs.py").read_text() == (
        '_MOCK_MODULES = ["demo_lib.core", "demo_lib.fast", "demo_lib.models"]\n'
    )
    assert [(w.file, w.line, w.action, w.subject, w.detail) for w in api.rewrites] == [
        ("app/main.py", 5, "import", "demo_lib.models.Layer", "demo_lib.layers.Layer"),
        ("app/main.py", 18, "keyword", "retries", "attempts"),
        ("app/main.py", 19, "keyword", "secure", "tls"),
    ]
    assert (root / "app/main.py").read_text() == (
        main_before.replace("from demo_lib.models import Layer", "from demo_lib.layers import Layer")
        .replace("retries=2", "attempts=2")
        .replace("secure=True", "tls=True")
    )
    assert [(h.file, h.start, h.end) for h in api.hunks] == [("app/main.py", 5, 5), ("app/main.py", 18, 19)]
    kinds = {(f.file, f.kind) for f in report.findings}
    assert ("app/main.py", "moved") not in kinds
    assert ("app/_compat.py", "compat-removable") not in kinds
    assert ("app/_compat.py", "stub-missing") not in kinds
    assert ("app/_compat.py", "compat-untagged") in kinds  # never removed: it stays a finding
    assert [f.symbol for f in report.findings if f.kind == "keyword-removed"] == ["demo_lib.configure"]
    for path in ("app/main.py", "app/_compat.py", "tests/stubs.py"):
        compile((root / path).read_text(), path, "exec")
    again, _ = await fix_command(root, load_config(root), ["demo-lib==1.0..2.0"], cache_dir=tmp_path / "c")
    assert again == []  # a second run changes nothing


def test_the_command_and_the_config_keys(
    audit_repo: AuditRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(audit_repo, tmp_path)
    config = tmp_path / "api-only.toml"
    config.write_text((root / ".github/upgrade-deps.toml").read_text() + "\n[fix]\ncompat = false\n")
    args = Namespace(repo=root, config=config, changes=["demo-lib==1.0..2.0"], cache_dir=tmp_path / "c")
    assert main(args) == 1  # errors remain that no fix proves
    out = capsys.readouterr().out
    assert out.startswith(
        "Fixed (in the work tree, not committed):\n"
        "demo-lib 2.0 (API moves):\n"
        "  app/main.py:5: import demo_lib.models.Layer -> demo_lib.layers.Layer\n"
        "  app/main.py:18: keyword retries= -> attempts=\n"
        "  app/main.py:19: keyword secure= -> tls=\n\n"
        "Remaining after the fixes:\n"
    )
    assert "[compat-removable]" in out
    assert (root / "app/_compat.py").read_text() == (audit_repo.root / "app/_compat.py").read_text()
    assert main(Namespace(repo=root, config=None, changes=["demo-lib==1.0"], cache_dir=tmp_path)) == 2
    assert "expected PKG==OLD..NEW" in capsys.readouterr().err


def test_fix_keys_defaults_and_bad_values() -> None:
    assert parse_config({}).fix == FixConfig(compat=None, api=True, mode="push")
    assert not parse_config({}).fix_compat  # no shim configured
    shim = {"compat": {"shim": [{"package": "x", "files": ["a.py"]}]}}
    assert parse_config(shim).fix_compat
    assert not parse_config({**shim, "fix": {"compat": False}}).fix_compat
    assert parse_config({"fix": {"mode": "suggest", "api": False}}).fix == FixConfig(None, False, "suggest")
    with pytest.raises(ConfigError, match=r"key 'mode': expected \"push\" or \"suggest\", got 'pull'"):
        parse_config({"fix": {"mode": "pull"}})
    with pytest.raises(ConfigError, match="unknown key"):
        parse_config({"fix": {"inline": True}})
