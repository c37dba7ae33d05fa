"""Remembers the bytes of every file a run touches so any failure puts them back exactly."""

from __future__ import annotations

from pathlib import Path

from bot.files import repofiles


class FileTransaction:
    """Snapshot files before writing them; `restore()` returns each to its first-seen state.

    Every access goes through `repofiles`: a file the repository's code turned into a link out of
    the work tree is refused, and restoring replaces the link itself.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._original: dict[str, bytes | None] = {}

    def _now(self, relative: str) -> bytes | None:
        if not repofiles.exists(self.root, relative):
            return None
        return repofiles.read_bytes(self.root, relative)

    def remember(self, relative: str) -> None:
        if relative not in self._original:
            self._original[relative] = self._now(relative)

    def write(self, relative: str, text: str) -> None:
        self.remember(relative)
        repofiles.write_text(self.root, relative, text)

    def changed(self) -> list[str]:
        """Files whose bytes now differ from the snapshot, in the order first touched."""
        return [relative for relative, before in self._original.items() if self._now(relative) != before]

    def restore(self) -> None:
        for relative, before in self._original.items():
            if before is None:
                repofiles.unlink(self.root, relative)
            else:
                repofiles.replace_bytes(self.root, relative, before)
