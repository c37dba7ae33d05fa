"""app.yaml: the GitHub App manifest asks for exactly what the service uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
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


def test_the_command_prints_the_manifest_flow_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from bot.cli import main

    assert main(["app-manifest", "--url", "https://bot.example.org/"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = yaml.safe_load((ROOT / "app.yaml").read_text())
    assert printed["hook_attributes"] == {"url": "https://bot.example.org/webhook", "active": True}
    assert (
        printed["url"] == "https://bot.example.org" and printed["redirect_url"] == "https://bot.example.org/"
    )
    assert printed["default_permissions"] == expected["default_permissions"]
    assert "example.com" not in json.dumps(printed)
    assert main(["app-manifest", "--url", "http://bot.example.org"]) == 2
    assert "is not an https URL" in capsys.readouterr().err
    bad = tmp_path / "app.yaml"
    bad.write_text("name: x\nurl: https://x\nhook_attributes: {url: https://x/webhook}\npermissions: {}\n")
    assert main(["app-manifest", "--manifest", str(bad)]) == 2
    assert f"{bad}: unknown key 'permissions'" in capsys.readouterr().err
