"""Serves the fake GitHub alone (for benchmarks): python -m tests.fakegithub --port P --public-key F."""

from __future__ import annotations

import argparse
from pathlib import Path

from aiohttp import web

from tests.fakegithub.server import FakeGitHub, Repo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app-id", type=int, default=4242)
    parser.add_argument("--public-key", type=Path, required=True)
    parser.add_argument("--repo", action="append", default=[], help="owner/name=/path/to/bare.git")
    parser.add_argument("--pull", action="append", default=[], help="owner/name#number=head:base:author")
    args = parser.parse_args()
    fake = FakeGitHub(app_id=args.app_id, public_key=args.public_key.read_text())
    for item in args.repo:
        name, _, path = item.partition("=")
        fake.repos[name] = Repo(name, Path(path))
    for item in args.pull:
        key, _, rest = item.partition("=")
        name, _, number = key.partition("#")
        head, base, author = rest.split(":")
        fake.add_pull(name, int(number), head=head, base=base, author=author)
    web.run_app(fake.app(), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
