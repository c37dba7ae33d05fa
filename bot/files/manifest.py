"""Finds every declaration of a package in a pyproject and rewrites its version specifier (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from tomlkit.items import Array, String, Table
from tomlkit.toml_document import TOMLDocument

from bot.errors import ManifestError
from bot.files.tomlfile import parse_toml
from bot.model import Declaration

# The requirement's head: name, optional extras; the specifier follows until ';' or the end.
_HEAD = re.compile(r"^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*")


@dataclass(frozen=True)
class _Slot:
    """One requirement string inside an array of the document."""

    section: str
    array: Array
    index: int
    item: String


def _arrays(doc: TOMLDocument) -> Iterator[tuple[str, Array]]:
    """Every array of requirement strings, named by where it is: `[project]`, groups, `[tool.uv]`."""
    project = doc.get("project")
    if isinstance(project, Table | dict):
        yield from _project_arrays(project)
        yield from _hook_arrays(doc, project)
    groups = doc.get("dependency-groups")
    if isinstance(groups, Table | dict):
        for group, deps in groups.items():
            if isinstance(deps, Array):
                yield f"[dependency-groups].{group}", deps
    uv = doc.get("tool", {}).get("uv", {})
    if isinstance(uv, Table | dict):
        for key in ("override-dependencies", "constraint-dependencies", "dev-dependencies"):
            deps = uv.get(key)
            if isinstance(deps, Array):
                yield f"[tool.uv].{key}", deps


def _hook_arrays(doc: TOMLDocument, project: Table | dict[str, Any]) -> Iterator[tuple[str, Array]]:
    """Dependencies a hatch metadata hook supplies for the fields `[project]` declares dynamic: the
    uv-dynamic-versioning hook is where MCP's python-sdk and pydantic-ai's members write them."""
    dynamic = project.get("dynamic")
    fields = {str(f) for f in dynamic} if isinstance(dynamic, Array | list) else set()
    hooks = doc.get("tool", {}).get("hatch", {}).get("metadata", {}).get("hooks", {})
    if not fields or not isinstance(hooks, Table | dict):
        return
    for hook, table in hooks.items():
        if not isinstance(table, Table | dict):
            continue
        deps, optional = table.get("dependencies"), table.get("optional-dependencies")
        if "dependencies" in fields and isinstance(deps, Array):
            yield f"[tool.hatch.metadata.hooks.{hook}].dependencies", deps
        if "optional-dependencies" in fields and isinstance(optional, Table | dict):
            for extra, group in optional.items():
                if isinstance(group, Array):
                    yield f"[tool.hatch.metadata.hooks.{hook}.optional-dependencies].{extra}", group


def _project_arrays(project: Table | dict[str, Any]) -> Iterator[tuple[str, Array]]:
    deps = project.get("dependencies")
    if isinstance(deps, Array):
        yield "[project].dependencies", deps
    optional = project.get("optional-dependencies")
    if isinstance(optional, Table | dict):
        for extra, deps in optional.items():
            if isinstance(deps, Array):
                yield f"[project.optional-dependencies].{extra}", deps


def _slots(doc: TOMLDocument) -> Iterator[_Slot]:
    for section, array in _arrays(doc):
        for index, item in enumerate(array):
            # A hook's `pkg=={{ version }}` is filled in at build time: the repository's own
            # packages at its own version, nothing a request moves.
            if isinstance(item, String) and not (section.startswith("[tool.hatch") and "{{" in item):
                yield _Slot(section, array, index, item)


# `name @ url;marker`: uv reads the `;` right after a URL as the start of the markers; PEP 508 (and
# `packaging`) want a space before it. Only the parse gets the space, never the file.
_URL_THEN_MARKER = re.compile(r"^([^;@]*@\s*\S+?);(?=\s*[A-Za-z_(\"'])")


def parse_requirement(text: str) -> Requirement:
    """A requirement string as uv reads it; InvalidRequirement when even uv would refuse it."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        spaced = _URL_THEN_MARKER.sub(r"\1 ;", text, count=1)
        if spaced == text:
            raise
        return Requirement(spaced)


def _requirement(text: str, *, display: str, section: str) -> Requirement:
    try:
        return parse_requirement(text)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        raise ManifestError(f"{display}: {section}: {text!r} is not a valid requirement ({reason})") from None


def split_specifier(text: str) -> tuple[str, str, str]:
    """Split a requirement string into (head, specifier, tail) so that head+spec+tail == text."""
    head = _HEAD.match(text)
    start = head.end() if head else 0
    end = text.find(";", start)
    end = len(text) if end < 0 else end
    spec = text[start:end]
    stripped = spec.rstrip()
    return text[:start], stripped, spec[len(stripped) :] + text[end:]


