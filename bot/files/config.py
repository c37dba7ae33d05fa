"""Loads `.github/upgrade-deps.toml` into a frozen Config, refusing bad input with file and key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.utils import canonicalize_name

from bot.errors import ConfigError
from bot.files import repofiles
from bot.files.config_table import Reader, requirement
from bot.files.tomlfile import load_toml, parse_toml
from bot.model import Variant

CONFIG_PATH = ".github/upgrade-deps.toml"
DEFAULT_BOTS = ("renovate[bot]", "dependabot[bot]")
PLACEHOLDERS = ("version", "major", "minor", "patch")  # of [[container]] image and template


@dataclass(frozen=True)
class PackageConfig:
    name: str  # canonical
    imports: tuple[str, ...] | None = None
    family: str | None = None
    audit: bool = True
    checklist: str | None = None


@dataclass(frozen=True)
class ChecklistsConfig:
    dir: str | None = None
    primary: tuple[str, ...] = ()
    tertiary: tuple[str, ...] = ("tests/", "examples/", "docs/")


@dataclass(frozen=True)
class ContainerRule:
    package: str
    files: tuple[str, ...]
    image: str | None = None  # e.g. "lmsysorg/sglang:v{version}-runtime"
    template: str | None = None  # literal text with {version} {major} {minor} {patch}
    variant: str | None = None
    tag: str | None = None  # explicit tag, wins over the template
    source: str | None = None  # the config file and the line of the rule's table, for messages
    line: int | None = None


@dataclass(frozen=True)
class VerifyCommand:
    name: str
    run: str
    timeout: float = 900.0
    variants: tuple[str, ...] | None = None
    source: str | None = None  # the config file and the line of the command's table, for messages
    line: int | None = None


@dataclass(frozen=True)
class CompatShim:
    package: str
    files: tuple[str, ...]
    stub_lists: tuple[str, ...] = ()


@dataclass(frozen=True)
class CompatConfig:
    window: int = 1
    shims: tuple[CompatShim, ...] = ()


@dataclass(frozen=True)
class FixConfig:
    """`[fix]`: which mechanical fixes run, and whether they are pushed or only suggested."""

    compat: bool | None = None  # None: on when any `[[compat.shim]]` is configured
    api: bool = True
    mode: str = "push"  # "push" | "suggest"


@dataclass(frozen=True)
class PolicyPair:
    when: str
    require: str


@dataclass(frozen=True)
class PolicyConfig:
    pins: str = "exact"
    pairs: tuple[PolicyPair, ...] = ()
    resolve: str = "least"  # how far a pin of ours that blocks a resolution moves: "least" or "newest"


@dataclass(frozen=True)
class LockConfig:
    """`[lock]`: whether variants are locked at the same time, each in a copy beside the repository."""

    parallel: bool = True
    copy_limit_mb: float = 500.0  # a tracked tree larger than this is locked one variant after the other


@dataclass(frozen=True)
class Config:
    """The repository's settings; every field has the default the README documents."""

    variants: tuple[Variant, ...] | None = None  # None: discover from the files
    packages: Mapping[str, PackageConfig] = field(default_factory=dict)
    checklists: ChecklistsConfig = ChecklistsConfig()
    containers: tuple[ContainerRule, ...] = ()
    verify: tuple[VerifyCommand, ...] = ()
    compat: CompatConfig = CompatConfig()
    policy: PolicyConfig = PolicyConfig()
    fix: FixConfig = FixConfig()
    lock: LockConfig = LockConfig()
    bots: tuple[str, ...] = DEFAULT_BOTS
    source: str | None = None  # the file it came from, for messages

    @property
    def fix_compat(self) -> bool:
        """Whether the deprecation pass runs (by default wherever a shim is configured)."""
        return bool(self.compat.shims) if self.fix.compat is None else self.fix.compat

    def families(self) -> dict[str, tuple[str, ...]]:
        """Family name -> member packages."""
        out: dict[str, list[str]] = {}
        for package in self.packages.values():
            if package.family:
                out.setdefault(package.family, []).append(package.name)
        return {name: tuple(members) for name, members in out.items()}


