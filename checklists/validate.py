"""Step 0.5: compares each checklist with the files that really import its package, and fixes it in place."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path, PurePosixPath

from bot.files import repofiles
from bot.files.config import Config
from bot.files.python_sources import python_files
from bot.model import ChecklistProblem, ChecklistReport
from bot.text.render import environment
from checklists.discover import Imported, discover
from checklists.document import Checklist, Row, parse_checklist
from checklists.edit import NewEntry, NewRow, apply_edits
from checklists.locate import ImportNames, checklist_path, import_names

Write = Callable[[str, str], None]
# Rows documenting use without an import: AReaL writes "HTTP-only", "indirect", "(metadata only)".
_NOT_IMPORTING = re.compile(r"indirect|http|metadata only", re.I)


def classify(path: str, config: Config) -> str:
    """The tier a newly found file goes in, by the configured path prefixes."""
    if any(path.startswith(prefix) for prefix in config.checklists.primary):
        return "primary"
    if any(path.startswith(prefix) for prefix in config.checklists.tertiary):
        return "tertiary"
    return "secondary"


def _words(text: str) -> set[str]:
    words: set[str] = set()
    for token in re.findall(r"[A-Za-z_][\w.]*", text):
        words.add(token)
        words.update(token.split("."))
    return words


def _mentioned(imported: Imported, usage: str) -> bool:
    words = _words(usage)
    names = (imported.path, imported.path.rsplit(".", 1)[-1], imported.alias)
    return any(name and name in words for name in names)


def _label(imported: Imported) -> str:
    return imported.path.rsplit(".", 1)[-1] if imported.from_import else imported.path


def _covered(symbol: str, checklist: Checklist) -> bool:
    """A catalog entry names the symbol, something inside it (`LoRAModel.from_lora_tensors`), or what
    holds it."""
    name = symbol.rsplit(".", 1)[-1]
    return any(
        known in (symbol, name)
        or known.endswith("." + name)
        or symbol.startswith(known + ".")
        or known.startswith(symbol + ".")
        for e in checklist.entries
        for known in e.symbols
    )


def new_checklist(package: str, imports: Sequence[str], *, github: str = "") -> str:
    """A fresh checklist for `package` from `checklists/_TEMPLATE.md`."""
    return (
        environment(trimmed=True)
        .from_string(resources.files("checklists").joinpath("_TEMPLATE.md").read_text(encoding="utf-8"))
        .render(package=package, imports=list(imports), github=github or '""')
    )


def validate_one(
    repo: Path,
    config: Config,
    package: str,
    *,
    fix: bool,
    distribution: Mapping[str, tuple[str, ...]] | None = None,
    write: Write | None = None,
) -> ChecklistReport:
    """Validate (and with `fix`, update or create) one package's checklist."""
    relative = checklist_path(repo, config, package)
    created = not repofiles.is_file(repo, relative)
    if created:
        text = new_checklist(package, import_names(package, config, distribution=distribution).names)
    else:
        try:
            text = repofiles.read_text(repo, relative)
        except (OSError, UnicodeDecodeError) as exc:
            return ChecklistReport(
                package,
                relative,
                problems=(ChecklistProblem(relative, None, f"cannot be read as UTF-8 text ({exc})"),),
            )
    checklist = parse_checklist(text, display=relative)
    wanted = import_names(package, config, checklist=checklist, distribution=distribution)
    found = discover(repo, frozenset(wanted.names))
    listed = {row.file: row for row in checklist.rows if row.kind == "file"}
    patterns = [row for row in checklist.rows if row.kind == "pattern"]
    missing = sorted(p for p in set(found) - set(listed) if not any(row.covers(p) for row in patterns))
    stale, guard = _stale(repo, found, listed, wanted, where=(relative, package))
    stale += _stale_patterns(repo, patterns)
    undocumented = _undocumented(found, listed)
    entries = _new_entries(found, [*missing, *undocumented], checklist)
    adds = [NewRow(classify(p, config), p, ", ".join(f"`{_label(i)}`" for i in found[p])) for p in missing]
    usage = {
        p: f"{listed[p].usage}; " * bool(listed[p].usage) + ", ".join(f"`{n}`" for n in names)
        for p, names in undocumented.items()
    }
    report = ChecklistReport(
        package=package,
        path=relative,
        missing=tuple(missing),
        stale=tuple(stale),
        changed=tuple(undocumented),
        undocumented=undocumented,
        added={tier: sum(r.tier == tier for r in adds) for tier in ("primary", "secondary", "tertiary")},
        new_entries=tuple(e.symbol for e in entries),
        problems=(ChecklistProblem(relative, None, "no checklist file"),)
        if created
        else checklist.problems + guard,
        created=False,
        fixed=False,
    )
    if not fix:
        return report
    updated = apply_edits(checklist, add=adds, remove=frozenset(stale), usage=usage, entries=entries)
    if updated == text and not created:
        return report
    _write(repo, relative, updated, write)
    problems = parse_checklist(updated, display=relative).problems + guard
    return ChecklistReport(**{**report.__dict__, "fixed": True, "created": created, "problems": problems})