class Manifest:
    """A parsed pyproject: its text, document and the declarations in it."""

    def __init__(self, text: str, *, display: str) -> None:
        self.text = text
        self.display = display
        self.doc = parse_toml(text, display=display, error=ManifestError)
        self._lines = self._line_index()

    def _line_index(self) -> dict[int, int]:
        """Line of each slot, by occurrence order of its literal text in the file."""
        lines: dict[int, int] = {}
        cursor: dict[str, int] = {}
        for number, slot in enumerate(_slots(self.doc)):
            literal = slot.item.as_string()
            position = self.text.find(literal, cursor.get(literal, 0))
            if position >= 0:
                cursor[literal] = position + len(literal)
                lines[number] = self.text.count("\n", 0, position) + 1
        return lines

    def declarations(self, package: str) -> list[Declaration]:
        """Every declaration of `package` (any spelling), in document order."""
        wanted = canonicalize_name(package)
        found = []
        for number, slot in enumerate(_slots(self.doc)):
            requirement = _requirement(str(slot.item), display=self.display, section=slot.section)
            if canonicalize_name(requirement.name) != wanted:
                continue
            found.append(
                Declaration(
                    manifest=self.display,
                    line=self._lines.get(number, 0),
                    section=slot.section,
                    requirement=str(slot.item),
                    specifier=str(requirement.specifier),
                    url=requirement.url,
                )
            )
        return found

    def direct_dependencies(self) -> set[str]:
        """Canonical names of everything the project declares (overrides and constraints excluded)."""
        names: set[str] = set()
        for slot in _slots(self.doc):
            if slot.section.startswith("[tool.uv].") and "dev-dependencies" not in slot.section:
                continue
            requirement = _requirement(str(slot.item), display=self.display, section=slot.section)
            names.add(canonicalize_name(requirement.name))
        return names

    def declared_names(self) -> set[str]:
        """Canonical names of every requirement string in the file, overrides and constraints included."""
        return {
            canonicalize_name(_requirement(str(slot.item), display=self.display, section=slot.section).name)
            for slot in _slots(self.doc)
        }

    def source_of(self, package: str) -> Declaration | None:
        """The `[tool.uv.sources]` entry for `package` (a path, git or URL source wins over the index)."""
        sources = self.doc.get("tool", {}).get("uv", {}).get("sources", {})
        wanted = canonicalize_name(package)
        for key, value in sources.items():
            if canonicalize_name(key) != wanted:
                continue
            pattern = re.compile(rf"^\s*(\[tool\.uv\.sources\.)?[\"']?{re.escape(key)}[\"']?\s*[=\]]", re.M)
            found = pattern.search(self.text)
            line = self.text.count("\n", 0, found.start()) + 1 if found else 0
            text = tomlkit.dumps({key: value}).strip()
            return Declaration(self.display, line, "[tool.uv.sources]", text, "", url=text)
        return None

    def rewrite(
        self, package: str, specifier_for: Callable[[str], str | None]
    ) -> tuple[str, list[Declaration]]:
        """New text with each declaration's specifier replaced by `specifier_for(old)` (None: keep).

        URL pins are never rewritten. Everything outside the replaced specifiers stays byte-for-byte,
        which is checked, not assumed.
        """
        wanted = canonicalize_name(package)
        return self.rewrite_each(lambda name, spec: specifier_for(spec) if name == wanted else None)

    def rewrite_each(self, specifier_for: Callable[[str, str], str | None]) -> tuple[str, list[Declaration]]:
        """`rewrite` for every package at once: `specifier_for(canonical name, old specifier)`.

        The document is edited in place: rewrite a fresh Manifest of the same text to keep this one.
        """
        changed = []
        for number, slot in enumerate(list(_slots(self.doc))):
            text = str(slot.item)
            requirement = _requirement(text, display=self.display, section=slot.section)
            if requirement.url:
                continue
            head, spec, tail = split_specifier(text)
            new_spec = specifier_for(canonicalize_name(requirement.name), spec)
            if new_spec is None or new_spec == spec:
                continue
            new_text = head + new_spec + tail
            literal = slot.item.type.value == "'"
            slot.array[slot.index] = tomlkit.string(new_text, literal=literal)
            changed.append(
                Declaration(self.display, self._lines.get(number, 0), slot.section, new_text, new_spec)
            )
        new = tomlkit.dumps(self.doc)
        _check_only_specifiers_changed(self.text, new, display=self.display)
        return new, changed

    def project_name(self) -> str | None:
        """The canonical `[project].name`, if the manifest has one."""
        project = self.doc.get("project")
        name = project.get("name") if isinstance(project, Table | dict) else None
        return canonicalize_name(str(name)) if isinstance(name, str) else None


def _check_only_specifiers_changed(old: str, new: str, *, display: str) -> None:
    """Refuse to write if serialisation moved anything but requirement strings."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    if len(old_lines) != len(new_lines):
        raise ManifestError(f"{display}: cannot rewrite without reformatting the file; edit it by hand")
    for before, after in zip(old_lines, new_lines, strict=True):
        if before != after and _strip_strings(before) != _strip_strings(after):
            raise ManifestError(f"{display}: cannot rewrite without reformatting the file; edit it by hand")


def _strip_strings(line: str) -> str:
    return re.sub(r"\"[^\"]*\"|'[^']*'", '""', line)
