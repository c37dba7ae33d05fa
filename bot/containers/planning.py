"""Plans container edits tied to upgraded packages: image tags, version maps, FROM proposals (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from packaging.version import InvalidVersion, Version

from bot.files.config import ContainerRule
from bot.model import ContainerChange, Request, Unresolved, VersionChange
from bot.text.wording import say

# A version as image tags spell it: 0.5.10, 0.5.10.post1, 2.10.0rc1 (no '-': that starts a variant).
VERSION = r"\d+(?:\.\d+)*(?:\.?(?:post|dev|rc|a|b)\d*)*"
_PLACEHOLDER = re.compile(r"\{(version|major|minor|patch)\}")
_GROUP = {"version": VERSION, "major": r"\d+", "minor": r"\d+", "patch": r"\d+"}
# Spellings Docker accepts for a Docker Hub repository.
_HUB_HOSTS = r"(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)/)?"
_FROM = re.compile(
    r"^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*(?P<image>[\w./:-]+?):(?P<tag>[\w.-]+)(?![\w./-])",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Edit:
    """One planned replacement: `old` at [start, end) of `file` becomes `new`.

    `image` and `tag` name what must exist in a registry before the edit may be written. A
    `pinned` reference carries an `@sha256:` digest (part of `old`); the new tag's digest, read from
    the registry, is appended to `new` before writing.
    """

    file: str
    start: int
    end: int
    line: int
    package: str
    old: str
    new: str
    image: str | None = None
    tag: str | None = None
    pinned: bool = False

    def change(self, status: Literal["written", "proposed", "deferred"], reason: str = "") -> ContainerChange:
        return ContainerChange(self.file, self.line, self.package, self.old, self.new, status, reason)


@dataclass(frozen=True)
class ContainerPlan:
    """Rule-driven edits (written once verified), proposals (never written) and what needs a person."""

    edits: tuple[Edit, ...] = ()
    proposals: tuple[Edit, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()


def values_for(version: str) -> dict[str, str]:
    """The placeholder values of a version: {version} {major} {minor} {patch}."""
    release = (*Version(version).release, 0, 0)
    return {"version": version, "major": str(release[0]), "minor": str(release[1]), "patch": str(release[2])}


def pattern_for(template: str, *, local: bool = False) -> str:
    """A regex for `template`: literal text escaped, each placeholder any value of its kind.

    `local` admits a local version label (`2.9.1+cu128`): fine in shell text, never in an image tag.
    """
    parts, seen, position = [], set(), 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        name = match.group(1)
        group = _GROUP[name] + (r"(?:\+[A-Za-z0-9.]+)?" if local and name == "version" else "")
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>{group})")
        seen.add(name)
        position = match.end()
    parts.append(re.escape(template[position:]))
    return "".join(parts)


def fill(template: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def shape(tag: str) -> str:
    """A tag with its versions removed: `v0.5.11-cu130-runtime` and `v0.5.10-cu130-runtime` share one."""
    return re.sub(VERSION, "", tag)


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def split_image(image: str) -> tuple[str, str]:
    """`lmsysorg/sglang:v{version}-runtime` -> (`lmsysorg/sglang`, `v{version}-runtime`)."""
    repository, _, tag = image.rpartition(":")
    return repository, tag


def _repository_pattern(repository: str) -> str:
    first = repository.split("/", 1)[0]
    if "/" in repository and ("." in first or ":" in first or first == "localhost"):
        return re.escape(repository)  # a registry host is named: match it exactly
    name = repository.removeprefix("library/")
    library = "(?:library/)?" if "/" not in name else ""
    return _HUB_HOSTS + library + re.escape(name)


def image_edits(rule: ContainerRule, file: str, text: str, version: str) -> list[Edit]:
    """Every reference to the rule's image repository in `text`, moved to `version`.

    Full references (`repo:tag`) keep whatever follows the versioned head (`-cu130-runtime`);
    bare tags (YAML values, `ARG X=tag`) are recognised when the template has literal text around
    the version, and keep the variant between the version and the template's suffix.
    """
    assert rule.image is not None  # noqa: S101 - called for image rules only
    repository, tag_template = split_image(rule.image)
    last = list(_PLACEHOLDER.finditer(tag_template))[-1]
    head, suffix = tag_template[: last.end()], tag_template[last.end() :]
    values = values_for(version)
    new_head = fill(head, values)
    full = re.compile(
        rf"(?<![\w./-]){_repository_pattern(repository)}:(?P<tag>{pattern_for(head)}"
        rf"(?P<rest>(?:[-_][\w.-]*)?))(?![\w.-])(?P<digest>@sha256:[0-9a-f]+)?"
    )
    edits = []
    taken: list[tuple[int, int]] = []
    for match in full.finditer(text):
        start, end = match.span("tag")
        pinned = bool(match.group("digest"))
        if pinned:
            end = match.end("digest")
        taken.append(match.span())
        new_tag = new_head + match.group("rest")
        edits.append(
            Edit(file, start, end, _line(text, start), rule.package, text[start:end], new_tag,
                 repository, new_tag, pinned)
        )  # fmt: skip
    if head.startswith("{") and not suffix:
        return edits  # a bare version alone is too common to be this image's tag
    bare = re.compile(
        rf"(?<![\w.:/@-])(?P<tag>{pattern_for(head)}(?P<rest>(?:[-_][A-Za-z0-9.]+)*?){re.escape(suffix)})"
        rf"(?![\w.-])"
    )
    for match in bare.finditer(text):
        start, end = match.span("tag")
        if any(a <= start < b for a, b in taken):
            continue
        new_tag = new_head + match.group("rest") + suffix
        edits.append(
            Edit(file, start, end, _line(text, start), rule.package, match.group("tag"), new_tag,
                 repository, new_tag)
        )  # fmt: skip
    return sorted(edits, key=lambda edit: edit.start)


def template_edits(rule: ContainerRule, file: str, text: str, version: str) -> list[Edit]:
    """Every place the rule's literal template occurs in `text`, with its placeholders at `version`."""
    assert rule.template is not None  # noqa: S101 - called for template rules only
    new_text = fill(rule.template, values_for(version))
    return [
        Edit(file, m.start(), m.end(), _line(text, m.start()), rule.package, m.group(0), new_text)
        for m in re.finditer(pattern_for(rule.template, local=True), text)
    ]


