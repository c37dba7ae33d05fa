"""The demo-lib audit repository, shared with the audit's tests (real wheels, real uv locks)."""

from __future__ import annotations

from tests.audit.conftest import audit_repo

__all__ = ["audit_repo"]
