"""Reads TOML files into tomlkit documents, turning syntax errors into messages with file and line."""

from __future__ import annotations

from pathlib import Path

import tomlkit
from tomlkit.exceptions import ParseError
from tomlkit.toml_document import TOMLDocument

from bot.errors import RefusedError


def load_toml(path: Path, *, display: str, error: type[RefusedError]) -> TOMLDocument:
    """Parse `path`; raise `error` naming `display` (and the line) when missing or invalid."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{display}: file not found") from None
    except UnicodeDecodeError as exc:
        raise error(f"{display}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_toml(text, display=display, error=error)


def parse_toml(text: str, *, display: str, error: type[RefusedError]) -> TOMLDocument:
    """Parse TOML text; raise `error` naming `display`, the line and column on a syntax error."""
    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        # tomlkit's message already ends with "at line L col C"; keep the cause, name the file.
        raise error(f"{display}:{exc.line}:{exc.col}: invalid TOML: {exc}") from None
