"""The `upgrade-deps` command line: parses arguments and hands each subcommand to its module lazily."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

# Subcommand -> "module:function"; imported only when used so `run` starts fast.
COMMANDS = {
    "run": "bot.pipeline.run_command:main",
    "serve": "bot.service.server:main",
    "worker": "bot.service.worker_command:main",
    "db": "bot.service.db_command:main",
    "audit": "bot.audit.audit_command:main",
    "checklists": "checklists.checklists_command:main",
}


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is less than {minimum}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="upgrade-deps", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="upgrade pinned dependencies of a local checkout")
    run.add_argument("--repo", type=Path, default=Path.cwd(), help="repository root (default: .)")
    run.add_argument("--config", type=Path, help="config file (default: REPO/.github/upgrade-deps.toml)")
    run.add_argument("--no-commit", action="store_true", help="leave the changes in the work tree")
    run.add_argument("--uv-timeout", type=float, default=600.0, help="seconds each uv call may take")
    run.add_argument(
        "--sandbox", choices=("auto", "require", "off"), default="auto",
        help="run uv and verification commands under bubblewrap: when available (auto), always, or never",
    )  # fmt: skip
    run.add_argument("args", nargs=argparse.REMAINDER, help="pkg==version[@variant] ... as in a comment")

    serve = sub.add_parser("serve", help="run the GitHub App webhook server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--workers", type=_count(0), metavar="N",
        help="jobs run at the same time by this server's own worker process (default: UPGRADE_DEPS_WORKERS"
        " with SQLite; none with PostgreSQL, whose jobs `upgrade-deps worker` runs)",
    )  # fmt: skip
    # Set by serve itself when it re-executes without its secrets: where to read its settings from.
    serve.add_argument("--settings-fd", type=int, help=argparse.SUPPRESS)

    worker = sub.add_parser("worker", help="run jobs from the PostgreSQL job store (any machine)")
    worker.add_argument(
        "--concurrency", type=_count(1), metavar="N", help="jobs at a time (default: UPGRADE_DEPS_WORKERS)"
    )
    worker.add_argument("--settings-fd", type=int, help=argparse.SUPPRESS)

    db = sub.add_parser("db", help="the job store's database")
    db_sub = db.add_subparsers(dest="action", required=True)
    db_sub.add_parser(
        "migrate", help="create or update the PostgreSQL schema (also done at start-up when safe)"
    )

    audit = sub.add_parser("audit", help="audit call sites against new package versions (step 6)")
    audit.add_argument("--repo", type=Path, default=Path.cwd())
    audit.add_argument("--config", type=Path)
    audit.add_argument("--format", choices=("text", "json"), default="text")
    audit.add_argument("changes", nargs="+", metavar="PKG==OLD..NEW")

    checklists = sub.add_parser("checklists", help="per-package API checklists (step 0.5)")
    checklists_sub = checklists.add_subparsers(dest="action", required=True)
    validate = checklists_sub.add_parser("validate", help="compare checklists with the real imports")
    validate.add_argument("--repo", type=Path, default=Path.cwd())
    validate.add_argument("--config", type=Path)
    validate.add_argument("--fix", action="store_true", help="update the checklist files in place")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    return parser


RUN_OPTIONS = {
    "--repo": True, "--config": True, "--no-commit": False, "--uv-timeout": True, "--sandbox": True,
    "-h": False,
}  # fmt: skip


def _split_run(argv: list[str]) -> list[str]:
    """`run`'s own options first, then `--` and the request words, which may look like options."""
    own: list[str] = []
    words: list[str] = []
    index = 1
    while index < len(argv):
        arg = argv[index]
        name = arg.split("=", 1)[0]
        if name in RUN_OPTIONS or arg == "--help":
            own.append(arg)
            if RUN_OPTIONS.get(name) and "=" not in arg and index + 1 < len(argv):
                own.append(argv[index + 1])
                index += 1
        elif arg == "--":
            words += argv[index + 1 :]
            break
        else:
            words.append(arg)
        index += 1
    return ["run", *own, "--", *words]


def main(argv: Sequence[str] | None = None) -> int:
    tokens = list(sys.argv[1:] if argv is None else argv)
    if tokens[:1] == ["run"]:
        tokens = _split_run(tokens)
    args = build_parser().parse_args(tokens)
    if args.command == "run" and args.args[:1] == ["--"]:
        args.args = args.args[1:]
    module_name, _, function = COMMANDS[args.command].partition(":")
    handler = getattr(importlib.import_module(module_name), function)
    code: int = handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
