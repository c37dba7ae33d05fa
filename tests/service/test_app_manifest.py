"""app.yaml: the GitHub App manifest asks for exactly what the service uses."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_manifest_permissions_events_and_hook() -> None:
    manifest = yaml.safe_load((ROOT / "app.yaml").read_text())
    write = {"contents", "pull_requests", "issues", "checks"}
    assert manifest["default_permissions"] == {**dict.fromkeys(write, "write"), "metadata": "read"}
    assert manifest["default_events"] == ["issue_comment", "pull_request", "check_run", "check_suite"]
    assert manifest["hook_attributes"]["url"].endswith("/webhook") and manifest["name"] == "upgrade-deps"
    known = {
        "name",
        "url",
        "description",
        "hook_attributes",
        "redirect_url",
        "callback_urls",
        "setup_url",
        "public",
        "default_permissions",
        "default_events",
        "request_oauth_on_install",
        "setup_on_update",
    }
    assert set(manifest) <= known
