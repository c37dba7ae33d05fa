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
    "fix": "bot.fix.fix_command:main",
    "checklists": "checklists.checklists_command:main",
    "app-manifest": "bot.service.app_manifest:main",
}


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is less than {minimum}")
        return value

    return parse


DESCRIPTION = """\
Upgrade the pinned dependencies of a uv-managed Python repository the way its most careful
maintainer would: every declaration of each requested package in every manifest, every variant's
lock re-locked with a pinned uv, conflicts caused only by the repository's own pins resolved,
container tags moved, the repository's call sites audited against the new APIs, each step
committed, and an upgrade summary written. `run` does this on a local checkout; `serve` runs the
same pipeline as a GitHub App, on `/upgrade-deps` comments and dependency bots' pull requests."""

RUN_DESCRIPTION = """\
Upgrade the requested packages in a local git checkout: edit the pins, re-lock every variant,
update container tags, audit the call sites, run the verification commands, commit each step and
write upgrade-summary.md at the repository's top level. The request is what follows
`/upgrade-deps` in a comment; --allow-downgrade and --image-tag may also stand among its words."""

RUN_EPILOG = """\
exit codes: 0 landed (or nothing to do), 1 did not land (every file as it was), 2 refused (bad
arguments, config or files; nothing changed), 3 landed and committed but needs a person (breaking
call sites, deferred container tag, failed verification).
example: upgrade-deps run sglang==0.5.10 torch==2.10.0@vllm"""