def _check_placeholders(reader: Reader, key: str, text: str | None, *, tag_only: bool) -> None:
    """An image's tag (or a template) must hold a known placeholder, and no unknown one."""
    if text is None:
        return
    names = re.findall(r"\{([^{}]*)\}", text)
    unknown = [name for name in names if name not in PLACEHOLDERS]
    if unknown:
        raise reader.fail(key, f"unknown placeholder {{{unknown[0]}}} (expected {', '.join(PLACEHOLDERS)})")
    if tag_only and not re.search(r"\{\w+\}", text.rpartition(":")[2]):
        problem = "the tag (after the last ':') needs a placeholder such as {version}"
        raise reader.fail(key, f"{text!r}: {problem}")
    if not names:
        raise reader.fail(key, f"{text!r} has no placeholder such as {{version}}")


def parse_config(data: Mapping[str, Any], *, display: str = CONFIG_PATH, text: str = "") -> Config:
    """Validate an already-parsed TOML mapping; raise ConfigError naming the key.

    `text`, the file the mapping was read from, gives each `[[container]]` and `[[verify]]` its line.
    """
    root = Reader(data, where="", display=display)
    root.only(
        "variant", "package", "checklists", "container", "verify", "compat", "policy", "fix", "lock", "bots"
    )
    variants = _variants(root, display)
    packages = _packages(root)
    checklists = root.table("checklists")
    checklists.only("dir", "primary", "tertiary")
    containers = tuple(
        replace(_container(item), source=display, line=line)
        for item, line in root.tables_with_lines("container", text)
    )
    verify = tuple(
        replace(_verify(item), source=display, line=line)
        for item, line in root.tables_with_lines("verify", text)
    )
    compat = _compat(root.table("compat"))
    policy = _policy(root.table("policy"))
    fix = _fix(root.table("fix"))
    lock = root.table("lock")
    lock.only("parallel", "copy_limit_mb")
    bots = root.table("bots")
    bots.only("authors")
    return Config(
        variants=variants or None,
        packages=packages,
        checklists=ChecklistsConfig(
            dir=checklists.string("dir"),
            primary=checklists.strings("primary") or (),
            tertiary=checklists.strings("tertiary") or ChecklistsConfig.tertiary,
        ),
        containers=containers,
        verify=verify,
        compat=compat,
        policy=policy,
        fix=fix,
        lock=LockConfig(
            parallel=lock.boolean("parallel", LockConfig.parallel),
            copy_limit_mb=lock.number("copy_limit_mb", LockConfig.copy_limit_mb),
        ),
        bots=bots.strings("authors") or DEFAULT_BOTS,
        source=display,
    )


def _variants(root: Reader, display: str) -> tuple[Variant, ...]:
    variants: list[Variant] = []
    for item in root.tables("variant"):
        item.only("name", "manifest", "lock", "directory")
        directory = item.string("directory") or ""
        if PurePosixPath(directory).is_absolute() or ".." in PurePosixPath(directory).parts:
            raise item.fail("directory", f"{directory!r} must be a directory inside the repository")
        directory = directory.rstrip("/")
        # A unit in a directory is its `pyproject.toml` and `uv.lock` there unless it says otherwise.
        name = item.string("name", required=not directory) or directory
        manifest = item.string("manifest", required=not directory) or "pyproject.toml"
        default_lock = "uv.lock" if manifest == "pyproject.toml" else f"uv.{name}.lock"
        lock = item.string("lock") or default_lock
        folder = PurePosixPath(directory)
        variants.append(Variant(name, str(folder / manifest), str(folder / lock)))
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ConfigError(f"{display}: [[variant]] names must be unique, got {names}")
    return tuple(variants)


def _packages(root: Reader) -> dict[str, PackageConfig]:
    packages: dict[str, PackageConfig] = {}
    section = root.table("package")
    for raw_name in section.data:
        item = section.table(raw_name)
        item.only("imports", "family", "audit", "checklist")
        name = canonicalize_name(raw_name)
        packages[name] = PackageConfig(
            name=name,
            imports=item.strings("imports"),
            family=item.string("family"),
            audit=item.boolean("audit", True),
            checklist=item.string("checklist"),
        )
    return packages