def _undocumented(
    found: Mapping[str, Sequence[Imported]], listed: Mapping[str, Row]
) -> dict[str, tuple[str, ...]]:
    """{listed file: the names it imports that its row does not mention}, for files with any."""
    out = {}
    for path in sorted(set(found) & set(listed)):
        names = tuple(sorted({_label(i) for i in found[path] if not _mentioned(i, listed[path].usage)}))
        if names:
            out[path] = names
    return out


def _stale(
    repo: Path,
    found: Mapping[str, Sequence[Imported]],
    listed: Mapping[str, Row],
    names: ImportNames,
    *,
    where: tuple[str, str],
) -> tuple[list[str], tuple[ChecklistProblem, ...]]:
    """Listed files that no longer import the package, and the problem when no file imports it at all."""
    stale = sorted(
        path
        for path, row in listed.items()
        if path not in found and (not (repo / path).is_file() or not _NOT_IMPORTING.search(row.usage))
    )
    if found:
        return stale, ()
    # Nothing imports the names we looked for: the names are more likely wrong than every file
    # stale, so that is a problem with the checklist, never a clean one; and a checklist is never
    # emptied on a guess: only files that are gone are stale.
    relative, package = where
    shown = ", ".join(sorted(names.names))
    text = (
        f"no file imports {shown} (import names from {names.source}); "
        f"set [package.{package}].imports or 'imports:'"
    )
    return [p for p in stale if not (repo / p).is_file()], (ChecklistProblem(relative, None, text),)


def _stale_patterns(repo: Path, rows: Sequence[Row]) -> list[str]:
    """Pattern rows that no longer match any Python file of the repository."""
    files = list(python_files(repo)) if rows else []
    return [row.file for row in rows if not any(row.covers(path) for path in files)]


def _new_entries(
    found: Mapping[str, Sequence[Imported]], paths: Sequence[str], checklist: Checklist
) -> list[NewEntry]:
    """A catalog entry for each name imported from the package in `paths` that the catalog lacks."""
    entries: list[NewEntry] = []
    for path in paths:
        for imported in found[path]:
            known = _covered(imported.path, checklist) or any(e.symbol == imported.path for e in entries)
            if imported.from_import and not known:
                entries.append(NewEntry(imported.path, path, imported.line, imported.snippet))
    return entries


def _write(repo: Path, relative: str, text: str, write: Write | None) -> None:
    repofiles.resolve(repo, str(PurePosixPath(relative).parent / "_"))  # its folder is inside
    (repo / relative).parent.mkdir(parents=True, exist_ok=True)
    if write is not None:
        write(relative, text)  # e.g. the pipeline's FileTransaction, which can restore it
    else:
        repofiles.write_text(repo, relative, text)


def validate_checklists(
    repo: Path,
    config: Config,
    packages: Sequence[str],
    *,
    fix: bool,
    distribution: Mapping[str, tuple[str, ...]] | None = None,
    write: Write | None = None,
) -> list[ChecklistReport]:
    """Step 0.5 for `packages` (canonical names); with `fix`, checklists are updated or created in place.

    `distribution` gives import names read from the packages' distributions (the last fallback);
    `write(relative_path, text)` replaces the plain file write, so a caller can record and restore.
    """
    return [
        validate_one(repo, config, package, fix=fix, distribution=distribution, write=write)
        for package in packages
    ]