# `--repo` of `audit` and `checklists`: a project directory, which need not be a git work tree.
REPO_HELP = "the repository (default: the top level of the current directory's git work tree, else .)"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("upgrade-deps")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _add_run(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run", help="upgrade pinned dependencies of a local checkout", description=RUN_DESCRIPTION,
        usage="%(prog)s [options] pkg==version[@variant] ...",
        epilog=RUN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    run.add_argument(
        "--repo", type=Path, metavar="DIR",
        help="the top level of the repository's git work tree (default: that of the current directory)",
    )  # fmt: skip
    run.add_argument("--config", type=Path, metavar="FILE",
                     help="configuration file (default: REPO/.github/upgrade-deps.toml)")  # fmt: skip
    run.add_argument("--no-commit", action="store_true", help="leave the changes uncommitted")
    run.add_argument("--no-fix", action="store_true", help="report the audit's findings, fix nothing")
    run.add_argument("--uv-timeout", type=float, default=600.0, metavar="SECONDS",
                     help="seconds each uv call may take (default: 600)")  # fmt: skip
    run.add_argument("--no-release-notes", action="store_true",
                     help="do not look up the changed packages' release notes")  # fmt: skip
    run.add_argument(
        "--sandbox", choices=("auto", "require", "off"), default="auto",
        help="run uv and verification commands under bubblewrap: when available (auto, the default), "
        "always (require: refuse without it), or never (off)",
    )  # fmt: skip
    run.add_argument(
        "--format", choices=("text", "json"), default="text",
        help="what to print on stdout: the summary (text, the default), or the result as one JSON "
        "object (json; schema: schemas/run-result.schema.json)",
    )  # fmt: skip
    run.add_argument(
        "--allow-downgrade", action="store_true",
        help="allow a requested version older than the locked one (as in a comment)",
    )  # fmt: skip
    run.add_argument(
        "--image-tag", metavar="TAG",
        help="the container tag to write for the requested package where its rule's template does not "
        "give it, e.g. v0.5.11-cu130-runtime (as in a comment)",
    )  # fmt: skip
    run.add_argument(
        "--explain", action="store_true",
        help="list the lock units discovery finds (workspaces and their members, projects with their "
        "own uv.lock, variants), their manifests and locks, and change nothing",
    )  # fmt: skip
    run.add_argument(
        "args", nargs=argparse.REMAINDER, metavar="pkg==version[@variant]",
        help="the packages to upgrade, as in a comment; @variant for one variant only",
    )  # fmt: skip


def _add_roles(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`worker` and `db`: the commands of a deployment scaled out on PostgreSQL."""
    worker = sub.add_parser(
        "worker", help="run jobs from the PostgreSQL job store (any machine)",
        description="Run jobs from the PostgreSQL job store that UPGRADE_DEPS_DB names, on any machine "
        "that reaches it and GitHub. SIGTERM drains: no new job, the running ones finish. Its settings "
        "come from the environment (see the README).",
    )  # fmt: skip
    worker.add_argument(
        "--concurrency", type=_count(1), metavar="N", help="jobs at a time (default: UPGRADE_DEPS_WORKERS)"
    )
    worker.add_argument(
        "--metrics-port", type=_count(1), metavar="PORT",
        help="serve this worker's Prometheus metrics (jobs, steps, GitHub requests) at /metrics on PORT"
        " (default: none; the queue's gauges are on serve's /metrics)",
    )  # fmt: skip
    worker.add_argument("--metrics-host", default="127.0.0.1",
                        help="address --metrics-port listens on (default: 127.0.0.1)")  # fmt: skip
    worker.add_argument("--settings-fd", type=int, help=argparse.SUPPRESS)

    db = sub.add_parser(
        "db", help="the job store's database", description="Work on the job store's database."
    )
    db_sub = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    db_sub.add_parser(
        "migrate", help="create or update the PostgreSQL schema (also done at start-up when safe)",
        description="Apply the PostgreSQL job store's migrations that UPGRADE_DEPS_DB lacks, in one "
        "transaction under an advisory lock (any number of processes may run it at once).",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="upgrade-deps", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run(sub)

    serve = sub.add_parser("serve", help="run the GitHub App webhook server",
                           description="Serve the GitHub App: webhooks in, jobs run by worker processes, "
                           "results published as check runs, review comments and a summary comment. "
                           "Its settings come from the environment (see the README).")  # fmt: skip
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    serve.add_argument(
        "--workers", type=_count(0), metavar="N",
        help="jobs run at the same time by this server's own worker process (default: UPGRADE_DEPS_WORKERS"
        " with SQLite; none with PostgreSQL, whose jobs `upgrade-deps worker` runs)",
    )  # fmt: skip
    # Set by serve itself when it re-executes without its secrets: where to read its settings from.
    serve.add_argument("--settings-fd", type=int, help=argparse.SUPPRESS)
    _add_roles(sub)

    audit = sub.add_parser(
        "audit", help="audit call sites against new package versions (step 6)",
        description="Audit the repository's own call sites against two versions of each package, "
        "statically (package code is never run). Exit 0 when no finding is an error, 1 when one is, "
        "2 when refused.",
    )  # fmt: skip
    audit.add_argument("--repo", type=Path, metavar="DIR", help=REPO_HELP)
    audit.add_argument("--config", type=Path, metavar="FILE",
                       help="configuration file (default: REPO/.github/upgrade-deps.toml)")  # fmt: skip
    audit.add_argument(
        "--format", choices=("text", "json"), default="text",
        help="findings as file:line:column lines (text, the default) or a JSON list",
    )  # fmt: skip
    audit.add_argument(
        "changes", nargs="+", metavar="PKG==OLD..NEW",
        help="a package and the two versions to compare, e.g. peft==0.17.0..0.18.1",
    )  # fmt: skip

    fix = sub.add_parser(
        "fix", help="apply the mechanical fixes and audit again (work tree only)",
        description="Apply the mechanical fixes the audit proves (the compat deprecation pass, proven API "
        "moves and keyword renames) to the work tree, without committing, and audit again.",
    )  # fmt: skip
    fix.add_argument("--repo", type=Path, metavar="DIR", help=REPO_HELP)
    fix.add_argument("--config", type=Path, metavar="FILE",
                     help="configuration file (default: REPO/.github/upgrade-deps.toml)")  # fmt: skip
    fix.add_argument("changes", nargs="+", metavar="PKG==OLD..NEW",
                     help="a package and the two versions to compare, e.g. peft==0.17.0..0.18.1")  # fmt: skip

    manifest = sub.add_parser(
        "app-manifest", help="print the JSON of GitHub's app manifest flow (app.yaml)",
        description="Print the JSON that GitHub's app manifest flow takes, from the packaged app.yaml.",
    )  # fmt: skip
    manifest.add_argument("--url", help="where `serve` is reachable, e.g. https://upgrade-deps.example.org")
    manifest.add_argument("--manifest", type=Path, metavar="FILE",
                          help="another manifest (default: the packaged app.yaml)")  # fmt: skip

    checklists = sub.add_parser("checklists", help="per-package API checklists (step 0.5)",
                                description="Work on the per-package API checklists.")  # fmt: skip
    checklists_sub = checklists.add_subparsers(dest="action", required=True, metavar="ACTION")
    validate = checklists_sub.add_parser(
        "validate", help="compare checklists with the real imports",
        description="Compare every checklist with the repository's real imports: files missing from "
        "Affected Files, stale rows, changed imports. Exit 0 when every checklist is (now) in order, "
        "1 otherwise, 2 when refused.",
    )  # fmt: skip
    validate.add_argument("--repo", type=Path, metavar="DIR", help=REPO_HELP)
    validate.add_argument("--config", type=Path, metavar="FILE",
                          help="configuration file (default: REPO/.github/upgrade-deps.toml)")  # fmt: skip
    validate.add_argument("--fix", action="store_true", help="update the checklist files in place")
    validate.add_argument("--format", choices=("text", "json"), default="text",
                          help="a report for people (text, the default) or JSON")  # fmt: skip
    return parser


# `run`'s own options, and whether each takes a value. `--allow-downgrade` and `--image-tag` are
# request words (they keep their place in a comment's syntax) that argparse documents and hands back.
RUN_OPTIONS = {
    "--repo": True, "--config": True, "--no-commit": False, "--no-fix": False, "--uv-timeout": True,
    "--sandbox": True, "--format": True, "--allow-downgrade": False, "--image-tag": True,
    "--no-release-notes": False, "--explain": False,
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


def _request_words(args: argparse.Namespace) -> list[str]:
    """The request as a comment would spell it: the words, then the request options argparse read."""
    words = list(args.args[1:] if args.args[:1] == ["--"] else args.args)
    if args.allow_downgrade:
        words.append("--allow-downgrade")
    if args.image_tag is not None:
        words += ["--image-tag", args.image_tag]
    return words


def _default_repo() -> Path:
    """The top level of the git work tree the current directory is in, else the current directory."""
    import asyncio

    from bot.settings import local_environ
    from bot.tools.gitrepo import top_level
    from bot.tools.proc import child_env

    cwd = Path.cwd()
    return asyncio.run(top_level(cwd, env=child_env(local_environ()))) or cwd


def main(argv: Sequence[str] | None = None) -> int:
    tokens = list(sys.argv[1:] if argv is None else argv)
    if tokens[:1] == ["run"]:
        tokens = _split_run(tokens)
    args = build_parser().parse_args(tokens)
    if args.command == "run":
        args.args = _request_words(args)
    if args.command != "run" and getattr(args, "repo", False) is None:  # `run` finds its own, stricter
        args.repo = _default_repo()
    module_name, _, function = COMMANDS[args.command].partition(":")
    handler = getattr(importlib.import_module(module_name), function)
    code: int = handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