def _container(item: Reader) -> ContainerRule:
    item.only("package", "files", "image", "template", "variant", "tag")
    if (item.data.get("image") is None) == (item.data.get("template") is None):
        raise item.fail("image", "give exactly one of 'image' or 'template'")
    files = item.strings("files")
    if not files:
        raise item.fail("files", "required: the files (globs) this rule rewrites")
    package = item.string("package", required=True)
    assert package  # noqa: S101 - required=True raised already when it was missing
    _check_placeholders(item, "image", item.string("image"), tag_only=True)
    _check_placeholders(item, "template", item.string("template"), tag_only=False)
    return ContainerRule(
        package=canonicalize_name(package),
        files=files,
        image=item.string("image"),
        template=item.string("template"),
        variant=item.string("variant"),
        tag=item.string("tag"),
    )


def _verify(item: Reader) -> VerifyCommand:
    item.only("name", "run", "timeout", "variants")
    name, run = item.string("name", required=True), item.string("run", required=True)
    assert name  # noqa: S101 - required=True raised already when it was missing
    assert run  # noqa: S101 - likewise
    return VerifyCommand(name, run, item.number("timeout", 900.0), item.strings("variants"))


def _compat(compat: Reader) -> CompatConfig:
    compat.only("window", "shim")
    window = compat.number("window", 1, minimum=0)
    if window != int(window):
        raise compat.fail("window", f"expected a whole number, got {window!r}")
    shims = []
    for item in compat.tables("shim"):
        item.only("package", "files", "stub_lists")
        package = item.string("package", required=True)
        assert package  # noqa: S101 - required=True raised already when it was missing
        shims.append(
            CompatShim(
                canonicalize_name(package), item.strings("files") or (), item.strings("stub_lists") or ()
            )
        )
    return CompatConfig(window=int(window), shims=tuple(shims))


def _fix(fix: Reader) -> FixConfig:
    fix.only("compat", "api", "mode")
    compat = fix.boolean("compat", True) if "compat" in fix.data else None
    mode = fix.string("mode") or "push"
    if mode not in ("push", "suggest"):
        raise fix.fail("mode", f'expected "push" or "suggest", got {mode!r}')
    return FixConfig(compat=compat, api=fix.boolean("api", True), mode=mode)


def _policy(policy: Reader) -> PolicyConfig:
    policy.only("pins", "pair", "resolve")
    pins = policy.string("pins") or "exact"
    if pins not in ("exact", "range"):
        raise policy.fail("pins", f'expected "exact" or "range", got {pins!r}')
    resolve = policy.string("resolve") or "least"
    if resolve not in ("least", "newest"):
        raise policy.fail("resolve", f'expected "least" or "newest", got {resolve!r}')
    pairs = []
    for item in policy.tables("pair"):
        item.only("when", "require")
        pairs.append(PolicyPair(requirement(item, "when"), requirement(item, "require")))
    return PolicyConfig(pins=pins, pairs=tuple(pairs), resolve=resolve)


def load_config(repo: Path, explicit: Path | None = None) -> Config:
    """The repository's config: `explicit`, else `.github/upgrade-deps.toml`, else defaults."""
    if explicit is not None:  # the caller's own file, named on the command line
        document = load_toml(explicit, display=str(explicit), error=ConfigError)
        return parse_config(document.unwrap(), display=str(explicit), text=document.as_string())
    if not repofiles.exists(repo, CONFIG_PATH):
        return Config()
    try:
        text = repofiles.read_text(repo, CONFIG_PATH)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{CONFIG_PATH}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{CONFIG_PATH}: cannot be read ({exc.strerror})") from None
    document = parse_toml(text, display=CONFIG_PATH, error=ConfigError)
    return parse_config(document.unwrap(), display=CONFIG_PATH, text=text)
