"""Says which declared names come closest to a requested package the repository does not have (pure)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from bot.files.lockfile import Lock
from bot.files.manifest import Manifest
from bot.model import Requested
from bot.text.wording import say

# difflib's ratio: 0.6 suggests `sglang` for `sglangg` or `sg-lang`, and nothing for an unrelated name.
CUTOFF = 0.6
MOST = 3


def closest(name: str, candidates: Iterable[str]) -> list[str]:
    """Up to three candidates nearest `name`, best first."""
    return difflib.get_close_matches(name, sorted(set(candidates) - {name}), n=MOST, cutoff=CUTOFF)


def absent_message(item: Requested, manifests: Mapping[str, Manifest], locks: Mapping[str, Lock]) -> str:
    """The warning for a package declared and locked nowhere, with the declared names closest to it.

    Declared names come first; locked (transitive) ones are offered only when no declared name is close.
    A workspace member or a project of a unit is named as the repository's own.
    """
    own = [path for path, manifest in manifests.items() if manifest.project_name() == item.name]
    if own:
        return say("pins", "own_project", package=item.display, manifest=own[0])
    declared = {name for manifest in manifests.values() for name in manifest.declared_names()}
    locked = {name for lock in locks.values() for name in lock.versions()}
    near = closest(item.name, declared) or closest(item.name, locked)
    return say("pins", "absent", package=item.display, suggestions=near)
