"""Builds the demo-lib audit repository once per session (real wheels, real uv locks)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.audit_repo import AuditRepo, build_audit_repo


@pytest.fixture(scope="session")
def audit_repo(tmp_path_factory: pytest.TempPathFactory) -> AuditRepo:
    root = tmp_path_factory.mktemp("audit") / "repo"
    root.mkdir()
    return build_audit_repo(root, uv=Path(sys.executable).parent / "uv")
