"""Our exception types and the one table mapping them to exit codes and check-run conclusions."""

from __future__ import annotations

from dataclasses import dataclass


class UpgradeDepsError(Exception):
    """Base of every error we raise on purpose; its message is safe to show a user."""

    kind = "error"


class RefusedError(UpgradeDepsError):
    """The request cannot be carried out as given (bad arguments, bad config, dirty tree, corrupt files)."""

    kind = "refused"


class BadArgumentsError(RefusedError):
    """An argument of the command is malformed."""


class ConfigError(RefusedError):
    """The repository configuration is invalid; the message names file and key."""


class ManifestError(RefusedError):
    """A manifest (pyproject) is missing or is not valid TOML; the message names file and line."""


class LockFileError(RefusedError):
    """A lock file is missing or corrupt; the message names the file."""


class DirtyTreeError(RefusedError):
    """The work tree has uncommitted changes that belong to someone."""


class DivergentPackageError(RefusedError):
    """A shared-divergent package was requested without `@variant`."""


class UnknownPackageError(RefusedError):
    """No requested package is declared or locked in any variant (a misspelt name, most likely)."""


class NotLandedError(UpgradeDepsError):
    """The upgrade was attempted and did not land (lock failed, conflict needs a human, timeout)."""

    kind = "not-landed"


class LockTimeoutError(NotLandedError):
    """uv did not finish within its time limit."""


class ToolError(UpgradeDepsError):
    """An external tool (git, uv) failed in a way that is not the user's input."""

    kind = "tool"


class CopyError(ToolError):
    """A copy of the tracked tree beside the repository could not be made (the parent refuses)."""


class GitHubError(ToolError):
    """GitHub refused a request that retrying will not fix; the message names the call, never a token."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class ReleaseNotesError(UpgradeDepsError):
    """Release notes cannot be had (offline, unknown package, refused): said in the summary, never fatal."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status that answered, when one did


class PayloadError(UpgradeDepsError):
    """A webhook delivery is malformed (a header, or a field of its payload); the message names which."""


class JobSpecError(UpgradeDepsError):
    """A stored job spec cannot be read as the kind it claims to be; the message names the field."""


class StoreError(Exception):
    """The job store refused an operation (a row it cannot hold, a schema it does not know).

    Not an UpgradeDepsError: the pipeline turns those into a failed upgrade, and a database that
    went away while a job ran (a progress update reads the ledger) must end the attempt instead,
    so that the job runs again from its ledger, never report an upgrade that did not fail.
    """


class StoreUnavailableError(StoreError):
    """The job store's database cannot be reached right now; the work waits and reconnects."""


class TransientError(UpgradeDepsError):
    """A failure worth retrying later (network, GitHub 5xx, rate limits)."""

    kind = "transient"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GitHubAnswerError(TransientError):
    """GitHub's answer lacks what the call must return (an id, a list): retried, and what the call
    may have done is found again on GitHub by the job's ledger."""


class RegistryError(TransientError):
    """A container registry could not say whether a tag exists (unreachable, refused, odd answer)."""


@dataclass(frozen=True)
class Outcome:
    """How one kind of ending is reported: CLI exit code, check-run conclusion, title."""

    exit_code: int
    conclusion: str
    title: str


# The one mapping from how a job ended to what the CLI and the check run say.
OUTCOMES: dict[str, Outcome] = {
    "landed": Outcome(0, "success", "Upgrade landed"),
    "nothing": Outcome(0, "neutral", "Nothing to upgrade"),
    "not-landed": Outcome(1, "failure", "Upgrade did not land"),
    # Landed and committed, but something needs a person (deferred tag, failed verification).
    "attention": Outcome(3, "failure", "Upgrade landed; needs attention"),
    "refused": Outcome(2, "action_required", "Upgrade refused"),
    "breaking": Outcome(3, "failure", "Upgrade landed; breaking call sites found"),
    "tool": Outcome(1, "failure", "Upgrade failed"),
    "error": Outcome(1, "failure", "Upgrade failed"),
    "transient": Outcome(1, "failure", "Upgrade failed (temporary problem)"),
}


def outcome_for_error(error: BaseException) -> Outcome:
    """The outcome for an exception; anything not ours is an internal failure."""
    kind = error.kind if isinstance(error, UpgradeDepsError) else "error"
    return OUTCOMES[kind]
