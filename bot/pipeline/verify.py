"""Step 7: runs the repository's `[[verify]]` commands in the work tree, in order, with timeouts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.files.config import Config, VerifyCommand
from bot.model import Extra, Unresolved, VerifyResult
from bot.text.wording import say
from bot.tools.isolation import Isolation, Launch
from bot.tools.proc import child_env, run, tail

TAIL_LINES = 50


# PLR0913: what to run (config, the variants changed) and how (trust, environment, sandbox, extra paths);
# the tests call it without the Context that holds the latter.
async def run_verify(  # noqa: PLR0913
    repo: Path,
    config: Config,
    variants: Sequence[str],
    *,
    environ: Mapping[str, str],
    trusted: bool,
    isolation: Isolation,
    extras: Sequence[Extra] = (),
) -> tuple[VerifyResult, ...]:
    """Run every configured command whose variants were changed; all of them, even after a failure.

    `variants` are the variants this upgrade re-locked. Untrusted runs (fork pull requests) run
    nothing: each command is recorded as skipped with the reason.
    """
    results = []
    for command in config.verify:
        if not trusted:
            results.append(VerifyResult(command.name, "skipped", say("verify", "untrusted")))
        elif command.variants is not None and not set(command.variants) & set(variants):
            reason = say("verify", "other_variants", wanted=command.variants, changed=sorted(variants))
            results.append(VerifyResult(command.name, "skipped", reason))
        else:
            launch = isolation.launch(["/bin/sh", "-c", command.run], cwd=repo, env=child_env(environ),
                                      writable=[repo], extras=extras)  # fmt: skip
            results.append(await _run_one(repo, command, launch))
    return tuple(results)


async def _run_one(repo: Path, command: VerifyCommand, launch: Launch) -> VerifyResult:
    """One command, already wrapped in the sandbox: the repository's scripts are its code."""
    try:
        done = await run(launch.argv, cwd=repo, env=launch.env, timeout=command.timeout)
    except OSError as exc:
        return VerifyResult(command.name, "fail", say("verify", "cannot_start", reason=exc.strerror or exc))
    if done.timed_out:
        note = say("verify", "timed_out", seconds=f"{command.timeout:g}")
        return VerifyResult(
            command.name, "timeout", "\n".join(filter(None, [tail(done.output, TAIL_LINES), note]))
        )
    if done.returncode != 0:
        return VerifyResult(command.name, "fail", tail(done.output, TAIL_LINES))
    return VerifyResult(command.name, "pass")


def verify_unresolved(results: Sequence[VerifyResult], config: Config | None = None) -> list[Unresolved]:
    """Failed and timed-out commands as non-blocking unresolved items: the upgrade landed, a person looks.

    With the `config` they ran from, each sits at its command's `[[verify]]` table.
    """
    commands: Sequence[VerifyCommand | None] = config.verify if config else ()
    if len(commands) != len(results):
        commands = [None] * len(results)
    found = []
    for result, command in zip(results, commands, strict=True):
        if result.status in ("fail", "timeout"):
            message = say("verify", "failed", name=result.name, status=result.status)
            file, line = (command.source, command.line) if command else (None, None)
            found.append(Unresolved("verify", message, file, line, blocking=False, subject=result.name))
    return found
