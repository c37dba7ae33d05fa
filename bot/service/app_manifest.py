"""`upgrade-deps app-manifest`: the JSON GitHub's app manifest flow takes, made from `app.yaml`."""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import yaml

PLACEHOLDER = "https://upgrade-deps.example.com"
# The parameters GitHub's manifest flow reads (docs: "Registering a GitHub App from a manifest").
FIELDS = frozenset({
    "name", "url", "description", "hook_attributes", "redirect_url", "callback_urls", "setup_url", "public",
    "default_permissions", "default_events", "request_oauth_on_install", "setup_on_update",
})  # fmt: skip


class ManifestError(Exception):
    """The manifest is not one GitHub's flow takes; the message names the key."""


def _replace(value: Any, url: str) -> Any:
    if isinstance(value, str):
        return value.replace(PLACEHOLDER, url)
    if isinstance(value, list):
        return [_replace(item, url) for item in value]
    if isinstance(value, dict):
        return {key: _replace(item, url) for key, item in value.items()}
    return value


def manifest_json(text: str, *, source: str, url: str | None = None) -> str:
    """The manifest as JSON, `https://upgrade-deps.example.com` replaced by `url` where given."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ManifestError(f"{source}: not YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{source}: not a mapping of manifest parameters")
    unknown = sorted(set(map(str, data)) - FIELDS)
    if unknown:
        raise ManifestError(f"{source}: unknown key {unknown[0]!r} (GitHub's manifest flow takes: "
                            f"{', '.join(sorted(FIELDS))})")  # fmt: skip
    hook = data.get("hook_attributes")
    if not isinstance(data.get("name"), str) or not isinstance(data.get("url"), str):
        raise ManifestError(f"{source}: 'name' and 'url' must be strings")
    if not isinstance(hook, dict) or not isinstance(hook.get("url"), str):
        raise ManifestError(f"{source}: 'hook_attributes.url' (where GitHub sends webhooks) is required")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
            raise ManifestError(f"--url: {url!r} is not an https URL (GitHub delivers webhooks over TLS)")
        data = _replace(data, url.rstrip("/"))
    return json.dumps(data, indent=2, ensure_ascii=False)


def main(args: Namespace) -> int:
    if args.manifest is not None:
        source, reader = str(args.manifest), args.manifest.read_text
    else:
        packaged = resources.files("bot") / "app.yaml"
        source, reader = "app.yaml", packaged.read_text
    try:
        print(manifest_json(reader(encoding="utf-8"), source=source, url=args.url))
    except OSError as exc:
        print(f"upgrade-deps app-manifest: {source}: {exc.strerror}", file=sys.stderr)
        return 2
    except ManifestError as exc:
        print(f"upgrade-deps app-manifest: {exc}", file=sys.stderr)
        return 2
    return 0
