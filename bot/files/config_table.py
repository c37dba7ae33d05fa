"""Typed, validating access to a parsed TOML table: every complaint names the file and the key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from bot.errors import ConfigError


class Reader:
    """Typed access to one table, naming file and key in every complaint."""

    def __init__(self, data: Mapping[str, Any], *, where: str, display: str) -> None:
        self.data = data
        self.where = where
        self.display = display

    def fail(self, key: str, problem: str) -> ConfigError:
        where = f"{self.where} key" if self.where else "top-level key"
        return ConfigError(f"{self.display}: {where} '{key}': {problem}")

    def only(self, *allowed: str) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.fail(key, f"unknown key (expected one of: {', '.join(allowed)})")

    def string(self, key: str, *, required: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(key, "required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a non-empty string, got {value!r}")
        return str(value)

    def strings(self, key: str) -> tuple[str, ...] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, f"expected a list of strings, got {value!r}")
        return tuple(str(v) for v in value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value

    def number(self, key: str, default: float, *, minimum: float = 0) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= minimum:
            raise self.fail(key, f"expected a number above {minimum:g}, got {value!r}")
        return float(value)

    def tables(self, key: str) -> list[Reader]:
        value = self.data.get(key, [])
        if isinstance(value, Mapping):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(key, "expected a table or an array of tables")
        return [
            Reader(v, where=f"[[{self.prefix}{key}]] #{i}", display=self.display)
            for i, v in enumerate(value, 1)
        ]

    def tables_with_lines(self, key: str, text: str) -> list[tuple[Reader, int | None]]:
        """`tables(key)`, each with the line of its `[[key]]` header in `text` (the file they were
        read from); none when the text does not write them one header each."""
        items = self.tables(key)
        lines = table_lines(text, key)
        if len(lines) != len(items):
            return [(item, None) for item in items]
        return list(zip(items, lines, strict=True))

    def table(self, key: str) -> Reader:
        value = self.data.get(key, {})
        if not isinstance(value, Mapping):
            raise self.fail(key, "expected a table")
        return Reader(value, where=f"[{self.prefix}{key}]", display=self.display)

    @property
    def prefix(self) -> str:
        inner = self.where.strip("[]# 0123456789")
        return f"{inner}." if inner else ""


def requirement(reader: Reader, key: str) -> str:
    text = reader.string(key, required=True)
    assert text is not None  # noqa: S101 - required=True raised already when it was missing
    try:
        Requirement(text)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        raise reader.fail(key, f"{text!r} is not a valid requirement ({reason})") from None
    return text


def table_lines(text: str, name: str) -> list[int]:
    """The line of each `[[name]]` header in a TOML text, in order."""
    pattern = re.compile(rf"^[ \t]*\[\[[ \t]*{re.escape(name)}[ \t]*\]\]", re.MULTILINE)
    return [text.count("\n", 0, match.start()) + 1 for match in pattern.finditer(text)]