def explicit_tags(edits: Sequence[Edit], tag: str, *, fallback: bool) -> tuple[list[Edit], bool]:
    """`edits` with `tag` for every reference of the same shape (all of them when none has it and
    `fallback`); and whether the tag was used."""
    matching = [e for e in edits if e.image and shape(e.old) == shape(tag)]
    if not matching and fallback:
        matching = [e for e in edits if e.image]
    chosen = {id(e) for e in matching}
    out = [replace(e, new=tag, tag=tag) if id(e) in chosen else e for e in edits]
    return out, bool(matching)


def target(rule: ContainerRule, changes: Sequence[VersionChange]) -> str | Unresolved | None:
    """The new version a rule follows: its package's new version in its variant (None: unchanged)."""
    relevant = [
        c for c in changes
        if c.package == rule.package and (rule.variant is None or rule.variant in c.variants)
    ]  # fmt: skip
    versions = sorted({v for c in relevant for v in c.new}, key=_key)
    if not versions:
        return None
    if len(versions) > 1:
        return Unresolved(
            "container", say("containers", "ambiguous", package=rule.package, versions=versions),
            rule.source, rule.line, blocking=False, subject=rule.package,
        )  # fmt: skip
    return versions[0]


def _key(version: str) -> Version:
    try:
        return Version(version)
    except InvalidVersion:
        return Version("0")


def _matched_nothing(rule: ContainerRule, files: Sequence[str]) -> Unresolved:
    """A rule none of whose files holds what it updates, at the rule's table in the config (what a
    person fixes), else at the first file it names."""
    message = say("containers", "matched_nothing", package=rule.package, files=", ".join(files))
    site, line = (rule.source, rule.line) if rule.source and rule.line else (files[0], None)
    return Unresolved("container", message, site, line, blocking=False, subject=rule.package)


