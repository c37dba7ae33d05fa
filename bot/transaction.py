"""Remembers the bytes of every file a run touches so any failure puts them back exactly."""

from __future__ import annotations

from pathlib import Path


class FileTransaction:
    """Snapshot files before writing them; `restore()` returns each to its first-seen state."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._original: dict[str, bytes | None] = {}

    def remember(self, relative: str) -> None:
        if relative not in self._original:
            path = self.root / relative
            self._original[relative] = path.read_bytes() if path.exists() else None

    def write(self, relative: str, text: str) -> None:
        self.remember(relative)
        (self.root / relative).write_text(text, encoding="utf-8")

    def changed(self) -> list[str]:
        """Files whose bytes now differ from the snapshot, in the order first touched."""
        out = []
        for relative, before in self._original.items():
            path = self.root / relative
            now = path.read_bytes() if path.exists() else None
            if now != before:
                out.append(relative)
        return out

    def restore(self) -> None:
        for relative, before in self._original.items():
            path = self.root / relative
            if before is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(before)