def plan(
    rules: Sequence[tuple[ContainerRule, Mapping[str, str]]],
    dockerfiles: Mapping[str, str],
    changes: Sequence[VersionChange],
    request: Request,
) -> ContainerPlan:
    """Every container edit for `changes`: `rules` pairs each rule with its files' texts;
    `dockerfiles` are scanned for FROM lines of packages no rule covers (proposals only)."""
    edits: list[Edit] = []
    unresolved: list[Unresolved] = []
    requested = {item.name for item in request.items}
    image_edits_by_rule: list[list[Edit]] = []
    for rule, files in rules:
        version = target(rule, changes)
        if isinstance(version, Unresolved):
            unresolved.append(version)
            continue
        if version is None:
            continue
        found: list[Edit] = []
        for file, text in sorted(files.items()):
            found += image_edits(rule, file, text, version) if rule.image else []
            found += template_edits(rule, file, text, version) if rule.template else []
        if not found and files:
            unresolved.append(_matched_nothing(rule, sorted(files)))
        if rule.image and rule.tag:
            found, _ = explicit_tags(found, rule.tag, fallback=True)
        if rule.image and rule.package in requested:
            image_edits_by_rule.append(found)
        edits += found
    if request.image_tag:
        edits, used = _apply_request_tag(edits, image_edits_by_rule, request.image_tag)
        if not used:
            message = say("containers", "tag_unused", tag=request.image_tag)
            unresolved.append(Unresolved("container", message, blocking=False))
    edits = [edit for edit in edits if edit.old.split("@")[0] != edit.new]  # already at the new version
    covered = {rule.package for rule, _ in rules}
    proposals = [
        p for change in changes if change.package not in covered
        for file, text in sorted(dockerfiles.items()) for p in from_proposals(file, text, change)
    ]  # fmt: skip
    return ContainerPlan(tuple(_without_overlaps(edits)), tuple(proposals), tuple(unresolved))


def _apply_request_tag(edits: list[Edit], by_rule: list[list[Edit]], tag: str) -> tuple[list[Edit], bool]:
    """`--image-tag` replaces the template's tag on references of its shape in the requested
    packages' image rules; with a single such rule and no reference of that shape, on all of them."""
    fallback = len(by_rule) == 1
    replaced: dict[int, Edit] = {}
    used = False
    for group in by_rule:
        new_group, hit = explicit_tags(group, tag, fallback=fallback)
        used = used or hit
        replaced.update({id(old): new for old, new in zip(group, new_group, strict=True)})
    return [replaced.get(id(edit), edit) for edit in edits], used


def _without_overlaps(edits: Sequence[Edit]) -> list[Edit]:
    """Edits in file order; of two overlapping ones (two rules on one span) the first rule's wins."""
    kept: list[Edit] = []
    for edit in edits:
        if any(k.file == edit.file and k.start < edit.end and edit.start < k.end for k in kept):
            continue
        kept.append(edit)
    return sorted(kept, key=lambda e: (e.file, e.start))


def from_proposals(file: str, text: str, change: VersionChange) -> list[Edit]:
    """FROM lines whose tag holds an old version of `change`'s package: the tag with the new one."""
    if len(set(change.new)) != 1:
        return []
    new = change.new[0]
    out = []
    for match in _FROM.finditer(text):
        tag = match.group("tag")
        for old in change.old:
            hit = re.search(rf"(?<![\d.]){re.escape(old)}(?!\d|\.\d)", tag)
            if hit and old != new:
                new_tag = tag[: hit.start()] + new + tag[hit.end() :]
                start = match.start("tag")
                out.append(
                    Edit(file, start, match.end("tag"), _line(text, start), change.package, tag, new_tag,
                         match.group("image"), new_tag)
                )  # fmt: skip
                break
    return out


def apply(text: str, edits: Sequence[Edit]) -> str:
    """`text` with `edits` (of this file, non-overlapping) applied."""
    out, position = [], 0
    for edit in sorted(edits, key=lambda e: e.start):
        if text[edit.start : edit.end] != edit.old:
            raise ValueError(f"{edit.file}:{edit.line}: planned text {edit.old!r} is not there")
        out += [text[position : edit.start], edit.new]
        position = edit.end
    out.append(text[position:])
    return "".join(out)
